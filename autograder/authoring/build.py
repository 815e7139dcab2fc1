"""`course build`: goldens and reference parts from solutions/, student notebooks with nbgrader."""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat

from autograder.authoring import colab
from autograder.authoring.goldens import write_goldens
from autograder.core import layout, notebooks, process
from autograder.core.errors import BuildError
from autograder.grading import gradebook, nbconfig
from labkit import config


POINTS_IN_HEADING = re.compile(r"\((\d+(?:\.\d+)?) points?\)")


def check_points(course: config.Course, lab_id: str, notebook) -> None:
    """The points of the graded tests and the manually graded cells must add up to the lab's points in course.toml."""
    cells = notebooks.graded_cells(notebook)
    total = sum(cell.points for cell in cells)
    if not math.isclose(total, course.lab(lab_id).points, abs_tol=1e-6):  # points like 0.1 do not add up exactly
        manual = sum(cell.points for cell in cells if cell.manual)
        raise BuildError(f"course.toml gives {lab_id} {course.lab(lab_id).points:g} points but the graded cells in "
                         f"{layout.SOURCE_DIR}/{lab_id}/{lab_id}.ipynb add up to {total:g} ({total - manual:g} "
                         f"autograded, {manual:g} graded by hand)")


def part_points(notebook) -> list[tuple[str, float, float]]:
    """(heading, points it states, points of the graded cells under it) for each '## ... (N points)' heading; a
    heading's cells (tests and manually graded answers or tasks) are those before the next '## ' heading."""
    parts: list[list] = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            heading = cell.source.splitlines()[0]
            stated = POINTS_IN_HEADING.search(heading)
            parts.append([heading[3:], float(stated.group(1)), 0.0] if stated else [heading[3:], None, 0.0])
        elif parts and (notebooks.is_graded_test(cell) or notebooks.is_manually_graded(cell)):
            parts[-1][2] += float(notebooks.nbgrader_meta(cell).get("points", 0))
    return [(heading, stated, total) for heading, stated, total in parts if stated is not None]


def check_part_points(lab_id: str, notebook) -> None:
    """Each part's heading must state the points its graded tests give."""
    wrong = [f"'{heading}' ({total:g} in its graded cells)" for heading, stated, total in part_points(notebook)
             if not math.isclose(stated, total, abs_tol=1e-6)]
    if wrong:
        raise BuildError(f"{layout.SOURCE_DIR}/{lab_id}/{lab_id}.ipynb: heading(s) state other points than their "
                         f"graded cells give: {'; '.join(wrong)}; correct the heading or the cells' points")


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
    """Point the student notebook's Colab badge and install line at course.toml's repository (or leave them out
    while it is not set), and record in its metadata that it is generated, and from what."""
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
    if not course.colab.is_set:
        print(colab.NOT_SET_NOTE)
    for lab_id in labs or list(course.labs):
        course.lab(lab_id)
        source = notebooks.read(layout.source_notebook(course, lab_id))
        check_points(course, lab_id, source)
        check_part_points(lab_id, source)
        if goldens_dir is not None:
            print(f"{lab_id}: goldens -> {write_goldens(course, lab_id, goldens_dir)}")
        print(f"{lab_id}: student notebook -> {generate_assignment(course, lab_id)}")
        gradebook.record_due_date(course, lab_id)
        if course.lab(lab_id).due:
            print(f"{lab_id}: due {course.lab(lab_id).due} (recorded in the gradebook)")
