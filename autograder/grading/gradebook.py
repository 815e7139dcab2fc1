"""The gradebook: every call into nbgrader's database API is here."""

from __future__ import annotations

from dataclasses import dataclass, field

from labkit import config


def db_url(course: config.Course) -> str:
    """The gradebook URL nbgrader uses; parallel graders share a SQLite file, so each waits up to a minute
    for another's write to finish."""
    return course.gradebook_url + ("?timeout=60" if course.gradebook_url.startswith("sqlite:") else "")


def record_due_date(course: config.Course, lab_id: str) -> None:
    """Write the lab's due date from course.toml (or none) into the gradebook, where autograde reads it."""
    from nbgrader.api import Gradebook

    with Gradebook(course.gradebook_url, course.course.id) as gradebook:
        gradebook.update_or_create_assignment(lab_id, duedate=course.lab(lab_id).due_utc)


def read_score(course: config.Course, lab_id: str, student: str) -> float:
    """The student's total for the lab."""
    from nbgrader.api import Gradebook

    with Gradebook(course.gradebook_url, course.course.id) as gradebook:
        return gradebook.find_submission(lab_id, student).score


def pending_manual(course: config.Course, lab_id: str, student: str) -> list[str]:
    """The grade ids of the student's cells that wait for a manual grade (written answers, tasks)."""
    from nbgrader.api import Gradebook

    with Gradebook(course.gradebook_url, course.course.id) as gradebook:
        notebook = gradebook.find_submission_notebook(lab_id, lab_id, student)
        return sorted(grade.name for grade in notebook.grades if grade.needs_manual_grade)


def zero_grades(course: config.Course, lab_id: str, student: str, grade_ids: list[str],
                released: list[str] = ()) -> None:
    """Set the manual score of the tests `grade_ids` to 0 (nbgrader's override of the auto score, which a new
    autograde keeps), and take the kit's earlier 0 off the tests in `released` (so that a corrected
    resubmission earns them again)."""
    from nbgrader.api import Gradebook

    with Gradebook(course.gradebook_url, course.course.id) as gradebook:
        for grade_id in grade_ids:
            grade = gradebook.find_grade(grade_id, lab_id, lab_id, student)
            grade.manual_score, grade.needs_manual_grade = 0, False  # decided: not one for the manual pass
        for grade_id in set(released) - set(grade_ids):
            grade = gradebook.find_grade(grade_id, lab_id, lab_id, student)
            if grade.manual_score == 0:
                grade.manual_score, grade.needs_manual_grade = None, grade.auto_score is None
        gradebook.db.commit()


def keep_manual_scores(course: config.Course, lab_id: str, student: str) -> None:
    """After grading an unchanged submission again: the cells scored by hand need no new manual grade (nbgrader
    flags every cell with a manual score for review again, which a changed submission needs)."""
    from nbgrader.api import Gradebook

    with Gradebook(course.gradebook_url, course.course.id) as gradebook:
        for grade in gradebook.find_submission_notebook(lab_id, lab_id, student).grades:
            if grade.manual_score is not None:
                grade.needs_manual_grade = False
        gradebook.db.commit()


def set_manual_score(course: config.Course, lab_id: str, student: str, grade_id: str, score: float | None,
                     extra_credit: float | None = None) -> None:
    """Score one cell by hand, as Formgrader's grade API does: the manual score (None takes it back) and extra
    credit; the cell needs a manual grade while it has neither a manual nor an autograded score."""
    from nbgrader.api import Gradebook

    with Gradebook(course.gradebook_url, course.course.id) as gradebook:
        grade = gradebook.find_grade(grade_id, lab_id, lab_id, student)
        grade.manual_score, grade.extra_credit = score, extra_credit
        grade.needs_manual_grade = score is None and grade.auto_score is None
        gradebook.db.commit()


@dataclass
class Entry:
    """One student's submission of a lab as the gradebook holds it."""

    scores: dict[str, float] = field(default_factory=dict)  # grade_id -> score; empty: no graded notebook
    pending: list[str] = field(default_factory=list)        # grade_ids still waiting for a manual grade
    late_penalty: float = 0.0
    seconds_late: float = 0.0
    graded: bool = True  # False when the submission is there but its notebook was never graded


def entries(course: config.Course, lab_id: str) -> dict[str, Entry]:
    """Student -> their submission of `lab_id`, for every student the gradebook has one for."""
    from nbgrader.api import Gradebook, MissingEntry

    found = {}
    with Gradebook(course.gradebook_url, course.course.id) as gradebook:
        try:
            submissions = gradebook.find_assignment(lab_id).submissions
        except MissingEntry:
            return {}
        for submission in submissions:
            student = submission.student.id
            try:
                notebook = gradebook.find_submission_notebook(lab_id, lab_id, student)
            except MissingEntry:
                found[student] = Entry(graded=False)
                continue
            found[student] = Entry({g.name: g.score for g in notebook.grades},
                                   sorted(g.name for g in notebook.grades if g.needs_manual_grade),
                                   submission.late_submission_penalty or 0.0, submission.total_seconds_late)
    return found
