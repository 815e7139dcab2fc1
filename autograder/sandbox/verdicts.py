"""The clean re-run's output: one JSON line per graded test, written by verify.main and read by the grader.

A line is {grade_id: None (passed) or the student-facing message, "@value": the number the test cell ended with
(its partial score) or None, "@note": what the kit's check said of it or None}; the re-run writes one per test,
once. Student code runs in the same process and can reach that output: a test named twice, or in a line that
names more than one, was written by the notebook and fails (FORGED). A re-run that a notebook ended before it
gave every verdict is caught by the grader (a passed test without a verdict needs regrading). Reading needs
neither torch nor nbgrader, so the grading process (a Slurm task too) does not import them.
"""

from __future__ import annotations

import json

UNAVAILABLE = "the grader could not grade this test: "  # a verdict that makes the submission "needs regrading"
VALUE_KEY = "@value"             # the line's key for the number the test cell ended with
NOTE_KEY = "@note"               # and for what the kit's check said of it (accuracy.note)
KEYS = (VALUE_KEY, NOTE_KEY)
FORGED = ("the clean re-run's output held a verdict for this test that the grader did not write: the notebook wrote "
          "to it")


def line(test: str, verdict: str | None, value: float | None, said: str | None) -> str:
    """The line for one test: its verdict, the number it ended with and what the check said of it (a new encoder:
    the re-run restores json's module and classes, not the attributes of json.dumps's shared instance)."""
    return json.JSONEncoder().encode({test: verdict, VALUE_KEY: value, NOTE_KEY: said})


def read_lines(text: str) -> list[dict]:
    """The JSON lines the re-run printed (those given before a death, when the run died)."""
    lines = []
    for line in text.splitlines():
        try:
            found = json.loads(line)
        except (json.JSONDecodeError, TypeError, ValueError):
            break  # a line cut short by a death
        if not isinstance(found, dict):
            break
        lines.append(found)
    return lines


def read_verdicts(text: str) -> dict[str, str | None]:
    """The verdicts the re-run printed: grade_id -> None (passed) or the message; FORGED for a test named twice,
    named in a line with another, or given something other than a message."""
    found: dict[str, str | None] = {}
    for line in read_lines(text):
        tests = [test for test in line if test not in KEYS]
        for test in tests:
            written = test not in found and len(tests) == 1 and isinstance(line[test], (str, type(None)))
            found[test] = line[test] if written else FORGED
    return found


def _extra(text: str, key: str) -> dict:
    return {test: line[key] for line in read_lines(text) for test in line
            if test not in KEYS and line.get(key) is not None}


def read_values(text: str) -> dict[str, float]:
    """The numbers the passed test cells ended with (their partial scores), by grade_id."""
    return _extra(text, VALUE_KEY)


def read_notes(text: str) -> dict[str, str]:
    """What the kit's checks said of those scores, by grade_id."""
    return _extra(text, NOTE_KEY)
