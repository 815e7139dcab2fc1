"""Run a lab's graded tests in this process on given solution code, without nbgrader."""

from __future__ import annotations

import warnings
from pathlib import Path

from autograder import mistakes
from autograder.core import notebooks
from autograder.sandbox import verify
from labkit import config

ROOT = Path(__file__).resolve().parents[1]
LABS = tuple(config.load(ROOT).labs)  # the kit's labs, as course.toml lists them


def source_notebook(lab_id: str):
    return notebooks.read(ROOT / "solutions" / lab_id / f"{lab_id}.ipynb")


def definitions(notebook, solutions: dict[str, str]) -> dict:
    """A namespace holding the lab's definition cells and the given solution code, run in order."""
    namespace: dict = {"__name__": "__main__"}
    for cell in notebook.cells:
        meta = notebooks.nbgrader_meta(cell)
        if cell.cell_type != "code":
            continue
        if meta.get("solution"):
            exec(compile(solutions[meta["grade_id"]], meta["grade_id"], "exec"), namespace)
        elif notebooks.DEFINITIONS_TAG in cell.metadata.get("tags", []):
            exec(compile(cell.source, meta.get("grade_id", "definitions"), "exec"), namespace)
    return namespace


_SNAPSHOTS: dict[str, verify.Snapshot] = {}


def trusted_state(lab_id: str) -> verify.Snapshot:
    """The kit's checks, torch and NumPy as they were before any student code ran here (as autograding restores them)."""
    if lab_id not in _SNAPSHOTS:
        _SNAPSHOTS[lab_id] = verify.Snapshot(verify.trusted_modules(lab_id))
    return _SNAPSHOTS[lab_id]


def failing_tests(lab_id: str, solutions: dict[str, str]) -> dict[str, str]:
    """grade_id -> error message of every graded test that fails on `solutions`, the kit's checks restored
    before each test (and after the last), as `course autograde`'s verification does."""
    notebook = source_notebook(lab_id)
    failures = {}
    state = trusted_state(lab_id)
    for test in notebooks.graded_tests(notebook):
        with warnings.catch_warnings(record=True):  # student code may print warnings; they do not fail tests
            namespace = definitions(notebook, solutions)
            state.restore()
            try:
                exec(compile(notebooks.strip_markers(test.source, notebooks.HIDDEN_MARKERS), test.grade_id, "exec"),
                     namespace)
            except Exception as error:  # a failing test may raise anything the student's code raises
                failures[test.grade_id] = f"{type(error).__name__}: {error}"
    state.restore()
    return failures


def reference(lab_id: str) -> dict[str, str]:
    return mistakes.reference_solutions(source_notebook(lab_id))
