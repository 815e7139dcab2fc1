"""One record per student and lab: its totals, its CSV row and its Gradescope results."""

from autograder.core.notebooks import GradedTest
from autograder.feedback.leaks import WITHHELD, PrivateText
from autograder.feedback.verdicts import NO_MESSAGE
from autograder.grading.outcome import Outcome
from autograder.reports import csvs, gradescope
from autograder.reports.records import LabResults, Record

TESTS = [GradedTest("t1", 2.0, "assert a\n"), GradedTest("t2", 3.0, "assert b\n")]
SECRET = "def hidden_check(model): return model.fc.out_features == 10 and model.layer4 is not None"
PRIVATE = PrivateText(SECRET, "")


def on_time():
    return Record("ada", "graded", scores={"t1": 2.0, "t2": 3.0}, max_score=5.0, seconds=41.6)


def late():
    return Record("bob", "graded", scores={"t1": 2.0, "t2": 1.0}, late_penalty=1.0, seconds_late=93600,
                  max_score=5.0, seconds=12.0)


def not_graded():
    """As records.record makes it: an older grade in the gradebook is not carried over."""
    return Record("cyd", "not graded", max_score=5.0, problems=["kernel died", "time limit"])


def test_totals_of_a_graded_record():
    """Is total the sum of the scores, final the total less the late penalty, for graded records only?"""
    assert (late().graded, late().total, late().final) == (True, 3.0, 2.0)
    assert (on_time().total, on_time().final) == (5.0, 5.0)
    assert (not_graded().graded, not_graded().total, not_graded().final) == (False, None, None)
    assert Record("cyd", "not in gradebook", scores={"t1": 2.0}).total is None


def test_csv_rows_give_each_test_and_leave_ungraded_ones_blank():
    """Does each CSV row hold every test's score (blank when missing), totals, and blanks for the ungraded?"""
    partial = Record("dee", "graded", scores={"t2": 1.5}, max_score=5.0)
    results = LabResults("lab1", [late(), partial, not_graded()], TESTS, {})
    assert csvs.rows(results) == [
        {"student": "bob", "status": "graded", "t1": 2.0, "t2": 1.0, "total": 3.0, "late_penalty": 1.0, "final": 2.0,
         "max_score": 5.0, "problems": ""},
        {"student": "dee", "status": "graded", "t1": "", "t2": 1.5, "total": 1.5, "late_penalty": 0.0, "final": 1.5,
         "max_score": 5.0, "problems": ""},
        {"student": "cyd", "status": "not graded", "t1": "", "t2": "", "total": "", "late_penalty": "", "final": "",
         "max_score": 5.0, "problems": "kernel died; time limit"},
    ]


def test_gradescope_results_of_a_graded_record():
    """Does a graded record give its final score, rounded time, summary and one passed entry per test?"""
    assert gradescope.results(on_time(), TESTS, None, PRIVATE) == {
        "score": 5.0, "execution_time": 42, "output": "Autograded score 5/5.",
        "tests": [{"name": "t1", "number": "1", "score": 2.0, "max_score": 2.0, "output": "", "visibility": "visible"},
                  {"name": "t2", "number": "2", "score": 3.0, "max_score": 3.0, "output": "", "visibility": "visible"}],
    }


def test_gradescope_results_of_a_late_record_with_a_failed_test():
    """Does a late record give the score after the penalty, say how late it was, and the failed test's verdict?"""
    outcome = Outcome("bob", True, 3.0, 5.0, 12.0, messages={"t2": "expected 10 classes"})
    found = gradescope.results(late(), TESTS, outcome, PRIVATE)
    assert found["score"] == 2.0
    assert found["output"] == ("Autograded score 3/5. Submitted 26.0 h late: late penalty 1 point, "
                               "final score 2/5.")
    assert [t["output"] for t in found["tests"]] == ["", "FAILED: 1/3 points. expected 10 classes"]


def test_gradescope_withholds_a_message_that_quotes_private_text():
    """Is a failed test's message withheld when it quotes the private text, and NO_MESSAGE shown with no outcome?"""
    outcome = Outcome("bob", True, 3.0, 5.0, 12.0, messages={"t2": f"in {SECRET}"})
    withheld = gradescope.results(late(), TESTS, outcome, PRIVATE)["tests"][1]["output"]
    assert withheld == f"FAILED: 1/3 points. {WITHHELD}"
    assert gradescope.results(late(), TESTS, None, PRIVATE)["tests"][1]["output"] == f"FAILED: 1/3 points. {NO_MESSAGE}"


def test_gradescope_results_of_a_record_that_was_not_graded():
    """Does an ungraded record score 0 with no tests and a summary giving its status and problems?"""
    assert gradescope.results(not_graded(), TESTS, None, PRIVATE) == {
        "score": 0.0, "execution_time": 0, "output": "Not graded (not graded): kernel died; time limit", "tests": []}
    missing = Record("eve", "not in gradebook", max_score=5.0)
    assert gradescope.summary(missing) == "Not graded (not in gradebook): no result in the gradebook"
    assert (gradescope.points(1), gradescope.points(2.5), gradescope.points(0)) == ("1 point", "2.5 points", "0 points")
