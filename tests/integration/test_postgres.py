"""A PostgreSQL gradebook ([grading] db_url): several workers grade a class into a real server."""

import csv

import pytest

from nbgrader.api import Gradebook

from autograder import demo
from autograder import mistakes
from autograder.authoring import build
from autograder.core import layout
from autograder.grading import autograde
from autograder.reports import pages
from labkit import config

pytestmark = pytest.mark.slow  # runs nbgrader, notebooks or training: not in the fast layer

LAB = "lab4"


def test_workers_grade_a_class_into_postgresql(kit, postgres, tmp_path):
    """Do 2 workers grade a class into PostgreSQL with the scores the mistakes call for, and does the report read them?"""
    course = demo.make_course(kit, tmp_path / "course")
    path = course.root / "course.toml"
    path.write_text(path.read_text().replace("[grading]\n", f'[grading]\ndb_url = "{postgres}"\n', 1))
    course = config.load(course.root)
    assert course.gradebook_url == postgres
    build.build(course, [LAB], goldens_dir=None)
    first_mistake = demo.late_student(LAB)  # a demo mistake, submitted late
    submissions = {name: submission for name, submission in demo.simulated_class(course, LAB).items()
                   if name in ("correct", "corrupt_file", first_mistake)}
    demo.write_submissions(course, LAB, submissions)
    outcomes = {o.student: o for o in autograde.autograde(course, LAB, workers=2, echo=lambda line: None)}
    points = {test.grade_id: test.points for test in demo.notebooks.graded_tests(
        demo.notebooks.read(layout.source_notebook(course, LAB)))}
    expected = {"correct": 100}
    expected.update({m.name: 100 - sum(points[t] for t in m.fails) for m in mistakes.catalogue(LAB)
                     if m.name == first_mistake})
    assert {name: outcomes[name].score for name in expected} == expected
    assert not outcomes["corrupt_file"].graded
    assert not (course.root / "gradebook.db").exists()
    with Gradebook(postgres, course.course.id) as gradebook:
        stored = {s.student.id: s.score for s in gradebook.find_assignment(LAB).submissions}
    assert {name: stored[name] for name in expected} == expected
    pages.write(course, LAB, echo=lambda line: None)
    with open(course.root / "reports" / LAB / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert float(rows["correct"]["total"]) == 100 and rows["corrupt_file"]["status"] == "not graded"
