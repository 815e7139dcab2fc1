"""Gradescope's autograder results format: reports/<lab>/gradescope/<student>/results.json."""

from __future__ import annotations

import json
from pathlib import Path

from autograder import grade, notebooks
from autograder.export import REPORTS, Record, graded_tests, require_records
from labkit import config

VISIBILITY = "visible"


def failure_messages(path: Path) -> dict[str, str]:
    """grade_id -> what a graded test cell printed when it failed (its error, or its stderr) in `path`."""
    try:
        notebook = notebooks.read(path)
    except notebooks.NotebookError:
        return {}
    messages = {}
    for cell in notebook.cells:
        meta = notebooks.nbgrader_meta(cell)
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        lines = [f"{o['ename']}: {o['evalue']}" for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        lines += [o["text"].strip() for o in cell.get("outputs", [])
                  if o.get("output_type") == "stream" and o.get("name") == "stderr"]
        if lines:
            messages[meta["grade_id"]] = "\n".join(lines)
    return messages


def summary(record: Record) -> str:
    """The submission's overall output line(s)."""
    if not record.graded:
        return f"Not graded ({record.status}): " + "; ".join(record.problems or ["no result in the gradebook"])
    text = f"Autograded score {record.total:g}/{record.max_score:g}."
    if record.late_penalty:
        text += (f" Submitted {record.seconds_late / 3600:.1f} h late: late penalty {record.late_penalty:g} points, "
                 f"final score {record.final:g}/{record.max_score:g}.")
    return text


def results(record: Record, tests: list[notebooks.GradedTest], messages: dict[str, str]) -> dict:
    """One submission in Gradescope's results.json format."""
    return {
        "score": record.final if record.graded else 0.0,
        "execution_time": round(record.seconds or 0),
        "output": summary(record),
        "tests": [{"name": test.grade_id, "number": str(number),
                   "score": record.scores.get(test.grade_id, 0.0), "max_score": test.points,
                   "output": "" if record.scores.get(test.grade_id, 0.0) >= test.points
                   else messages.get(test.grade_id, ""),
                   "visibility": VISIBILITY}
                  for number, test in enumerate(tests, start=1)] if record.graded else [],
    }


def write(course: config.Course, lab_id: str, echo=print) -> list[Path]:
    """Write every student's results.json for `lab_id`; return their paths."""
    tests = graded_tests(course, lab_id)
    folder = course.root / REPORTS / lab_id / "gradescope"
    paths = []
    for record in require_records(course, lab_id):
        messages = failure_messages(grade.notebook_path(course, grade.AUTOGRADED, lab_id, record.student))
        path = folder / record.student / "results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results(record, tests, messages), indent=2), encoding="utf-8")
        paths.append(path)
    echo(f"{lab_id}: Gradescope results for {len(paths)} student(s) -> {folder}")
    return paths
