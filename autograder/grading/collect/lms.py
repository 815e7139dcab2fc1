"""Which LMS wrote a download, read from its file names: who submitted, which attempt, when, and their own files.

Each layout is a regular expression with named groups, the idea of nbgrader's zip_collect FileNameCollectorPlugin
(`student_id`, `file_id`, `timestamp`), one per LMS:

Canvas, Assignment > Download Submissions (submissions.zip), flat (canvas-lms lib/content_zipper.rb):
    <lastfirst>_<user id>_<file id>_<file>            e.g. lovelaceada_101_48213_lab2.ipynb
    <lastfirst>_late_<user id>_<file id>_<file>       submitted after the due date ("LATE", written lower case)
    <lastfirst>_<user id>_text.html, ..._link.html    a text or URL submission
  The user id is the class list's lms_id; the number after it is the file's own id, one per file. Canvas renames
  a file uploaded again under the same name lab2-1.ipynb, lab2-2.ipynb. The download holds each student's latest
  submission and no time: only the late mark.
Moodle, Assignment > Download all submissions ("Download submissions in folders", the default since 3.1):
    <Full Name>_<participant id>_assignsubmission_file_/<file>   (Moodle 4.x: without the last "_")
    <Full Name>_<participant id>_assignsubmission_onlinetext_/onlinetext.html
    <Full Name>_<participant id>_assignsubmission_file_<file>    (the flat download, folders option off)
  Moodle writes "_" in a name as a space, and "Participant" for the name under blind marking. The participant id is
  the grading worksheet's "Participant <id>". The download holds each student's latest submission and no time.
Blackboard, Grade Center > Assignment File Download:
    <assignment>_<user name>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>   each attempt, in the server's local time
    <assignment>_<user name>_attempt_<YYYY-MM-DD-HH-MM-SS>.txt      the attempt's receipt (name, comments, files)
  The user name is the class list's login. A student's own .zip is opened (handout 002: StudentID_Name.zip).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from autograder.grading.collect import times
from autograder.grading.collect.sources import CollectError, Entry

CANVAS = re.compile(r"(?P<name>[^\W_]*[^\W\d_][^\W_]*)_(?:(?P<late>(?i:late))_)?(?P<student_id>\d+)_"
                    r"(?:(?P<attachment_id>\d+)_)?(?P<file_id>[^/]+)")
MOODLE = re.compile(r"(?P<name>[^_/]+)_(?P<student_id>\d+)_assignsubmission_(?P<plugin>[a-z]+)"
                    r"(?:_(?P<file_id>[^/]*))?(?:/(?P<inside>.+))?")
BLACKBOARD = re.compile(r"(?P<prefix>[^/]+)_attempt_(?P<timestamp>\d{4}(?:-\d\d){5})"
                        r"(?:_(?P<file_id>[^/]+)|(?P<receipt>\.txt))")
LAYOUTS = {"Moodle": MOODLE, "Blackboard": BLACKBOARD, "Canvas": CANVAS}  # on a tie, the one with literal words
BLIND = "participant"  # Moodle's name for everyone under blind marking


@dataclass(frozen=True)
class File:
    """A file a student submitted: `name` is the student's own path for it, `entry` where it is in the download."""

    name: str
    entry: Entry


@dataclass
class Attempt:
    """One submission of one student, as the LMS names them."""

    who: str                   # how the LMS names the student, for the report: "Canvas user id 101 (lovelaceada)"
    key: tuple[str, str]       # the class list's column and value to find them: ("lms_id", "101"), ("login", ...)
    order: tuple               # sorts the attempts of one student, latest last
    files: list[File] = field(default_factory=list)
    time: datetime | None = None
    time_from: str = ""        # where `time` comes from, for the report
    late: bool = False         # Canvas's LATE mark
    participant: str = ""      # Moodle's participant id (the worksheet's Identifier)


@dataclass
class Download:
    lms: str
    attempts: list[Attempt]
    unplaced: list[tuple[str, str]]  # (path in the download, why it is not placed)
    receipts: int = 0                # Blackboard's attempt receipts, read for nothing
    by_key: dict = field(default_factory=dict, repr=False)  # the attempts by the LMS's own key


def recognise(entries: list[Entry]) -> str | None:
    """The LMS whose names most files of `entries` have, or None."""
    counts = {lms: sum(bool(pattern.fullmatch(e.path)) for e in entries) for lms, pattern in LAYOUTS.items()}
    best = max(counts, key=counts.get)
    return best if counts[best] else None


def without_top_folder(entries: list[Entry]) -> list[Entry] | None:
    """`entries` under the one folder that holds them all, seen from inside it (a download extracted into a folder
    of its own, then zipped or given again), or None when they are not all in one folder."""
    tops = {e.path.split("/", 1)[0] for e in entries}
    if len(tops) != 1 or any("/" not in e.path for e in entries):
        return None
    return [Entry(e.path.split("/", 1)[1], e.size, e.reader) for e in entries]


def read(entries: list[Entry], logins: Iterable[str], tz: ZoneInfo, source: str) -> Download:
    """The attempts in the download; CollectError, naming the layouts, when no LMS's names are found."""
    lms = recognise(entries)
    if lms is None and (inner := without_top_folder(entries)) is not None and recognise(inner):
        entries, lms = inner, recognise(inner)
    if lms is None:
        seen = ", ".join(e.path for e in entries[:3]) or "no files"
        raise CollectError(f"{source}: cannot tell which LMS wrote it ({len(entries)} file(s): {seen}). Expected "
                           f"Canvas's submissions.zip (<lastfirst>_<user id>_<file id>_<file>), Moodle's "
                           f"'Download all submissions' (<Full Name>_<participant id>_assignsubmission_file_/<file>) "
                           f"or Blackboard's 'Assignment File Download' (<assignment>_<user name>_attempt_"
                           f"<YYYY-MM-DD-HH-MM-SS>_<file>); give that zip unchanged, or the folder it was extracted to")
    reader = {"Canvas": canvas, "Moodle": moodle, "Blackboard": blackboard}[lms]
    download, logins = Download(lms, [], []), {login.lower(): login for login in logins}
    for entry in entries:
        match = LAYOUTS[lms].fullmatch(entry.path)
        if match is None:
            download.unplaced.append((entry.path, f"not named as {lms} names submissions"))
        else:
            reader(download, entry, match, logins, tz)
    return download


def attempt(download: Download, key: tuple, make) -> Attempt:
    """The attempt of `download` under `key`, made by `make()` the first time."""
    if key not in download.by_key:
        download.by_key[key] = make()
        download.attempts.append(download.by_key[key])
    return download.by_key[key]


def canvas(download: Download, entry: Entry, match: re.Match, logins: dict, tz: ZoneInfo) -> None:
    user = match["student_id"]
    found = attempt(download, user, lambda: Attempt(f"Canvas user id {user} ({match['name']})", ("lms_id", user),
                                                    (0,)))
    found.late = found.late or bool(match["late"])
    found.files.append(File(match["file_id"], entry))


def moodle(download: Download, entry: Entry, match: re.Match, logins: dict, tz: ZoneInfo) -> None:
    participant, name = match["student_id"], match["name"]
    found = attempt(download, participant, lambda: Attempt(
        f"Moodle participant {participant} ({name})", ("name", name), (int(participant),), participant=participant))
    own = "/".join(part for part in (match["file_id"], match["inside"]) if part)
    found.files.append(File(own or entry.name, entry))


def blackboard_user(prefix: str, logins: dict) -> str:
    """The user name at the end of "<assignment>_<user name>": the longest login of the class list it ends with
    (user names and assignment names may hold "_"), else its last "_"-separated part."""
    ends = [login for key, login in logins.items() if prefix.lower().endswith("_" + key)]
    return max(ends, key=len) if ends else prefix.rsplit("_", 1)[-1]


def blackboard(download: Download, entry: Entry, match: re.Match, logins: dict, tz: ZoneInfo) -> None:
    if match["receipt"]:
        download.receipts += 1
        return
    user, stamp = blackboard_user(match["prefix"], logins), match["timestamp"]
    when = times.blackboard_time(stamp, tz)
    found = attempt(download, (user.lower(), stamp), lambda: Attempt(
        f"Blackboard user {user}", ("login", user), (when,), time=when,
        time_from=f"Blackboard's file name, read in {tz.key}"))
    found.files.append(File(match["file_id"], entry))
