"""Running tools and writing files safely: nbgrader in a course folder, atomic writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from labkit.files import write_atomic  # the one definition: labkit cannot import the autograder

__all__ = ["nbgrader", "tool_env", "write_atomic"]


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for nbgrader and its kernels: this Python's scripts first on PATH (alembic)."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")]), **extra}


def nbgrader(root: Path, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run `nbgrader ARGS` in the course folder `root`, capturing its output."""
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, capture_output=True,
                          text=True, timeout=timeout, env=tool_env())
