"""The line a student reads under a graded test: passed, failed and why, or zeroed for patching the checks."""

from autograder.feedback.verdicts import NO_MESSAGE, verdict


def test_full_points_pass():
    """Does a test with all its points read PASSED with the points, whatever message was recorded?"""
    assert verdict(2, 2, None, False) == "PASSED: 2/2 points"
    assert verdict(2.5, 2.5, "stale message", False) == "PASSED: 2.5/2.5 points"


def test_a_failure_gives_its_message():
    """Does a failed test read FAILED with the score and the clean re-run's message?"""
    assert verdict(2, 0, "expected 10 classes, got 9", False) == "FAILED: 0/2 points. expected 10 classes, got 9"



def test_partial_credit_says_so_with_what_the_check_said():
    """Does a test scored on a scale (nbgrader's partial credit) read PARTIAL CREDIT with the check's note?"""
    assert verdict(3, 1.5, "80.00 % on the test images", False) == "PARTIAL CREDIT: 1.5/3 points. 80.00 % on the test images"
    assert verdict(3, 1.5, None, False) == "PARTIAL CREDIT: 1.5/3 points."


def test_a_failure_without_a_message_says_none_was_recorded():
    """Does a failed test with no (or an empty) message say how to get one?"""
    assert verdict(2, 0, None, False) == f"FAILED: 0/2 points. {NO_MESSAGE}"
    assert verdict(2, 0, "", False) == f"FAILED: 0/2 points. {NO_MESSAGE}"


def test_a_zeroed_test_says_it_passed_only_with_the_checks_patched():
    """Does a zeroed test say it passed only in the student's kernel, with the restored checks' message?"""
    assert verdict(2, 0, "wrong stride", True) == (
        "FAILED: 0/2 points. It passed only in your own kernel: with the grader's checks restored it fails "
        "(wrong stride). Do not change the grader's functions.")
    assert f"restored it fails ({NO_MESSAGE})." in verdict(2, 0, None, True)
