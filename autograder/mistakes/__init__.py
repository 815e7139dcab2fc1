"""Simulated submissions: the reference with one known mistake, and the tests it must fail."""

from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass, field

from autograder.core import notebooks


@dataclass(frozen=True)
class Mistake:
    """A wrong implementation: text edits to solution cells and the graded tests that must catch it."""

    name: str
    description: str
    edits: tuple[tuple[str, str, str], ...]  # (solution cell grade_id, old text, new text)
    fails: frozenset[str] = field(default_factory=frozenset)
    in_demo: bool = False


def catalogue(lab_id: str) -> tuple[Mistake, ...]:
    """The known mistakes of `lab_id` (autograder/mistakes/<lab>.py)."""
    return importlib.import_module(f"autograder.mistakes.{lab_id}").MISTAKES


def apply(solutions: dict[str, str], mistake: Mistake) -> dict[str, str]:
    """Solution sources (grade_id -> code) with the mistake's edits made; each edit must match once."""
    edited = dict(solutions)
    for grade_id, old, new in mistake.edits:
        count = edited[grade_id].count(old)
        if count != 1:
            raise ValueError(f"mistake {mistake.name}: {old!r} occurs {count} times in cell {grade_id}, expected once")
        edited[grade_id] = edited[grade_id].replace(old, new)
    return edited


def reference_solutions(source_notebook) -> dict[str, str]:
    """grade_id -> the reference code of each solution cell (solution markers removed), and the model answer of
    each written answer cell."""
    code = {grade_id: notebooks.strip_markers(source, notebooks.SOLUTION_MARKERS)
            for grade_id, source in notebooks.solution_cells(source_notebook).items()}
    return {**notebooks.written_answers(source_notebook), **code}


def fill(release_notebook, solutions: dict[str, str]):
    """A copy of the student notebook whose solution cells hold `solutions` (a simulated submission)."""
    submission = copy.deepcopy(release_notebook)
    for cell in submission.cells:
        grade_id = notebooks.nbgrader_meta(cell).get("grade_id")
        if notebooks.nbgrader_meta(cell).get("solution") and grade_id in solutions:
            cell.source = solutions[grade_id]
    return submission


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
