"""Colab parts of a student notebook: pointed at the course's repository, or left out while it is not set."""

import dataclasses

import nbformat
import pytest

from autograder import cli
from autograder.authoring import colab
from autograder.core import notebooks


def source(kit, lab_id="lab2"):
    return notebooks.read(kit.root / "solutions" / lab_id / f"{lab_id}.ipynb")


def with_repository(kit, repository):
    return dataclasses.replace(kit, colab=dataclasses.replace(kit.colab, repository=repository))


def test_a_set_repository_gets_the_badge_and_install_line(kit):
    notebook = source(kit)
    course = with_repository(kit, "uni/labs")
    colab.point_at_course(notebook, course, "lab2")
    assert colab.has_badge(notebook, course, "lab2")
    assert "git+https://github.com/uni/labs@main" in notebook.cells[1].source


def test_an_unset_repository_removes_badge_and_install_block_but_keeps_the_set_up(kit):
    """Without a repository, does the notebook lose its badge and Colab install block, and keep the rest?"""
    notebook = source(kit)
    before = [cell.source for cell in notebook.cells]
    colab.point_at_course(notebook, kit, "lab2")
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "colab.research.google.com" not in text and "google.colab" not in text and "subprocess" not in text
    assert notebook.cells[1].source.startswith("# Set-up.\n") and 'labkit.setup_lab("lab2")' in notebook.cells[1].source
    assert "## Part 1" in text and [c.source for c in notebook.cells[2:]] == before[2:]
    assert notebook.cells[0].source.startswith("# Lab 2") and "\n\n\n" not in notebook.cells[0].source


def test_a_source_without_the_colab_parts_is_refused(kit):
    notebook = source(kit)
    notebook.cells[0] = nbformat.v4.new_markdown_cell("# Lab 2")
    with pytest.raises(ValueError, match="needs an Open-in-Colab badge"):
        colab.point_at_course(notebook, kit, "lab2")


def test_publish_refuses_while_the_repository_is_not_set(kit, tmp_path, capsys):
    """Does `course publish` stop, naming the key to set, and write nothing?"""
    assert not kit.colab.is_set
    assert cli.main(["--root", str(kit.root), "publish", str(tmp_path / "tree")]) == 2
    error = capsys.readouterr().err
    assert "[colab] repository" in error and "is not set" in error and not (tmp_path / "tree").exists()
