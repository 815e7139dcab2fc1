"""Repairing a submission against the released notebook before nbgrader grades it.

Editors damage notebooks as they save them: some drop every cell's metadata (nbgrader's with it),
some write new cell ids, copy-paste duplicates a cell's grade_id, and students delete or move cells.
nbgrader then grades nothing or fails. Each released cell is found again in the submission (by
grade_id or cell id, else a locked cell by its exact content, else an answer cell by its place between
the cells already found), and the repaired notebook is the released one in its own order holding the
student's answers and extra cells. Every repair is named; an answer cell that cannot be found is
named too, and the submission is not graded without it.
"""

from __future__ import annotations

import bisect
import copy
import difflib
import uuid
from dataclasses import dataclass, field

import nbformat

from autograder.core import notebooks


@dataclass
class Repaired:
    """A submission as it will be graded, what was repaired, and the answer cells that could not be found."""

    notebook: nbformat.NotebookNode
    repairs: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)


def is_answer(cell) -> bool:
    return bool(notebooks.nbgrader_meta(cell).get("solution"))


def is_locked(cell) -> bool:
    """A released cell whose content nbgrader restores: a test or a read-only cell."""
    meta = notebooks.nbgrader_meta(cell)
    return bool(meta) and not meta.get("solution") and bool(meta.get("locked") or meta.get("grade"))


def name_of(cell) -> str:
    return notebooks.nbgrader_meta(cell).get("grade_id") or cell.get("id") or "(no id)"


def same_text(a: str, b: str) -> bool:
    return a.strip() == b.strip()


def claims_by_identity(release, submitted) -> dict[int, list[int]]:
    """Released cell index -> the submitted cells carrying its grade_id, or else its cell id."""
    by_grade = {notebooks.nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(release.cells)}
    by_grade.pop(None, None)
    by_id = {c.get("id"): i for i, c in enumerate(release.cells) if c.get("id")}
    claims: dict[int, list[int]] = {}
    for s, cell in enumerate(submitted.cells):
        target = by_grade.get(notebooks.nbgrader_meta(cell).get("grade_id"), by_id.get(cell.get("id")))
        if target is not None:
            claims.setdefault(target, []).append(s)
    return claims


def pick_copy(released, copies: list, sources: list[str]) -> int:
    """Which of several copies of one released cell is graded: for an answer the last edited copy, else the
    first copy that is unchanged (or the first)."""
    edited = [i for i, source in zip(copies, sources) if not same_text(source, released.source)]
    if is_answer(released):
        return edited[-1] if edited else copies[0]
    unchanged = [i for i in copies if i not in edited]
    return unchanged[0] if unchanged else copies[0]


def anchor_by_content(release, submitted, found: dict[int, int]) -> list[int]:
    """Find unfound locked and plain released cells by their exact content; the released indices found."""
    used = set(found.values())
    placed = []
    for r, cell in enumerate(release.cells):
        if r in found or is_answer(cell):
            continue
        after = max((s for rr, s in found.items() if rr < r), default=-1)
        same = [s for s, c in enumerate(submitted.cells)
                if s not in used and c.cell_type == cell.cell_type and same_text(c.source, cell.source)]
        if same:
            s = next((s for s in same if s > after), same[0])
            found[r] = s
            used.add(s)
            placed.append(r)
    return placed


def place_answers(release, submitted, found: dict[int, int]) -> list[int]:
    """Find each unfound answer cell among the unclaimed submitted cells between the cells found around it
    (the one most like the released skeleton); the released indices placed."""
    used = set(found.values())
    placed = []
    for r, cell in enumerate(release.cells):
        if r in found or not is_answer(cell):
            continue
        low = max((s for rr, s in found.items() if rr < r), default=-1)
        high = min((s for rr, s in found.items() if rr > r), default=len(submitted.cells))
        window = [s for s in range(low + 1, high) if s not in used and submitted.cells[s].cell_type == cell.cell_type]
        if window:
            s = max(window, key=lambda s: (difflib.SequenceMatcher(None, cell.source, submitted.cells[s].source)
                                           .ratio(), -s))
            found[r] = s
            used.add(s)
            placed.append(r)
    return placed


def moved(found: dict[int, int]) -> list[int]:
    """Released indices whose submitted cells are out of the released order (outside a longest in-order run)."""
    keys = sorted(found)
    order = [found[r] for r in keys]
    tails: list[int] = []            # tails[k]: index in `order` ending the lowest in-order run of length k + 1
    previous = [-1] * len(order)
    for i, value in enumerate(order):
        k = bisect.bisect_left([order[t] for t in tails], value)
        previous[i] = tails[k - 1] if k else -1
        tails[k:k + 1] = [i]
    keep, i = set(), tails[-1] if tails else -1
    while i != -1:
        keep.add(i)
        i = previous[i]
    return [keys[i] for i in range(len(order)) if i not in keep]


def graded_cell(released, submitted_cell):
    """The released cell (its id, type and nbgrader metadata) holding the student's source where the student
    writes: answers and plain cells; tests and read-only cells keep the released source."""
    cell = copy.deepcopy(released)
    if not is_locked(released):
        cell.source = submitted_cell.source
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def extra_cell(cell, taken: set[str]):
    """A cell the student added, without nbgrader metadata, under an id no other cell has."""
    cell = copy.deepcopy(cell)
    cell.metadata.pop("nbgrader", None)
    if not cell.get("id") or cell["id"] in taken:
        cell["id"] = uuid.uuid4().hex[:8]
    taken.add(cell["id"])
    return cell


def describe(release, submitted, found: dict[int, int], by_content: list[int], losers: dict[int, int],
             restored: list[int], out_of_order: list[int]) -> list[str]:
    """One line per kind of repair, naming the cells."""
    repairs = []
    lost = [r for r, s in found.items() if notebooks.nbgrader_meta(release.cells[r])
            and notebooks.nbgrader_meta(submitted.cells[s]) != notebooks.nbgrader_meta(release.cells[r])]
    if lost:
        repairs.append(f"{len(lost)} cell(s) had lost or changed their nbgrader metadata (an editor that drops "
                       f"cell metadata saved the notebook); restored from the released notebook")
    if by_content:
        repairs.append(f"{len(by_content)} cell(s) had new cell ids; found again by their content and place: "
                       + ", ".join(name_of(release.cells[r]) for r in sorted(by_content)))
    for r, count in sorted(losers.items()):
        kind = "answer cell" if is_answer(release.cells[r]) else "cell"
        repairs.append(f"{kind} {name_of(release.cells[r])} was there {count + 1} times (copied); graded "
                       + ("the edited copy" if is_answer(release.cells[r]) else "one copy"))
    tests = [name_of(release.cells[r]) for r in restored if notebooks.is_graded_test(release.cells[r])]
    others = [name_of(release.cells[r]) for r in restored if not notebooks.is_graded_test(release.cells[r])]
    if tests:
        repairs.append(f"deleted test cell(s) put back: {', '.join(tests)}")
    if others:
        repairs.append(f"deleted read-only cell(s) put back: {', '.join(others)}")
    if out_of_order:
        repairs.append("cell(s) moved back to their place in the released notebook: "
                       + ", ".join(name_of(release.cells[r]) for r in out_of_order))
    changed = [name_of(release.cells[r]) for r, s in found.items()
               if submitted.cells[s].cell_type != release.cells[r].cell_type]
    if changed:
        repairs.append(f"cell(s) whose type was changed restored to the released type: {', '.join(changed)}")
    return repairs


def repair(release, submitted) -> Repaired:
    """The submission as it will be graded: unchanged when nothing needs repair, else the released notebook's
    cells in order holding the student's answers, with the student's extra cells after the cells they followed."""
    found, losers, dropped = {}, {}, set()
    for r, copies in claims_by_identity(release, submitted).items():
        found[r] = pick_copy(release.cells[r], copies, [submitted.cells[s].source for s in copies])
        if len(copies) > 1:
            losers[r] = len(copies) - 1
            for s in copies:
                source = submitted.cells[s].source
                if s != found[r] and (not is_answer(release.cells[r]) or same_text(source, release.cells[r].source)
                                      or same_text(source, submitted.cells[found[r]].source)):
                    dropped.add(s)
    by_content = anchor_by_content(release, submitted, found) + place_answers(release, submitted, found)
    unplaced = [name_of(c) for r, c in enumerate(release.cells) if is_answer(c) and r not in found]
    restored = [r for r, c in enumerate(release.cells) if is_locked(c) and r not in found]
    graded = {r for r, c in enumerate(release.cells) if notebooks.nbgrader_meta(c)}  # plain cells are the student's
    by_content = [r for r in by_content if r in graded]
    out_of_order = [r for r in moved(found) if r in graded]
    repairs = describe(release, submitted, found, by_content, losers, restored, out_of_order)
    if not repairs and not unplaced:
        return Repaired(submitted)
    return Repaired(rebuilt(release, submitted, found, dropped), repairs, unplaced)


def rebuilt(release, submitted, found: dict[int, int], dropped: set[int]):
    """The released cells in order (found or put back), each followed by the extra cells that followed it."""
    claimed = set(found.values()) | dropped
    owner = {s: r for r, s in found.items()}
    follows: dict[int, list[int]] = {}  # released index (-1: the top) -> extra submitted cells after it
    last = -1
    for s in range(len(submitted.cells)):
        if s in owner:
            last = owner[s]
        elif s not in claimed:
            follows.setdefault(last, []).append(s)
    taken = {c.get("id") for c in release.cells}
    cells = [extra_cell(submitted.cells[s], taken) for s in follows.get(-1, [])]
    for r, released in enumerate(release.cells):
        if r in found:
            cells.append(graded_cell(released, submitted.cells[found[r]]))
        elif is_locked(released) or is_answer(released):
            cells.append(graded_cell(released, released))
        cells += [extra_cell(submitted.cells[s], taken) for s in follows.get(r, [])]
    notebook = nbformat.v4.new_notebook(metadata=copy.deepcopy(release.metadata), cells=cells)
    notebook.nbformat, notebook.nbformat_minor = release.nbformat, release.nbformat_minor
    return notebook
