"""`course autograde`: each submission graded in its own process, within limits, several at once.

Two executors run the same per-submission pipeline (autograder/grading/submission.py): local workers (threads,
each driving its submission's processes) and Slurm (autograder/grading/slurm.py: one job array per lab).
A run that is stopped part-way resumes: submissions already graded (and unchanged since) are not graded
again; `--retry-failed` grades exactly those marked "needs regrading".
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import as_completed
from typing import Iterator

from tqdm import tqdm

from autograder.core import layout
from autograder.core.errors import BuildError
from autograder.grading import jobs, outcome as outcomes_file, slurm
from autograder.grading.outcome import Outcome
from autograder.grading.submission import file_hash, grade_one, limits, zygotes
from autograder.sandbox import isolation, session
from autograder.sandbox.limits import cgroups_available
from labkit import config, progress

EXECUTORS = ("local", "slurm")


def to_grade(course: config.Course, lab_id: str, status: dict[str, Outcome], only: list[str] | None,
             retry_failed: bool, force: bool) -> tuple[list[str], list[str]]:
    """(students to grade, students skipped because their unchanged submission already has an outcome)."""
    if only:
        return list(only), []
    names = layout.students(course, lab_id)
    if retry_failed:
        return [name for name in names if name in status and status[name].needs_regrading], []
    if force:
        return names, []
    done = [name for name in names if name in status and status[name].submission_hash
            == file_hash(layout.notebook_path(course, layout.SUBMITTED, lab_id, name))]
    return [name for name in names if name not in done], done


def protections(course: config.Course, lab_id: str, echo, kernels: str) -> tuple[bool, bool]:
    """(isolated, as an unprivileged user): what this machine allows (the user probed as a fork of the kernels'
    zygote `kernels`); logged, and warned about when missing."""
    isolated, why_not = isolation.isolation_available()
    as_user, why_root = session.user_available(kernels) if isolated else (False, "")
    for line in session.protections(cgroups_available(), isolated, why_not, as_user, why_root):
        outcomes_file.log(course, lab_id, f"protection: {line}")
    if not isolated:
        echo(f"{lab_id}: WARNING: grading kernels are not isolated here ({why_not}): student code can reach the "
             f"course files; grade untrusted submissions in a container that holds nothing else")
    elif not as_user:
        echo(f"{lab_id}: WARNING: grading kernels run as root without capabilities, not as an unprivileged user "
             f"({why_root}): they can read root's files that are not hidden")
    return isolated, as_user


def announce(course: config.Course, lab_id: str, names: list[str], workers: int, executor: str, echo) -> None:
    lab_limits = limits(course, lab_id)
    how = f"{workers} worker(s)" if executor == "local" else (
        f"one Slurm job array of {len(names)} task(s) ({course.cluster.cpus} CPU(s), {course.cluster.memory} MiB, "
        f"{course.cluster.minutes} min" + (f", {course.cluster.gpus} GPU(s)" if course.cluster.gpus else "") + " each)")
    echo(f"{lab_id}: grading {len(names)} submission(s) with {how}; limits per submission: cell "
         f"{lab_limits.cell_timeout} s, notebook {lab_limits.notebook_timeout} s, CPU {lab_limits.cpu_time} s, "
         f"memory {lab_limits.memory} MiB, {lab_limits.processes} processes, output {lab_limits.output} KiB per cell")


def warn_untimed(course: config.Course, lab_id: str, names: list[str], echo) -> None:
    """Warn when the lab has a due date and submissions to grade have no timestamp.txt: no late penalty applies."""
    due = course.lab(lab_id).due_utc
    untimed = [name for name in names if not (layout.notebook_path(course, layout.SUBMITTED, lab_id, name).parent
                                              / "timestamp.txt").is_file()]
    if due and untimed:
        echo(f"{lab_id}: WARNING: due {due:%Y-%m-%d %H:%M} UTC, but {len(untimed)} submission(s) have no "
             f"timestamp.txt, so no late penalty applies to them: {', '.join(untimed[:10])}"
             + (f" and {len(untimed) - 10} more" if len(untimed) > 10 else "")
             + f" (`course collect {lab_id} SOURCE --times FILE` writes it)")


def record(course: config.Course, lab_id: str, status: dict[str, Outcome], outcome: Outcome, output: str,
           where: str = "") -> None:
    """Save one finished outcome in the status file and the log (the main thread does this, one at a time)."""
    status[outcome.student] = outcome
    outcomes_file.save_status(course, lab_id, status)
    outcomes_file.log(course, lab_id, f"{time.strftime('%Y-%m-%d %H:%M:%S')} {outcome.line()}")
    if where:
        outcomes_file.log(course, lab_id, f"    ran on {where}")
    for problem in outcome.problems[1:]:
        outcomes_file.log(course, lab_id, f"    also: {problem}")
    if not outcome.graded and output:
        outcomes_file.log(course, lab_id, output)


def local_workers(course: config.Course, lab_id: str, names: list[str], workers: int,
                  echo) -> Iterator[tuple[Outcome, str, str]]:
    """(outcome, nbgrader's output, "") of each submission as it finishes, `workers` at a time on this machine."""
    with zygotes() as forks, jobs.worker_pool(workers) as pool:
        isolated, as_user = protections(course, lab_id, echo, forks.kernels)
        futures = [pool.submit(grade_one, course, lab_id, student, isolated, as_user, forks) for student in names]
        for future in as_completed(futures):
            yield *future.result(), ""


def on_slurm(course: config.Course, lab_id: str, names: list[str], echo) -> Iterator[tuple[Outcome, str, str]]:
    """(outcome, nbgrader's output, where it ran) of each submission as its Slurm task finishes."""
    array = slurm.submit(course, lab_id, names)
    echo(f"{lab_id}: submitted Slurm job array {array.job_id} ({len(names)} task(s); Ctrl-C stops waiting, not "
         f"the array: run the command again to collect it, `scancel {array.job_id}` to cancel it)")
    yield from slurm.collect(course, lab_id, array)


def attach(course: config.Course, lab_id: str, status: dict[str, Outcome], echo) -> list[Outcome]:
    """Wait for the job array an earlier run submitted and record its outcomes (none when there is no array)."""
    array = slurm.in_flight(course, lab_id)
    if array is None:
        return []
    echo(f"{lab_id}: attaching to Slurm job array {array.job_id} submitted earlier ({len(array.students)} task(s)); "
         f"nothing is submitted again")
    return finish(course, lab_id, status, array.students, slurm.collect(course, lab_id, array), echo)


def finish(course: config.Course, lab_id: str, status: dict[str, Outcome], names: list[str],
           results: Iterator[tuple[Outcome, str, str]], echo) -> list[Outcome]:
    """Record and print each outcome as it comes, under a progress bar where someone watches; in `names` order."""
    outcomes = []
    with tqdm(total=len(names), desc=lab_id, unit="submission", disable=not progress.interactive(),
              leave=False) as bar, contextlib.closing(results):  # a stop here ends the workers at once
        for outcome, output, where in results:
            record(course, lab_id, status, outcome, output, where)
            bar.clear()
            echo(outcome.line())
            bar.update()
            outcomes.append(outcome)
    return sorted(outcomes, key=lambda o: names.index(o.student))


def autograde(course: config.Course, lab_id: str, only: list[str] | None = None, echo=print, workers: int = 1,
              retry_failed: bool = False, force: bool = False, executor: str = "local") -> list[Outcome]:
    """Grade the submissions of `lab_id` (`workers` at a time, or as one Slurm job array), one line each as they
    finish.

    By default, submissions already graded and unchanged since are skipped (a stopped run resumes);
    `retry_failed` grades only those marked "needs regrading", `force` every one, `only` those named. On Slurm, an
    array an earlier run left in flight is waited for first, never submitted again.
    """
    course.lab(lab_id)
    if workers < 1:
        raise BuildError(f"--workers must be at least 1, got {workers}")
    if executor not in EXECUTORS:
        raise BuildError(f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if executor == "slurm" and workers != 1:
        raise BuildError(f"--workers {workers} sets local workers; with --executor slurm, [cluster] parallelism in "
                         f"course.toml sets how many tasks run at once (0: as many as Slurm allows)")
    if course.gradebook_missing:
        raise BuildError(f"{course.gradebook_missing}: run `course build` in {course.root} first")
    if executor == "slurm":
        slurm.check(course, lab_id)
        warning = slurm.short_time_limit(course, lab_id)
        if warning:
            echo(warning)
    status = outcomes_file.load_status(course, lab_id)
    found = {o.student: o for o in attach(course, lab_id, status, echo)} if executor == "slurm" else {}
    names, done = to_grade(course, lab_id, status, only, retry_failed, force)
    # not twice in one run; those Slurm ended for reasons of its own (no hash kept) are graded now
    names = [name for name in names if name not in found or not found[name].submission_hash]
    done = [name for name in done if name not in found]
    if done:
        waiting = sum(status[name].needs_regrading for name in done)
        echo(f"{lab_id}: {len(done)} submission(s) already graded and unchanged, skipped (--force grades them again"
             + (f"; {waiting} need regrading: --retry-failed" if waiting else "") + ")")
    if not names and not found:
        echo(f"{lab_id}: nothing to grade" + ("" if done or retry_failed else
                                             f" (no submissions in {course.root / layout.SUBMITTED}/<student>/{lab_id}/)"))
        return []
    if names:
        announce(course, lab_id, names, workers, executor, echo)
        warn_untimed(course, lab_id, names, echo)
        results = on_slurm(course, lab_id, names, echo) if executor == "slurm" else \
            local_workers(course, lab_id, names, workers, echo)
        found.update({o.student: o for o in finish(course, lab_id, status, names, results, echo)})
    outcomes = list(found.values())
    graded = sum(o.graded for o in outcomes)
    regrade = sum(o.needs_regrading for o in outcomes)
    waiting = sum(o.waiting for o in outcomes)
    echo(f"{lab_id}: {graded} graded" + (f" ({waiting} need manual grading: `nbgrader formgrader`)" if waiting else "")
         + f", {len(outcomes) - graded - regrade} not graded, {regrade} need regrading"
         + (f" (`course autograde {lab_id} --retry-failed`)" if regrade else "")
         + f" (log: {outcomes_file.log_path(course, lab_id)})")
    return outcomes
