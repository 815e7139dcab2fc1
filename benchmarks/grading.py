"""Grade a lab's demo class sequentially and with N workers, idle and beside a CPU-bound job; or, with
--executor slurm, with N local workers and as a Slurm job array of N tasks at once on the single-node cluster
the tests start, into the PostgreSQL server the tests start. With --plain, also plain `nbgrader autograde`
(nbgrader's own loop, one submission at a time, no sandbox and no clean re-run) on the same submissions.

    python benchmarks/grading.py [--lab lab1] [--workers 2] [--copies 1] [--students a,b] [--dir /tmp/grading-bench]
                                 [--executor local|slurm] [--plain] [--idle] [--rounds 1]

Prints seconds per submission for each run, the ratios, and whether every run gave the same scores. With
--rounds N every run is repeated N times, the rounds interleaved (a machine whose speed drifts within the hour
slows every way of grading alike), and the ratios are of the median runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT))
sys.path.insert(0, str(KIT / "tests"))  # the PostgreSQL server and Slurm cluster the tests start

from autograder import demo  # noqa: E402
from autograder.authoring import build  # noqa: E402
from autograder.core import process  # noqa: E402
from autograder.grading.autograde import autograde  # noqa: E402
from labkit import config  # noqa: E402


# A CPU-bound job like a training run: matrix products on torch's default threads until it is killed. A
# separate program, not a fork of this process: a fork of a process whose OpenMP pool has run can hang.
BURN = """
import torch
a = torch.randn(512, 512)
while True:
    a = torch.tanh(a @ a)
"""


def on_cluster(course: config.Course, database: str, partition: str, tasks: int) -> config.Course:
    """The course grading into `database` and, on Slurm, as `tasks` tasks of one CPU at once on `partition`."""
    import slurm_cluster

    slurm_cluster.point_course_at(course.root / config.CONFIG_NAME, database, partition, f"parallelism = {tasks}\n")
    return config.load(course.root)


@contextlib.contextmanager
def slurm_services():
    """(a PostgreSQL database URL, the Slurm partition): the tests' own server and one-node cluster, running."""
    import postgres_server
    import slurm_cluster

    slurm_cluster.install()
    with postgres_server.running(postgres_server.install()) as database, slurm_cluster.running() as cluster:
        os.environ.update(cluster.env)
        yield database, cluster.partition


def prepare(target: Path, lab: str, copies: int, only: list[str] | None = None,
            cluster: tuple[str, str, int] | None = None) -> tuple[config.Course, list[str]]:
    """A demo course at `target` with `copies` of the lab's simulated class (or of its students `only`), on
    `cluster` (database, partition, tasks) when given; returns it and the students."""
    course = demo.make_course(config.load(KIT), target)
    if cluster:
        course = on_cluster(course, *cluster)
    build.build(course, [lab], goldens_dir=None)
    submissions = demo.simulated_class(course, lab)
    submissions.pop("corrupt_file")  # not graded: it would only time the JSON check
    if only:
        unknown = sorted(set(only) - set(submissions))
        if unknown:
            raise SystemExit(f"no student {', '.join(unknown)} in the {lab} demo class; "
                             f"choose from {', '.join(sorted(submissions))}")
        submissions = {name: submissions[name] for name in only}
    names = {f"{name}_{copy}": entry for name, entry in submissions.items() for copy in range(copies)}
    demo.write_submissions(course, lab, names)
    return course, sorted(names)


def timed(course: config.Course, lab: str, students: list[str], workers: int, busy: bool,
          executor: str = "local") -> tuple[float, dict]:
    """Seconds to grade `students` with `workers` (or as Slurm tasks), optionally beside one CPU-bound process;
    and the scores."""
    job = subprocess.Popen([sys.executable, "-c", BURN]) if busy else None
    try:
        started = time.monotonic()
        outcomes = autograde(course, lab, students, echo=lambda line: None, workers=workers, executor=executor)
        seconds = time.monotonic() - started
    finally:
        if job:
            job.kill()
            job.wait()
    return seconds, {o.student: (o.score, o.needs_regrading) for o in outcomes}


def plain_nbgrader(course: config.Course, lab: str, students: list[str], runs: dict) -> None:
    """Time plain `nbgrader autograde LAB` on the same submissions and print its line."""
    started = time.monotonic()
    done = process.nbgrader(course.root, "autograde", lab, "--force")
    seconds = time.monotonic() - started
    if done.returncode:
        raise SystemExit(f"plain nbgrader autograde {lab} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    keep("plain nbgrader, idle", seconds, len(students), runs)


def keep(name: str, seconds: float, submissions: int, runs: dict[str, list[float]]) -> None:
    """Add a run's seconds per submission to `runs[name]` and print its line."""
    runs.setdefault(name, []).append(seconds / submissions)
    print(f"{name:<28} {runs[name][-1]:12.1f} {seconds:8.1f}", flush=True)


def report(runs: dict[str, list[float]], scores: dict[str, list[dict]], base: str) -> None:
    """Print the ratios (of the medians, over rounds) to the run `base` and whether every run gave the same scores."""
    median = {name: statistics.median(values) for name, values in runs.items()}
    if any(len(values) > 1 for values in runs.values()):
        print("medians: " + ", ".join(f"{name} {value:.1f}" for name, value in median.items()))
    print(f"ratios to {base}: " + ", ".join(f"{name} {median[base] / value:.2f}x" for name, value in median.items()))
    same = all(value == scores[base][0] for values in scores.values() for value in values)
    print(f"same scores in every run of the kit: {'yes' if same else 'NO'}")
    if not same:
        for name, values in scores.items():
            print(f"  {name}: {values}")


def run(course: config.Course, lab: str, students: list[str], name: str, runs: dict, scores: dict,
        **how) -> None:
    """Time one way of grading the class, print its line and keep its figures."""
    seconds, outcome = timed(course, lab, students, **how)
    scores.setdefault(name, []).append(outcome)
    keep(name, seconds, len(students), runs)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lab", default="lab1")
    p.add_argument("--workers", type=int, default=2, help="workers, or Slurm tasks at once")
    p.add_argument("--copies", type=int, default=1, help="copies of the demo class to grade")
    p.add_argument("--students", type=lambda text: text.split(","), help="only these demo students (a,b,...)")
    p.add_argument("--dir", type=Path, default=Path("/tmp/grading-bench"))
    p.add_argument("--executor", choices=("local", "slurm"), default="local",
                   help="slurm: local workers beside Slurm tasks, on the tests' cluster and PostgreSQL server")
    p.add_argument("--plain", action="store_true", help="also time plain nbgrader autograde, one at a time")
    p.add_argument("--idle", action="store_true", help="only the idle runs (none beside a CPU-bound job)")
    p.add_argument("--rounds", type=int, default=1, help="repeat every run, interleaved; ratios of the medians")
    args = p.parse_args(argv)
    with slurm_services() if args.executor == "slurm" else contextlib.nullcontext() as services:
        cluster = (*services, args.workers) if services else None
        course, students = prepare(args.dir, args.lab, args.copies, args.students, cluster)
        print(f"{args.lab}: {len(students)} submissions; {os.cpu_count()} cores; load average "
              f"{os.getloadavg()[0]:.2f} before")
        print(f"{'run':<28} {'s/submission':>12} {'total s':>8}")
        runs, scores = {}, {}
        for _ in range(args.rounds):
            if services:
                for executor in ("local", "slurm"):
                    name = f"{args.workers} {'worker(s)' if executor == 'local' else 'Slurm task(s)'}, idle"
                    run(course, args.lab, students, name, runs, scores, busy=False, executor=executor,
                        workers=args.workers if executor == "local" else 1)  # Slurm's: [cluster] parallelism
            else:
                for workers in sorted({1, args.workers}):
                    for busy in (False,) if args.idle else (False, True):
                        run(course, args.lab, students, f"{workers} worker(s), {'busy' if busy else 'idle'}", runs,
                            scores, workers=workers, busy=busy)
                if args.plain:
                    plain_nbgrader(course, args.lab, students, runs)
        if services:
            local, slurm = (statistics.median(values) for values in runs.values())
            print(f"Slurm's overhead per task: {(slurm - local) * args.workers:.1f} s")
        report(runs, scores, next(iter(runs)))
    shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
