"""What grading a submission gave: its line in the report, its state, the status file and the grading log."""

import json
from types import SimpleNamespace

from autograder.grading.outcome import Outcome, load_status, log, log_path, save_status, status_path


def course(tmp_path):
    """The status file and the log read only the course's root folder."""
    return SimpleNamespace(root=tmp_path)


def test_state_names_what_became_of_the_submission():
    """Is the state 'graded', 'NOT GRADED', or 'NEEDS REGRADING' (which wins over graded)?"""
    assert Outcome("ada", True, 7, 10, 1.0).state == "graded"
    assert Outcome("ada", False, None, 10, 1.0).state == "NOT GRADED"
    assert Outcome("ada", True, 7, 10, 1.0, needs_regrading=True).state == "NEEDS REGRADING"


def test_a_graded_line_shows_the_score_and_time():
    """Does a graded outcome's line give the name, score/max and seconds in fixed columns?"""
    assert Outcome("ada", True, 7.5, 10, 12.34).line() == f"{'ada':<28} {'7.5/10':>15}   12.3 s"


def test_a_line_names_the_first_problem_and_counts_the_rest():
    """Does a line show the state instead of a score, the first problem, and how many more the log holds?"""
    outcome = Outcome("bob", False, None, 10, 3.0, problems=["kernel died", "cell a1 raised X: y", "late"])
    assert outcome.line() == f"{'bob':<28} {'NOT GRADED':>15}    3.0 s  kernel died (+2 more: see the log)"
    single = Outcome("bob", False, None, 10, 3.0, needs_regrading=True, problems=["time limit"])
    assert single.line() == f"{'bob':<28} {'NEEDS REGRADING':>15}    3.0 s  time limit"


def test_the_status_file_round_trips(tmp_path):
    """Does load_status give back exactly the outcomes save_status wrote, in grading/<lab>.json sorted by name?"""
    outcomes = {
        "zoe": Outcome("zoe", True, 8.5, 10, 41.2, submission_hash="ab" * 32,
                       messages={"t2": "expected 10 classes"}, zeroed=["t3"]),
        "ada": Outcome("ada", False, None, 10, 900.0, problems=["notebook time limit"], needs_regrading=True),
    }
    save_status(course(tmp_path), "lab1", outcomes)
    path = tmp_path / "grading" / "lab1.json"
    assert status_path(course(tmp_path), "lab1") == path
    assert list(json.loads(path.read_text(encoding="utf-8"))) == ["ada", "zoe"]
    assert load_status(course(tmp_path), "lab1") == outcomes
    assert sorted(p.name for p in path.parent.iterdir()) == ["lab1.json"]  # no temporary file left behind


def test_saving_replaces_the_earlier_status(tmp_path):
    """Does a second save replace the first one's outcomes rather than merge with them?"""
    save_status(course(tmp_path), "lab1", {"ada": Outcome("ada", True, 1, 10, 1.0)})
    save_status(course(tmp_path), "lab1", {"bob": Outcome("bob", True, 2, 10, 1.0)})
    assert list(load_status(course(tmp_path), "lab1")) == ["bob"]


def test_no_status_file_means_no_outcomes(tmp_path):
    """Does load_status give {} for a lab that was never graded?"""
    assert load_status(course(tmp_path), "lab2") == {}


def test_the_log_appends_one_line_per_entry(tmp_path):
    """Does log append to logs/<lab>-autograde.log, ending each entry with exactly one newline?"""
    log(course(tmp_path), "lab1", "first\n\n")
    log(course(tmp_path), "lab1", "second")
    assert log_path(course(tmp_path), "lab1") == tmp_path / "logs" / "lab1-autograde.log"
    assert log_path(course(tmp_path), "lab1").read_text(encoding="utf-8") == "first\nsecond\n"
