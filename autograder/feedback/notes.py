"""`course feedback`: nbgrader's HTML feedback, and a note for each submission that was not graded."""

from __future__ import annotations

import html
from pathlib import Path

from autograder.core import layout, process
from autograder.core.errors import FeedbackError
from autograder.grading.outcome import Outcome, load_status
from labkit import config

NOT_GRADED_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{lab}: not graded</title></head>
<body><h1>{lab}: your submission could not be graded</h1>
<p>{reason}</p>
<p>Nothing was lost: your file is kept as submitted. Fix the problem and submit again, or contact your instructor.</p>
</body></html>
"""


def not_graded_note(course: config.Course, lab_id: str, outcome: Outcome) -> Path:
    """feedback/<student>/<lab>/<lab>.html explaining why the submission was not graded."""
    path = course.root / layout.FEEDBACK / outcome.student / lab_id / f"{lab_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    reason = html.escape("; ".join(outcome.problems))
    path.write_text(NOT_GRADED_PAGE.format(lab=html.escape(lab_id), reason=reason), encoding="utf-8")
    return path


def generate(course: config.Course, lab_id: str, echo=print) -> list[Path]:
    """Write every student's feedback page for `lab_id`; return their paths."""
    result = process.nbgrader(course.root, "generate_feedback", lab_id, "--force")
    if result.returncode != 0:
        raise FeedbackError(f"nbgrader generate_feedback {lab_id} failed:\n{result.stdout}{result.stderr}")
    for outcome in load_status(course, lab_id).values():
        if not outcome.graded:
            not_graded_note(course, lab_id, outcome)
    pages = sorted((course.root / layout.FEEDBACK).glob(f"*/{lab_id}/*.html"))
    echo(f"{lab_id}: {len(pages)} feedback page(s) in {course.root / layout.FEEDBACK}")
    return pages
