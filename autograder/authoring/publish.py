"""`course publish DIR`: the tree students may see, checked to hold no answer, hidden test or golden."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

from autograder.authoring import colab
from autograder.core import layout, notebooks
from autograder.core.errors import PublishError
from labkit import config

MARKER = ".course-publish"
STUDENT_PACKAGE = "labkit"
FORBIDDEN_TEXT = (*notebooks.SOLUTION_MARKERS, *notebooks.HIDDEN_MARKERS, "autograder")
FORBIDDEN_SUFFIXES = {".pt", ".ckpt", ".db"}
MIN_ANSWER_LENGTH = 24  # shorter reference lines (`model.eval()`) also stand in ordinary code
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", config.CONFIG_NAME)
PRIVATE_TABLES = {"grading", "roster", "cluster"}  # course.toml's tables students never see
TABLE_HEADER = re.compile(r"^\s*\[\[?\s*([^\].]+)")  # the top-level name of a [table] or [[array]] header


def answer_lines(source_notebook) -> set[str]:
    """Stripped lines that stand only inside the solution regions of a source notebook."""
    answers, given = set(), set()
    for cell in source_notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            if line.strip() in notebooks.SOLUTION_MARKERS:
                inside = line.strip() == notebooks.SOLUTION_MARKERS[0]
            elif len(line.strip()) > 3:
                (answers if inside else given).add(line.strip())
    return answers - given  # lines such as `else:` also stand outside the answers


def leaks(course: config.Course, tree: Path) -> list[str]:
    """'<file>: <what>' for every reference line, marker, hidden test or binary artefact in `tree`."""
    answers = set().union(*(answer_lines(notebooks.read(layout.source_notebook(course, lab))) for lab in course.labs))
    found = []
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        name = path.relative_to(tree).as_posix()
        if path.suffix in FORBIDDEN_SUFFIXES:
            found.append(f"{name}: {path.suffix} files (weights, goldens, gradebooks) are not for students")
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{name}: contains {marker!r}" for marker in FORBIDDEN_TEXT if marker in text]
        lines = {line.strip().strip('",').replace('\\"', '"') for line in text.splitlines()}
        found += [f"{name}: holds the reference line {line!r}" for line in sorted(answers & lines)[:3]
                  if len(line) >= MIN_ANSWER_LENGTH]
    return found


def student_config(text: str) -> str:
    """course.toml as students may see it: the tables the notebooks read ([course], [colab], [data], [files], [labs]),
    comments kept; [grading] (its db_url may hold a password), [roster] (the class list) and [cluster] left out."""
    kept, keep = [], True
    for line in text.splitlines(keepends=True):
        header = TABLE_HEADER.match(line)
        if header:
            keep = header.group(1).strip().strip('"') not in PRIVATE_TABLES
        if keep:
            kept.append(line)
    student = "".join(kept)
    left = set(tomllib.loads(student)) & PRIVATE_TABLES
    if left:
        raise PublishError(f"course.toml's {', '.join(sorted(left))} could not be left out of the students' copy: "
                           f"write each as a [table] of its own")
    return student


def student_pyproject(kit_root: Path) -> str:
    """pyproject.toml of the student package: labkit with the kit's own runtime dependencies."""
    kit = tomllib.loads((kit_root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dependencies = "".join(f'    "{d}",\n' for d in kit["dependencies"])
    return (f'[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "{kit["name"]}-student"\nversion = "{kit["version"]}"\n'
            f'requires-python = "{kit["requires-python"]}"\ndependencies = [\n{dependencies}]\n\n'
            f'[tool.setuptools.packages.find]\ninclude = ["{STUDENT_PACKAGE}*"]\n\n'
            f'[tool.setuptools.package-data]\n{STUDENT_PACKAGE} = ["{config.CONFIG_NAME}"]\n')


def student_readme(course: config.Course) -> str:
    rows = "".join(f"| {lab.id} | {lab.title} | [open in Colab]({colab.badge_url(course, lab.id)}) |\n"
                   for lab in course.labs.values())
    return (f"# {course.course.title or course.course.id}: labs\n\n"
            f"Open a lab's notebook from `{layout.RELEASE_DIR}/<lab>/<lab>.ipynb` (Jupyter, JupyterHub) or from "
            f"Colab. Locally, `pip install -e .` installs the helpers the notebooks import (`labkit`).\n\n"
            f"| lab | title | Colab |\n| --- | --- | --- |\n{rows}\n"
            f"Fill every `# YOUR CODE HERE`, run the check under it, and submit the notebook as your course asks.\n")


def prepare_target(target: Path) -> None:
    """An empty folder, or one a previous `course publish` wrote (emptied); else PublishError."""
    if target.exists() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise PublishError(f"{target} is not empty and was not written by `course publish`: choose a new folder")
    if target.exists():
        for child in target.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    target.mkdir(parents=True, exist_ok=True)


def check_ready(course: config.Course) -> None:
    """PublishError unless [colab] repository is set and every student notebook was built pointing at it."""
    if not course.colab.is_set:
        raise PublishError(f"[colab] repository in {course.root / config.CONFIG_NAME} is not set: set it to the GitHub "
                           f"repository (\"owner/name\") this tree will be pushed to, run `course build`, then "
                           f"`course publish DIR` again")
    stale = [lab_id for lab_id in course.labs if not layout.release_notebook(course, lab_id).is_file()
             or not colab.has_badge(notebooks.read(layout.release_notebook(course, lab_id)), course, lab_id)]
    if stale:
        raise PublishError(f"the student notebook(s) of {', '.join(stale)} do not link to {course.colab.repository} "
                           f"(built before [colab] repository was set, or not built): run `course build` first")


def publish(course: config.Course, target: Path, echo=print) -> Path:
    """Write the student tree to `target` and check it; return `target`."""
    check_ready(course)
    target = Path(target).resolve()
    prepare_target(target)
    shutil.copytree(course.root / layout.RELEASE_DIR, target / layout.RELEASE_DIR, ignore=IGNORED)
    kit_root = layout.KIT_DIR
    shutil.copytree(kit_root / STUDENT_PACKAGE, target / STUDENT_PACKAGE, ignore=IGNORED)
    student = student_config((course.root / config.CONFIG_NAME).read_text(encoding="utf-8"))
    for path in (target / config.CONFIG_NAME, target / STUDENT_PACKAGE / config.CONFIG_NAME):
        path.write_text(student, encoding="utf-8")  # the package's copy is what labkit reads on Colab
    (target / "pyproject.toml").write_text(student_pyproject(kit_root), encoding="utf-8")
    (target / "README.md").write_text(student_readme(course), encoding="utf-8")
    (target / MARKER).write_text("written by `course publish`; rerunning it replaces this folder\n", encoding="utf-8")
    found = leaks(course, target)
    if found:
        raise PublishError(f"{target} would leak {len(found)} thing(s): " + "; ".join(found[:5]))
    echo(f"student tree -> {target} ({sum(1 for p in target.rglob('*') if p.is_file())} files, checked: no "
         f"solutions, hidden tests, goldens or checkpoints)")
    return target
