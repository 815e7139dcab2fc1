"""Grade a lab's demo class sequentially and with N workers, idle and beside a CPU-bound job.

    python benchmarks/grading.py [--lab lab1] [--workers 2] [--copies 1] [--students a,b] [--dir /tmp/grading-bench]

Prints seconds per submission for each run, the ratios, and whether every run gave the same scores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT))

from autograder import demo  # noqa: E402
from autograder.authoring import build  # noqa: E402
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


def prepare(target: Path, lab: str, copies: int, only: list[str] | None = None) -> tuple[config.Course, list[str]]:
    """A demo course at `target` with `copies` of the lab's simulated class (or of its students `only`);
    returns it and the students."""
    course = demo.make_course(config.load(KIT), target)
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


def timed(course: config.Course, lab: str, students: list[str], workers: int, busy: bool) -> tuple[float, dict]:
    """Seconds to grade `students` with `workers`, optionally beside one CPU-bound process; and the scores."""
    job = subprocess.Popen([sys.executable, "-c", BURN]) if busy else None
    try:
        started = time.monotonic()
        outcomes = autograde(course, lab, students, echo=lambda line: None, workers=workers)
        seconds = time.monotonic() - started
    finally:
        if job:
            job.kill()
            job.wait()
    return seconds, {o.student: (o.score, o.needs_regrading) for o in outcomes}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lab", default="lab1")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--copies", type=int, default=1, help="copies of the demo class to grade")
    p.add_argument("--students", type=lambda text: text.split(","), help="only these demo students (a,b,...)")
    p.add_argument("--dir", type=Path, default=Path("/tmp/grading-bench"))
    args = p.parse_args(argv)
    course, students = prepare(args.dir, args.lab, args.copies, args.students)
    print(f"{args.lab}: {len(students)} submissions; {os.cpu_count()} cores; load average "
          f"{os.getloadavg()[0]:.2f} before")
    print(f"{'run':<28} {'s/submission':>12} {'total s':>8}")
    runs, scores = {}, {}
    for workers in sorted({1, args.workers}):
        for busy in (False, True):
            name = f"{workers} worker(s), {'busy' if busy else 'idle'}"
            seconds, scores[name] = timed(course, args.lab, students, workers, busy)
            runs[name] = seconds / len(students)
            print(f"{name:<28} {runs[name]:12.1f} {seconds:8.1f}", flush=True)
    base = runs["1 worker(s), idle"]
    print("ratios to 1 worker idle: " + ", ".join(f"{name} {base / value:.2f}x" for name, value in runs.items()))
    same = all(value == scores["1 worker(s), idle"] for value in scores.values())
    print(f"same scores in every run: {'yes' if same else 'NO'}")
    if not same:
        for name, value in scores.items():
            print(f"  {name}: {value}")
    shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
