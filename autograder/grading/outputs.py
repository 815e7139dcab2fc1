"""What an autograded notebook's outputs say: cells that raised or timed out, and output cut to the limit."""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.core import notebooks

DIED, NOT_RUN = "KernelDied", "CellNotRun"  # errors of the cell a kernel died in and of the cells after it
ERROR_FLOOR = 2048  # bytes of an error's message and traceback kept however little of the output limit is left
TRUNCATED = "\n[... output cut by the grader: {size} KiB printed, the first {limit} KiB kept]\n"


def cell_problems(path: Path) -> tuple[list[str], list[str]]:
    """(problems, limit hits) of the autograded notebook at `path`.

    Problems: 'cell <id> raised <Error>: <message>' for every non-test cell that raised.
    Limit hits: 'cell <id> hit the cell time limit' for every cell (tests included) that timed out.
    """
    try:
        notebook = notebooks.read(path)
    except notebooks.NotebookError as error:
        return [str(error)], []
    problems, hits = [], []
    for index, cell in enumerate(notebook.cells):
        meta = notebooks.nbgrader_meta(cell)
        name = meta.get("grade_id") or f"#{index}"
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") != "error":
                continue
            if output.get("ename") in (DIED, NOT_RUN):
                continue  # a kernel death: named once by the grader
            if output.get("ename") == "CellTimeoutError":
                hits.append(f"cell {name} hit the cell time limit")
            elif not meta.get("grade"):
                problems.append(f"cell {name} raised {output['ename']}: {output['evalue'][:120]}")
    return problems, hits


def not_run_tests(path: Path) -> list[str]:
    """The graded tests of the autograded notebook at `path` that did not run because the kernel had died."""
    try:
        cells = notebooks.read(path).cells
    except notebooks.NotebookError:
        return []
    return [notebooks.nbgrader_meta(cell)["grade_id"] for cell in cells if notebooks.is_graded_test(cell)
            and any(o.get("ename") in (DIED, NOT_RUN) for o in cell.get("outputs", []))]


def output_size(output) -> int:
    """Bytes of text an output holds (stream text, an error's message and traceback, or its data's text forms)."""
    if output.get("output_type") == "stream":
        return len(output.get("text", "").encode())
    if output.get("output_type") == "error":
        return len((output.get("evalue", "") + "".join(output.get("traceback", []))).encode())
    return sum(len("".join(value).encode()) for value in output.get("data", {}).values() if isinstance(value, (str, list)))


def cut_error(output, budget: int):
    """An error output cut to `budget` bytes (at least ERROR_FLOOR): its message's start and its traceback's last
    lines. The error itself stays: nbgrader scores a test by it."""
    room = max(budget, ERROR_FLOOR)
    evalue = output.get("evalue", "").encode()[:room // 2].decode(errors="ignore")
    room -= len(evalue.encode())
    lines: list[str] = []
    for line in reversed(output.get("traceback", [])):
        room -= len(line.encode())
        if room < 0:
            break
        lines.insert(0, line)
    output["evalue"] = evalue
    output["traceback"] = lines or [f"{output.get('ename', 'Error')}: (traceback cut by the grader)"]
    return output


def cut_outputs(path: Path, limit_kib: int) -> list[str]:
    """Cut every cell's output in the notebook at `path` to `limit_kib` KiB; one line per cell that was cut."""
    try:
        notebook = notebooks.read(path)
    except notebooks.NotebookError:
        return []
    limit, cut = limit_kib * 1024, []
    for index, cell in enumerate(notebook.cells):
        outputs = cell.get("outputs", []) if cell.cell_type == "code" else []
        size = sum(output_size(o) for o in outputs)
        if size <= limit:
            continue
        kept, budget = [], limit
        for output in outputs:
            if output.get("output_type") == "error":
                kept.append(cut_error(output, budget))
                budget = max(0, budget - output_size(output))
            elif output_size(output) <= budget:
                kept.append(output)
                budget -= output_size(output)
            elif output.get("output_type") == "stream" and budget > 0:
                output["text"] = output["text"].encode()[:budget].decode(errors="ignore")
                kept.append(output)
                budget = 0
        note = TRUNCATED.format(size=size // 1024, limit=limit_kib)
        kept.append(nbformat.v4.new_output("stream", name="stderr", text=note))
        cell["outputs"] = kept
        cut.append(f"cell {notebooks.nbgrader_meta(cell).get('grade_id') or f'#{index}'} printed {size // 1024} KiB; "
                   f"the first {limit_kib} KiB were kept (output limit)")
    if cut:
        nbformat.write(notebook, path)
    return cut


def passed_tests(path: Path) -> set[str]:
    """The graded test cells of the autograded notebook at `path` that ran without an error."""
    return {notebooks.nbgrader_meta(cell)["grade_id"] for cell in notebooks.read(path).cells
            if notebooks.is_graded_test(cell)
            and not any(o.get("output_type") == "error" for o in cell.get("outputs", []))}


def test_values(path: Path) -> dict[str, float]:
    """grade_id -> the number a graded test cell of the autograded notebook at `path` ended with (nbgrader's partial
    credit: the text of its execute_result read as a float)."""
    found = {}
    for cell in notebooks.read(path).cells:
        if not notebooks.is_graded_test(cell):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "execute_result":
                try:
                    found[notebooks.nbgrader_meta(cell)["grade_id"]] = float(output["data"]["text/plain"])
                except (KeyError, TypeError, ValueError):
                    pass
    return found
