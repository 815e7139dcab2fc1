"""Open-in-Colab badges and the Colab install line, pointed at course.toml's repository and branch, or left out
while the course has none ([colab] repository = "")."""

from __future__ import annotations

import re

from autograder.core import layout
from labkit import config

BADGE_LINK = re.compile(r"\(https://colab\.research\.google\.com/github/[^)\s]+\)")
INSTALL_URL = re.compile(r"git\+https://github\.com/[^\"'\s]+")
# The whole badge (image and link) with the blank line after it, and the set-up cell's Colab install block.
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)\s]*\)\]\(https://colab\.research\.google\.com/github/[^)\s]+\)\n*")
INSTALL_BLOCK = re.compile(r'^if "google\.colab" in sys\.modules:\n(?:[ \t]+\S.*\n?)+\n*', re.MULTILINE)
SETUP_COMMENT = re.compile(r"^# Set-up: on Colab .*\n", re.MULTILINE)
NOT_SET_NOTE = ("[colab] repository in course.toml is not set: the student notebooks have no Open-in-Colab badge "
                "and no Colab install line (set it to the GitHub \"owner/name\" the `course publish` tree is pushed "
                "to, then run `course build` again)")


def badge_url(course: config.Course, lab_id: str) -> str:
    """The Colab link of the student notebook of `lab_id` in the course's repository."""
    return (f"https://colab.research.google.com/github/{course.colab.repository}/blob/{course.colab.branch}/"
            f"{layout.RELEASE_DIR}/{lab_id}/{lab_id}.ipynb")


def install_url(course: config.Course) -> str:
    """What the set-up cell pip-installs on Colab: the student package of the published tree."""
    return f"git+https://github.com/{course.colab.repository}@{course.colab.branch}"


def check_source(notebook, lab_id: str) -> None:
    """ValueError unless the notebook's first cell has an Open-in-Colab badge and a code cell the Colab install."""
    badge = bool(BADGE.search(notebook.cells[0].source)) if notebook.cells else False
    install = any(c.cell_type == "code" and INSTALL_BLOCK.search(c.source) and INSTALL_URL.search(c.source)
                  for c in notebook.cells)
    if not (badge and install):
        raise ValueError(f"{lab_id}: the source notebook needs an Open-in-Colab badge in its first cell and a "
                         f"set-up cell that pip-installs git+https://github.com/... when \"google.colab\" is loaded")


def point_at_course(notebook, course: config.Course, lab_id: str) -> None:
    """Point the badge and the install line at the course's repository, or remove both when it is not set;
    ValueError when the notebook lacks either."""
    check_source(notebook, lab_id)
    for cell in notebook.cells:
        if course.colab.is_set:
            cell.source = BADGE_LINK.sub(f"({badge_url(course, lab_id)})", cell.source)
            if cell.cell_type == "code":
                cell.source = INSTALL_URL.sub(install_url(course), cell.source)
        elif cell.cell_type == "code":
            cell.source = SETUP_COMMENT.sub("# Set-up.\n", INSTALL_BLOCK.sub("", cell.source))
            cell.source = cell.source.replace("import sys, subprocess\n", "")
        else:
            cell.source = BADGE.sub("", cell.source)


def has_badge(notebook, course: config.Course, lab_id: str) -> bool:
    """Whether the (student) notebook links to its Colab page in the course's repository."""
    return any(f"({badge_url(course, lab_id)})" in cell.source for cell in notebook.cells)
