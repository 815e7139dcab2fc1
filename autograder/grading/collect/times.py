"""When each submission was made: the instructor's --times CSV, Moodle's grading worksheet, Blackboard's file names.

--times FILE, for an LMS whose download keeps no time (Canvas): a CSV with a header row and the columns

    lms_id or login   who: the LMS's user id as in the class list's lms_id column (Canvas's user id), or the login
    submitted_at      when: ISO 8601, "2025-03-03T23:59:30+01:00" or "2025-03-03 22:59:30Z"; a time without an
                      offset is read in --timezone (default UTC)

Other columns are ignored; a row with an empty submitted_at is skipped. A time from --times wins over one the
download gives. Every time is written to timestamp.txt in UTC, in the format the kit's demo and nbgrader use.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from autograder.grading.collect.sources import CollectError

TIMESTAMP = "timestamp.txt"
STAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # as autograder/demo.py writes it; nbgrader's parse_utc reads it
# Moodle's worksheet writes userdate(): strftimedaydatetime ("Monday, 3 March 2025, 11:59 PM") in English; some
# sites drop the weekday (strftimedatetime).
MOODLE_FORMATS = ("%A, %d %B %Y, %I:%M %p", "%d %B %Y, %I:%M %p")
MOODLE_NO_TIME = {"", "-"}
BLACKBOARD_FORMAT = "%Y-%m-%d-%H-%M-%S"  # the attempt time in Blackboard's file names, the server's local time
WORKSHEET_COLUMNS = {"identifier": "Identifier", "name": "Full name", "email": "Email address",
                     "time": "Last modified (submission)"}


def zone(name: str) -> ZoneInfo:
    """The time zone `name` (an IANA name such as "Europe/Berlin"); CollectError for anything else."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CollectError(f"--timezone {name!r} is not a time zone: give an IANA name such as Europe/Berlin, "
                           f"America/New_York or UTC (the default)") from None


def stamp(moment: datetime) -> str:
    """timestamp.txt's text for an aware `moment`: "2025-03-03 22:59:30.000000 UTC"."""
    return moment.astimezone(timezone.utc).strftime(STAMP_FORMAT) + "\n"


def shown(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    """`moment` read in `tz` when it has no offset."""
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def table(path: Path, what: str) -> list[dict[str, str]]:
    """The rows of the CSV `path` as {lower-case column: value}; CollectError when it cannot be read."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except OSError as error:
        raise CollectError(f"cannot read {what} {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise CollectError(f"{what} {path} is not UTF-8 text: save it as CSV (UTF-8)") from None
    if not rows:
        raise CollectError(f"{what} {path} is empty")
    header = [cell.strip().lower() for cell in rows[0]]
    return [dict(zip(header, (cell.strip() for cell in row))) for row in rows[1:] if any(c.strip() for c in row)]


def submission_times(path: Path, tz: ZoneInfo) -> dict[tuple[str, str], datetime]:
    """--times FILE: ("lms_id" or "login", value) -> when, from the CSV described above."""
    rows = table(path, "the submission times (--times)")
    columns = set(rows[0]) if rows else set()
    if rows and ("submitted_at" not in columns or not columns & {"lms_id", "login"}):
        raise CollectError(f"the submission times {path} (--times) need the columns submitted_at and lms_id or "
                           f"login; its header is {', '.join(rows[0])}")
    times = {}
    for number, row in enumerate(rows, start=2):
        if not row.get("submitted_at"):
            continue
        try:
            moment = local(datetime.fromisoformat(row["submitted_at"]), tz)
        except ValueError:
            raise CollectError(f"{path}, row {number}: submitted_at {row['submitted_at']!r} is not an ISO-8601 "
                               f"date-time like 2025-03-03T23:59:30+01:00") from None
        key = ("lms_id", row["lms_id"]) if row.get("lms_id") else ("login", row.get("login", "").lower())
        if not key[1]:
            raise CollectError(f"{path}, row {number}: no lms_id or login says whose time this is")
        times[key] = moment
    return times


@dataclass(frozen=True)
class WorksheetRow:
    name: str
    email: str
    time: datetime | None  # None: no submission time in the worksheet ("-")


def moodle_time(text: str, tz: ZoneInfo) -> datetime | None:
    """A worksheet time ("Monday, 3 March 2025, 11:59 PM", in `tz`), None for "-"; ValueError if unreadable."""
    text = " ".join(text.split())
    if text in MOODLE_NO_TIME:
        return None
    for form in MOODLE_FORMATS:
        try:
            return datetime.strptime(text, form).replace(tzinfo=tz)
        except ValueError:
            pass
    return local(datetime.fromisoformat(text), tz)


def worksheet(path: Path, tz: ZoneInfo) -> dict[str, WorksheetRow]:
    """Moodle's grading worksheet (--worksheet): participant id -> its row."""
    rows = table(path, "the Moodle grading worksheet (--worksheet)")
    if rows and WORKSHEET_COLUMNS["identifier"].lower() not in rows[0]:
        raise CollectError(f"{path} is not Moodle's grading worksheet: it has no Identifier column (its header is "
                           f"{', '.join(rows[0])}); download it in English from the assignment's Submissions page, "
                           f"Actions > Download grading worksheet")
    found = {}
    for number, row in enumerate(rows, start=2):
        participant = re.search(r"(\d+)\s*$", row.get(WORKSHEET_COLUMNS["identifier"].lower(), ""))
        if not participant:
            continue
        text = row.get(WORKSHEET_COLUMNS["time"].lower(), "")
        try:
            moment = moodle_time(text, tz)
        except ValueError:
            raise CollectError(f"{path}, row {number}: cannot read the time {text!r} in "
                               f"{WORKSHEET_COLUMNS['time']!r}: expected Moodle's English format, like "
                               f"'Monday, 3 March 2025, 11:59 PM', or ISO 8601") from None
        found[participant.group(1)] = WorksheetRow(row.get(WORKSHEET_COLUMNS["name"].lower(), ""),
                                                   row.get(WORKSHEET_COLUMNS["email"].lower(), ""), moment)
    return found


def blackboard_time(text: str, tz: ZoneInfo) -> datetime:
    """The attempt time in a Blackboard file name ("2025-03-03-23-59-30"), read in `tz`."""
    return datetime.strptime(text, BLACKBOARD_FORMAT).replace(tzinfo=tz)
