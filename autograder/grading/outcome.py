"""What grading a submission gave, the class's status file (grading/<lab>.json) and the grading log."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.core import layout, process
from labkit import config


@dataclass
class Outcome:
    """What grading one submission gave: a score, or the reason it could not be graded."""

    student: str
    graded: bool
    score: float | None
    max_score: float
    seconds: float
    problems: list[str] = field(default_factory=list)
    needs_regrading: bool = False   # a time limit or a dead kernel: grade again (--retry-failed)
    submission_hash: str = ""       # sha256 of the graded notebook file
    messages: dict[str, str] = field(default_factory=dict)  # failed test -> its message from the clean re-run
    zeroed: list[str] = field(default_factory=list)          # tests passed only with the checks patched
    repairs: list[str] = field(default_factory=list)         # what was repaired in the notebook before grading
    manual_pending: list[str] = field(default_factory=list)  # written answers and tasks waiting for a manual grade

    @property
    def state(self) -> str:
        return "NEEDS REGRADING" if self.needs_regrading else "graded" if self.graded else "NOT GRADED"

    @property
    def waiting(self) -> bool:
        """True when graded and some written answer or task still needs a manual grade."""
        return self.graded and bool(self.manual_pending)

    def line(self) -> str:
        score = f"{self.score:g}/{self.max_score:g}" if self.graded else self.state
        tail = [f"needs manual grading: {', '.join(self.manual_pending)}"] if self.waiting else []
        if self.problems:
            tail.append(self.problems[0] + (f" (+{len(self.problems) - 1} more: see the log)"
                                            if len(self.problems) > 1 else ""))
        return f"{self.student:<28} {score:>15} {self.seconds:6.1f} s" + (f"  {'; '.join(tail)}" if tail else "")


def status_path(course: config.Course, lab_id: str) -> Path:
    return course.root / layout.STATUS_DIR / f"{lab_id}.json"


def load_status(course: config.Course, lab_id: str) -> dict[str, Outcome]:
    """The outcomes recorded by earlier `course autograde` runs, by student."""
    path = status_path(course, lab_id)
    if not path.is_file():
        return {}
    return {name: Outcome(**record) for name, record in json.loads(path.read_text(encoding="utf-8")).items()}


def save_status(course: config.Course, lab_id: str, outcomes: dict[str, Outcome]) -> None:
    """Write the outcomes atomically (a crash mid-write leaves the previous file)."""
    process.write_atomic(status_path(course, lab_id),
                         json.dumps({k: asdict(v) for k, v in sorted(outcomes.items())}, indent=2))


def log_path(course: config.Course, lab_id: str) -> Path:
    return course.root / layout.LOG_DIR / f"{lab_id}-autograde.log"


def log(course: config.Course, lab_id: str, text: str) -> None:
    """Append `text` to logs/<lab>-autograde.log."""
    path = log_path(course, lab_id)
    path.parent.mkdir(exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(text.rstrip("\n") + "\n")
