"""Where things live: the kit's folder, a course's folders and its notebooks' paths."""

from __future__ import annotations

from pathlib import Path

from autograder.core.errors import BuildError
from labkit import config

KIT_DIR = Path(__file__).resolve().parents[2]
GOLDENS_DIR = KIT_DIR / "autograder" / "goldens"
SOURCE_DIR, RELEASE_DIR = "solutions", "assignments"
SUBMITTED, AUTOGRADED, FEEDBACK = "submitted", "autograded", "feedback"
STATUS_DIR, LOG_DIR, REPORTS = "grading", "logs", "reports"
CONFIG_FILE = "nbgrader_config.py"


def source_notebook(course: config.Course, lab_id: str) -> Path:
    """solutions/<lab>/<lab>.ipynb, which must exist."""
    path = course.root / SOURCE_DIR / lab_id / f"{lab_id}.ipynb"
    if not path.is_file():
        raise BuildError(f"course.toml lists {lab_id} but {path} does not exist")
    return path


def release_notebook(course: config.Course, lab_id: str) -> Path:
    """assignments/<lab>/<lab>.ipynb (written by `course build`; may not exist yet)."""
    return course.root / RELEASE_DIR / lab_id / f"{lab_id}.ipynb"


def notebook_path(course: config.Course, folder: str, lab_id: str, student: str) -> Path:
    """<folder>/<student>/<lab>/<lab>.ipynb, e.g. a submission or its autograded copy."""
    return course.root / folder / student / lab_id / f"{lab_id}.ipynb"


def students(course: config.Course, lab_id: str) -> list[str]:
    """Students with a submission folder submitted/<student>/<lab>/."""
    return sorted(p.parent.name for p in (course.root / SUBMITTED).glob(f"*/{lab_id}") if p.is_dir())
