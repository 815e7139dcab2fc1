"""Why a grading kernel died: caused by the submission (named and scored as far as it ran) or perhaps by
the machine (graded again)."""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox.limits import Limits

# What a kernel prints as it dies for want of memory: Python's error, C++'s, the C library's, OpenMP's (a
# thread stack is memory too).
MEMORY_SIGNS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "can't allocate memory",
                "Thread creation failed")
CRASHES = {signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT}


@dataclass(frozen=True)
class Death:
    """Where a kernel died, why, and whether the submission caused it (a regrade would only repeat it)."""

    cell: str
    cause: str
    by_submission: bool

    def line(self) -> str:
        return f"the kernel died in cell {self.cell}: {self.cause}"


def read_record(path: Path) -> dict | None:
    """The record WatchedExecute wrote at `path` when the kernel died (None: it did not die, or no record)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "cell" in record else None


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def diagnose(record: dict, kernel_output: str, limits: Limits, refused: int | None = None) -> Death:
    """The cause of the death in `record`, from the kernel's exit status, what it printed (`kernel_output`) and
    the processes the cgroup `refused` it."""
    cell, status = record["cell"], record.get("status")
    if status == -signal.SIGXCPU:
        return Death(cell, f"it used up the CPU-time limit of {limits.cpu_time} s (cpu_time)", True)
    crashed = status is not None and status < 0 and -status in CRASHES
    if crashed or (status is not None and status >= 0):
        if refused:
            return Death(cell, f"it tried to run more than {limits.processes} processes at once (processes)", True)
        if any(sign in kernel_output for sign in MEMORY_SIGNS):
            return Death(cell, f"it ran out of memory under the memory limit of {limits.memory} MiB (memory): the "
                               f"notebook kept nearly all of it, so the kernel could not allocate for itself", True)
    if status is not None and status >= 0:
        return Death(cell, f"the notebook ended the kernel (exit code {status}: os._exit, or a crash in its own "
                           f"code)", True)
    if crashed:
        return Death(cell, f"the kernel crashed ({signal_name(-status)}) running the notebook's code", True)
    how = f"by {signal_name(-status)}" if status is not None else "with an exit status that could not be read"
    return Death(cell, f"the kernel was stopped from outside ({how}); the machine may have been short of memory",
                 False)
