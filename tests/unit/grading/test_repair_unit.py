"""Repairing a submission against the released notebook: editor damage undone, every repair named."""

import pytest

import editors
from autograder import mistakes
from autograder.core import notebooks
from autograder.grading.repair import repair
from harness import ROOT, reference

LAB = "lab1"
TESTS = ("conv_helpers_structure", "conv_helpers_shape")


@pytest.fixture(scope="module")
def release():
    return notebooks.read(ROOT / "assignments" / LAB / f"{LAB}.ipynb")


@pytest.fixture(scope="module")
def healthy(release):
    """The released notebook with every answer written (the reference solutions)."""
    return mistakes.fill(release, reference(LAB))


def graded_view(notebook) -> list[tuple]:
    """What nbgrader grades of a notebook: each nbgrader cell's id, type, metadata and source, in order."""
    return [(c.get("id"), c.cell_type, notebooks.nbgrader_meta(c), c.source.strip())
            for c in notebook.cells if notebooks.nbgrader_meta(c)]


def test_a_healthy_notebook_is_graded_as_submitted(release, healthy):
    """Is a notebook that needs nothing left untouched, with no repair named?"""
    result = repair(release, healthy)
    assert result.notebook is healthy and result.repairs == [] and result.unplaced == []


@pytest.mark.parametrize("damage", [
    editors.drop_cell_metadata,
    lambda nb: editors.new_cell_ids(editors.drop_cell_metadata(nb)),
    lambda nb: editors.as_nbformat_4_4(editors.drop_cell_metadata(nb)),
], ids=["metadata dropped", "metadata dropped and ids new", "metadata dropped, saved as nbformat 4.4"])
def test_lost_metadata_is_restored(tmp_path, release, healthy, damage):
    """Does a notebook saved without cell metadata (ids kept, new, or gone) get every nbgrader cell back, in
    place, holding the student's answers, with the repair named?"""
    result = repair(release, editors.saved(damage(healthy), tmp_path / "submitted.ipynb"))
    assert graded_view(result.notebook) == graded_view(healthy) and result.unplaced == []
    assert any("lost or changed their nbgrader metadata" in line for line in result.repairs)


def test_new_ids_are_named_with_the_cells_found_by_content(tmp_path, release, healthy):
    result = repair(release, editors.saved(editors.new_cell_ids(editors.drop_cell_metadata(healthy)),
                                           tmp_path / "submitted.ipynb"))
    line = next(line for line in result.repairs if "had new cell ids" in line)
    assert "resblock_answer" in line and "conv_helpers_structure" in line


def test_deleted_tests_are_put_back(tmp_path, release, healthy):
    """Are deleted hidden-test cells put back where they belong, and named?"""
    damaged = editors.delete_cells(healthy, lambda cell: editors.grade_id(cell) not in TESTS)
    result = repair(release, editors.saved(damaged, tmp_path / "submitted.ipynb"))
    assert graded_view(result.notebook) == graded_view(healthy)
    assert result.repairs == [f"deleted test cell(s) put back: {', '.join(TESTS)}"]


@pytest.mark.parametrize("above", [False, True], ids=["pasted below", "pasted above"])
def test_a_copied_answer_grades_the_edited_copy(tmp_path, release, healthy, above):
    """Of an answer cell pasted twice (one copy still the skeleton), is the edited copy graded, the other dropped?"""
    skeleton = release.cells[editors.index_of(release, "resblock_answer")].source
    damaged = editors.copy_cell(healthy, "resblock_answer", skeleton, above=not above)
    result = repair(release, editors.saved(damaged, tmp_path / "submitted.ipynb"))
    assert graded_view(result.notebook) == graded_view(healthy) and len(result.notebook.cells) == len(healthy.cells)
    assert result.repairs == ["answer cell resblock_answer was there 2 times (copied); graded the edited copy"]


def test_two_edited_copies_grade_the_last_and_keep_the_first(tmp_path, release, healthy):
    """Of two differently edited copies, is the last graded (it is what the notebook runs last) and the first
    kept as a plain cell of the student's?"""
    damaged = editors.copy_cell(healthy, "vgg_answer", "# an earlier attempt\nx = 1\n", above=True)
    result = repair(release, editors.saved(damaged, tmp_path / "submitted.ipynb"))
    assert graded_view(result.notebook) == graded_view(healthy)
    kept = [c for c in result.notebook.cells if c.source.startswith("# an earlier attempt")]
    assert len(kept) == 1 and not notebooks.nbgrader_meta(kept[0])


def test_a_moved_answer_goes_back_before_its_tests(tmp_path, release, healthy):
    """Is an answer cell moved below its tests put back in its place, and named?"""
    damaged = editors.move_cell(healthy, "conv_helpers_answer", after="conv_helpers_shape")
    result = repair(release, editors.saved(damaged, tmp_path / "submitted.ipynb"))
    assert graded_view(result.notebook) == graded_view(healthy)
    assert result.repairs == ["cell(s) moved back to their place in the released notebook: conv_helpers_answer"]


def test_extra_cells_stay_after_the_cell_they_followed(tmp_path, release, healthy):
    """With metadata and ids gone, do the student's own cells stay where they were, outside grading?"""
    damaged = editors.add_cell(healthy, "resblock_answer", "scratch = ResidualBlock")
    damaged = editors.new_cell_ids(editors.drop_cell_metadata(damaged))
    cells = repair(release, editors.saved(damaged, tmp_path / "submitted.ipynb")).notebook.cells
    index = next(i for i, c in enumerate(cells) if c.source == "scratch = ResidualBlock")
    assert editors.grade_id(cells[index - 1]) == "resblock_answer" and not notebooks.nbgrader_meta(cells[index])
    assert len({c.id for c in cells}) == len(cells)


def test_a_deleted_answer_is_named_not_guessed(tmp_path, release, healthy):
    """With an answer cell deleted from a notebook that also lost its metadata, is that answer named as not
    found, the others placed?"""
    damaged = editors.delete_cells(healthy, lambda cell: editors.grade_id(cell) != "vgg_answer")
    result = repair(release, editors.saved(editors.new_cell_ids(editors.drop_cell_metadata(damaged)),
                                           tmp_path / "submitted.ipynb"))
    assert result.unplaced == ["vgg_answer"]


def test_the_repaired_notebook_is_valid(tmp_path, release, healthy):
    """Is every repaired notebook a valid nbformat 4.5 notebook, written and read back?"""
    damaged = editors.drop_cell_metadata(editors.copy_cell(editors.move_cell(
        healthy, "vgg_answer", after="vgg_golden"), "resnet50_answer"))
    result = repair(release, editors.saved(damaged, tmp_path / "submitted.ipynb"))
    assert editors.saved(result.notebook, tmp_path / "repaired.ipynb").nbformat_minor == 5
    assert graded_view(result.notebook) == graded_view(healthy)
