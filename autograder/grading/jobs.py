"""Grading processes: each in its own process group, its output in a file, the whole group killed at the end, and
every one killed at once when the grading run stops (Ctrl-C, SIGTERM) so that the workers return."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

OUTPUT_KEPT = 2 << 20  # bytes of a grading process's output read back (the end of it), for the log


@dataclass(eq=False)  # hashed by identity: kept in RUNNING
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
    job = Job(process, output)
    RUNNING.add(job)
    return job


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
    finally:  # on timeout, on a stop (the wait interrupted), and children it left behind in its group
        kill_group(job)
        RUNNING.discard(job)
    job.process.wait()
    with job.output:
        job.output.seek(max(0, job.output.seek(0, os.SEEK_END) - OUTPUT_KEPT))
        return code, job.output.read().decode("utf-8", errors="replace")


def kill_group(job: Job) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(job.process.pid, signal.SIGKILL)


class Running:
    """The grading processes started and not yet finished; once stopped, each one is killed as it starts."""

    def __init__(self):
        self.jobs: set[Job] = set()
        self.lock = threading.Lock()
        self.stopped = False

    def add(self, job: Job) -> None:
        with self.lock:
            self.jobs.add(job)
            if self.stopped:
                kill_group(job)

    def discard(self, job: Job) -> None:
        with self.lock:
            self.jobs.discard(job)

    def stop(self) -> None:
        """Kill every running grading process, and each one started from now on."""
        with self.lock:
            self.stopped = True
            for job in self.jobs:
                kill_group(job)

    def allow(self) -> None:
        """Let grading processes run again (the stopped run's threads have returned)."""
        with self.lock:
            self.stopped = False


RUNNING = Running()


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A pool of `workers` threads, which have all returned when the block ends. When it ends by an exception
    (Ctrl-C, SIGTERM), the waiting work is cancelled and every grading process is killed, running or started
    meanwhile, so that the threads return at once."""
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        RUNNING.stop()
        raise
    finally:
        pool.shutdown(wait=True)
        RUNNING.allow()
