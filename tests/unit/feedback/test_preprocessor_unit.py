"""Feedback holds nothing the grading kernel printed: submitted outputs, verdicts, and no hidden-test code."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.feedback.leaks import WITHHELD, PrivateText
from autograder.feedback.preprocessor import PLACEHOLDER, StudentFeedback, submitted_outputs
from autograder.feedback.verdicts import NO_MESSAGE
from autograder.grading.outcome import Outcome

HIDDEN = "### BEGIN HIDDEN TESTS\nassert secret_check(model)\n### END HIDDEN TESTS\n"
SECRET = "def secret_check(model): return model.fc.out_features == 10 and model.layer4 is not None"


def graded_test(grade_id, source, score, points=2):
    """A graded test cell of the autograded notebook, as nbgrader hands it over (score in its metadata)."""
    meta = {"grade": True, "grade_id": grade_id, "points": points, "solution": False, "locked": True,
            "schema_version": 3, "score": score}
    return new_code_cell(source, metadata={"nbgrader": meta}, execution_count=7,
                         outputs=[new_output("stream", name="stdout", text=SECRET)])  # printed by student code


def stdout(text):
    return new_output("stream", name="stdout", text=text)


def feedback(outcome=None, submitted=None):
    """The preprocessor with what `preprocess` would read from the course set directly."""
    preprocessor = StudentFeedback()
    preprocessor.outcome = outcome
    preprocessor.private = PrivateText(SECRET, "")
    preprocessor.submitted = submitted if submitted is not None else {}
    return preprocessor


def run(preprocessor, cell):
    cell, _ = preprocessor.preprocess_cell(cell, {}, 0)
    return cell


def test_a_passed_test_shows_its_visible_code_and_the_verdict():
    """Is a passed test's hidden region replaced by PLACEHOLDER and its output the PASSED line only?"""
    cell = run(feedback(), graded_test("t1", "assert f(1) == 2\n" + HIDDEN + "print('done')\n", score=2))
    assert cell.source == "assert f(1) == 2\n" + PLACEHOLDER + "print('done')\n"
    assert [(o.name, o.text) for o in cell.outputs] == [("stdout", "PASSED: 2/2 points\n")]
    assert cell.execution_count is None


def test_a_failed_test_shows_its_message_unless_it_leaks():
    """Does a failed test show its recorded message, and WITHHELD when the message quotes private text?"""
    outcome = Outcome("ada", True, 0, 4, 1.0, messages={"t1": "expected 10 classes", "t2": f"see {SECRET}"})
    first, second = (run(feedback(outcome), graded_test(t, HIDDEN, score=0)) for t in ("t1", "t2"))
    assert first.source == PLACEHOLDER
    assert first.outputs[0].text == "FAILED: 0/2 points. expected 10 classes\n"
    assert second.outputs[0].text == f"FAILED: 0/2 points. {WITHHELD}\n"


def test_a_failed_test_without_an_outcome_says_no_message_was_recorded():
    """Does a failed test read NO_MESSAGE when the status file has no outcome for the student?"""
    cell = run(feedback(None), graded_test("t1", "assert ok\n", score=None))
    assert cell.outputs[0].text == f"FAILED: 0/2 points. {NO_MESSAGE}\n"


def test_a_zeroed_test_says_the_checks_were_patched():
    """Does a test zeroed for passing only with patched checks say so?"""
    outcome = Outcome("ada", True, 0, 2, 1.0, messages={"t1": "wrong stride"}, zeroed=["t1"])
    cell = run(feedback(outcome), graded_test("t1", "assert ok\n", score=0))
    assert cell.outputs[0].text.startswith("FAILED: 0/2 points. It passed only in your own kernel")
    assert "(wrong stride)" in cell.outputs[0].text


def test_ordinary_cells_get_the_submitted_outputs_for_their_source():
    """Does each code cell get the submitted notebook's outputs for the same source, in order, and none if absent?"""
    submitted = {"train()\n": [[stdout("epoch 1\n")], [stdout("epoch 2\n")]]}
    preprocessor = feedback(submitted=submitted)
    printed = [stdout(SECRET)]  # what the grading kernel printed
    cells = [run(preprocessor, new_code_cell(source, outputs=printed, execution_count=3))
             for source in ("train()\n", "train()\n", "train()\n", "plot()\n")]
    assert [[o.text for o in cell.outputs] for cell in cells] == [["epoch 1\n"], ["epoch 2\n"], [], []]
    assert all(cell.execution_count is None for cell in cells)


def test_markdown_cells_are_left_alone():
    """Is a markdown cell passed through unchanged?"""
    text = "### BEGIN HIDDEN TESTS\nnot code\n### END HIDDEN TESTS\n"
    assert run(feedback(), new_markdown_cell(text)).source == text


def test_submitted_outputs_maps_sources_to_their_outputs(tmp_path):
    """Does submitted_outputs list the outputs of the code cells with each source, in notebook order?"""
    path = tmp_path / "lab1.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("a\n", outputs=[stdout("1\n")]), new_markdown_cell("a\n"),
                                       new_code_cell("b\n"), new_code_cell("a\n", outputs=[stdout("2\n")])]), path)
    found = submitted_outputs(path)
    assert {source: [[o.text for o in outputs] for outputs in runs] for source, runs in found.items()} == {
        "a\n": [["1\n"], ["2\n"]], "b\n": [[]]}


def test_submitted_outputs_of_a_damaged_or_missing_file_are_empty(tmp_path):
    """Does a damaged or missing submission give no outputs instead of an error?"""
    damaged = tmp_path / "lab1.ipynb"
    damaged.write_text('{"cells": [{"cell_type": "code"', encoding="utf-8")
    assert submitted_outputs(damaged) == {}
    assert submitted_outputs(tmp_path / "missing.ipynb") == {}
