"""Gradescope's autograder results format: reports/<lab>/gradescope/<student>/results.json."""

from __future__ import annotations

import json
from pathlib import Path

from autograder import grade, leaks, notebooks, preprocessors
from autograder.export import REPORTS, Record, graded_tests, require_records
from labkit import config

VISIBILITY = "visible"


def summary(record: Record) -> str:
    """The submission's overall output line(s)."""
    if not record.graded:
        return f"Not graded ({record.status}): " + "; ".join(record.problems or ["no result in the gradebook"])
    text = f"Autograded score {record.total:g}/{record.max_score:g}."
    if record.late_penalty:
        text += (f" Submitted {record.seconds_late / 3600:.1f} h late: late penalty {record.late_penalty:g} points, "
                 f"final score {record.final:g}/{record.max_score:g}.")
    return text


def test_output(record: Record, test: notebooks.GradedTest, outcome: grade.Outcome | None,
                private: leaks.PrivateText) -> str:
    """A test's output: nothing when it passed, else the verdict students also read in their feedback."""
    score = record.scores.get(test.grade_id, 0.0)
    if score >= test.points:
        return ""
    message = outcome.messages.get(test.grade_id) if outcome else None
    return preprocessors.verdict(test.points, score, message and private.clean(message),
                                 bool(outcome) and test.grade_id in outcome.zeroed)


def results(record: Record, tests: list[notebooks.GradedTest], outcome: grade.Outcome | None,
            private: leaks.PrivateText) -> dict:
    """One submission in Gradescope's results.json format."""
    return {
        "score": record.final if record.graded else 0.0,
        "execution_time": round(record.seconds or 0),
        "output": summary(record),
        "tests": [{"name": test.grade_id, "number": str(number),
                   "score": record.scores.get(test.grade_id, 0.0), "max_score": test.points,
                   "output": test_output(record, test, outcome, private),
                   "visibility": VISIBILITY}
                  for number, test in enumerate(tests, start=1)] if record.graded else [],
    }


def write(course: config.Course, lab_id: str, echo=print) -> list[Path]:
    """Write every student's results.json for `lab_id`; return their paths."""
    tests = graded_tests(course, lab_id)
    folder = course.root / REPORTS / lab_id / "gradescope"
    paths = []
    outcomes, private = grade.load_status(course, lab_id), leaks.private_text(course, lab_id)
    for record in require_records(course, lab_id):
        path = folder / record.student / "results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results(record, tests, outcomes.get(record.student), private), indent=2), encoding="utf-8")
        paths.append(path)
    echo(f"{lab_id}: Gradescope results for {len(paths)} student(s) -> {folder}")
    return paths
