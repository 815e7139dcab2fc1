"""nbgrader preprocessors of the kit: feedback that holds nothing the grading kernel printed.

Student code runs in the grading kernel, where it can read the kit's checks and reference code and
print them into any cell's output. So feedback shows each code cell with the outputs of the
notebook as the student submitted it, and each graded test with a verdict the grader writes:
passed, or failed with the message of the clean re-run (autograder/verify.py) unless that holds
private text (autograder/leaks.py). The hidden tests' code is replaced by a placeholder.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder import notebooks

HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)
PLACEHOLDER = "# (hidden test: its code is not shown; its result is below)\n"
NO_MESSAGE = "(no message recorded: ask your instructor to grade it with `course autograde`)"


def verdict(points: float, score: float, message: str | None, zeroed: bool) -> str:
    """The line a student reads under a graded test."""
    if score >= points:
        return f"PASSED: {score:g}/{points:g} points"
    if zeroed:
        return (f"FAILED: {score:g}/{points:g} points. It passed only in your own kernel: with the grader's checks "
                f"restored it fails ({message or NO_MESSAGE}). Do not change the grader's functions.")
    return f"FAILED: {score:g}/{points:g} points. {message or NO_MESSAGE}"


def submitted_outputs(path: Path) -> dict[str, list]:
    """Cell source -> the outputs of the code cells with that source, in order, in the notebook at `path`."""
    found = defaultdict(list)
    try:
        cells = notebooks.read(path).cells
    except notebooks.NotebookError:
        return found
    for cell in cells:
        if cell.cell_type == "code":
            found[cell.source].append(cell.get("outputs", []))
    return found


class StudentFeedback(NbGraderPreprocessor):
    """Code cells keep the submitted notebook's outputs; graded tests show the grader's verdict, not their code."""

    def preprocess(self, nb, resources):
        from autograder import grade, leaks
        from labkit import config

        lab_id, student = resources["nbgrader"]["assignment"], resources["nbgrader"]["student"]
        course = config.load(Path.cwd())
        self.outcome = grade.load_status(course, lab_id).get(student)
        self.private = leaks.private_text(course, lab_id)
        self.submitted = submitted_outputs(grade.notebook_path(course, grade.SUBMITTED, lab_id, student))
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        meta = notebooks.nbgrader_meta(cell)
        if meta.get("grade") and not meta.get("solution"):
            cell.source = HIDDEN_REGION.sub(PLACEHOLDER, cell.source)
            message = self.outcome.messages.get(meta["grade_id"]) if self.outcome else None
            text = verdict(meta.get("points", 0), meta.get("score") or 0, message and self.private.clean(message),
                           bool(self.outcome) and meta["grade_id"] in self.outcome.zeroed)
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text + "\n")]
        else:
            earlier = self.submitted.get(cell.source)
            cell.outputs = earlier.pop(0) if earlier else []
        cell.execution_count = None
        return cell, resources
