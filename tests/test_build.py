"""`course build`: assignments/ and the goldens are what the sources generate, and hold no answers."""

import json
import shutil

import pytest
import torch

from autograder import build, golden, nbconfig, notebooks, publish
from labkit import config

LAB = "lab1"


@pytest.fixture(scope="module")
def rebuilt(kit, tmp_path_factory):
    """A copy of the course rebuilt from solutions/ (goldens written to a scratch folder)."""
    root = tmp_path_factory.mktemp("rebuilt")
    shutil.copy(kit.root / "course.toml", root)
    shutil.copytree(kit.root / "solutions", root / "solutions")
    course = config.load(root)
    build.build(course, goldens_dir=root / "goldens")
    return course


def comparable(path):
    return json.loads(path.read_text())


def test_assignments_equal_a_fresh_build(kit, rebuilt):
    """Is every committed student notebook exactly what `course build` generates from solutions/?"""
    for lab_id in kit.labs:
        committed = kit.root / "assignments" / lab_id / f"{lab_id}.ipynb"
        generated = rebuilt.root / "assignments" / lab_id / f"{lab_id}.ipynb"
        assert comparable(committed) == comparable(generated), f"{committed} is stale: run `course build`"


def test_goldens_equal_a_fresh_build(rebuilt):
    """Are the committed goldens and reference parts what the source notebook gives today?"""
    fresh = golden.load_goldens(LAB, rebuilt.root / "goldens")
    committed = golden.load_goldens(LAB)
    assert fresh.keys() == committed.keys()
    for case in fresh:
        assert torch.equal(fresh[case], committed[case]), case
    assert (rebuilt.root / "goldens" / f"{LAB}_reference.py").read_text() == \
        (golden.GOLDENS_DIR / f"{LAB}_reference.py").read_text()


def test_student_notebook_holds_no_answer_and_no_hidden_test(kit):
    """Does the student notebook lack every reference line, solution marker and hidden test?"""
    source = notebooks.read(build.source_notebook(kit, LAB))
    student_text = (kit.root / "assignments" / LAB / f"{LAB}.ipynb").read_text()
    for marker in (*notebooks.SOLUTION_MARKERS, *notebooks.HIDDEN_MARKERS, "autograder"):
        assert marker not in student_text
    answers = publish.answer_lines(source)
    student_lines = {line.strip() for cell in notebooks.read(kit.root / "assignments" / LAB / f"{LAB}.ipynb").cells
                     for line in cell.source.splitlines()}
    assert answers and not answers & student_lines


def test_source_notebooks_carry_no_outputs(kit):
    """Are the committed source notebooks free of outputs and execution counts?"""
    for lab_id in kit.labs:
        for cell in notebooks.read(build.source_notebook(kit, lab_id)).cells:
            assert not cell.get("outputs") and not cell.get("execution_count")


def test_points_disagreeing_with_course_toml_stop_the_build(kit, tmp_path):
    """Does a lab whose tests do not add up to course.toml's points fail with both numbers?"""
    shutil.copytree(kit.root / "solutions", tmp_path / "solutions")
    (tmp_path / "course.toml").write_text((kit.root / "course.toml").read_text().replace("points = 150", "points = 140"))
    with pytest.raises(build.BuildError, match="140 points but the tests .* add up to 150"):
        build.build(config.load(tmp_path), goldens_dir=None)


def test_nbgrader_config_comes_from_course_toml(kit):
    """Does nbgrader's config take the course id, folders and cell timeout from course.toml?"""
    from traitlets.config import Config

    c = Config()
    nbconfig.configure(c, kit.root)
    assert c.CourseDirectory.course_id == kit.course.id
    assert c.CourseDirectory.source_directory == "solutions" and c.CourseDirectory.release_directory == "assignments"
    assert c.Execute.timeout == kit.grading.cell_timeout and c.IgnorePattern.enabled


def test_every_colab_badge_opens_its_own_notebook(kit):
    """Does each student notebook's badge point at its own path in course.toml's repository and branch?"""
    from autograder import colab

    for lab_id in kit.labs:
        path = kit.root / "assignments" / lab_id / f"{lab_id}.ipynb"
        notebook = notebooks.read(path)
        links = colab.BADGE_LINK.findall(notebook.cells[0].source)
        assert links == [f"({colab.badge_url(kit, lab_id)})"]
        prefix = f"https://colab.research.google.com/github/{kit.colab.repository}/blob/{kit.colab.branch}/"
        assert (kit.root / links[0][1:-1].removeprefix(prefix)).resolve() == path.resolve()
        setup = next(cell.source for cell in notebook.cells if cell.cell_type == "code")
        assert colab.install_url(kit) in setup and "google.colab" in setup


def test_build_follows_course_toml_repository(kit, tmp_path):
    """Does changing the Colab repository and branch in course.toml change every badge and install line?"""
    shutil.copytree(kit.root / "solutions", tmp_path / "solutions")
    text = (kit.root / "course.toml").read_text()
    (tmp_path / "course.toml").write_text(text.replace(kit.colab.repository, "someone/fork").replace(
        f'branch = "{kit.colab.branch}"', 'branch = "spring"'))
    build.build(config.load(tmp_path), ["lab2"], goldens_dir=None)
    page = (tmp_path / "assignments" / "lab2" / "lab2.ipynb").read_text()
    assert "colab.research.google.com/github/someone/fork/blob/spring/assignments/lab2/lab2.ipynb" in page
    assert "git+https://github.com/someone/fork@spring" in page and "resnet-course/resnet-course-kit" not in page
