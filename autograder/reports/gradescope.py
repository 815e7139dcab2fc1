"""Gradescope's autograder results format: reports/<lab>/gradescope/<student>/results.json."""

from __future__ import annotations

import json
from pathlib import Path

from autograder.core import notebooks
from autograder.feedback.leaks import PrivateText
from autograder.feedback.verdicts import verdict
from autograder.grading.outcome import Outcome
from autograder.reports.records import LabResults, Record

VISIBILITY = "visible"
MANUAL_PENDING = "Graded by hand: not scored yet."


def points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def summary(record: Record, outcome: Outcome | None = None, tests: list[notebooks.GradedTest] = ()) -> str:
    """The submission's overall output line(s): the score (autograded and manual points, and the manually graded
    cells not scored yet, among `tests`), late penalty, and what was repaired in the notebook before grading."""
    if not record.graded:
        return f"Not graded ({record.status}): " + "; ".join(record.problems or ["no result in the gradebook"])
    manual_max = sum(t.points for t in tests if t.manual)
    text = (f"Score {record.total:g}/{record.max_score:g}: autograded {record.autograded:g}, graded by hand "
            f"{record.manual_points:g} of {manual_max:g}." if manual_max else
            f"Autograded score {record.total:g}/{record.max_score:g}.")
    if record.pending:
        text += (f" Not graded by hand yet: {', '.join(record.pending)} "
                 f"({points(sum(t.points for t in tests if t.grade_id in record.pending))}); this score will change.")
    if record.late_penalty:
        text += (f" Submitted {record.seconds_late / 3600:.1f} h late: late penalty {points(record.late_penalty)}, "
                 f"final score {record.final:g}/{record.max_score:g}.")
    if outcome and outcome.repairs:
        text += " Your notebook was repaired before grading: " + "; ".join(outcome.repairs) + "."
    return text


def test_output(record: Record, test: notebooks.GradedTest, outcome: Outcome | None,
                private: PrivateText) -> str:
    """A test's output: nothing when it passed, else the verdict students also read in their feedback; for a
    manually graded cell, whether it is scored yet."""
    score = record.scores.get(test.grade_id, 0.0)
    if test.manual:
        return (MANUAL_PENDING if test.grade_id in record.pending else
                f"Graded by hand: {score:g}/{test.points:g}.")
    if score >= test.points:
        return ""
    message = outcome.messages.get(test.grade_id) if outcome else None
    return verdict(test.points, score, message and private.clean(message),
                                 bool(outcome) and test.grade_id in outcome.zeroed)


def results(record: Record, tests: list[notebooks.GradedTest], outcome: Outcome | None,
            private: PrivateText) -> dict:
    """One submission in Gradescope's results.json format."""
    return {
        "score": record.final if record.graded else 0.0,
        "execution_time": round(record.seconds or 0),
        "output": summary(record, outcome, tests),
        "tests": [{"name": test.grade_id + (" (graded by hand)" if test.manual else ""), "number": str(number),
                   "score": record.scores.get(test.grade_id, 0.0), "max_score": test.points,
                   "output": test_output(record, test, outcome, private),
                   "visibility": VISIBILITY}
                  for number, test in enumerate(tests, start=1)] if record.graded else [],
    }


def write(results_of_lab: LabResults, private: PrivateText, folder: Path, echo=print) -> list[Path]:
    """Write every student's <folder>/<student>/results.json; return their paths."""
    paths = []
    for record in results_of_lab.records:
        path = folder / record.student / "results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        outcome = results_of_lab.outcomes.get(record.student)
        path.write_text(json.dumps(results(record, results_of_lab.tests, outcome, private), indent=2), encoding="utf-8")
        paths.append(path)
    echo(f"{results_of_lab.lab_id}: Gradescope results for {len(paths)} student(s) -> {folder}")
    return paths
