"""One submission's grader, before and after nbgrader: what it remembers of earlier gradings."""

import shutil

from autograder.grading.outcome import Outcome, save_status
from autograder.grading.submission import Grader
from labkit import config


def test_a_submission_not_graded_keeps_the_record_of_the_kits_zeros(kit, tmp_path):
    """When a resubmission cannot be graded this time, does its outcome keep the tests the kit zeroed in the
    gradebook before, so that the next grading lifts those zeros if the tests pass?"""
    shutil.copy(kit.root / "course.toml", tmp_path)
    course = config.load(tmp_path)
    save_status(course, "lab4", {"ada": Outcome("ada", True, 92, 100, 10.0, zeroed=["confusion_matrix_values"])})
    grader = Grader(course, "lab4", "ada")
    assert grader.zeroed_before == ["confusion_matrix_values"]
    assert grader.not_graded("grading took longer than 900 s", regrade=True).zeroed == ["confusion_matrix_values"]
    assert Grader(course, "lab4", "bob").not_graded("no notebook").zeroed == []
