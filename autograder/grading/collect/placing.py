"""`course collect LAB SOURCE`: each student's latest submission in an LMS download, to submitted/<login>/<lab>/.

Who: the class list ([roster] file) matches Canvas's user id (lms_id), Blackboard's user name (login), and Moodle's
participant through the grading worksheet's email (--worksheet), else through the full name (name).
What: <lab>.ipynb, else a usual renaming of it ("Copy of lab2.ipynb", "lab2 (1).ipynb", "lab2-1.ipynb",
"Lab2.ipynb"; of several, the highest copy number, then the exact name), else the student's only notebook; with
the files the lab grades beside its notebook (SUBMITTED_FILES), found with the same tolerance. Of several attempts
of one student the latest is taken (and said). A notebook is copied byte for byte: a damaged one is placed and
autograde reports it.
When: timestamp.txt is written from a time the download or the instructor gives (times.py), never invented. A
Canvas submission marked LATE with no time in --times is placed without timestamp.txt and reported "marked LATE,
time unknown": autograde applies no late penalty to it and warns that it has no timestamp.txt.
Again: a submission identical to the one already in submitted/ is left as it is ("unchanged"); a different one is
not written ("kept", the differing files named) unless `force`, which first moves the folder there to
reports/<lab>/replaced/<UTC time>/<login>/ (hidden from grading kernels, like all of reports/). The download is
only read. Every printed line is also in reports/<lab>/collect.txt; reports/<lab>/collect.csv has one row per
student of the class list.
"""

from __future__ import annotations

import csv
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

from autograder.core import layout, roster
from autograder.core.roster import Student
from autograder.grading.collect import lms, sources, times
from autograder.grading.collect.lms import Attempt, File
from labkit import config
from labkit.labs import lab2

# The files a lab grades beside its notebook, carried with it from the download (lab 2 grades the saved model).
SUBMITTED_FILES = MappingProxyType({"lab2": (lab2.MODEL_FILE,)})
REPORT_TXT, REPORT_CSV, REPLACED = "collect.txt", "collect.csv", "replaced"
CSV_COLUMNS = ["login", "name", "status", "submitted_at", "time_from", "late", "hours_late", "files", "note"]
COPY_OF = re.compile(r"^copy\s+of\s+", re.IGNORECASE)                  # Google Drive / Colab's "Save a copy"
NUMBERED = re.compile(r"(?:\s*\((?P<paren>\d+)\)|-(?P<dash>\d+))$")    # a browser's "(1)", Canvas's "-1"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def plain(name: str) -> tuple[str, str, int]:
    """(stem without the usual renamings, suffix, copy number) of a file name, lower case:
    "dir/Copy of Lab2 (2).ipynb" -> ("lab2", ".ipynb", 2)."""
    base = name.rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    stem, suffix = (stem, dot + suffix) if dot and stem else (base, "")
    stem = COPY_OF.sub("", stem.strip())
    number = NUMBERED.search(stem)
    if number:
        stem = stem[:number.start()]
    return "".join(stem.lower().split()), suffix.lower(), int(number and (number["paren"] or number["dash"]) or 0)


def pick(files: list[File], wanted: str) -> tuple[File | None, str]:
    """The file of `files` that is `wanted` or a usual renaming of it: the highest copy number (the latest copy:
    Canvas's -1, -2 on a re-upload, a browser's (1)), at equal numbers the exact name, then the shallowest path;
    with a note when the one taken is renamed or one of several."""
    similar = [f for f in files if plain(f.name)[:2] == plain(wanted)[:2]]
    if not similar:
        return None, ""
    chosen = max(similar, key=lambda f: (plain(f.name)[2], f.name.rsplit("/", 1)[-1] == wanted, -f.name.count("/")))
    if len(similar) > 1:
        return chosen, f"took {chosen.name} as {wanted}, the latest of {', '.join(f.name for f in similar)}"
    return chosen, "" if chosen.name.rsplit("/", 1)[-1] == wanted else f"took {chosen.name} as {wanted}"


def choose_notebook(lab_id: str, files: list[File]) -> tuple[File | None, str]:
    """The student's notebook for `lab_id` and a note on how it was chosen, or (None, why there is none)."""
    notebooks = [f for f in files if f.name.lower().endswith(".ipynb")]
    chosen, note = pick(notebooks, f"{lab_id}.ipynb")
    if chosen:
        return chosen, note
    if len(notebooks) == 1:
        return notebooks[0], f"took {notebooks[0].name}, the only notebook, as {lab_id}.ipynb"
    if notebooks:
        return None, (f"{len(notebooks)} notebooks, none named like {lab_id}.ipynb: rename the right one to "
                      f"{lab_id}.ipynb in the download and collect again")
    return None, "no notebook (.ipynb) in the submission"


def name_key(name: str) -> tuple[str, ...]:
    """A full name compared without case, accents' encoding, spacing or order ("Lovelace  Ada" is "Ada Lovelace")."""
    return tuple(sorted(unicodedata.normalize("NFC", name).casefold().split()))


class ClassList:
    """The class list indexed by every column an LMS download names students by."""

    def __init__(self, students: list[Student]):
        self.students = students
        self.by = {"lms_id": {}, "login": {}, "email": {}, "name": {}}
        for s in students:
            for column, value in (("lms_id", s.lms_id), ("login", s.login.lower()), ("email", s.email.lower()),
                                  ("name", name_key(s.name))):
                if value:
                    self.by[column].setdefault(value, []).append(s)

    def find(self, attempt: Attempt, sheet: dict[str, times.WorksheetRow] | None
             ) -> tuple[Student | None, str, times.WorksheetRow | None]:
        """(the student of `attempt`, or None and why, the Moodle worksheet's row for it)."""
        column, value = attempt.key
        if column != "name":
            found = self.by[column].get(value.lower() if column == "login" else value, [])
            return (found[0], "", None) if found else (None, f"{attempt.who} is not in the class list's {column} "
                                                             f"column: add it there and collect again", None)
        row = sheet.get(attempt.participant) if sheet is not None else None
        if row and row.email and row.email.lower() in self.by["email"]:
            return self.by["email"][row.email.lower()][0], "", row
        name = row.name if row and row.name else value
        if name.casefold() == lms.BLIND and not row:
            return None, (f"{attempt.who}: blind marking hides who this is: pass Moodle's grading worksheet "
                          f"(--worksheet FILE)"), None
        found = self.by["name"].get(name_key(name), [])
        if len(found) > 1:
            return None, (f"{attempt.who}: {len(found)} students of the class list are named {name!r}: pass "
                          f"Moodle's grading worksheet (--worksheet FILE) to match on email"), row
        if not found:
            email = f" nor has the email {row.email!r}" if row and row.email else ""
            return None, f"{attempt.who}: no student of the class list is named {name!r}{email}", row
        return found[0], "", row


@dataclass
class Placed:
    """What collect did for one student of the class list."""

    student: Student
    status: str                 # written, replaced, unchanged, kept (differs; not written), no notebook
    time: datetime | None = None
    time_from: str = ""
    late_mark: bool = False     # Canvas's LATE mark
    files: list[str] = field(default_factory=list)  # paths in the download it came from
    notes: list[str] = field(default_factory=list)


@dataclass
class Collected:
    lms: str
    placed: dict[str, Placed]               # login -> what was done, for students with a submission
    unplaced: list[tuple[str, str]]         # (path in the download, why it was not placed)
    nothing: list[Student]                  # students of the class list with nothing in the download
    lines: list[str]
    report: Path


def submission_time(student: Student, attempt: Attempt, given: dict, row: times.WorksheetRow | None,
                    given_from: str, tz: ZoneInfo) -> tuple[datetime | None, str]:
    """When `student` made `attempt`, and from where: --times, Moodle's worksheet, the download's own names."""
    for key in (("lms_id", student.lms_id), ("login", student.login.lower())):
        if key[1] and key in given:
            return given[key], given_from
    if row and row.time:
        return row.time, f"Moodle's grading worksheet, read in {tz.key}"
    return attempt.time, attempt.time_from


def opened_files(attempt: Attempt) -> tuple[list[File], list[tuple[str, str]]]:
    """The attempt's files with its zips opened, and (path, why) for those that cannot be read."""
    files, bad = [], []
    for file in attempt.files:
        if file.entry.size > sources.MAX_BYTES:
            bad.append((file.entry.path, f"larger than {sources.MAX_BYTES >> 30} GiB: not read"))
        elif sources.is_zip(file.entry):
            try:
                files += [File(member.path[len(file.entry.path) + 1:], member)
                          for member in sources.unzipped(file.entry) if member.size <= sources.MAX_BYTES]
            except ValueError as why:
                bad.append((file.entry.path, f"{why}"))
        else:
            files.append(file)
    return files, bad


def contents(lab_id: str, notebook: File, extras: dict[str, File],
             time: datetime | None) -> dict[str, bytes]:
    """The files of submitted/<login>/<lab>/: the notebook under its lab's name, the extra files, timestamp.txt."""
    written = {f"{lab_id}.ipynb": notebook.entry.read()}
    written.update({name: file.entry.read() for name, file in extras.items()})
    if time is not None:
        written[times.TIMESTAMP] = times.stamp(time).encode()
    return written


def write(course: config.Course, lab_id: str, login: str, new: dict[str, bytes], force: bool, run: str
          ) -> tuple[str, str]:
    """Write `new` to submitted/<login>/<lab>/ unless a different submission is there (then only with `force`,
    after moving it to reports/<lab>/replaced/<run>/<login>/): (status, note)."""
    folder = course.root / layout.SUBMITTED / login / lab_id
    old = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} \
        if folder.is_dir() else {}
    if old == new:
        return "unchanged", ""
    differ = ", ".join(sorted(name for name in set(old) | set(new) if old.get(name) != new.get(name)))
    if old and not force:
        return "kept", (f"differs from submitted/{login}/{lab_id}/ ({differ}): not written; --force replaces it "
                        f"(the old one is kept under {layout.REPORTS}/{lab_id}/{REPLACED}/)")
    note = ""
    if old:
        backup = course.root / layout.REPORTS / lab_id / REPLACED / run / login
        backup.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder, backup)
        note = f"replaced ({differ}); the old one is in {backup.relative_to(course.root)}/"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in new.items():
        (folder / name).write_bytes(data)
    return ("replaced" if old else "written"), note


def lateness(placed: Placed, due: datetime | None) -> tuple[str, str, str]:
    """(the report's words on when, the CSV's late, hours_late)."""
    if placed.time is None:
        unknown = "time unknown"
        if placed.late_mark:
            return (f"{unknown}, marked LATE by Canvas: no timestamp.txt, so no late penalty applies (give the time "
                    f"with --times FILE, or apply the penalty by hand)", "LATE mark, time unknown", "")
        return unknown + (" (no timestamp.txt: no late penalty can apply)" if due else ""), "", ""
    words = f"{times.shown(placed.time)} ({placed.time_from})"
    if due is None:
        return words, "", ""
    hours = (placed.time - due).total_seconds() / 3600
    if hours > 0:
        return f"{words}, {hours:.1f} h late", "yes", f"{hours:.2f}"
    return f"{words}, on time", "no", "0"


def matched(download: lms.Download, class_list: ClassList, sheet: dict | None, given: dict, given_from: str,
            tz: ZoneInfo) -> tuple[dict[str, list[tuple]], list[tuple[str, str]]]:
    """(login -> [(student, attempt, time, where the time is from)], (path, why) for the files of no student)."""
    by_login, unplaced = {}, list(download.unplaced)
    for attempt in download.attempts:
        student, why, row = class_list.find(attempt, sheet)
        if student is None:
            unplaced += [(f.entry.path, why) for f in attempt.files]
            continue
        time, time_from = submission_time(student, attempt, given, row, given_from, tz)
        by_login.setdefault(student.login, []).append((student, attempt, time, time_from))
    return by_login, unplaced


def place_latest(course: config.Course, lab: config.LabConfig, found: list[tuple], force: bool, run: str
                 ) -> tuple[Placed, list[tuple[str, str]]]:
    """Place the latest of one student's attempts `found`; (what was done, (path, why) for the files not placed)."""
    found = sorted(found, key=lambda one: (one[2] or EPOCH, one[1].order))
    student, attempt, time, time_from = found[-1]
    result = Placed(student, "", time, time_from, attempt.late, [f.entry.path for f in attempt.files])
    unplaced = [(f.entry.path, f"an earlier attempt of {student.login}") for _, older, _, _ in found[:-1]
                for f in older.files]
    if len(found) > 1:
        result.notes.append(f"{len(found)} attempts in the download: took the latest"
                            + (f" ({times.shown(time)})" if time else ""))
    if attempt.late and time is not None and lab.due_utc and time <= lab.due_utc:
        result.notes.append(f"Canvas marks it LATE but {time_from} gives a time before the due date")
    return result, unplaced + place(course, lab.id, attempt, result, force, run)


def collect(course: config.Course, lab_id: str, source: Path, times_file: Path | None = None,
            worksheet: Path | None = None, timezone_name: str = "UTC", force: bool = False, echo=print) -> Collected:
    """Write each student's latest submission of `lab_id` in the download `source` to submitted/<login>/<lab>/ and
    report what was done (see the module's docstring); CollectError or RosterError says what to fix."""
    lab = course.lab(lab_id)
    class_list = ClassList(roster.load(course))
    tz = times.zone(timezone_name)
    given = times.submission_times(Path(times_file), tz) if times_file else {}
    sheet = times.worksheet(Path(worksheet), tz) if worksheet else None
    run = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")  # names this run's folder of replaced submissions
    lines, placed = [], {}

    def say(line: str) -> None:
        lines.append(line)
        echo(line)

    with sources.opened(Path(source)) as entries:
        download = lms.read(entries, [s.login for s in class_list.students], tz, str(source))
        say(f"{lab_id}: {source} is a {download.lms} download: {len(download.attempts)} submission(s); class list "
            f"of {len(class_list.students)}" + (f"; {download.receipts} Blackboard receipt(s) (.txt) not needed"
                                                 if download.receipts else ""))
        if sheet is not None and download.lms != "Moodle":
            say(f"{lab_id}: --worksheet is Moodle's grading worksheet: not used for a {download.lms} download")
        by_login, unplaced = matched(download, class_list, sheet, given,
                                     f"--times {Path(times_file).name}" if times_file else "", tz)
        for login, found in by_login.items():
            placed[login], more = place_latest(course, lab, found, force, run)
            unplaced += more
    nothing = [s for s in class_list.students if s.login not in placed]
    report(course, lab, class_list, placed, unplaced, nothing, say, lines)
    return Collected(download.lms, placed, unplaced, nothing, lines, course.root / layout.REPORTS / lab_id / REPORT_TXT)


def place(course: config.Course, lab_id: str, attempt: Attempt, result: Placed, force: bool, run: str
          ) -> list[tuple[str, str]]:
    """Choose the notebook and extra files of `attempt` and write them; (path, why) for its files not placed."""
    login = result.student.login
    files, unplaced = opened_files(attempt)
    notebook, note = choose_notebook(lab_id, files)
    if notebook is None:
        result.status = "no notebook"
        result.notes.append(note)
        return unplaced + [(f.entry.path, f"{login}: {note}") for f in files]
    result.notes += [note] if note else []
    extras, used = {}, {notebook.entry.path}
    for wanted in SUBMITTED_FILES.get(lab_id, ()):
        found, found_note = pick([f for f in files if f.entry.path not in used], wanted)
        if found is None:
            result.notes.append(f"no {wanted}: {lab_id} grades it beside the notebook")
            continue
        extras[wanted] = found
        used.add(found.entry.path)
        result.notes += [found_note] if found_note else []
    expected = ", ".join([f"{lab_id}.ipynb", *SUBMITTED_FILES.get(lab_id, ())])
    for file in files:
        if file.entry.path not in used:
            why = (f"another notebook of {login} (took {notebook.name})" if file.name.lower().endswith(".ipynb")
                   else f"{login}: not a notebook, nor a file {lab_id} expects ({expected})")
            unplaced.append((file.entry.path, why))
    result.status, write_note = write(course, lab_id, login, contents(lab_id, notebook, extras, result.time),
                                      force, run)
    result.notes += [write_note] if write_note else []
    return unplaced


def summary(placed: dict[str, Placed], unplaced: list, nothing: list) -> str:
    """The totals: "3 written, 1 kept (...), 1 marked LATE with no time (...), 2 file(s) not placed, ..."."""
    parts = []
    for status, why in (("written", ""), ("replaced", ""), ("unchanged", ""),
                        ("kept", " (they differ from submitted/: --force replaces them)"), ("no notebook", "")):
        count = sum(p.status == status for p in placed.values())
        parts += [f"{count} {status}{why}"] if count or status == "written" else []
    late = sum(p.late_mark and p.time is None for p in placed.values())
    parts += [f"{late} marked LATE with no time (no late penalty: --times FILE gives the times)"] if late else []
    return ", ".join(parts + [f"{len(unplaced)} file(s) not placed", f"{len(nothing)} student(s) with nothing"])


def report(course: config.Course, lab: config.LabConfig, class_list: ClassList, placed: dict[str, Placed],
           unplaced: list[tuple[str, str]], nothing: list[Student], say, lines: list[str]) -> None:
    """Print and write reports/<lab>/collect.txt and collect.csv: each student, each file not placed, the totals."""
    lab_id, due = lab.id, lab.due_utc
    folder = course.root / layout.REPORTS / lab_id
    rows = []
    for student in class_list.students:
        result = placed.get(student.login)
        if result is None:
            rows.append({"login": student.login, "name": student.name, "status": "nothing submitted"})
            continue
        words, late, hours = lateness(result, due)
        notes = "; ".join(result.notes)
        say(f"{result.status:<11} {student.login}: {words}" + (f"; {notes}" if notes else ""))
        rows.append({"login": student.login, "name": student.name, "status": result.status,
                     "submitted_at": result.time.astimezone(timezone.utc).isoformat() if result.time else "",
                     "time_from": result.time_from, "late": late, "hours_late": hours,
                     "files": " | ".join(result.files), "note": notes})
    for path, why in unplaced:
        say(f"not placed  {path}: {why}")
    for student in nothing:
        named = f" ({student.name})" if student.name else ""
        say(f"nothing     {student.login}{named}: nothing in the download")
    folder.mkdir(parents=True, exist_ok=True)
    say(f"{lab_id}: {summary(placed, unplaced, nothing)}; report: {folder / REPORT_TXT}")
    (folder / REPORT_TXT).write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(folder / REPORT_CSV, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, CSV_COLUMNS)
        writer.writeheader()
        writer.writerows({column: row.get(column, "") for column in CSV_COLUMNS} for row in rows)
