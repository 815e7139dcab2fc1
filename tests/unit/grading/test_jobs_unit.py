"""Grading processes: a grading run that stops (Ctrl-C, SIGTERM) kills what its workers run and starts nothing more."""

import os
import time

import pytest

from autograder.grading import jobs

SLEEP = ["sleep", "60"]  # a submission that would keep a worker for a minute


def run(args: list[str], folder) -> int | None:
    return jobs.run_limited(args, folder, 120, dict(os.environ))[0]


def started_job() -> jobs.Job:
    """The one grading process running, once a worker has started it (10 s at most)."""
    deadline = time.monotonic() + 10
    while not jobs.RUNNING.jobs and time.monotonic() < deadline:
        time.sleep(0.01)
    [job] = jobs.RUNNING.jobs
    return job


def test_a_stop_kills_the_running_work_and_cancels_the_rest(tmp_path):
    """Stopped while a worker runs the first of three minute-long jobs, do the pool's threads return at once, the
    job killed with its process group and the other two never started, and may the next run start jobs again?"""
    codes = []
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with jobs.worker_pool(1) as pool:
            for _ in range(3):
                pool.submit(lambda: codes.append(run(SLEEP, tmp_path)))
            running = started_job()
            raise KeyboardInterrupt
    assert time.monotonic() - started < 20
    assert codes == [-9] and not jobs.RUNNING.jobs
    with pytest.raises(ProcessLookupError):
        os.killpg(running.process.pid, 0)
    assert run(["true"], tmp_path) == 0


def test_a_job_started_while_the_run_stops_is_killed_as_it_starts(tmp_path):
    """Is a job a worker starts after the stop (it was between two jobs) killed at once?"""
    codes = []
    with pytest.raises(KeyboardInterrupt):
        with jobs.worker_pool(1) as pool:
            pool.submit(lambda: (time.sleep(0.5), codes.append(run(SLEEP, tmp_path))))
            time.sleep(0.1)
            raise KeyboardInterrupt
    assert codes == [-9]


def test_a_job_that_ends_on_its_own_is_forgotten(tmp_path):
    """Does a finished job leave the registry (nothing for a later stop to kill) and give its output?"""
    code, output = jobs.run_limited(["echo", "graded"], tmp_path, 120, dict(os.environ))
    assert (code, output, jobs.RUNNING.jobs) == (0, "graded\n", set())


def test_a_bare_pool_waits_for_its_running_job(tmp_path):
    """What the first test tells apart: without worker_pool, a stop waits for the running job to end."""
    from concurrent.futures import ThreadPoolExecutor

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(run, ["sleep", "2"], tmp_path)
            started_job()
            raise KeyboardInterrupt
    assert time.monotonic() - started >= 1.5
