"""What grading runs killed outright leave on a machine (kernel and zygote folders, sandbox cgroups), and their
removal by the next grading run there (`claims`: how a live run's are told from a dead one's)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from autograder.core import claims
from autograder.sandbox import session, zygote
from autograder.sandbox.limits import CGROUP_PARENT, PIDS_ROOT, cgroups_available, remove_cgroup


def folders() -> list[Path]:
    """The kernel folders (in the temporary directory) and zygote folders (in zygote.SOCKET_DIR) of grading runs."""
    return [*Path(tempfile.gettempdir()).glob(f"{session.FOLDER_PREFIX}*"),
            *Path(zygote.SOCKET_DIR).glob(f"{zygote.FOLDER_PREFIX}*")]


def cgroups(pattern: str = "*") -> list[Path]:
    """The sandbox cgroups whose names match `pattern` (none where this process cannot make cgroups)."""
    return [path for path in (PIDS_ROOT / CGROUP_PARENT).glob(pattern) if path.is_dir()] if cgroups_available() else []


def remove(path: Path) -> None:
    """Remove a left cgroup (killing what runs in it) or folder."""
    if path.is_relative_to(PIDS_ROOT):
        remove_cgroup(path)
    else:
        shutil.rmtree(path, ignore_errors=True)


def sweep(grace: float = claims.GRACE) -> list[Path]:
    """Remove what dead grading runs left here (unclaimed, older than `grace` seconds); return what was removed."""
    return claims.sweep([*folders(), *cgroups()], remove, grace)
