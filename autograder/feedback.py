"""`course feedback`: nbgrader's HTML feedback, and a note for each submission that was not graded."""

from __future__ import annotations

import html
from pathlib import Path

from autograder import build, grade
from labkit import config

FEEDBACK = "feedback"
NOT_GRADED_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{lab}: not graded</title></head>
<body><h1>{lab}: your submission could not be graded</h1>
<p>{reason}</p>
<p>Nothing was lost: your file is kept as submitted. Fix the problem and submit again, or contact your instructor.</p>
</body></html>
"""


def not_graded_note(course: config.Course, lab_id: str, outcome: grade.Outcome) -> Path:
    """feedback/<student>/<lab>/<lab>.html explaining why the submission was not graded."""
    path = course.root / FEEDBACK / outcome.student / lab_id / f"{lab_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    reason = html.escape("; ".join(outcome.problems))
    path.write_text(NOT_GRADED_PAGE.format(lab=html.escape(lab_id), reason=reason), encoding="utf-8")
    return path


def generate(course: config.Course, lab_id: str, echo=print) -> list[Path]:
    """Write every student's feedback page for `lab_id`; return their paths."""
    result = build.nbgrader(course.root, "generate_feedback", lab_id, "--force")
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader generate_feedback {lab_id} failed:\n{result.stdout}{result.stderr}")
    for outcome in grade.load_status(course, lab_id).values():
        if not outcome.graded:
            not_graded_note(course, lab_id, outcome)
    pages = sorted((course.root / FEEDBACK).glob(f"*/{lab_id}/*.html"))
    echo(f"{lab_id}: {len(pages)} feedback page(s) in {course.root / FEEDBACK}")
    return pages
