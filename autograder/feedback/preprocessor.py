"""nbgrader preprocessors of the kit: feedback that holds nothing the grading kernel printed.

Student code runs in the grading kernel, where it can read the kit's checks and reference code and
print them into any cell's output. So feedback shows each code cell with the outputs of the
notebook as the student submitted it, and each graded test with a verdict the grader writes:
passed, or failed with the message of the clean re-run (autograder/sandbox/verify.py) unless that
holds private text (autograder/feedback/leaks.py). The hidden tests' code is replaced by a placeholder.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.core import layout, notebooks
from autograder.feedback import leaks
from autograder.feedback.verdicts import verdict
from autograder.grading import gradebook
from autograder.grading.outcome import load_status
from labkit import config

PLACEHOLDER = "# (hidden test: its code is not shown; its result is below)\n"


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


def repairs_note(repairs: list[str]):
    """A markdown cell telling the student what the grader repaired in the notebook before grading it."""
    lines = "\n".join(f"- {line}" for line in repairs)
    return nbformat.v4.new_markdown_cell(
        "**Your notebook was repaired before grading.** The grader found it damaged (as some editors save "
        "notebooks, or by deleted, copied or moved cells) and graded it as below; your answers are your own, "
        f"unchanged:\n\n{lines}\n\nNext time, keep every cell of the released notebook in place.")


def pending_note(pending: list[str]):
    """A markdown cell telling the student which written answers and tasks are not graded by hand yet."""
    return nbformat.v4.new_markdown_cell(
        f"**Not graded by hand yet:** {', '.join(pending)}. These written answers and tasks are scored by your "
        "instructor; the score on this page counts them as 0 until then, and will change.")


class StudentFeedback(NbGraderPreprocessor):
    """Code cells keep the submitted notebook's outputs; graded tests show the grader's verdict, not their code."""

    def preprocess(self, nb, resources):
        lab_id, student = resources["nbgrader"]["assignment"], resources["nbgrader"]["student"]
        course = config.load(Path.cwd())
        self.outcome = load_status(course, lab_id).get(student)
        self.private = leaks.private_text(course, lab_id)
        self.submitted = submitted_outputs(layout.notebook_path(course, layout.SUBMITTED, lab_id, student))
        nb, resources = super().preprocess(nb, resources)
        pending = gradebook.pending_manual(course, lab_id, student)
        if pending:
            nb.cells.insert(0, pending_note(pending))
        if self.outcome and self.outcome.repairs:
            nb.cells.insert(0, repairs_note(self.outcome.repairs))
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        meta = notebooks.nbgrader_meta(cell)
        if notebooks.is_graded_test(cell):
            cell.source = notebooks.HIDDEN_REGION.sub(PLACEHOLDER, cell.source)
            message = self.outcome.messages.get(meta["grade_id"]) if self.outcome else None
            text = verdict(meta.get("points", 0), meta.get("score") or 0, message and self.private.clean(message),
                           bool(self.outcome) and meta["grade_id"] in self.outcome.zeroed)
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text + "\n")]
        else:
            earlier = self.submitted.get(cell.source)
            cell.outputs = earlier.pop(0) if earlier else []
        cell.execution_count = None
        return cell, resources
