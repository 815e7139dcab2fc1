"""A course folder with a class list and a due date for lab 2; the LMS downloads are in lms_downloads.py."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from lms_downloads import COURSE_TOML, ROSTER  # noqa: E402

from labkit import config  # noqa: E402


@pytest.fixture
def course(tmp_path) -> config.Course:
    root = tmp_path / "course"
    root.mkdir()
    (root / config.CONFIG_NAME).write_text(COURSE_TOML, encoding="utf-8")
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return config.load(root)
