"""`course build`: goldens and reference parts from solutions/, student notebooks with nbgrader."""

from __future__ import annotations

import math
from pathlib import Path

import nbformat

from autograder.authoring import colab
from autograder.authoring.goldens import write_goldens
from autograder.core import layout, notebooks, process
from autograder.core.errors import BuildError
from autograder.grading import gradebook, nbconfig
from labkit import config


def check_points(course: config.Course, lab_id: str, notebook) -> None:
    """The graded tests' points must add up to the lab's points in course.toml."""
    total = sum(test.points for test in notebooks.graded_tests(notebook))
    if not math.isclose(total, course.lab(lab_id).points, abs_tol=1e-6):  # points like 0.1 do not add up exactly
        raise BuildError(f"course.toml gives {lab_id} {course.lab(lab_id).points:g} points but the tests in "
                         f"{layout.SOURCE_DIR}/{lab_id}/{lab_id}.ipynb add up to {total:g}")


def generate_assignment(course: config.Course, lab_id: str) -> Path:
    """nbgrader generate_assignment: assignments/<lab>/<lab>.ipynb from the source notebook."""
    nbconfig.ensure_config_file(course.root)
    result = process.nbgrader(course.root, "generate_assignment", lab_id, "--force")
    if result.returncode != 0:
        raise BuildError(f"nbgrader generate_assignment {lab_id} failed:\n{result.stdout}{result.stderr}")
    release = layout.release_notebook(course, lab_id)
    finish_release(release, course, lab_id)
    return release


def finish_release(path: Path, course: config.Course, lab_id: str) -> None:
    """Point the student notebook's Colab badge and install line at course.toml's repository, and
    record in its metadata that it is generated, and from what."""
    notebook = nbformat.read(path, as_version=4)
    try:
        colab.point_at_course(notebook, course, lab_id)
    except ValueError as error:
        raise BuildError(str(error)) from None
    source = layout.source_notebook(course, lab_id).relative_to(course.root)
    notebook.metadata["course_kit"] = {"generated_by": "course build", "source": source.as_posix(),
                                       "note": "edit the source and run `course build`; do not edit this copy"}
    nbformat.write(notebook, path)


def build(course: config.Course, labs: list[str] | None = None, goldens_dir: Path | None = layout.GOLDENS_DIR) -> None:
    """Check points, write goldens (unless `goldens_dir` is None) and generate each lab's student notebook."""
    for lab_id in labs or list(course.labs):
        course.lab(lab_id)
        check_points(course, lab_id, notebooks.read(layout.source_notebook(course, lab_id)))
        if goldens_dir is not None:
            print(f"{lab_id}: goldens -> {write_goldens(course, lab_id, goldens_dir)}")
        print(f"{lab_id}: student notebook -> {generate_assignment(course, lab_id)}")
        gradebook.record_due_date(course, lab_id)
        if course.lab(lab_id).due:
            print(f"{lab_id}: due {course.lab(lab_id).due} (recorded in the gradebook)")
