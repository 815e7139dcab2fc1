"""`course publish`: the student tree holds the notebooks and labkit, and nothing students must not see."""

import shutil

import pytest

from autograder import cli
from autograder.authoring import publish
from autograder.checks import golden

pytestmark = pytest.mark.slow  # runs nbgrader, notebooks or training: not in the fast layer


@pytest.fixture(scope="module")
def published(kit, tmp_path_factory):
    return publish.publish(kit, tmp_path_factory.mktemp("student") / "tree", echo=lambda line: None)


def test_tree_holds_notebooks_and_the_student_package(kit, published):
    """Does the tree hold every student notebook, labkit, a student pyproject, and no instructor part?"""
    for lab in kit.labs:
        assert (published / "assignments" / lab / f"{lab}.ipynb").is_file()
    assert (published / "labkit" / "setup.py").is_file() and (published / "README.md").is_file()
    assert 'include = ["labkit*"]' in (published / "pyproject.toml").read_text()
    for absent in ("autograder", "solutions", "tests", "benchmarks", "nbgrader_config.py", "gradebook.db"):
        assert not (published / absent).exists(), absent


def test_published_tree_is_clean(kit, published):
    """Does a scan of the published tree find no reference line, marker, hidden test, golden or checkpoint?"""
    assert publish.leaks(kit, published) == []


def test_scan_catches_what_must_not_be_published(kit, published, tmp_path):
    """Would the scan catch a reference module, a golden file and a source notebook slipped into the tree?"""
    tree = tmp_path / "tree"
    shutil.copytree(published, tree)
    shutil.copy(golden.GOLDENS_DIR / "lab2_reference.py", tree / "labkit" / "helpers.py")
    shutil.copy(golden.GOLDENS_DIR / "lab1.pt", tree / "lab1.pt")
    shutil.copy(kit.root / "solutions" / "lab3" / "lab3.ipynb", tree / "assignments" / "lab3" / "lab3.ipynb")
    found = "\n".join(publish.leaks(kit, tree))
    assert "labkit/helpers.py: holds the reference line" in found
    assert "lab1.pt: .pt files" in found
    assert "assignments/lab3/lab3.ipynb: contains '### BEGIN SOLUTION'" in found


def test_publish_never_overwrites_a_foreign_folder(kit, tmp_path, capsys):
    """Does publish refuse a non-empty folder it did not write, and replace one it did?"""
    (tmp_path / "notes.txt").write_text("mine")
    assert cli.main(["--root", str(kit.root), "publish", str(tmp_path)]) == 2
    assert "not written by `course publish`" in capsys.readouterr().err and (tmp_path / "notes.txt").is_file()
    target = tmp_path / "tree"
    assert cli.main(["--root", str(kit.root), "publish", str(target)]) == 0
    (target / "stale.txt").write_text("from an older publish")
    assert cli.main(["--root", str(kit.root), "publish", str(target)]) == 0
    assert not (target / "stale.txt").exists() and (target / "assignments").is_dir()
