"""One record per student and lab, from the gradebook and the autograder's status file."""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.core import layout, notebooks
from autograder.core.errors import ReportError
from autograder.grading import gradebook, latepenalty
from autograder.grading.outcome import Outcome, load_status
from labkit import config


@dataclass
class Record:
    """One student's result for a lab, as the gradebook and grading/<lab>.json record it."""

    student: str
    status: str
    scores: dict[str, float] = field(default_factory=dict)  # grade_id -> score, autograded and manual cells
    late_penalty: float = 0.0
    seconds_late: float = 0.0
    max_score: float = 0.0
    seconds: float | None = None
    problems: list[str] = field(default_factory=list)
    manual: frozenset[str] = frozenset()                    # grade_ids of the cells an instructor scores
    pending: list[str] = field(default_factory=list)        # of those, the ones not scored yet

    @property
    def graded(self) -> bool:
        return self.status == "graded"

    @property
    def waiting(self) -> bool:
        """True while some written answer or task of a graded submission has no manual score."""
        return self.graded and bool(self.pending)

    @property
    def autograded(self) -> float | None:
        """The points of the autograded tests."""
        return sum(v for k, v in self.scores.items() if k not in self.manual) if self.graded else None

    @property
    def manual_points(self) -> float | None:
        """The points of the manually graded cells so far (an unanswered one scores 0 without a manual pass)."""
        return sum(v for k, v in self.scores.items() if k in self.manual) if self.graded else None

    @property
    def total(self) -> float | None:
        """Autograded and manual points before any late penalty."""
        return sum(self.scores.values()) if self.graded else None

    @property
    def final(self) -> float | None:
        """The score after the late penalty."""
        return self.total - self.late_penalty if self.graded else None


@dataclass
class LabResults:
    """Everything a lab's reports are made of, read once: records, graded tests and grading outcomes."""

    lab_id: str
    records: list[Record]
    tests: list[notebooks.GradedTest]  # every cell that gives points, autograded tests and manual ones
    outcomes: dict[str, Outcome]

    @property
    def test_ids(self) -> list[str]:
        return [t.grade_id for t in self.tests]


def require_gradebook(course: config.Course) -> None:
    """ReportError when `course build` never ran."""
    if course.gradebook_missing:
        raise ReportError(f"{course.gradebook_missing}: run `course build` and `course autograde <lab>` in "
                          f"{course.root} first")


def graded_cells(course: config.Course, lab_id: str) -> list[notebooks.GradedTest]:
    """The lab's autograded tests and manually graded cells in notebook order."""
    return notebooks.graded_cells(notebooks.read(layout.source_notebook(course, lab_id)))


def record(student: str, lab: config.LabConfig, manual: frozenset[str], outcome: Outcome | None,
           entry: gradebook.Entry | None) -> Record:
    """A student's record: not graded when `course autograde` could not grade the submission, even where an
    older grade is still in the gradebook. The late penalty is taken from the total with its manual points
    (nbgrader's is computed when autograding, before any manual score)."""
    found = Record(student, "graded", max_score=lab.points, seconds=outcome.seconds if outcome else None,
                   problems=list(outcome.problems) if outcome else [], manual=manual)
    if outcome is not None and not outcome.graded:
        found.status = "not graded"
    elif entry is None or not entry.graded:
        found.status = "not in gradebook"
    else:
        found.scores, found.seconds_late = entry.scores, entry.seconds_late
        found.pending = [grade_id for grade_id in entry.pending if grade_id in manual]
        found.late_penalty = max(entry.late_penalty, latepenalty.points_lost(
            sum(entry.scores.values()), entry.seconds_late, lab.late_penalty * lab.points))
    return found


def records(course: config.Course, lab_id: str, outcomes: dict[str, Outcome] | None = None) -> list[Record]:
    """Every student with a submission in the gradebook or in grading/<lab>.json, sorted by name."""
    require_gradebook(course)
    outcomes = load_status(course, lab_id) if outcomes is None else outcomes
    entries = gradebook.entries(course, lab_id)
    students = sorted(set(outcomes) | set(entries))
    if not students:
        return []
    manual = frozenset(cell.grade_id for cell in graded_cells(course, lab_id) if cell.manual)
    return [record(student, course.lab(lab_id), manual, outcomes.get(student), entries.get(student))
            for student in students]


def lab_results(course: config.Course, lab_id: str) -> LabResults:
    """The lab's records, tests and outcomes; ReportError saying what to run when nothing is graded yet."""
    outcomes = load_status(course, lab_id)
    found = records(course, lab_id, outcomes)
    if not found:
        raise ReportError(f"nothing graded for {lab_id} yet: run `course autograde {lab_id}` in {course.root} first")
    return LabResults(lab_id, found, graded_cells(course, lab_id), outcomes)


def graded_labs(course: config.Course) -> list[str]:
    """The labs of course.toml with at least one submission in the gradebook or grading/."""
    return [lab_id for lab_id in course.labs if records(course, lab_id)]


def test_ids(course: config.Course, lab_id: str) -> list[str]:
    """The grade ids of the lab's autograded tests and manually graded cells in notebook order."""
    return [t.grade_id for t in graded_cells(course, lab_id)]
