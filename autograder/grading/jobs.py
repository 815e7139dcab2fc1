"""Grading processes: each in its own process group, its output in a file, the whole group killed at the end."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

OUTPUT_KEPT = 2 << 20  # bytes of a grading process's output read back (the end of it), for the log


@dataclass
class Job:
    """A grading process and the temporary file that holds its output (stdout, and stderr unless given)."""

    process: subprocess.Popen
    output: IO[bytes]


def start(args: list[str], cwd: Path, env: dict[str, str], stdin=None, stderr=subprocess.STDOUT) -> Job:
    """Start `args` in its own process group, its output in a file: a kernel it leaves behind may hold on to
    its output, and waiting for the end of a pipe would wait for that kernel."""
    output = tempfile.TemporaryFile()
    process = subprocess.Popen(args, cwd=cwd, stdin=stdin, stdout=output, stderr=stderr, env=env,
                               start_new_session=True)
    return Job(process, output)


def run_limited(args: list[str], cwd: Path, timeout: float, env: dict[str, str]) -> tuple[int | None, str]:
    """Run `args` in its own process group; kill the whole group (kernel included) after `timeout` s,
    and whatever is left of it when it ends. Returns (exit code, or None on timeout; combined output)."""
    return finish(start(args, cwd, env), timeout)


def finish(job: Job, timeout: float) -> tuple[int | None, str]:
    """Wait up to `timeout` s for the job's process, then kill its process group. Returns (exit code, or
    None on timeout; the last OUTPUT_KEPT bytes of its output)."""
    try:
        code = job.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        code = None
    try:
        os.killpg(job.process.pid, signal.SIGKILL)  # on timeout, and children it left behind in its group
    except ProcessLookupError:
        pass
    job.process.wait()
    with job.output:
        job.output.seek(max(0, job.output.seek(0, os.SEEK_END) - OUTPUT_KEPT))
        return code, job.output.read().decode("utf-8", errors="replace")
