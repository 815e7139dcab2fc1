"""A process's claim on the folders (and cgroups) it makes, so that a later process removes those a killed one left.

A process killed outright (SIGKILL: the OOM killer, Slurm's time limit, nbgrader ending a kernel) runs no clean-up:
a grader's kernel and zygote folders and pids cgroups, a grading kernel's fixture folder stay behind. While a
process uses one it holds an exclusive flock on it (an open descriptor of the folder itself); the kernel releases
that lock when the process ends, however it ends. A folder that nobody holds and that was made more than `GRACE`
seconds ago (the instant between making one and claiming it) is a dead process's, and `sweep` removes it. Locks
are the file system's, not process ids: processes in other pid namespaces or of other users are never mistaken for
dead ones.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

GRACE = 60.0  # seconds: younger unclaimed folders may be a live process's, made but not yet claimed


def hold(path: str | Path) -> int:
    """Claim the folder `path` until the returned descriptor is closed or this process ends."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)  # not inherited by the programs this process starts
    with contextlib.suppress(OSError):  # no locks on this file system (some NFS, Lustre): no sweep takes it either
        fcntl.flock(descriptor, fcntl.LOCK_EX)
    return descriptor


@contextlib.contextmanager
def claimed(path: str | Path | None) -> Iterator[None]:
    """Within: `path` (a folder or cgroup; None: nothing to claim) is held by this process."""
    if path is None:
        yield
        return
    descriptor = hold(path)
    try:
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
        except OSError:  # a live process's, or a file system without locks, where nothing can tell
            os.close(descriptor)
            continue
        try:
            remove(path)
            removed.append(path)
        finally:
            os.close(descriptor)
    return removed
