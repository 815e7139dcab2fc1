"""`course build` refuses a source notebook whose graded tests and manually graded cells do not add up to the lab's
points in course.toml."""

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
    """Does check_points raise BuildError naming the lab, course.toml's points and the graded cells' total,
    autograded and manual?"""
    assert kit.lab("lab3").points == 115
    written = [new_markdown_cell("Because.", metadata=nbgrader("w1", grade=True, solution=True, points=10))]
    with pytest.raises(BuildError) as error:
        check_points(kit, "lab3", notebook(40, 35.5, extra=written))
    assert str(error.value) == ("course.toml gives lab3 115 points but the graded cells in solutions/lab3/lab3.ipynb "
                                "add up to 85.5 (75.5 autograded, 10 graded by hand)")


def test_points_that_match_pass(kit):
    """Does check_points accept tests whose points add up to the lab's (170 for lab1)?"""
    assert check_points(kit, "lab1", notebook(50, 50, 25, 25, 20)) is None
    with pytest.raises(BuildError, match="add up to 169"):
        check_points(kit, "lab1", notebook(50, 50, 25, 24, 20))


def test_fractional_points_add_up(kit):
    """Do a thousand tests of 0.1 points make lab 3's 115 with a 15-point task, though their float sum is
    99.9999999999986?"""
    assert sum([0.1] * 1000) != 100
    task = new_markdown_cell("Present.", metadata={"nbgrader": {**nbgrader("k1", points=15)["nbgrader"], "task": True}})
    assert check_points(kit, "lab3", notebook(*[0.1] * 1000, extra=[task])) is None


def test_manual_cells_count_and_plain_answers_do_not(kit):
    """Do manually graded answers (markdown or code) and tasks count, and points on an ungraded answer cell not?"""
    extra = [new_markdown_cell("Explain.", metadata=nbgrader("m1", grade=True, solution=True, points=10)),
             new_code_cell("z = 3\n", metadata=nbgrader("m2", grade=True, solution=True, points=5)),
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
    with pytest.raises(BuildError, match=r"'Part 2: the net \(65 points\)' \(85 in its graded cells\)"):
        check_part_points("lab1", new_notebook(cells=bad))
    written = [new_markdown_cell("## Part 3: the report (12 points)"),
               new_markdown_cell("Why?", metadata=nbgrader("w1", grade=True, solution=True, points=10))]
    with pytest.raises(BuildError, match=r"'Part 3: the report \(12 points\)' \(10 in its graded cells\)"):
        check_part_points("lab1", new_notebook(cells=[*good, *written]))


def test_the_kits_headings_state_their_points(kit):
    """Does every lab's source notebook state each part's points as its tests give them?"""
    from autograder.authoring.build import check_part_points, part_points
    from autograder.core import layout, notebooks

    for lab in kit.labs:
        source = notebooks.read(layout.source_notebook(kit, lab))
        assert part_points(source), lab
        check_part_points(lab, source)
