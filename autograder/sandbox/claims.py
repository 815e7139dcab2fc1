"""A grader's claim on the folders and cgroups its sandbox makes, so that the next grader removes what a killed one
left behind.

A grader killed outright (SIGKILL: the OOM killer, Slurm's time limit) runs no clean-up: its kernel folder, its
zygotes' folders and its pids cgroups stay on the node. While a grader uses one of them it holds an exclusive flock
on it (an open descriptor of the folder itself); the kernel releases that lock when the grader ends, however it
ends. A folder or cgroup that nobody holds and that was made more than `GRACE` seconds ago (the instant between
making one and claiming it) is a dead grader's, and `sweep` removes it. Locks are the file system's, not process
ids: graders in other pid namespaces or of other users are never mistaken for dead ones.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

GRACE = 60.0  # seconds: younger unclaimed folders may be a live grader's, made but not yet claimed


@contextlib.contextmanager
def claimed(path: str | Path | None) -> Iterator[None]:
    """Within: `path` (a folder or cgroup; None: nothing to claim) is held by this process."""
    if path is None:
        yield
        return
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)  # not inherited by the programs a grader starts
    try:
        with contextlib.suppress(OSError):  # no locks on this file system (some NFS, Lustre): no sweep takes it either
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def sweep(paths: Iterable[Path], remove: Callable[[Path], object], grace: float = GRACE) -> list[Path]:
    """Remove (with `remove`, holding its lock) each of `paths` that no live process holds and that is older than
    `grace` seconds; return those removed. Paths this process may not open or that vanish are left alone."""
    removed = []
    for path in paths:
        try:
            if time.time() - path.stat().st_mtime < grace:
                continue
            descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a live grader's, or a file system without locks, where nothing can tell
            os.close(descriptor)
            continue
        try:
            remove(path)
            removed.append(path)
        finally:
            os.close(descriptor)
    return removed
