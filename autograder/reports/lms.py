"""`course report`'s final scores in the LMS's own import formats, from the class list: Canvas's and Moodle's CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from autograder.core import layout, roster
from autograder.core.roster import Student
from autograder.reports.records import Record, records
from labkit import config

# Canvas: Gradebook > Import ("How do I import grades in the Gradebook?", Instructor Guide,
# https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807). The columns
# and the Points Possible row are those of Canvas's own export (instructure/canvas-lms lib/gradebook_exporter.rb), read
# as its importer reads them (lib/gradebook_importer.rb: a student by ID, then SIS User ID, SIS Login ID, name; a column
# "Title (id)" by assignment id, else by title, else a new assignment). An empty cell leaves an empty Canvas grade
# empty, but clears a score entered in Canvas by hand (the import preview lists that change before it is applied).
# Moodle: Grade administration > Import > CSV file (https://docs.moodle.org/311/en/Grade_import): map users from Email
# address (or ID number), each lab's column to a grade item. A row without the mapped value stops the import or has
# its grades given to the row above (grade/import/csv/classes/load_data.php), so such students are left out and named.
CANVAS_CSV = "canvas-grades.csv"
MOODLE_CSV = "moodle-grades.csv"
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]  # before the assignments' columns
POINTS_POSSIBLE = "    Points Possible"  # the first cell of the second row of Canvas's export, spaces included
MOODLE_COLUMNS = ["First name", "Last name", "ID number", "Email address"]    # as Moodle's grade export names them
MOODLE_KEYS = {"Email address": "email", "ID number": "sis_id"}              # the columns Moodle can map users from
MOODLE_NO_GRADE = "-"  # Moodle's "no grade": an empty cell is imported as 0 into a new grade item
MOODLE_MAX = 100       # Moodle refuses an imported grade above 100 unless the site allows more (unlimitedgrades)
NO_ROSTER = (f"LMS files (Canvas {CANVAS_CSV}, Moodle {MOODLE_CSV}) not written: they need the class list; set "
             f"[roster] file in course.toml to a CSV with the columns {', '.join(roster.COLUMNS)} (`login` required)")

Finals = dict[str, dict[str, float]]  # login -> lab id -> final score after late penalty (graded labs only)


@dataclass(frozen=True)
class ClassList:
    """The class list matched with the students who submitted: who is written, and who is missing on either side."""

    students: list[Student]   # the roster's students in its order, then those graded but not on it (login only)
    not_on_roster: list[str]  # logins with a submission and no row in the class list
    without_grade: list[str]  # logins of the class list with no final score in any lab


def finals(by_lab: dict[str, list[Record]]) -> Finals:
    """Each student with a record: lab id -> final score, for the labs where the record is graded."""
    found: Finals = {}
    for lab_id, lab_records in by_lab.items():
        for record in lab_records:
            scores = found.setdefault(record.student, {})
            if record.graded:
                scores[lab_id] = record.final
    return found


def final_scores(course: config.Course) -> Finals:
    """The course's final scores per student and lab, from the gradebook (as course-grades.csv gives them)."""
    return finals({lab_id: records(course, lab_id) for lab_id in course.labs})


def match(students: list[Student], scores: Finals) -> ClassList:
    """The class list matched by login with the students who have a record."""
    listed = {student.login for student in students}
    extra = sorted(set(scores) - listed)
    return ClassList([*students, *(Student(login) for login in extra)], extra,
                     [s.login for s in students if not scores.get(s.login)])


def graded_labs(scores: Finals, labs: list[config.LabConfig]) -> list[config.LabConfig]:
    """The labs with a final score for someone, in course.toml's order (an empty column would make Canvas create an
    assignment without grades)."""
    return [lab for lab in labs if any(lab.id in by_lab for by_lab in scores.values())]


def number(value: float) -> str:
    """A score or a lab's points as Canvas's export writes them: two decimals."""
    return f"{value:.2f}"


def canvas_column(lab: config.LabConfig) -> str:
    """The lab's Canvas column: "<title> (<canvas_id>)", matched by id, or the title alone (matched by name)."""
    return f"{lab.title} ({lab.canvas_id})" if lab.canvas_id else lab.title


def sortable_name(student: Student) -> str:
    """The name as Canvas's export writes it, "Last, First" (the login when the class list gives no name)."""
    first, last = student.first_last
    return f"{last}, {first}" if last else first or student.login


def canvas_rows(students: list[Student], scores: Finals, labs: list[config.LabConfig]) -> list[list[str]]:
    """Canvas's gradebook CSV: header, Points Possible row, one row per student (empty cell: no final score)."""
    header = [*CANVAS_COLUMNS, *(canvas_column(lab) for lab in labs)]
    possible = [POINTS_POSSIBLE, *[""] * (len(CANVAS_COLUMNS) - 1), *(number(lab.points) for lab in labs)]
    return [header, possible, *([sortable_name(s), s.lms_id, s.sis_id, s.login, s.section,
                                 *(cell(scores.get(s.login, {}), lab.id, "") for lab in labs)] for s in students)]


def cell(by_lab: dict[str, float], lab_id: str, missing: str) -> str:
    """The final score of `lab_id` as text, `missing` without one."""
    return number(by_lab[lab_id]) if lab_id in by_lab else missing


def moodle_key(students: list[Student]) -> str:
    """The column Moodle should map users from: Email address, unless more students have an ID number."""
    emails, numbers = sum(bool(s.email) for s in students), sum(bool(s.sis_id) for s in students)
    return "ID number" if numbers > emails else "Email address"


def moodle_rows(students: list[Student], scores: Finals, labs: list[config.LabConfig]) -> list[list[str]]:
    """Moodle's grade import CSV: header, one row per student ("-" where there is no final score)."""
    header = [*MOODLE_COLUMNS, *(lab.title for lab in labs)]
    return [header, *([*s.first_last, s.sis_id, s.email,
                       *(cell(scores.get(s.login, {}), lab.id, MOODLE_NO_GRADE) for lab in labs)] for s in students)]


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    """Write `rows` as a UTF-8 CSV at `path`; return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def named(logins: list[str]) -> str:
    """`logins` joined with commas, or "none"."""
    return ", ".join(logins) or "none"


def write_canvas(found: ClassList, scores: Finals, labs: list[config.LabConfig], path: Path, echo=print) -> Path:
    """Canvas's gradebook CSV at `path`, with a line saying which labs create a new assignment."""
    write_rows(path, canvas_rows(found.students, scores, labs))
    new = [lab.id for lab in labs if not lab.canvas_id]
    echo(f"canvas: {len(found.students)} student(s), {len(labs)} lab(s) -> {path}"
         + (f"; labs without canvas_id in course.toml ({', '.join(new)}): Canvas matches each to an assignment "
            f"by its title or creates one" if new else ""))
    return path


def write_moodle(found: ClassList, scores: Finals, labs: list[config.LabConfig], path: Path, echo=print) -> Path:
    """Moodle's grade import CSV at `path` for the students with a value to map them by; a line names the others."""
    key = moodle_key(found.students)
    kept = [s for s in found.students if getattr(s, MOODLE_KEYS[key])]
    left = [s.login for s in found.students if not getattr(s, MOODLE_KEYS[key])]
    write_rows(path, moodle_rows(kept, scores, labs))
    above = [f"{lab.id} ({lab.points:g} points)" for lab in labs if lab.points > MOODLE_MAX]
    echo(f"moodle: {len(kept)} student(s), {len(labs)} lab(s) -> {path} (map users from {key})"
         + (f"; left out, without {key.lower()}: {named(left)}" if left else "")
         + (f"; Moodle takes grades above {MOODLE_MAX} only where the site allows them (unlimitedgrades, "
            f"gradepointmax): {', '.join(above)}" if above else ""))
    return path


def write_files(students: list[Student], scores: Finals, labs: list[config.LabConfig], folder: Path,
                echo=print) -> list[Path]:
    """canvas-grades.csv and moodle-grades.csv in `folder` for the labs graded so far; return their paths."""
    found = match(students, scores)
    graded = graded_labs(scores, labs)
    echo(f"class list: {len(students)} student(s); submitted but not on it (in the Canvas file with their login "
         f"only): {named(found.not_on_roster)}; on it without any grade (rows without grades): "
         f"{named(found.without_grade)}")
    return [write_canvas(found, scores, graded, folder / CANVAS_CSV, echo),
            write_moodle(found, scores, graded, folder / MOODLE_CSV, echo)]


def write(course: config.Course, echo=print) -> list[Path]:
    """reports/canvas-grades.csv and reports/moodle-grades.csv from the class list; without one, a line saying what
    they need. Return the paths written."""
    if course.roster_path is None:
        echo(NO_ROSTER)
        return []
    return write_files(roster.load(course), final_scores(course), list(course.labs.values()),
                       course.root / layout.REPORTS, echo)
