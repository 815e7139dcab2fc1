"""What one submission may use: rlimits on the kernel process, and a process-count cgroup that also lets the
grader stop every process a submission started."""

from __future__ import annotations

import os
import resource
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PIDS_ROOT = Path("/sys/fs/cgroup/pids")  # cgroup v1 process-count controller
CGROUP_PARENT = "course-grading"
MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one submission may use (course.toml [grading], overridable per lab)."""

    cell_timeout: int          # seconds of wall-clock time per cell
    notebook_timeout: int      # seconds of wall-clock time for the whole submission
    cpu_time: int              # CPU seconds per kernel process
    memory: int                # MiB of data memory per kernel process
    processes: int             # processes (and threads) at once in the submission's cgroup
    output: int                # KiB of output kept per cell in the autograded notebook
    file_size: int = 256       # MiB: the largest file the kernel may write


def apply_rlimits(limits: Limits) -> None:
    """Set this process's CPU-time, data-memory, file-size and core-dump limits (children inherit them)."""
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_time, limits.cpu_time + 5))
    resource.setrlimit(resource.RLIMIT_DATA, (limits.memory * MIB, limits.memory * MIB))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size * MIB, limits.file_size * MIB))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.geteuid() != 0:  # the kernel ignores RLIMIT_NPROC for root
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))


# ---------------------------------------------------------------------------------------------
# The process-count cgroup


def cgroups_available() -> bool:
    """True when this process may create cgroups under the pids controller (root on cgroup v1)."""
    return (PIDS_ROOT / "cgroup.procs").is_file() and os.access(PIDS_ROOT, os.W_OK)


def create_cgroup(name: str, processes: int) -> Path | None:
    """A new pids cgroup `name` allowing `processes` tasks; None where cgroups are not available."""
    if not cgroups_available():
        return None
    path = PIDS_ROOT / CGROUP_PARENT / name
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / "pids.max").write_text(str(processes))
    except OSError:
        return None
    return path


def cgroup_pids(path: Path) -> list[int]:
    try:
        return [int(pid) for pid in (path / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def peak_processes(path: Path) -> int | None:
    """How often the cgroup refused a new process (pids.events max), or None when unknown."""
    try:
        return int((path / "pids.events").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None


def remove_cgroup(path: Path | None) -> int:
    """Kill every process left in the cgroup and remove it; return how many were killed."""
    if path is None:
        return 0
    killed = 0
    for _ in range(50):
        pids = cgroup_pids(path)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    try:
        path.rmdir()
    except OSError:
        pass
    return killed


def join_cgroup(path: str) -> None:
    """Move this process into the cgroup at `path` (its children follow)."""
    Path(path, "cgroup.procs").write_text(str(os.getpid()))
