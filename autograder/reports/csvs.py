"""`course export`: one CSV row per student (tests and manually graded cells, autograded and manual points, total,
late penalty, final score, what still waits for a manual grade), and the course's LMS CSV."""

from __future__ import annotations

import csv
from pathlib import Path

from autograder.core import layout
from autograder.reports.records import LabResults, lab_results, records
from labkit import config

COURSE_CSV = "course-grades.csv"
PENDING = "manual_grading_pending"  # the course CSV's column of labs whose written parts are not scored yet


def rows(results: LabResults) -> list[dict]:
    """One dict per student: student, status, each test's and manual cell's score, autograded and manual points,
    total, late penalty, final, max_score, the manual cells not scored yet, problems."""
    table = []
    for record in results.records:
        row = {"student": record.student, "status": record.status}
        row.update({grade_id: record.scores.get(grade_id, "") for grade_id in results.test_ids})
        graded = record.graded
        row["autograded"] = record.autograded if graded else ""
        row["manual"] = record.manual_points if graded else ""
        row["total"] = record.total if graded else ""
        row["late_penalty"] = record.late_penalty if graded else ""
        row["final"] = record.final if graded else ""
        row["max_score"] = record.max_score
        row["manual_pending"] = " ".join(record.pending)
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
    columns = ["student", "status", *results.test_ids, "autograded", "manual", "total", "late_penalty", "final",
               "max_score", "manual_pending", "problems"]
    write_table(path, columns, rows(results))
    waiting = sum(record.waiting for record in results.records)
    echo(f"{results.lab_id}: grades of {len(results.records)} student(s) -> {path}"
         + (f" ({waiting} wait for a manual grade)" if waiting else ""))
    return path


def write_csv(course: config.Course, lab_id: str, path: Path | None = None, echo=print) -> Path:
    """`course export`: the lab's grade table (default reports/<lab>/grades.csv); return its path."""
    return write_lab_csv(lab_results(course, lab_id), path or default_path(course, lab_id), echo)


def course_rows(course: config.Course) -> list[dict]:
    """One dict per student: student_id, each lab's final score (blank where there is none) and the labs whose
    score still waits for a manual grade (the score given counts the manual points given so far)."""
    table: dict[str, dict] = {}
    for lab_id in course.labs:
        for record in records(course, lab_id):
            row = table.setdefault(record.student, {"student_id": record.student, PENDING: []})
            row[lab_id] = f"{record.final:g}" if record.graded else ""
            if record.waiting:
                row[PENDING].append(lab_id)
    return [{"student_id": s, **{lab: table[s].get(lab, "") for lab in course.labs}, PENDING: " ".join(table[s][PENDING])}
            for s in sorted(table)]


def write_course_csv(course: config.Course, path: Path | None = None, echo=print) -> Path:
    """reports/course-grades.csv for an LMS: student_id, each lab's final score after late penalty, and the labs
    still waiting for a manual grade."""
    path = path or course.root / layout.REPORTS / COURSE_CSV
    table = course_rows(course)
    write_table(path, ["student_id", *course.labs, PENDING], table)
    waiting = sum(bool(row[PENDING]) for row in table)
    echo(f"course: final scores of {len(table)} student(s) in {len(course.labs)} lab(s) -> {path}"
         + (f"; {waiting} student(s) wait for a manual grade (column {PENDING})" if waiting else ""))
    return path
