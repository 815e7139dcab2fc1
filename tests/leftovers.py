"""What a grader leaves on this machine when it is killed outright (nothing in it can clean up after SIGKILL): its
sandbox's pids cgroups and its kernel and zygote folders. Tests that kill one find them here."""

from __future__ import annotations

from pathlib import Path

from autograder.sandbox import leftovers, session


def temporary_folders() -> set[Path]:
    """The kernel and zygote folders of grading runs on this machine."""
    return set(leftovers.folders())


def cgroups(*patterns: str) -> list[Path]:
    """The sandbox cgroups whose names match any of `patterns` (none where cgroups are not used)."""
    return [path for pattern in patterns for path in leftovers.cgroups(pattern)]


def of_grader(pid: int, folders_before: set[Path]) -> list[Path]:
    """What the grader with process id `pid` left: its cgroups, and the folders not in `folders_before`."""
    return sorted([*cgroups(*session.cgroup_names("*", pid)), *(temporary_folders() - folders_before)])


def remove(paths: list[Path]) -> None:
    """Remove left cgroups (killing what is in them) and folders."""
    for path in paths:
        leftovers.remove(path)
