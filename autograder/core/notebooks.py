"""Reading lab notebooks: validity, graded tests, and the reference code of a source notebook."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.core.errors import CourseError

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
DEFINITIONS_TAG = "definitions"
# The code between the hidden-test markers, marker lines included (a cell may hold several such regions).
HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)


class NotebookError(CourseError, ValueError):
    """A notebook file that cannot be read as a Jupyter notebook."""


@dataclass(frozen=True)
class GradedTest:
    """A graded cell: an autograded test, or (manual=True) a written answer or task an instructor scores."""

    grade_id: str
    points: float
    source: str
    manual: bool = False


def read(path: Path) -> nbformat.NotebookNode:
    """Read and validate the notebook at `path`; NotebookError says what is wrong with it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise NotebookError(f"{path.name} cannot be read ({error})") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(f"{path.name} is not valid JSON (line {error.lineno}, column {error.colno}: "
                            f"{error.msg}); the file is damaged or truncated") from None
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several unrelated types for malformed notebooks
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise NotebookError(f"{path.name} is JSON but not a valid notebook ({first_line})") from None
    return notebook


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_graded_test(cell) -> bool:
    """True for an autograded test cell: a graded code cell that is not an answer."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_manually_graded(cell) -> bool:
    """True for a cell an instructor scores: nbgrader's manually graded answer (an answer cell with points) or
    manually graded task."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("task")) or (bool(meta.get("grade")) and (bool(meta.get("solution"))
                                                                  or cell.cell_type == "markdown"))


def _graded(cell) -> GradedTest:
    meta = nbgrader_meta(cell)
    return GradedTest(meta["grade_id"], float(meta.get("points", 0)), cell.source, is_manually_graded(cell))


def graded_tests(notebook) -> list[GradedTest]:
    """The autograded test cells in notebook order, with their points."""
    return [_graded(cell) for cell in notebook.cells if is_graded_test(cell)]


def manual_parts(notebook) -> list[GradedTest]:
    """The manually graded answers and tasks in notebook order, with their points."""
    return [_graded(cell) for cell in notebook.cells if is_manually_graded(cell)]


def graded_cells(notebook) -> list[GradedTest]:
    """Every cell that gives points, autograded or manual, in notebook order."""
    return [_graded(cell) for cell in notebook.cells if is_graded_test(cell) or is_manually_graded(cell)]


def hidden_tests(notebook) -> str:
    """The hidden-test regions of every code cell of `notebook`, one after another."""
    return "".join(match.group(0) for cell in notebook.cells if cell.cell_type == "code"
                   for match in HIDDEN_REGION.finditer(cell.source))


def solution_cells(notebook) -> dict[str, str]:
    """grade_id -> source of every solution cell."""
    return {nbgrader_meta(cell)["grade_id"]: cell.source for cell in notebook.cells
            if cell.cell_type == "code" and nbgrader_meta(cell).get("solution")}


def written_answers(notebook) -> dict[str, str]:
    """grade_id -> source of every written (markdown) answer cell."""
    return {nbgrader_meta(cell)["grade_id"]: cell.source for cell in notebook.cells
            if cell.cell_type == "markdown" and nbgrader_meta(cell).get("solution")}


def strip_markers(source: str, markers: tuple[str, str]) -> str:
    """`source` without the lines holding `markers` (the code between them stays)."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in markers)


def reference_source(notebook) -> str:
    """The code of the cells that define the lab's parts: tagged 'definitions', and solutions."""
    parts = [strip_markers(cell.source, SOLUTION_MARKERS) for cell in notebook.cells
             if cell.cell_type == "code" and (nbgrader_meta(cell).get("solution")
                                              or DEFINITIONS_TAG in cell.metadata.get("tags", []))]
    return "\n\n\n".join(parts) + "\n"
