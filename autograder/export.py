"""`course export`: one CSV row per student, one column per graded test, with totals and status."""

from __future__ import annotations

import csv
from pathlib import Path

from autograder import build, grade, notebooks
from labkit import config


def test_ids(course: config.Course, lab_id: str) -> list[str]:
    """The lab's graded test ids in notebook order."""
    return [t.grade_id for t in notebooks.graded_tests(notebooks.read(build.source_notebook(course, lab_id)))]


def rows(course: config.Course, lab_id: str) -> list[dict]:
    """One dict per student: student, status, each test's score, total, max_score, problems."""
    from nbgrader.api import Gradebook, MissingEntry

    ids = test_ids(course, lab_id)
    status = grade.load_status(course, lab_id)
    table = []
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", course.course.id) as gradebook:
        for student, outcome in sorted(status.items()):
            row = {"student": student, "status": "graded" if outcome.graded else "not graded"}
            scores = {}
            if outcome.graded:
                try:
                    submitted = gradebook.find_submission_notebook(lab_id, lab_id, student)
                    scores = {g.name: g.score for g in submitted.grades}
                except MissingEntry:
                    row["status"] = "not in gradebook"
            row.update({grade_id: scores.get(grade_id, "") for grade_id in ids})
            row["total"] = sum(scores.values()) if scores else ""
            row["max_score"] = outcome.max_score
            row["problems"] = "; ".join(outcome.problems)
            table.append(row)
    return table


def write_csv(course: config.Course, lab_id: str, path: Path | None = None, echo=print) -> Path:
    """Write the lab's grade table (default reports/<lab>/grades.csv); return its path."""
    path = path or course.root / "reports" / lab_id / "grades.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table = rows(course, lab_id)
    columns = ["student", "status", *test_ids(course, lab_id), "total", "max_score", "problems"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(table)
    echo(f"{lab_id}: grades of {len(table)} student(s) -> {path}")
    return path
