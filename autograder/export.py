"""`course export`: one CSV row per student (tests, total, late penalty, final score), and the course's LMS CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from autograder import build, grade, notebooks
from labkit import config

REPORTS = "reports"
COURSE_CSV = "course-grades.csv"


class ReportError(RuntimeError):
    """Nothing to report yet: the course was not built or the lab not graded."""


@dataclass
class Record:
    """One student's result for a lab, as the gradebook and grading/<lab>.json record it."""

    student: str
    status: str
    scores: dict[str, float] = field(default_factory=dict)
    late_penalty: float = 0.0
    seconds_late: float = 0.0
    max_score: float = 0.0
    seconds: float | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def graded(self) -> bool:
        return self.status == "graded"

    @property
    def total(self) -> float | None:
        """The autograded score before any late penalty."""
        return sum(self.scores.values()) if self.graded else None

    @property
    def final(self) -> float | None:
        """The score after the late penalty."""
        return self.total - self.late_penalty if self.graded else None


def gradebook_url(course: config.Course) -> str:
    """The gradebook's database URL; ReportError when `course build` never ran."""
    if course.gradebook_missing:
        raise ReportError(f"{course.gradebook_missing}: run `course build` and `course autograde <lab>` in "
                          f"{course.root} first")
    return course.gradebook_url


def graded_tests(course: config.Course, lab_id: str) -> list[notebooks.GradedTest]:
    """The lab's graded tests in notebook order."""
    return notebooks.graded_tests(notebooks.read(build.source_notebook(course, lab_id)))


def test_ids(course: config.Course, lab_id: str) -> list[str]:
    """The lab's graded test ids in notebook order."""
    return [t.grade_id for t in graded_tests(course, lab_id)]


def records(course: config.Course, lab_id: str) -> list[Record]:
    """Every student with a submission in the gradebook or in grading/<lab>.json, sorted by name.

    A submission `course autograde` could not grade is reported as not graded even when an older grade
    is still in the gradebook.
    """
    from nbgrader.api import Gradebook, MissingEntry

    status = grade.load_status(course, lab_id)
    points = course.lab(lab_id).points
    table = {}
    with Gradebook(gradebook_url(course), course.course.id) as gradebook:
        try:
            submissions = {s.student.id: s for s in gradebook.find_assignment(lab_id).submissions}
        except MissingEntry:
            submissions = {}
        for student in sorted(set(status) | set(submissions)):
            outcome = status.get(student)
            record = Record(student, "graded", max_score=points, seconds=outcome.seconds if outcome else None,
                            problems=list(outcome.problems) if outcome else [])
            if outcome is not None and not outcome.graded:
                record.status = "not graded"
            elif student not in submissions:
                record.status = "not in gradebook"
            else:
                submission = submissions[student]
                try:
                    notebook = gradebook.find_submission_notebook(lab_id, lab_id, student)
                except MissingEntry:
                    record.status = "not in gradebook"
                else:
                    record.scores = {g.name: g.score for g in notebook.grades}
                    record.late_penalty = submission.late_submission_penalty or 0.0
                    record.seconds_late = submission.total_seconds_late
            table[student] = record
    return list(table.values())


def require_records(course: config.Course, lab_id: str) -> list[Record]:
    """`records`, or a ReportError saying what to run when the lab has none yet."""
    found = records(course, lab_id)
    if not found:
        raise ReportError(f"nothing graded for {lab_id} yet: run `course autograde {lab_id}` in {course.root} first")
    return found


def rows(course: config.Course, lab_id: str) -> list[dict]:
    """One dict per student: student, status, each test's score, total, late penalty, final, max_score, problems."""
    ids = test_ids(course, lab_id)
    table = []
    for record in require_records(course, lab_id):
        row = {"student": record.student, "status": record.status}
        row.update({grade_id: record.scores.get(grade_id, "") for grade_id in ids})
        graded = record.graded
        row["total"] = record.total if graded else ""
        row["late_penalty"] = record.late_penalty if graded else ""
        row["final"] = record.final if graded else ""
        row["max_score"] = record.max_score
        row["problems"] = "; ".join(record.problems)
        table.append(row)
    return table


def write_table(path: Path, columns: list[str], table: list[dict]) -> Path:
    """Write `table` as a CSV with `columns`; return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(table)
    return path


def write_csv(course: config.Course, lab_id: str, path: Path | None = None, echo=print) -> Path:
    """Write the lab's grade table (default reports/<lab>/grades.csv); return its path."""
    path = path or course.root / REPORTS / lab_id / "grades.csv"
    table = rows(course, lab_id)
    columns = ["student", "status", *test_ids(course, lab_id), "total", "late_penalty", "final", "max_score",
               "problems"]
    write_table(path, columns, table)
    echo(f"{lab_id}: grades of {len(table)} student(s) -> {path}")
    return path


def graded_labs(course: config.Course) -> list[str]:
    """The labs of course.toml with at least one submission in the gradebook or grading/."""
    return [lab_id for lab_id in course.labs if records(course, lab_id)]


def course_rows(course: config.Course) -> list[dict]:
    """One dict per student: student_id and each lab's final score (blank where there is none)."""
    table: dict[str, dict] = {}
    for lab_id in course.labs:
        for record in records(course, lab_id):
            row = table.setdefault(record.student, {"student_id": record.student})
            row[lab_id] = f"{record.final:g}" if record.graded else ""
    return [{"student_id": s, **{lab: table[s].get(lab, "") for lab in course.labs}} for s in sorted(table)]


def write_course_csv(course: config.Course, path: Path | None = None, echo=print) -> Path:
    """reports/course-grades.csv for an LMS: student_id, then each lab's final score after late penalty."""
    path = path or course.root / REPORTS / COURSE_CSV
    table = course_rows(course)
    write_table(path, ["student_id", *course.labs], table)
    echo(f"course: final scores of {len(table)} student(s) in {len(course.labs)} lab(s) -> {path}")
    return path
