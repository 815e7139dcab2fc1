"""`course export`: one CSV row per student (tests, total, late penalty, final score), and the course's LMS CSV."""

from __future__ import annotations

import csv
from pathlib import Path

from autograder.core import layout
from autograder.reports.records import LabResults, lab_results, records
from labkit import config

COURSE_CSV = "course-grades.csv"


def rows(results: LabResults) -> list[dict]:
    """One dict per student: student, status, each test's score, total, late penalty, final, max_score, problems."""
    table = []
    for record in results.records:
        row = {"student": record.student, "status": record.status}
        row.update({grade_id: record.scores.get(grade_id, "") for grade_id in results.test_ids})
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


def default_path(course: config.Course, lab_id: str) -> Path:
    return course.root / layout.REPORTS / lab_id / "grades.csv"


def write_lab_csv(results: LabResults, path: Path, echo=print) -> Path:
    """Write the lab's grade table to `path`; return it."""
    columns = ["student", "status", *results.test_ids, "total", "late_penalty", "final", "max_score", "problems"]
    write_table(path, columns, rows(results))
    echo(f"{results.lab_id}: grades of {len(results.records)} student(s) -> {path}")
    return path


def write_csv(course: config.Course, lab_id: str, path: Path | None = None, echo=print) -> Path:
    """`course export`: the lab's grade table (default reports/<lab>/grades.csv); return its path."""
    return write_lab_csv(lab_results(course, lab_id), path or default_path(course, lab_id), echo)


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
    path = path or course.root / layout.REPORTS / COURSE_CSV
    table = course_rows(course)
    write_table(path, ["student_id", *course.labs], table)
    echo(f"course: final scores of {len(table)} student(s) in {len(course.labs)} lab(s) -> {path}")
    return path
