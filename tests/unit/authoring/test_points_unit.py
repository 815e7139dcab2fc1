"""`course build` refuses a source notebook whose graded tests do not add up to the lab's points in course.toml."""

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.authoring.build import check_points
from autograder.core.errors import BuildError


def nbgrader(grade_id, grade=False, solution=False, points=0):
    return {"nbgrader": {"grade": grade, "grade_id": grade_id, "points": points, "solution": solution,
                         "locked": not solution, "schema_version": 3}}


def notebook(*points, extra=()):
    """A source notebook with one answer cell and graded tests worth `points`."""
    tests = [new_code_cell("assert True\n", metadata=nbgrader(f"t{i}", grade=True, points=p))
             for i, p in enumerate(points, start=1)]
    return new_notebook(cells=[new_code_cell("x = 1\n", metadata=nbgrader("a1", solution=True)), *tests, *extra])


def test_points_that_disagree_with_course_toml_name_the_lab_and_both_totals(kit):
    """Does check_points raise BuildError naming the lab, course.toml's points and the tests' total?"""
    assert kit.lab("lab2").points == 100
    with pytest.raises(BuildError) as error:
        check_points(kit, "lab2", notebook(40, 35.5))
    assert str(error.value) == ("course.toml gives lab2 100 points but the tests in solutions/lab2/lab2.ipynb "
                                "add up to 75.5")


def test_points_that_match_pass(kit):
    """Does check_points accept tests whose points add up to the lab's (150 for lab1)?"""
    assert check_points(kit, "lab1", notebook(50, 50, 25, 25)) is None
    with pytest.raises(BuildError, match="add up to 149"):
        check_points(kit, "lab1", notebook(50, 50, 25, 24))


def test_fractional_points_add_up(kit):
    """Do a thousand tests of 0.1 points make lab 2's 100, though their float sum is 99.9999999999986?"""
    assert sum([0.1] * 1000) != 100
    assert check_points(kit, "lab2", notebook(*[0.1] * 1000)) is None


def test_only_graded_tests_count(kit):
    """Are points on answer and markdown cells left out of the total?"""
    extra = [new_markdown_cell("Explain.", metadata=nbgrader("m1", grade=True, points=10)),
             new_code_cell("y = 2\n", metadata=nbgrader("a2", solution=True, points=10))]
    assert check_points(kit, "lab3", notebook(60, 40, extra=extra)) is None


def test_a_heading_that_misstates_its_points_is_refused():
    """Does a part heading stating other points than its tests give (lab 1's Part 3 said 65 for 85) stop the
    build, naming the heading and its tests' total, while the other headings pass?"""
    from autograder.authoring.build import check_part_points

    cells = notebook(5, 5).cells
    good = [new_markdown_cell("## Part 1: helpers (10 points)\n\nText."), *cells]
    check_part_points("lab1", new_notebook(cells=good))
    bad = [*good, new_markdown_cell("## Part 2: the net (65 points)"), *notebook(40, 45).cells[1:]]
    with pytest.raises(BuildError, match=r"'Part 2: the net \(65 points\)' \(85 in its tests\)"):
        check_part_points("lab1", new_notebook(cells=bad))


def test_the_kits_headings_state_their_points(kit):
    """Does every lab's source notebook state each part's points as its tests give them?"""
    from autograder.authoring.build import check_part_points, part_points
    from autograder.core import layout, notebooks

    for lab in kit.labs:
        source = notebooks.read(layout.source_notebook(kit, lab))
        assert part_points(source), lab
        check_part_points(lab, source)
