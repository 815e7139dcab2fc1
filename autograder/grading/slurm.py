"""`course autograde --executor slurm`: one Slurm job array per lab, one task per submission, through submitit.

Each task runs the local pipeline (autograder/grading/submission.py: sandbox, limits, verification) on its node
and writes the grades to the shared PostgreSQL gradebook; its outcome comes back through submitit's folder
(grading/slurm/<lab>/) and is recorded here, one at a time, as a local worker's is. The array in flight is
named in grading/<lab>-slurm.json until every task's outcome is recorded, so that running the command again
attaches to it instead of submitting the class twice. A task Slurm ended (time limit, memory, a lost node,
scancel) becomes "needs regrading" with Slurm's reason.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from autograder.core import layout, process, shutdown
from autograder.core.errors import BuildError
from autograder.grading.outcome import Outcome, load_status
from autograder.grading.submission import file_hash, grade_one, limits, zygotes
from autograder.sandbox import isolation, session
from labkit import config

NODE_LOCAL = ("/tmp", "/var/tmp", "/dev/shm", "/run")  # folders each node has its own of
POLL_SECONDS = 2      # how often the result files are looked for
STATE_SECONDS = 10    # how often Slurm is asked for the states of tasks without a result
# Slurm's end states of a task that did not finish; those the submission may have caused keep its hash (a plain
# rerun leaves them to --retry-failed, as a local time limit), the others are graded again by a plain rerun.
ENDED_BY_SUBMISSION = {"TIMEOUT": "it ran past the task's time limit ([cluster] minutes = {minutes})",
                       "OUT_OF_MEMORY": "it used more than the task's memory ([cluster] memory = {memory} MiB)"}
REMOVED = "REMOVED"  # no state: the task left Slurm's queue before it started
ENDED_BY_CLUSTER = {"CANCELLED": "it was cancelled (scancel)", REMOVED: "it left the queue before it started (scancel)",
                    "NODE_FAIL": "its node failed", "PREEMPTED": "it was preempted", "BOOT_FAIL": "its node did not boot",
                    "DEADLINE": "it reached its deadline", "REVOKED": "it was revoked",
                    "FAILED": "it failed on its node (see the log)"}
NO_NODE = "no node (the task returned no result)"  # where a task ran, for the log, when it did not say


def array_path(course: config.Course, lab_id: str) -> Path:
    """grading/<lab>-slurm.json: the job array in flight for the lab, while there is one."""
    return course.root / layout.STATUS_DIR / f"{lab_id}-slurm.json"


def jobs_folder(course: config.Course, lab_id: str) -> Path:
    """grading/slurm/<lab>/: submitit's job files (the pickled task, its result, Slurm's logs)."""
    return course.root / layout.STATUS_DIR / "slurm" / lab_id


def outside_shared(course: config.Course, paths: dict[str, Path]) -> list[str]:
    """A line for each of `paths` (what -> folder) the nodes may not see at the same path."""
    shared = course.cluster.shared
    problems = []
    for what, path in paths.items():
        where = str(path.resolve())
        if shared and not isolation.under(where, shared):
            problems.append(f"{what} {where} is not under a folder [cluster] shared names ({', '.join(shared)})")
        elif not shared and isolation.under(where, NODE_LOCAL):
            problems.append(f"{what} {where} is in a folder each node has its own of ({', '.join(NODE_LOCAL)}); "
                            f"move it to a shared file system, or list the folders every node mounts in "
                            f"[cluster] shared")
    return problems


def requirements(course: config.Course, lab_id: str) -> list[str]:
    """Why `lab_id` cannot be graded on Slurm from here (empty when it can)."""
    cluster, lab_limits = course.cluster, limits(course, lab_id)
    problems = []
    if not course.grading.db_url.startswith("postgresql"):
        problems.append("the Slurm executor needs a PostgreSQL gradebook (tasks on several nodes write grades at once, "
                        "which a SQLite file cannot take): set [grading] db_url = \"postgresql://user@host/database\"")
    if shutil.which("sbatch") is None:
        problems.append("sbatch is not on PATH: run `course autograde` on a machine that submits Slurm jobs "
                        "(a login node, or after `module load slurm`)")
    if cluster.memory <= lab_limits.memory:
        problems.append(f"[cluster] memory = {cluster.memory} MiB per task is not above the grading kernel's "
                        f"{lab_limits.memory} MiB ([grading] memory for {lab_id}): a task holds the kernel, nbgrader "
                        f"and the clean re-run; set it to at least {lab_limits.memory + 2048}")
    return problems + outside_shared(course, {"the course folder": course.root, "the kit": layout.KIT_DIR,
                                              "the Python environment": Path(sys.prefix),
                                              "the data root": course.data_root})


def check(course: config.Course, lab_id: str) -> None:
    """Raise a BuildError naming every reason `lab_id` cannot be graded on Slurm."""
    problems = requirements(course, lab_id)
    if problems:
        raise BuildError(f"{lab_id}: cannot grade with --executor slurm:\n  - " + "\n  - ".join(problems))


def short_time_limit(course: config.Course, lab_id: str) -> str | None:
    """A warning when Slurm's time limit per task ends a submission before the kit's notebook limit would."""
    minutes, timeout = course.cluster.minutes, limits(course, lab_id).notebook_timeout
    if minutes * 60 > timeout:
        return None
    return (f"{lab_id}: WARNING: [cluster] minutes = {minutes} is not above {lab_id}'s notebook_timeout ({timeout} s): "
            f"a submission still running at {minutes} min is ended by Slurm and needs regrading, not graded; "
            f"set it to at least {timeout // 60 + 5}")


def where_it_ran(isolated: bool) -> str:
    """The node, its GPUs (those Slurm gave the task) and whether the kernel was isolated, for the log."""
    gpus = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    device = f"GPU {gpus}" if gpus and gpus != "-1" else "CPU (no GPU allocated)"
    return f"{socket.gethostname()}, {device}, kernel {'isolated' if isolated else 'NOT isolated'}"


def grade_task(root: str, lab_id: str, student: str) -> tuple[Outcome, str, str]:
    """On a node: grade one submission as a local worker does. (outcome, nbgrader's output, where it ran)."""
    course = config.load(root)
    isolated, _ = isolation.isolation_available()
    with shutdown.stops_cleanly(), zygotes() as forks:  # sent SIGTERM, it cleans up (a time limit kills outright)
        as_user = session.user_available(forks.kernels)[0] if isolated else False
        outcome, output = grade_one(course, lab_id, student, isolated, as_user, forks)
    return outcome, output, where_it_ran(isolated)


def executor(course: config.Course, lab_id: str, tasks: int):
    """A submitit SlurmExecutor asking for what [cluster] says, per task."""
    import submitit

    cluster = course.cluster
    slurm = submitit.SlurmExecutor(folder=jobs_folder(course, lab_id), python=sys.executable)
    options = dict(job_name=f"course-{lab_id}", time=cluster.minutes, mem=f"{cluster.memory}M", nodes=1,
                   ntasks_per_node=1, cpus_per_task=cluster.cpus, array_parallelism=cluster.parallelism or tasks,
                   additional_parameters=dict(cluster.sbatch),
                   # the batch script runs the task itself: Slurm's own end states (TIMEOUT, OUT_OF_MEMORY) reach
                   # the job, and submitit's warning signal (sent to steps) does not end a task early
                   use_srun=False)
    options.update({key: value for key, value in (("partition", cluster.partition), ("account", cluster.account),
                                                  ("gpus_per_task", cluster.gpus)) if value})
    slurm.update_parameters(**options)
    return slurm


@dataclass
class Array:
    """A lab's job array: its Slurm id, the student each task grades and the task's own id ("41_3"; a class of
    one is a plain job, "41")."""

    job_id: str
    students: list[str]
    tasks: list[str]

    def jobs(self, course: config.Course, lab_id: str) -> list:
        """submitit's handle of each task (from any process: they are read from the jobs folder)."""
        import submitit

        return [submitit.SlurmJob(jobs_folder(course, lab_id), task) for task in self.tasks]


def in_flight(course: config.Course, lab_id: str) -> Array | None:
    """The array an earlier run submitted and did not finish collecting, or None."""
    path = array_path(course, lab_id)
    return Array(**json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None


def submit(course: config.Course, lab_id: str, names: list[str]) -> Array:
    """Submit one task per student as one job array, and name it in grading/<lab>-slurm.json."""
    from submitit.core.utils import FailedJobError, FailedSubmissionError

    slurm = executor(course, lab_id, len(names))
    try:
        jobs = slurm.map_array(grade_task, [str(course.root)] * len(names), [lab_id] * len(names), names)
    except (FailedJobError, FailedSubmissionError) as error:  # sbatch's own message
        said = "; ".join(line.strip() for line in str(error).strip().splitlines()[-3:])
        raise BuildError(f"{lab_id}: sbatch refused the job array: {said[-1000:]} (check [cluster] partition, account "
                         f"and sbatch in course.toml)") from None
    array = Array(jobs[0].job_id.split("_")[0], list(names), [job.job_id for job in jobs])
    process.write_atomic(array_path(course, lab_id), json.dumps(array.__dict__))
    return array


def ended_by_slurm(course: config.Course, lab_id: str, student: str, state: str, task: str) -> Outcome:
    """The outcome of a task Slurm ended before it returned one: needs regrading, with Slurm's reason."""
    name = state.split()[0] if state else "UNKNOWN"
    cluster = course.cluster
    if name in ENDED_BY_SUBMISSION:
        why, digest = ENDED_BY_SUBMISSION[name].format(minutes=cluster.minutes, memory=cluster.memory), \
            file_hash(layout.notebook_path(course, layout.SUBMITTED, lab_id, student))
    else:
        why, digest = ENDED_BY_CLUSTER.get(name, "it ended without a result"), ""
    earlier = load_status(course, lab_id).get(student)
    return Outcome(student, False, None, course.lab(lab_id).points, 0.0,
                   [f"Slurm ended task {task} ({state or 'state unknown'}: {why}) before it was graded; the "
                    f"submission is kept at {layout.SUBMITTED}/{student}/{lab_id}/"],
                   needs_regrading=True, submission_hash=digest, zeroed=list(earlier.zeroed) if earlier else [])


def state(job) -> str:
    """The task's state as Slurm's accounting has it now ("CANCELLED by 0", "TIMEOUT", ...; "" when unknown)."""
    return job.get_info(mode="force").get("State", "")


def result(course: config.Course, lab_id: str, student: str, job) -> tuple[Outcome, str, str]:
    """(outcome, output for the log, where it ran) of a finished task."""
    from submitit.core.utils import FailedJobError, UncompletedJobError

    ended = "" if job.paths.result_pickle.exists() else state(job)
    if ended and ended.split()[0] not in ("COMPLETED", "FAILED"):  # no result will come: do not wait for one
        return ended_by_slurm(course, lab_id, student, ended, job.job_id), job.stderr() or "", NO_NODE
    try:
        return job.result()
    except FailedJobError as error:  # the grading pipeline itself raised: a fault of the kit, not of the student
        return ended_by_slurm(course, lab_id, student, "FAILED", job.job_id), str(error), NO_NODE
    except UncompletedJobError:  # ended without a result (its state may have changed since)
        return ended_by_slurm(course, lab_id, student, state(job), job.job_id), job.stderr() or "", NO_NODE


def in_queue(array_id: str) -> set[str] | None:
    """The tasks of the array ("41_3") Slurm's controller still holds, in any state; None when squeue fails."""
    asked = subprocess.run(["squeue", "--noheader", "--array", "--states=all", f"--jobs={array_id}", "--format=%i"],
                           capture_output=True, text=True, timeout=120)
    if asked.returncode != 0:
        return set() if "Invalid job id" in asked.stderr else None  # the controller has forgotten the whole array
    return set(asked.stdout.split())


def vanished(array: Array, jobs: dict, unseen: dict[str, int]) -> list[str]:
    """Refresh the tasks' states; the students whose task neither Slurm's accounting nor its queue has held at
    two checks in a row (a task cancelled before it started leaves no trace in either)."""
    next(iter(jobs.values())).watcher.update()  # one sacct call for the whole array
    queued = in_queue(array.job_id)
    if queued is None:
        return []
    for student, job in jobs.items():
        gone = job.state == "UNKNOWN" and job.job_id not in queued and not job.paths.result_pickle.exists()
        unseen[student] = unseen.get(student, 0) + 1 if gone else 0
    return [student for student in jobs if unseen[student] >= 2]


def collect(course: config.Course, lab_id: str, array: Array) -> Iterator[tuple[Outcome, str, str]]:
    """(outcome, output for the log, where it ran) of each task as it finishes, then forget the array."""
    jobs = dict(zip(array.students, array.jobs(course, lab_id)))
    unseen: dict[str, int] = {}
    asked = 0.0
    while jobs:
        removed = []
        if time.monotonic() - asked > STATE_SECONDS:
            removed, asked = vanished(array, jobs, unseen), time.monotonic()
        finished = [student for student, job in jobs.items() if student in removed or job.done()]
        for student in finished:
            job = jobs.pop(student)
            if student in removed:
                outcome, output, node = ended_by_slurm(course, lab_id, student, REMOVED, job.job_id), "", NO_NODE
            else:
                outcome, output, node = result(course, lab_id, student, job)
            yield outcome, output, f"{node} (Slurm task {job.job_id})"
        if jobs and not finished:
            time.sleep(POLL_SECONDS)
    array_path(course, lab_id).unlink(missing_ok=True)
