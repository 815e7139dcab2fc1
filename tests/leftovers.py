"""What a grader leaves on this machine when it is killed outright (nothing in it can clean up after SIGKILL): its
sandbox's pids cgroups and its kernel and zygote folders in /tmp. Tests that kill one find and remove them here."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from autograder.sandbox import session, zygote
from autograder.sandbox.limits import CGROUP_PARENT, PIDS_ROOT, cgroups_available, remove_cgroup


def temporary_folders() -> set[Path]:
    """The kernel folders (in the temporary directory) and zygote folders (in /tmp) of grading runs."""
    return {*Path(tempfile.gettempdir()).glob(f"{session.FOLDER_PREFIX}*"),
            *Path(zygote.SOCKET_DIR).glob(f"{zygote.FOLDER_PREFIX}*")}


def cgroups(*patterns: str) -> list[Path]:
    """The sandbox cgroups whose names match any of `patterns` (none where cgroups are not used)."""
    parent = PIDS_ROOT / CGROUP_PARENT
    return [path for pattern in patterns for path in parent.glob(pattern)] if cgroups_available() else []


def of_grader(pid: int, folders_before: set[Path]) -> list[Path]:
    """What the grader with process id `pid` left: its cgroups, and the folders not in `folders_before`."""
    return sorted([*cgroups(*session.cgroup_names("*", pid)), *(temporary_folders() - folders_before)])


def remove(paths: list[Path]) -> None:
    """Remove left cgroups (killing what is in them) and folders."""
    for path in paths:
        if path.is_relative_to(PIDS_ROOT):
            remove_cgroup(path)
        else:
            shutil.rmtree(path, ignore_errors=True)
