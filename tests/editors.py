"""What editors and students do to a notebook when they save it, as the tests' fixtures (real .ipynb files).

Each function takes a notebook and returns a damaged copy: cell metadata dropped (front ends that ignore
it), cell ids written anew or removed (nbformat 4.4), a cell copied, deleted or moved.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path

import nbformat

from autograder.core import notebooks


def grade_id(cell) -> str | None:
    return notebooks.nbgrader_meta(cell).get("grade_id")


def index_of(notebook, name: str) -> int:
    return next(i for i, cell in enumerate(notebook.cells) if grade_id(cell) == name)


def drop_cell_metadata(notebook):
    """Every cell's metadata gone, nbgrader's with it (as front ends that ignore cell metadata save)."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        cell.metadata = nbformat.NotebookNode()
    return notebook


def new_cell_ids(notebook):
    """Every cell under a new random id."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        cell.id = uuid.uuid4().hex[:8]
    return notebook


def as_nbformat_4_4(notebook):
    """Saved as nbformat 4.4, which has no cell ids."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        cell.pop("id", None)
    notebook.nbformat_minor = 4
    return notebook


def copy_cell(notebook, name: str, source: str | None = None, above: bool = False):
    """Cell `name` pasted again below (or above) itself under a new id, holding `source` (or the same text)."""
    notebook = copy.deepcopy(notebook)
    index = index_of(notebook, name)
    pasted = copy.deepcopy(notebook.cells[index])
    pasted.id = uuid.uuid4().hex[:8]
    if source is not None:
        pasted.source = source
    notebook.cells.insert(index if above else index + 1, pasted)
    return notebook


def delete_cells(notebook, keep):
    """Only the cells for which `keep(cell)` is true."""
    notebook = copy.deepcopy(notebook)
    notebook.cells = [cell for cell in notebook.cells if keep(cell)]
    return notebook


def move_cell(notebook, name: str, after: str):
    """Cell `name` moved to just below cell `after`."""
    notebook = copy.deepcopy(notebook)
    cell = notebook.cells.pop(index_of(notebook, name))
    notebook.cells.insert(index_of(notebook, after) + 1, cell)
    return notebook


def add_cell(notebook, after: str, source: str):
    """A new code cell of the student's below cell `after`."""
    notebook = copy.deepcopy(notebook)
    notebook.cells.insert(index_of(notebook, after) + 1, nbformat.v4.new_code_cell(source))
    return notebook


def saved(notebook, path: Path):
    """`notebook` written to `path` and read back, as the grader will read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return notebooks.read(path)
