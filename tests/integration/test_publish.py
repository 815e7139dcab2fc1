"""`course publish`: the student tree holds the notebooks and labkit, nothing students must not see, and notebooks
whose Colab badge and install line point at course.toml's repository."""

import shutil

import pytest

from autograder import cli, demo
from autograder.authoring import build, colab, publish
from autograder.checks import golden
from autograder.core import notebooks
from labkit import config

pytestmark = pytest.mark.slow  # runs nbgrader, notebooks or training: not in the fast layer

REPOSITORY, BRANCH = "someone/fork", "spring"


@pytest.fixture(scope="module")
def course(kit, tmp_path_factory):
    """A copy of the kit's course with [colab] repository and branch set, built."""
    course = demo.make_course(kit, tmp_path_factory.mktemp("course") / "course")
    path = course.root / "course.toml"
    text = path.read_text().replace('repository = ""', f'repository = "{REPOSITORY}"', 1)
    path.write_text(text.replace('branch = "main"', f'branch = "{BRANCH}"', 1))
    course = config.load(course.root)
    build.build(course, goldens_dir=None)
    return course


@pytest.fixture(scope="module")
def published(course, tmp_path_factory):
    return publish.publish(course, tmp_path_factory.mktemp("student") / "tree", echo=lambda line: None)


def test_tree_holds_notebooks_and_the_student_package(course, published):
    """Does the tree hold every student notebook, labkit, a student pyproject, and no instructor part?"""
    for lab in course.labs:
        assert (published / "assignments" / lab / f"{lab}.ipynb").is_file()
    assert (published / "labkit" / "setup.py").is_file() and (published / "README.md").is_file()
    assert 'include = ["labkit*"]' in (published / "pyproject.toml").read_text()
    for absent in ("autograder", "solutions", "tests", "benchmarks", "nbgrader_config.py", "gradebook.db"):
        assert not (published / absent).exists(), absent


def test_every_colab_badge_opens_its_own_notebook_and_installs_the_student_package(course, published):
    """Does each published notebook's badge open its own path in the repository and branch course.toml names, and
    does its set-up cell pip-install that repository, whose package is labkit alone?"""
    prefix = f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/"
    for lab_id in course.labs:
        path = published / "assignments" / lab_id / f"{lab_id}.ipynb"
        notebook = notebooks.read(path)
        links = colab.BADGE_LINK.findall(notebook.cells[0].source)
        assert links == [f"({colab.badge_url(course, lab_id)})"] and links[0][1:].startswith(prefix)
        assert (published / links[0][1:-1].removeprefix(prefix)).resolve() == path.resolve()
        setup = next(cell.source for cell in notebook.cells if cell.cell_type == "code")
        assert f"git+https://github.com/{REPOSITORY}@{BRANCH}" in setup and "google.colab" in setup
        assert "resnet-course/resnet-course-kit" not in path.read_text()
    assert 'include = ["labkit*"]' in (published / "pyproject.toml").read_text()
    packaged = config.parse((published / "labkit" / "course.toml").read_text(), published)
    assert packaged.colab.repository == REPOSITORY and packaged.labs == course.labs
    assert "[grading]" not in (published / "course.toml").read_text()
    assert f"github/{REPOSITORY}/blob/{BRANCH}/assignments/lab2/lab2.ipynb" in (published / "README.md").read_text()


def test_published_tree_is_clean(course, published):
    """Does a scan of the published tree find no reference line, marker, hidden test, golden or checkpoint?"""
    assert publish.leaks(course, published) == []


def test_scan_catches_what_must_not_be_published(course, published, tmp_path):
    """Would the scan catch a reference module, a golden file and a source notebook slipped into the tree?"""
    tree = tmp_path / "tree"
    shutil.copytree(published, tree)
    shutil.copy(golden.GOLDENS_DIR / "lab2_reference.py", tree / "labkit" / "helpers.py")
    shutil.copy(golden.GOLDENS_DIR / "lab1.pt", tree / "lab1.pt")
    shutil.copy(course.root / "solutions" / "lab3" / "lab3.ipynb", tree / "assignments" / "lab3" / "lab3.ipynb")
    found = "\n".join(publish.leaks(course, tree))
    assert "labkit/helpers.py: holds the reference line" in found
    assert "lab1.pt: .pt files" in found
    assert "assignments/lab3/lab3.ipynb: contains '### BEGIN SOLUTION'" in found


def test_publish_never_overwrites_a_foreign_folder(course, published, tmp_path, capsys):
    """Does publish refuse a non-empty folder it did not write, and replace one it did?"""
    (tmp_path / "notes.txt").write_text("mine")
    assert cli.main(["--root", str(course.root), "publish", str(tmp_path)]) == 2
    assert "not written by `course publish`" in capsys.readouterr().err and (tmp_path / "notes.txt").is_file()
    target = tmp_path / "tree"
    assert cli.main(["--root", str(course.root), "publish", str(target)]) == 0
    (target / "stale.txt").write_text("from an older publish")
    assert cli.main(["--root", str(course.root), "publish", str(target)]) == 0
    assert not (target / "stale.txt").exists() and (target / "assignments").is_dir()


def test_notebooks_built_for_another_repository_are_not_published(course, published, tmp_path, capsys):
    """Does publish refuse when course.toml now names another repository than the notebooks were built for?"""
    copy = tmp_path / "course"
    shutil.copytree(course.root, copy, ignore=shutil.ignore_patterns("gradebook.db"))
    toml = copy / "course.toml"
    toml.write_text(toml.read_text().replace(REPOSITORY, "someone/other"))
    assert cli.main(["--root", str(copy), "publish", str(tmp_path / "tree")]) == 2
    assert "do not link to someone/other" in capsys.readouterr().err and not (tmp_path / "tree").exists()
