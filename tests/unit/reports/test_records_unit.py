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
        {"student": "bob", "status": "graded", "t1": 2.0, "t2": 1.0, "autograded": 3.0, "manual": 0, "total": 3.0,
         "late_penalty": 1.0, "final": 2.0, "max_score": 5.0, "manual_pending": "", "problems": ""},
        {"student": "dee", "status": "graded", "t1": "", "t2": 1.5, "autograded": 1.5, "manual": 0, "total": 1.5,
         "late_penalty": 0.0, "final": 1.5, "max_score": 5.0, "manual_pending": "", "problems": ""},
        {"student": "cyd", "status": "not graded", "t1": "", "t2": "", "autograded": "", "manual": "", "total": "",
         "late_penalty": "", "final": "", "max_score": 5.0, "manual_pending": "", "problems": "kernel died; time limit"},
    ]


WRITTEN = [*TESTS, GradedTest("essay", 4.0, "YOUR ANSWER HERE", manual=True),
           GradedTest("photo", 1.0, "Graded by hand", manual=True)]


def with_written(pending=("essay", "photo"), essay=0.0):
    """A graded record of a lab with two manually graded cells, `pending` of them not scored yet."""
    return Record("fay", "graded", scores={"t1": 2.0, "t2": 3.0, "essay": essay, "photo": 0.0}, max_score=10.0,
                  manual=frozenset({"essay", "photo"}), pending=list(pending))


def test_manual_points_are_counted_apart_and_pending_ones_said():
    """Are autograded and manual points summed apart, the total both, and a record waiting until every manual
    cell is scored (the CSV naming the cells that wait)?"""
    waiting, done = with_written(), with_written(pending=(), essay=3.5)
    assert (waiting.autograded, waiting.manual_points, waiting.total, waiting.waiting) == (5.0, 0.0, 5.0, True)
    assert (done.autograded, done.manual_points, done.total, done.waiting) == (5.0, 3.5, 8.5, False)
    rows = csvs.rows(LabResults("lab2", [waiting, done], WRITTEN, {}))
    assert [(r["autograded"], r["manual"], r["total"], r["manual_pending"]) for r in rows] == [
        (5.0, 0.0, 5.0, "essay photo"), (5.0, 3.5, 8.5, "")]
    assert not Record("gus", "not graded", manual=frozenset({"essay"}), pending=["essay"]).waiting


def test_gradescope_says_what_is_graded_by_hand_and_what_waits():
    """Does Gradescope's summary split autograded and manual points and name the cells not scored yet, and each
    manual cell say whether it is scored?"""
    found = gradescope.results(with_written(pending=("photo",), essay=3.0), WRITTEN, None, PRIVATE)
    assert found["output"] == ("Score 8/10: autograded 5, graded by hand 3 of 5. Not graded by hand yet: photo "
                               "(1 point); this score will change.")
    assert [(t["name"], t["output"]) for t in found["tests"][2:]] == [
        ("essay (graded by hand)", "Graded by hand: 3/4."), ("photo (graded by hand)", gradescope.MANUAL_PENDING)]
    assert gradescope.results(with_written(pending=()), WRITTEN, None, PRIVATE)["output"] == \
        "Score 5/10: autograded 5, graded by hand 0 of 5."


def test_late_penalty_follows_the_manual_points():
    """Is the late penalty taken from the total with the manual points given after autograding (nbgrader's was
    capped at the autograded score then), and never more than the total?"""
    from labkit.config import LabConfig
    from autograder.grading.gradebook import Entry
    from autograder.reports.records import record

    lab = LabConfig("lab2", "t", 10.0, late_penalty=0.2)  # 2 points per started day
    entry = Entry({"t1": 1.0, "essay": 4.0}, [], late_penalty=1.0, seconds_late=30 * 3600)  # 2 days: 4 points
    found = record("fay", lab, frozenset({"essay"}), None, entry)
    assert (found.total, found.late_penalty, found.final) == (5.0, 4.0, 1.0)
    entry.scores["essay"] = 0.0
    assert record("fay", lab, frozenset({"essay"}), None, entry).final == 0.0


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
    assert [t["output"] for t in found["tests"]] == ["", "PARTIAL CREDIT: 1/3 points. expected 10 classes"]


def test_gradescope_withholds_a_message_that_quotes_private_text():
    """Is a failed test's message withheld when it quotes the private text, and NO_MESSAGE shown with no outcome?"""
    outcome = Outcome("bob", True, 3.0, 5.0, 12.0, messages={"t2": f"in {SECRET}"})
    withheld = gradescope.results(late(), TESTS, outcome, PRIVATE)["tests"][1]["output"]
    assert withheld == f"PARTIAL CREDIT: 1/3 points. {WITHHELD}"
    assert gradescope.results(late(), TESTS, None, PRIVATE)["tests"][1]["output"] == "PARTIAL CREDIT: 1/3 points."
    failed = Record("bob", "graded", scores={"t1": 2.0, "t2": 0.0}, max_score=5.0)
    assert gradescope.results(failed, TESTS, None, PRIVATE)["tests"][1]["output"] == f"FAILED: 0/3 points. {NO_MESSAGE}"


def test_gradescope_results_of_a_record_that_was_not_graded():
    """Does an ungraded record score 0 with no tests and a summary giving its status and problems?"""
    assert gradescope.results(not_graded(), TESTS, None, PRIVATE) == {
        "score": 0.0, "execution_time": 0, "output": "Not graded (not graded): kernel died; time limit", "tests": []}
    missing = Record("eve", "not in gradebook", max_score=5.0)
    assert gradescope.summary(missing) == "Not graded (not in gradebook): no result in the gradebook"
    assert (gradescope.points(1), gradescope.points(2.5), gradescope.points(0)) == ("1 point", "2.5 points", "0 points")
