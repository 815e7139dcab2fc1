"""`course autograde`: nbgrader autograde each submission in its own process, within time limits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder import build, notebooks
from labkit import config

SUBMITTED, AUTOGRADED, STATUS_DIR, LOG_DIR = "submitted", "autograded", "grading", "logs"


@dataclass
class Outcome:
    """What grading one submission gave: a score, or the reason it could not be graded."""

    student: str
    graded: bool
    score: float | None
    max_score: float
    seconds: float
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        score = f"{self.score:g}/{self.max_score:g}" if self.graded else "NOT GRADED"
        problems = self.problems[0] if self.problems else ""
        if len(self.problems) > 1:
            problems += f" (+{len(self.problems) - 1} more: see the log)"
        return f"{self.student:<28} {score:>12} {self.seconds:6.1f} s" + (f"  {problems}" if problems else "")


def students(course: config.Course, lab_id: str) -> list[str]:
    """Students with a submission folder submitted/<student>/<lab>/."""
    return sorted(p.parent.name for p in (course.root / SUBMITTED).glob(f"*/{lab_id}") if p.is_dir())


def notebook_path(course: config.Course, folder: str, lab_id: str, student: str) -> Path:
    return course.root / folder / student / lab_id / f"{lab_id}.ipynb"


def max_score(course: config.Course, lab_id: str) -> float:
    return course.lab(lab_id).points


def run_limited(args: list[str], cwd: Path, timeout: float) -> tuple[int | None, str]:
    """Run `args` in its own process group; kill the whole group (kernel included) after `timeout` s.

    Returns (exit code, or None on timeout; combined output).
    """
    process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=build.tool_env(), start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return None, output


def cell_problems(path: Path) -> list[str]:
    """'cell <grade_id>: <Error>: <message>' for every non-test cell of `path` that raised."""
    try:
        notebook = notebooks.read(path)
    except notebooks.NotebookError as error:
        return [str(error)]
    problems = []
    for index, cell in enumerate(notebook.cells):
        meta = notebooks.nbgrader_meta(cell)
        if cell.cell_type != "code" or meta.get("grade"):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                name = meta.get("grade_id") or f"#{index}"
                problems.append(f"cell {name} raised {output['ename']}: {output['evalue'][:120]}")
    return problems


def read_score(course: config.Course, lab_id: str, student: str) -> float:
    """The student's total for the lab from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", course.course.id) as gradebook:
        return gradebook.find_submission(lab_id, student).score


def not_graded(student: str, course: config.Course, lab_id: str, started: float, reason: str) -> Outcome:
    return Outcome(student, False, None, max_score(course, lab_id), time.monotonic() - started, [reason])


def autograde_one(course: config.Course, lab_id: str, student: str) -> tuple[Outcome, str]:
    """Grade one submission with nbgrader; returns the outcome and nbgrader's output."""
    started = time.monotonic()
    path = notebook_path(course, SUBMITTED, lab_id, student)
    kept = f"the submission is kept at {path.relative_to(course.root)}"
    if not path.is_file():
        return not_graded(student, course, lab_id, started,
                          f"no {path.name} in {path.parent.relative_to(course.root)}; ask for the notebook"), ""
    try:
        notebooks.read(path)
    except notebooks.NotebookError as error:
        return not_graded(student, course, lab_id, started,
                          f"{error}; {kept}; ask the student to submit it again"), ""
    limit = course.notebook_timeout(lab_id)
    code, output = run_limited(
        [sys.executable, "-m", "nbgrader", "autograde", lab_id, "--student", student, "--force",
         f"--Execute.timeout={course.cell_timeout(lab_id)}"], course.root, limit)
    if code is None:
        return not_graded(student, course, lab_id, started,
                          f"grading took longer than {limit} s (notebook_timeout) and was stopped; {kept}"), output
    if code != 0:
        last = next((line for line in reversed(output.splitlines()) if "Error" in line), "see the log")
        return not_graded(student, course, lab_id, started, f"nbgrader autograde failed ({last.strip()}); {kept}"), output
    problems = cell_problems(notebook_path(course, AUTOGRADED, lab_id, student))
    return Outcome(student, True, read_score(course, lab_id, student), max_score(course, lab_id),
                   time.monotonic() - started, problems), output


def status_path(course: config.Course, lab_id: str) -> Path:
    return course.root / STATUS_DIR / f"{lab_id}.json"


def load_status(course: config.Course, lab_id: str) -> dict[str, Outcome]:
    """The outcomes recorded by earlier `course autograde` runs, by student."""
    path = status_path(course, lab_id)
    if not path.is_file():
        return {}
    return {name: Outcome(**record) for name, record in json.loads(path.read_text(encoding="utf-8")).items()}


def save_status(course: config.Course, lab_id: str, outcomes: dict[str, Outcome]) -> None:
    """Write the outcomes atomically (a crash mid-write leaves the previous file)."""
    path = status_path(course, lab_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({k: asdict(v) for k, v in sorted(outcomes.items())}, indent=2), encoding="utf-8")
    temporary.replace(path)


def log(course: config.Course, lab_id: str, text: str) -> None:
    folder = course.root / LOG_DIR
    folder.mkdir(exist_ok=True)
    with open(folder / f"{lab_id}-autograde.log", "a", encoding="utf-8") as f:
        f.write(text.rstrip("\n") + "\n")


def autograde(course: config.Course, lab_id: str, only: list[str] | None = None, echo=print) -> list[Outcome]:
    """Grade every submission of `lab_id` (or the students in `only`), one line each as it goes."""
    course.lab(lab_id)
    if not (course.root / "gradebook.db").is_file():
        raise build.BuildError(f"{course.root / 'gradebook.db'} is missing: run `course build` in {course.root} first")
    names = only or students(course, lab_id)
    if not names:
        echo(f"{lab_id}: no submissions in {course.root / SUBMITTED}/<student>/{lab_id}/")
        return []
    status = load_status(course, lab_id)
    echo(f"{lab_id}: grading {len(names)} submission(s); cell limit {course.cell_timeout(lab_id)} s, "
         f"notebook limit {course.notebook_timeout(lab_id)} s")
    outcomes = []
    for student in names:
        outcome, output = autograde_one(course, lab_id, student)
        status[student] = outcome
        save_status(course, lab_id, status)
        log(course, lab_id, f"{time.strftime('%Y-%m-%d %H:%M:%S')} {outcome.line()}")
        if not outcome.graded and output:
            log(course, lab_id, output)
        echo(outcome.line())
        outcomes.append(outcome)
    graded = [o for o in outcomes if o.graded]
    echo(f"{lab_id}: {len(graded)} graded, {len(outcomes) - len(graded)} not graded "
         f"(log: {course.root / LOG_DIR / f'{lab_id}-autograde.log'})")
    return outcomes
