"""The class list ([roster] file in course.toml): who each student is in the LMS, and which folder is theirs.

A CSV with a header row. `login` is required and names the student's folder (submitted/<login>/); the other
columns are optional and used where an LMS needs them:

    login     the student's folder name, and Blackboard's user name in its download's file names
    name      "First Last" (Canvas's download writes it as lastfirst, lower case, in file names)
    email     Moodle's grade import matches on it; Moodle's grading worksheet lists it
    lms_id    the LMS's numeric user id (Canvas's ID column and its download's file names)
    sis_id    the university's student number (Canvas's SIS User ID, Moodle's ID number)
    section   Canvas's Section column
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, fields
from pathlib import Path

from autograder.core.errors import CourseError
from labkit import config

LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a folder name on every system, and an nbgrader student id


class RosterError(CourseError, ValueError):
    """The class list is missing, unreadable, or has a bad row."""


@dataclass(frozen=True)
class Student:
    login: str
    name: str = ""
    email: str = ""
    lms_id: str = ""
    sis_id: str = ""
    section: str = ""

    @property
    def first_last(self) -> tuple[str, str]:
        """(first names, last name) from `name` ("Ada Lovelace" -> ("Ada", "Lovelace"))."""
        first, _, last = self.name.strip().rpartition(" ")
        return (first, last) if first else (last, "")


COLUMNS = tuple(f.name for f in fields(Student))


def read(path: Path) -> list[Student]:
    """The students of the class list at `path`, in its order; RosterError names the file, row and column of a
    problem (a missing login column, an unknown column, an empty or unusable login, a login or email twice)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            table = list(csv.reader(f))
    except OSError as error:
        raise RosterError(f"cannot read the class list {path} ([roster] file in course.toml): "
                          f"{error.strerror or error}") from None
    except UnicodeDecodeError:
        raise RosterError(f"the class list {path} is not UTF-8 text: save it as CSV (UTF-8)") from None
    if not table:
        raise RosterError(f"the class list {path} is empty: it needs a header row ({', '.join(COLUMNS)})")
    header = [column.strip().lower() for column in table[0]]
    if "login" not in header:
        raise RosterError(f"the class list {path} has no `login` column (its header is {', '.join(table[0])}); "
                          f"columns: {', '.join(COLUMNS)}, `login` required")
    unknown = [column for column in header if column not in COLUMNS]
    if unknown:
        raise RosterError(f"the class list {path} has unknown column(s) {', '.join(unknown)}; "
                          f"columns: {', '.join(COLUMNS)}")
    students, seen = [], {}
    for number, row in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(header)}
        student = Student(**values)
        where = f"{path}, row {number}"
        if not LOGIN.fullmatch(student.login):
            raise RosterError(f"{where}: login {student.login!r} cannot name a folder; use letters, digits, "
                              f"'.', '_' and '-' (starting with a letter or digit)")
        for key in ("login", "email", "lms_id", "sis_id"):
            value = getattr(student, key).lower()
            if value and (key, value) in seen:
                raise RosterError(f"{where}: {key} {getattr(student, key)!r} is also on row {seen[key, value]}")
            seen[key, value] = number
        students.append(student)
    return students


def load(course: config.Course) -> list[Student]:
    """The course's class list; RosterError, saying what to set, when course.toml names none."""
    path = course.roster_path
    if path is None:
        raise RosterError(f"{course.root / config.CONFIG_NAME} names no class list: set [roster] file = "
                          f"\"roster.csv\", a CSV with the columns {', '.join(COLUMNS)} (`login` required)")
    return read(path)
