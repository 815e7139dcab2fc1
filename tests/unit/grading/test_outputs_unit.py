"""What an autograded notebook's outputs say: cells that raised or timed out, passed tests, output cut to the limit."""

import json

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.grading.outputs import TRUNCATED, cell_problems, cut_outputs, output_size, passed_tests


def nbgrader(grade_id, grade=False, solution=False, points=0):
    return {"nbgrader": {"grade": grade, "grade_id": grade_id, "points": points, "solution": solution,
                         "locked": not solution, "schema_version": 3}}


def graded_test(grade_id, outputs=()):
    return new_code_cell("assert check()\n", metadata=nbgrader(grade_id, grade=True, points=2), outputs=list(outputs))


def answer(grade_id, outputs=()):
    return new_code_cell("x = 1\n", metadata=nbgrader(grade_id, solution=True), outputs=list(outputs))


def stdout(text):
    return new_output("stream", name="stdout", text=text)


def error(ename, evalue="boom"):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def save(tmp_path, *cells):
    path = tmp_path / "lab1.ipynb"
    nbformat.write(new_notebook(cells=list(cells)), path)
    return path


def test_a_cell_over_the_limit_is_cut_with_a_note(tmp_path):
    """Is a cell that printed more than the limit cut to the limit, with a note?"""
    path = save(tmp_path, answer("a1", [stdout("x" * 3000)]))
    assert cut_outputs(path, 1) == ["cell a1 printed 2 KiB; the first 1 KiB were kept (output limit)"]
    outputs = nbformat.read(path, as_version=4).cells[0].outputs
    assert outputs[0].text == "x" * 1024
    assert outputs[1].name == "stderr" and outputs[1].text == TRUNCATED.format(size=2, limit=1)
    assert len(outputs) == 2


def test_streams_share_the_budget_in_order(tmp_path):
    """Are earlier streams kept whole, the one crossing the limit cut, and later ones dropped?"""
    path = save(tmp_path, new_code_cell("loop()\n", outputs=[stdout("a" * 800), stdout("b" * 800), stdout("c" * 800)]))
    assert cut_outputs(path, 1) == ["cell #0 printed 2 KiB; the first 1 KiB were kept (output limit)"]
    texts = [o.text for o in nbformat.read(path, as_version=4).cells[0].outputs]
    assert texts == ["a" * 800, "b" * 224, TRUNCATED.format(size=2, limit=1)]


def test_error_outputs_survive_the_cut(tmp_path):
    """Is a cell's error output kept when its streams are cut?"""
    path = save(tmp_path, answer("a1", [stdout("x" * 5000), error("ValueError", "bad shape")]))
    assert len(cut_outputs(path, 1)) == 1
    outputs = nbformat.read(path, as_version=4).cells[0].outputs
    assert [o.output_type for o in outputs] == ["stream", "error", "stream"]
    assert outputs[1].ename == "ValueError" and outputs[1].evalue == "bad shape"


def test_a_huge_error_is_cut_but_kept(tmp_path):
    """Is an error whose message and traceback hold megabytes cut near the limit, the error (what nbgrader scores
    by) kept with its name, its message's start and its traceback's last line?"""
    huge = new_output("error", ename="ValueError", evalue="v" * 2_000_000,
                      traceback=[f"frame {i}: " + "t" * 1000 for i in range(3000)] + ["ValueError: the end"])
    size = output_size(huge) // 1024
    path = save(tmp_path, graded_test("t1", [huge]))
    assert size > 4000 and cut_outputs(path, 4) == [f"cell t1 printed {size} KiB; the first 4 KiB were kept (output limit)"]
    (error_output,) = [o for o in nbformat.read(path, as_version=4).cells[0].outputs if o.output_type == "error"]
    assert error_output.ename == "ValueError" and error_output.evalue.startswith("vvv")
    assert error_output.traceback[-1] == "ValueError: the end" and output_size(error_output) <= 4 * 1024
    assert path.stat().st_size < 16 * 1024


def test_a_cut_never_splits_a_character(tmp_path):
    """Does a cut through a multi-byte character keep only whole characters?"""
    path = save(tmp_path, answer("a1", [stdout("€" * 1000)]))
    cut_outputs(path, 1)
    assert nbformat.read(path, as_version=4).cells[0].outputs[0].text == "€" * 341  # 1023 of 1024 bytes


def test_nothing_is_written_under_the_limit(tmp_path):
    """Is a notebook whose cells all stay within the limit (exactly at it included) left untouched?"""
    notebook = new_notebook(cells=[answer("a1", [stdout("x" * 1024)]), graded_test("t1", [stdout("ok\n")])])
    path = tmp_path / "lab1.ipynb"
    path.write_text(json.dumps(notebook, indent=4), encoding="utf-8")  # nbformat.write would indent by 1
    before = path.read_bytes()
    assert cut_outputs(path, 1) == []
    assert path.read_bytes() == before


def test_cut_outputs_skips_a_damaged_notebook(tmp_path):
    """Does cutting a notebook that cannot be read report nothing and leave the file as it was?"""
    path = tmp_path / "lab1.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    assert cut_outputs(path, 1) == []
    assert path.read_text(encoding="utf-8") == '{"cells": ['


def test_a_non_test_cell_that_raised_is_a_problem(tmp_path):
    """Is an answer or plain cell that raised reported as a problem, named by grade_id or position?"""
    path = save(tmp_path, answer("a1", [error("ValueError", "bad shape")]), new_markdown_cell("text"),
                new_code_cell("1 / 0\n", outputs=[error("ZeroDivisionError", "division by zero")]))
    assert cell_problems(path) == (["cell a1 raised ValueError: bad shape",
                                    "cell #2 raised ZeroDivisionError: division by zero"], [])


def test_a_problem_message_is_cut_to_120_characters(tmp_path):
    """Is a long error message cut to its first 120 characters in the problem line?"""
    path = save(tmp_path, answer("a1", [error("RuntimeError", "y" * 500)]))
    assert cell_problems(path) == ([f"cell a1 raised RuntimeError: {'y' * 120}"], [])


def test_graded_tests_that_raised_are_not_problems(tmp_path):
    """Is a failing graded test left out of the problems (it just scores zero)?"""
    path = save(tmp_path, graded_test("t1", [error("AssertionError", "expected 10 classes")]))
    assert cell_problems(path) == ([], [])


def test_a_timeout_is_a_limit_hit_for_any_cell(tmp_path):
    """Is a CellTimeoutError a limit hit, not a problem, in answer cells and graded tests alike?"""
    path = save(tmp_path, answer("a1", [error("CellTimeoutError", "A cell timed out")]),
                graded_test("t1", [error("CellTimeoutError", "A cell timed out")]))
    assert cell_problems(path) == ([], ["cell a1 hit the cell time limit", "cell t1 hit the cell time limit"])


def test_a_damaged_notebook_is_itself_the_problem(tmp_path):
    """Does a notebook that cannot be read come back as one problem naming the file?"""
    path = tmp_path / "lab1.ipynb"
    path.write_text("not json", encoding="utf-8")
    problems, hits = cell_problems(path)
    assert len(problems) == 1 and problems[0].startswith("lab1.ipynb is not valid JSON") and hits == []


def test_passed_tests_are_the_graded_tests_without_errors(tmp_path):
    """Are exactly the graded tests that ran without an error passed (answers never count)?"""
    path = save(tmp_path, graded_test("t1", [stdout("fine\n")]), graded_test("t2", [error("AssertionError")]),
                graded_test("t3"), answer("a1"), graded_test("t4", [error("CellTimeoutError")]))
    assert passed_tests(path) == {"t1", "t3"}
