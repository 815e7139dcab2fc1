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


def zero_grades(course: config.Course, lab_id: str, student: str, grade_ids: list[str],
                released: list[str] = ()) -> None:
    """Set the manual score of the tests `grade_ids` to 0 (nbgrader's override of the auto score, which a new
    autograde keeps), and take the kit's earlier 0 off the tests in `released` (so that a corrected
    resubmission earns them again)."""
    from nbgrader.api import Gradebook

    with Gradebook(course.gradebook_url, course.course.id) as gradebook:
        for grade_id in grade_ids:
            gradebook.find_grade(grade_id, lab_id, lab_id, student).manual_score = 0
        for grade_id in set(released) - set(grade_ids):
            grade = gradebook.find_grade(grade_id, lab_id, lab_id, student)
            if grade.manual_score == 0:
                grade.manual_score = None
        gradebook.db.commit()


@dataclass
class Entry:
    """One student's submission of a lab as the gradebook holds it."""

    scores: dict[str, float] = field(default_factory=dict)  # grade_id -> score; empty: no graded notebook
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
                                   submission.late_submission_penalty or 0.0, submission.total_seconds_late)
    return found
