"""`course build`: assignments/ and the goldens are what the sources generate, and hold no answers."""

import json
import shutil

import nbformat
import pytest

from autograder import mistakes
from autograder.authoring import build
from autograder.authoring import colab
from autograder.authoring import goldens
from autograder.authoring import publish
from autograder.checks import golden
from autograder.core import errors
from autograder.core import layout
from autograder.core import notebooks
from autograder.grading import nbconfig
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


@pytest.mark.slow
def test_assignments_equal_a_fresh_build(kit, rebuilt):
    """Is every committed student notebook exactly what `course build` generates from solutions/?"""
    for lab_id in kit.labs:
        committed = kit.root / "assignments" / lab_id / f"{lab_id}.ipynb"
        generated = rebuilt.root / "assignments" / lab_id / f"{lab_id}.ipynb"
        assert comparable(committed) == comparable(generated), f"{committed} is stale: run `course build`"


def stale(lab_id, fresh_dir):
    """What differs between the goldens in `fresh_dir` and the committed ones (tensors within STALE_TOLERANCE)."""
    problems = golden.stale_cases(golden.load_goldens(lab_id, fresh_dir), golden.load_goldens(lab_id))
    if (fresh_dir / f"{lab_id}_reference.py").read_text() != (golden.GOLDENS_DIR / f"{lab_id}_reference.py").read_text():
        problems.append(f"{lab_id}_reference.py differs")
    return problems


@pytest.mark.slow
def test_goldens_equal_a_fresh_build(kit, rebuilt):
    """Are every lab's committed goldens and reference parts what its source notebook gives today, on this CPU?"""
    assert sorted(kit.labs) == sorted(EDITS), "give every lab an edit in EDITS"
    for lab_id in kit.labs:
        assert stale(lab_id, rebuilt.root / "goldens") == [], f"{lab_id}: run `course build` and commit the goldens"


def edited_source(kit, folder, lab_id, mistake):
    """A copy of the course whose lab `lab_id` source notebook has `mistake`'s edits in its reference code."""
    shutil.copy(kit.root / "course.toml", folder)
    shutil.copytree(kit.root / "solutions", folder / "solutions")
    path = folder / "solutions" / lab_id / f"{lab_id}.ipynb"
    notebook = notebooks.read(path)
    for grade_id, old, new in mistake.edits:
        cell = next(c for c in notebook.cells if notebooks.nbgrader_meta(c).get("grade_id") == grade_id)
        assert cell.source.count(old) == 1, (mistake.name, grade_id)
        cell.source = cell.source.replace(old, new)
    nbformat.write(notebook, path)
    return config.load(folder)


# One known mistake per lab that changes a part's outputs but not its shapes (lab 4 has no expected tensors).
EDITS = {"lab1": "stride_on_3x3", "lab2": "stride_on_conv2", "lab3": "relu_before_add", "lab4": "basic_stride_on_conv2"}


@pytest.mark.slow
@pytest.mark.parametrize("lab_id", sorted(EDITS))
def test_an_edited_reference_part_makes_the_goldens_stale(kit, tmp_path, lab_id):
    """Does an edit of a reference part make its committed goldens stale: the expected tensors where the lab has any?"""
    mistake = next(m for m in mistakes.catalogue(lab_id) if m.name == EDITS[lab_id])
    course = edited_source(kit, tmp_path, lab_id, mistake)
    goldens.write_goldens(course, lab_id, tmp_path / "goldens")
    problems = stale(lab_id, tmp_path / "goldens")
    assert f"{lab_id}_reference.py differs" in problems
    if golden.load_goldens(lab_id):
        assert any("off by" in problem or "shape" in problem for problem in problems), (mistake.name, problems)


def test_stale_tolerance_separates_cpu_noise_from_an_edit():
    """Does a last-bit difference pass the staleness check while a change the checks would notice does not?"""
    committed = golden.load_goldens("lab2")
    noise = {case: value * (1 + 4e-16) + 1e-16 for case, value in committed.items()}
    edit = {case: value * (1 + golden.TOLERANCE) for case, value in committed.items()}
    assert golden.stale_cases(noise, committed) == []
    assert len(golden.stale_cases(edit, committed)) == len(committed)
    assert golden.stale_cases({}, committed) == sorted(f"{case}: no longer built" for case in committed)


def test_student_notebook_holds_no_answer_and_no_hidden_test(kit):
    """Does the student notebook lack every reference line, solution marker and hidden test?"""
    source = notebooks.read(layout.source_notebook(kit, LAB))
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
        for cell in notebooks.read(layout.source_notebook(kit, lab_id)).cells:
            assert not cell.get("outputs") and not cell.get("execution_count")


@pytest.mark.slow
def test_points_disagreeing_with_course_toml_stop_the_build(kit, tmp_path):
    """Does a lab whose tests do not add up to course.toml's points fail with both numbers?"""
    shutil.copytree(kit.root / "solutions", tmp_path / "solutions")
    (tmp_path / "course.toml").write_text((kit.root / "course.toml").read_text().replace("points = 170", "points = 140"))
    with pytest.raises(errors.BuildError, match=r"140 points but the graded cells .* add up to 170 \(150 autograded, 20 "):
        build.build(config.load(tmp_path), goldens_dir=None)


def test_nbgrader_config_comes_from_course_toml(kit):
    """Does nbgrader's config take the course id, folders and cell timeout from course.toml?"""
    from traitlets.config import Config

    c = Config()
    nbconfig.configure(c, kit.root)
    assert c.CourseDirectory.course_id == kit.course.id
    assert c.CourseDirectory.source_directory == "solutions" and c.CourseDirectory.release_directory == "assignments"
    assert c.Execute.timeout == kit.grading.cell_timeout and c.IgnorePattern.enabled


def test_without_a_repository_the_notebooks_have_no_colab_parts(kit):
    """While [colab] repository is not set, do the kit's student notebooks go without a badge and an install line,
    and would a notebook with a badge be caught?"""
    assert not kit.colab.is_set
    for lab_id in kit.labs:
        text = (kit.root / "assignments" / lab_id / f"{lab_id}.ipynb").read_text()
        assert "colab.research.google.com/github" not in text and "google.colab" not in text
        assert "git+https://github.com" not in text and "subprocess" not in text
        assert "setup_lab" in text
    source = (kit.root / "solutions" / "lab1" / "lab1.ipynb").read_text()
    assert "colab.research.google.com/github" in source and "google.colab" in source
