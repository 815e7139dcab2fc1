"""The students' copy of course.toml: what the notebooks read, never the grading database or the class list."""

import pytest

from autograder.authoring import publish
from autograder.core.errors import PublishError
from labkit import config

PRIVATE = '\n[grading]\ndb_url = "postgresql://grader:s3cret@db/course"\n\n[roster]\nfile = "class.csv"\n'


def test_the_students_copy_keeps_what_notebooks_read_and_drops_the_private_tables(kit, tmp_path):
    """Does the copy keep [course], [colab], [data], [files] and every lab, and lose [grading] and [roster]?"""
    text = (kit.root / "course.toml").read_text() + PRIVATE
    student = publish.student_config(text)
    assert "s3cret" not in student and "class.csv" not in student
    course = config.parse(student, tmp_path)
    assert course.labs == kit.labs and course.data == kit.data and course.colab == kit.colab
    assert course.grading == config.Grading() and course.roster_path is None


def test_a_private_table_it_cannot_cut_out_stops_publish():
    with pytest.raises(PublishError, match="grading could not be left out"):
        publish.student_config('grading = { db_url = "postgresql://x" }\n[course]\nid = "c"\n')


def test_the_student_package_carries_course_toml(kit):
    assert '[tool.setuptools.package-data]\nlabkit = ["course.toml"]' in publish.student_pyproject(kit.root)
