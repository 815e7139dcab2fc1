"""Open-in-Colab badges and the Colab install line, pointed at course.toml's repository and branch."""

from __future__ import annotations

import re

from autograder.core import layout
from labkit import config

BADGE_LINK = re.compile(r"\(https://colab\.research\.google\.com/github/[^)\s]+\)")
INSTALL_URL = re.compile(r"git\+https://github\.com/[^\"'\s]+")


def badge_url(course: config.Course, lab_id: str) -> str:
    """The Colab link of the student notebook of `lab_id` in the course's repository."""
    return (f"https://colab.research.google.com/github/{course.colab.repository}/blob/{course.colab.branch}/"
            f"{layout.RELEASE_DIR}/{lab_id}/{lab_id}.ipynb")


def install_url(course: config.Course) -> str:
    """What the set-up cell pip-installs on Colab."""
    return f"git+https://github.com/{course.colab.repository}@{course.colab.branch}"


def point_at_course(notebook, course: config.Course, lab_id: str) -> None:
    """Rewrite the notebook's badge link and Colab install URL; ValueError when either is missing."""
    badge = install = 0
    for cell in notebook.cells:
        cell.source, n = BADGE_LINK.subn(f"({badge_url(course, lab_id)})", cell.source)
        badge += n
        if cell.cell_type == "code":
            cell.source, n = INSTALL_URL.subn(install_url(course), cell.source)
            install += n
    if not (badge and install):
        raise ValueError(f"{lab_id}: the source notebook needs an Open-in-Colab badge in its first cell and a "
                         f"set-up cell that pip-installs git+https://github.com/... on Colab")
