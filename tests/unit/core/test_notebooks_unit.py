"""Reading lab notebooks: graded tests, hidden-test regions, reference code, and damaged files named clearly."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.core import notebooks
from autograder.core.notebooks import GradedTest, NotebookError

HIDDEN = "### BEGIN HIDDEN TESTS\nassert secret(model) == 10\n### END HIDDEN TESTS\n"


def nbgrader(grade_id, grade=False, solution=False, points=0):
    return {"nbgrader": {"grade": grade, "grade_id": grade_id, "points": points, "solution": solution,
                         "locked": not solution, "schema_version": 3}}


def graded_test(grade_id, source="assert True\n", points=2):
    return new_code_cell(source, metadata=nbgrader(grade_id, grade=True, points=points))


def answer(grade_id, source):
    return new_code_cell(source, metadata=nbgrader(grade_id, solution=True))


def test_only_graded_code_cells_that_are_not_answers_are_tests():
    """Is a cell a graded test only when it is a graded code cell and not an answer?"""
    assert notebooks.is_graded_test(graded_test("t1"))
    assert not notebooks.is_graded_test(answer("a1", "x = 1\n"))
    assert not notebooks.is_graded_test(new_code_cell("x = 1\n", metadata=nbgrader("a2", grade=True, solution=True)))
    assert not notebooks.is_graded_test(new_markdown_cell("Explain.", metadata=nbgrader("m1", grade=True, points=3)))
    assert not notebooks.is_graded_test(new_code_cell("print(1)\n"))


def test_graded_tests_are_listed_in_order_with_their_points():
    """Does graded_tests list the test cells in notebook order, with float points and their source?"""
    notebook = new_notebook(cells=[graded_test("t2", "assert b\n", points=3), answer("a1", "b = 1\n"),
                                   new_markdown_cell("# Part 2"), graded_test("t1", "assert a\n", points=1.5)])
    assert notebooks.graded_tests(notebook) == [GradedTest("t2", 3.0, "assert b\n"),
                                                GradedTest("t1", 1.5, "assert a\n")]
    assert all(isinstance(test.points, float) for test in notebooks.graded_tests(notebook))


def test_hidden_tests_gathers_every_region_of_every_code_cell():
    """Does hidden_tests join the hidden regions of all code cells, markers included, and nothing visible?"""
    indented = "    ### BEGIN HIDDEN TESTS\n    assert b\n    ### END HIDDEN TESTS\n"
    notebook = new_notebook(cells=[
        graded_test("t1", "assert visible_one\n" + HIDDEN + "assert visible_two\n" + indented),
        new_markdown_cell(HIDDEN),
        graded_test("t2", "assert visible_three\n"),
        graded_test("t3", HIDDEN.rstrip("\n")),
    ])
    assert notebooks.hidden_tests(notebook) == HIDDEN + indented + HIDDEN.rstrip("\n")


def test_hidden_region_spans_from_begin_to_end_marker_only():
    """Does removing HIDDEN_REGION keep the visible code around it, and leave a region without an end marker alone?"""
    source = "assert a\n" + HIDDEN + "assert b\n"
    assert notebooks.HIDDEN_REGION.sub("", source) == "assert a\nassert b\n"
    unterminated = "assert a\n### BEGIN HIDDEN TESTS\nassert secret()\n"
    assert notebooks.HIDDEN_REGION.sub("", unterminated) == unterminated


def test_reference_source_holds_solutions_and_definitions_only():
    """Is the reference code the solutions (markers stripped) and 'definitions' cells, without tests or other cells?"""
    definitions = new_code_cell("import torch\n", metadata={"tags": ["definitions"]})
    notebook = new_notebook(cells=[
        definitions,
        new_code_cell("print('scratch')\n"),
        answer("a1", "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"),
        graded_test("t1", "assert f(1) == 2\n" + HIDDEN),
    ])
    assert notebooks.reference_source(notebook) == "import torch\n\n\ndef f(x):\n    return x + 1\n"


def write_text(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_returns_a_valid_notebook(tmp_path):
    """Does read give back the notebook that was written?"""
    path = tmp_path / "lab1.ipynb"
    nbformat.write(new_notebook(cells=[graded_test("t1", "assert 1\n")]), path)
    assert notebooks.graded_tests(notebooks.read(path)) == [GradedTest("t1", 2.0, "assert 1\n")]


def test_read_names_a_truncated_file(tmp_path):
    """Does a notebook cut off mid-file raise NotebookError naming the file and saying it is truncated?"""
    whole = nbformat.writes(new_notebook(cells=[graded_test("t1")]))
    path = write_text(tmp_path, "lab1.ipynb", whole[: len(whole) // 2])
    with pytest.raises(NotebookError, match=r"^lab1\.ipynb is not valid JSON \(line \d+, column \d+: .*\); "
                                            r"the file is damaged or truncated$"):
        notebooks.read(path)


def test_read_names_invalid_json(tmp_path):
    """Does a file that is not JSON at all raise NotebookError with the line and column of the fault?"""
    path = write_text(tmp_path, "lab2.ipynb", '{"cells": [],\n  oops}')
    with pytest.raises(NotebookError, match=r"^lab2\.ipynb is not valid JSON \(line 2, column 3: "):
        notebooks.read(path)


def test_read_names_json_that_is_not_a_notebook(tmp_path):
    """Does JSON that is not a notebook raise NotebookError saying so (one line, no traceback)?"""
    path = write_text(tmp_path, "lab3.ipynb", '{"cells": "none", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
    with pytest.raises(NotebookError, match=r"^lab3\.ipynb is JSON but not a valid notebook \(") as error:
        notebooks.read(path)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("content", [None, b"\xff\xfe\x00garbage"])
def test_read_names_a_missing_or_undecodable_file(tmp_path, content):
    """Does a missing file, or one that is not UTF-8, raise NotebookError saying it cannot be read?"""
    path = tmp_path / "lab4.ipynb"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(NotebookError, match=r"^lab4\.ipynb cannot be read \("):
        notebooks.read(path)
    assert issubclass(NotebookError, ValueError)


def test_manual_cells_are_told_from_tests():
    """Are written answers and tasks manual cells, in notebook order with the tests, and never graded tests?"""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    def meta(grade_id, **flags):
        return {"nbgrader": {"grade_id": grade_id, "points": 2, "grade": False, "solution": False, **flags}}

    notebook = new_notebook(cells=[
        new_code_cell("x = 1", metadata=meta("answer", solution=True)),
        new_code_cell("assert x", metadata=meta("test", grade=True)),
        new_markdown_cell("Because.", metadata=meta("essay", grade=True, solution=True)),
        new_markdown_cell("Present it.", metadata=meta("task", task=True)),
        new_markdown_cell("Plain text.")])
    assert [(c.grade_id, c.manual) for c in notebooks.graded_cells(notebook)] == [
        ("test", False), ("essay", True), ("task", True)]
    assert [c.grade_id for c in notebooks.graded_tests(notebook)] == ["test"]
    assert [c.grade_id for c in notebooks.manual_parts(notebook)] == ["essay", "task"]
    assert notebooks.written_answers(notebook) == {"essay": "Because."}
