"""`course autograde`: nbgrader autograde each submission in its own process, within limits, in parallel.

A submission whose grading hit a time limit or lost its kernel is marked "needs regrading" with the
reason, never scored zero; `--retry-failed` grades exactly those again. A run that is stopped
part-way resumes: submissions already graded (and unchanged since) are not graded again.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

import nbformat

from autograder import build, notebooks, sandbox
from labkit import config

SUBMITTED, AUTOGRADED, STATUS_DIR, LOG_DIR = "submitted", "autograded", "grading", "logs"
KERNEL_THREADS = 1  # torch threads per grading kernel: more thrash when kernels share a busy CPU
TRUNCATED = "\n[... output cut by the grader: {size} KiB printed, the first {limit} KiB kept]\n"


@dataclass
class Outcome:
    """What grading one submission gave: a score, or the reason it could not be graded."""

    student: str
    graded: bool
    score: float | None
    max_score: float
    seconds: float
    problems: list[str] = field(default_factory=list)
    needs_regrading: bool = False   # a time limit or a dead kernel: grade again (--retry-failed)
    submission_hash: str = ""       # sha256 of the graded notebook file
    messages: dict[str, str] = field(default_factory=dict)  # failed test -> its message from the clean re-run
    zeroed: list[str] = field(default_factory=list)          # tests passed only with the checks patched

    @property
    def state(self) -> str:
        return "NEEDS REGRADING" if self.needs_regrading else "graded" if self.graded else "NOT GRADED"

    def line(self) -> str:
        score = f"{self.score:g}/{self.max_score:g}" if self.graded else self.state
        problems = self.problems[0] if self.problems else ""
        if len(self.problems) > 1:
            problems += f" (+{len(self.problems) - 1} more: see the log)"
        return f"{self.student:<28} {score:>15} {self.seconds:6.1f} s" + (f"  {problems}" if problems else "")


def students(course: config.Course, lab_id: str) -> list[str]:
    """Students with a submission folder submitted/<student>/<lab>/."""
    return sorted(p.parent.name for p in (course.root / SUBMITTED).glob(f"*/{lab_id}") if p.is_dir())


def notebook_path(course: config.Course, folder: str, lab_id: str, student: str) -> Path:
    return course.root / folder / student / lab_id / f"{lab_id}.ipynb"


def max_score(course: config.Course, lab_id: str) -> float:
    return course.lab(lab_id).points


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def limits(course: config.Course, lab_id: str) -> sandbox.Limits:
    return sandbox.Limits(**course.limits(lab_id))


# ---------------------------------------------------------------------------------------------
# One submission


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


def cell_problems(path: Path) -> tuple[list[str], list[str]]:
    """(problems, limit hits) of the autograded notebook at `path`.

    Problems: 'cell <id> raised <Error>: <message>' for every non-test cell that raised.
    Limit hits: 'cell <id> hit the cell time limit' for every cell (tests included) that timed out.
    """
    try:
        notebook = notebooks.read(path)
    except notebooks.NotebookError as error:
        return [str(error)], []
    problems, hits = [], []
    for index, cell in enumerate(notebook.cells):
        meta = notebooks.nbgrader_meta(cell)
        name = meta.get("grade_id") or f"#{index}"
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") != "error":
                continue
            if output.get("ename") == "CellTimeoutError":
                hits.append(f"cell {name} hit the cell time limit")
            elif not meta.get("grade"):
                problems.append(f"cell {name} raised {output['ename']}: {output['evalue'][:120]}")
    return problems, hits


def output_size(output) -> int:
    """Bytes of text an output holds (stream text, or its data's text forms)."""
    if output.get("output_type") == "stream":
        return len(output.get("text", "").encode())
    return sum(len("".join(value).encode()) for value in output.get("data", {}).values() if isinstance(value, (str, list)))


def cut_outputs(path: Path, limit_kib: int) -> list[str]:
    """Cut every cell's output in the notebook at `path` to `limit_kib` KiB; one line per cell that was cut."""
    try:
        notebook = notebooks.read(path)
    except notebooks.NotebookError:
        return []
    limit, cut = limit_kib * 1024, []
    for index, cell in enumerate(notebook.cells):
        outputs = cell.get("outputs", []) if cell.cell_type == "code" else []
        size = sum(output_size(o) for o in outputs)
        if size <= limit:
            continue
        kept, budget = [], limit
        for output in outputs:
            if output.get("output_type") == "error" or output_size(output) <= budget:
                kept.append(output)
                budget -= output_size(output) if output.get("output_type") != "error" else 0
            elif output.get("output_type") == "stream" and budget > 0:
                output["text"] = output["text"].encode()[:budget].decode(errors="ignore")
                kept.append(output)
                budget = 0
        note = TRUNCATED.format(size=size // 1024, limit=limit_kib)
        kept.append(nbformat.v4.new_output("stream", name="stderr", text=note))
        cell["outputs"] = kept
        cut.append(f"cell {notebooks.nbgrader_meta(cell).get('grade_id') or f'#{index}'} printed {size // 1024} KiB; "
                   f"the first {limit_kib} KiB were kept (output limit)")
    if cut:
        nbformat.write(notebook, path)
    return cut


def read_score(course: config.Course, lab_id: str, student: str) -> float:
    """The student's total for the lab from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(course.gradebook_url, course.course.id) as gradebook:
        return gradebook.find_submission(lab_id, student).score


def not_graded(student: str, course: config.Course, lab_id: str, started: float, reason: str,
               regrade: bool = False, digest: str = "", score: float | None = None) -> Outcome:
    return Outcome(student, False, score, max_score(course, lab_id), time.monotonic() - started, [reason],
                   needs_regrading=regrade, submission_hash=digest)


def died(output: str) -> bool:
    """True when nbgrader's output says the kernel died under it."""
    return any(sign in output for sign in ("DeadKernelError", "Kernel died", "kernel died"))


# What a grading kernel must not see: the course's private files (the kit's own solutions/ too).
HIDDEN = ("solutions", "submitted", "autograded", "feedback", "reports", "grading", "logs", "gradebook.db",
          "course.toml", "nbgrader_config.py")


def hidden_paths(course: config.Course) -> list[str]:
    """Absolute paths an isolated grading kernel finds empty: the course's private files and the kit's solutions."""
    paths = [course.root / name for name in HIDDEN] + [build.KIT_DIR / "solutions"]
    return sorted({str(path) for path in paths if path.exists()})


def kernel_command(lab_id: str, student: str, lab_limits: sandbox.Limits, kernel_dir: str | None) -> list[str]:
    """nbgrader autograde for one student with the sandbox kernel; when isolated (`kernel_dir` given) it talks to
    the kernel over IPC sockets in `kernel_dir`, the one folder both sides of the sandbox see."""
    command = [sys.executable, "-m", "nbgrader", "autograde", lab_id, "--student", student, "--force",
               f"--Execute.timeout={lab_limits.cell_timeout}", f"--Execute.kernel_name={sandbox.KERNEL_NAME}"]
    return command + ([f"--KernelManager.transport=ipc", f"--KernelManager.ip={kernel_dir}/ipc"] if kernel_dir else [])


def autograde_one(course: config.Course, lab_id: str, student: str, isolated: bool = False,
                  as_user: bool = False) -> tuple[Outcome, str]:
    """Grade one submission with nbgrader under the lab's limits while a clean process re-runs its tests
    with the kit's checks restored (autograder/verify.py); returns the outcome and nbgrader's output."""
    started = time.monotonic()
    path = notebook_path(course, SUBMITTED, lab_id, student)
    kept = f"the submission is kept at {path.relative_to(course.root)}"
    if not path.is_file():
        return not_graded(student, course, lab_id, started,
                          f"no {path.name} in {path.parent.relative_to(course.root)}; ask for the notebook"), ""
    digest = file_hash(path)
    try:
        notebooks.read(path)
    except notebooks.NotebookError as error:
        return not_graded(student, course, lab_id, started,
                          f"{error}; {kept}; ask the student to submit it again", digest=digest), ""
    lab_limits = limits(course, lab_id)
    hide = hidden_paths(course) if isolated else None
    graded = notebook_path(course, AUTOGRADED, lab_id, student)
    verdicts: dict[str, str | None] | str = {}
    with sandbox.Session(f"{lab_id}-{student}", lab_limits, hide, KERNEL_THREADS, as_user) as box, \
            tempfile.TemporaryFile("w+", encoding="utf-8") as restored, tempfile.TemporaryFile("w+") as errors:
        restored.write(nbformat.writes(sanitized(course, lab_id, path)))
        restored.seek(0)
        verifier = start([*box.prefix(), sys.executable, "-m", "autograder.verify", lab_id,
                          str(lab_limits.cell_timeout)], path.parent, build.tool_env(**box.env), restored, errors)
        code, output = run_limited(kernel_command(lab_id, student, lab_limits, box.folder if isolated else None),
                                   course.root, lab_limits.notebook_timeout, build.tool_env(**box.env))
        if code == 0 and not died(output):
            problems, hits = cell_problems(graded)
        if code == 0 and not died(output) and not hits:  # a cell cut short needs regrading anyway
            verdicts, printed = verified(verifier, lab_limits.notebook_timeout - (time.monotonic() - started), errors)
            output += printed
        else:
            finish(verifier, 0)
    if code is None:
        return not_graded(student, course, lab_id, started,
                          f"grading took longer than {lab_limits.notebook_timeout} s (notebook_timeout) and was "
                          f"stopped; {kept}", regrade=True, digest=digest), output
    if code != 0 or died(output):
        reason = (f"the kernel died (the notebook exited with os._exit, crashed, or hit the CPU-time limit of "
                  f"{lab_limits.cpu_time} s)" if died(output) else
                  f"nbgrader autograde failed (it exited with code {code}; see the log)")
        return not_graded(student, course, lab_id, started, f"{reason}; {kept}", regrade=True, digest=digest), output
    problems += cut_outputs(graded, lab_limits.output)
    if box.refused:
        problems.append(f"the notebook tried to run more than {lab_limits.processes} processes at once "
                        f"(process limit; {box.refused} refused)")
    if isinstance(verdicts, str):
        return not_graded(student, course, lab_id, started, f"{verdicts}; {kept}", regrade=True, digest=digest), output
    zeroed = sorted(t for t in passed_tests(graded) if verdicts.get(t) is not None)
    if zeroed:
        zero_grades(course, lab_id, student, zeroed)
    problems += [f"test {t} passed in the notebook but fails with the kit's checks restored ({verdicts[t][:120]}): "
                 f"the notebook changes the grader's checks; scored 0" for t in zeroed]
    score = read_score(course, lab_id, student)
    if hits:
        hits = [f"{hit} ({lab_limits.cell_timeout} s)" for hit in hits]
        return not_graded(student, course, lab_id, started, "; ".join(hits) + f"; scored {score:g} with those "
                          f"cells cut short", regrade=True, digest=digest, score=score), output
    return Outcome(student, True, score, max_score(course, lab_id), time.monotonic() - started, problems,
                   submission_hash=digest, messages={t: m for t, m in verdicts.items() if m is not None},
                   zeroed=zeroed), output


def sanitized(course: config.Course, lab_id: str, path: Path) -> nbformat.NotebookNode:
    """The submitted notebook at `path` as nbgrader autograde runs it: outputs cleared, duplicate cells
    dropped, test and locked cells restored from the gradebook (nbgrader's own preprocessors)."""
    from nbgrader.preprocessors import ClearOutput, DeduplicateIds, OverwriteCells

    notebook = notebooks.read(path)
    url = course.gradebook_url + ("?timeout=60" if course.gradebook_url.startswith("sqlite:") else "")
    resources = {"nbgrader": {"notebook": lab_id, "assignment": lab_id, "db_url": url}}
    for step in (ClearOutput(), DeduplicateIds(), OverwriteCells()):
        notebook, resources = step.preprocess(notebook, resources)
    return notebook


def passed_tests(path: Path) -> set[str]:
    """The graded test cells of the autograded notebook at `path` that ran without an error."""
    passed = set()
    for cell in notebooks.read(path).cells:
        meta = notebooks.nbgrader_meta(cell)
        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
            if not any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                passed.add(meta["grade_id"])
    return passed


def verified(verifier: Job, timeout: float, errors) -> tuple[dict[str, str | None] | str, str]:
    """The clean re-run's verdicts (grade_id -> None when passed, else the student-facing message), or the
    reason it gave none; and what it printed to stderr (for the log: student code prints there too)."""
    code, output = finish(verifier, max(timeout, 1))
    try:
        verdicts = json.loads(output) if code == 0 else None
    except json.JSONDecodeError:
        verdicts = None
    if isinstance(verdicts, dict):
        return verdicts, ""
    errors.seek(0)
    why = "it ran past the notebook time limit" if code is None else f"it exited with code {code}"
    return f"the hidden tests could not be re-run in a clean process ({why}; see the log)", errors.read()[-4000:]


def zero_grades(course: config.Course, lab_id: str, student: str, grade_ids: list[str]) -> None:
    """Set the manual score of these tests to 0 in the gradebook (nbgrader's override of the auto score)."""
    from nbgrader.api import Gradebook

    with Gradebook(course.gradebook_url, course.course.id) as gradebook:
        for grade_id in grade_ids:
            gradebook.find_grade(grade_id, lab_id, lab_id, student).manual_score = 0
        gradebook.db.commit()


# ---------------------------------------------------------------------------------------------
# The status file and the log


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


# ---------------------------------------------------------------------------------------------
# The class


def to_grade(course: config.Course, lab_id: str, status: dict[str, Outcome], only: list[str] | None,
             retry_failed: bool, force: bool) -> tuple[list[str], list[str]]:
    """(students to grade, students skipped because their unchanged submission already has an outcome)."""
    if only:
        return list(only), []
    names = students(course, lab_id)
    if retry_failed:
        return [name for name in names if name in status and status[name].needs_regrading], []
    if force:
        return names, []
    done = [name for name in names if name in status
            and status[name].submission_hash == file_hash(notebook_path(course, SUBMITTED, lab_id, name))]
    return [name for name in names if name not in done], done


def autograde(course: config.Course, lab_id: str, only: list[str] | None = None, echo=print, workers: int = 1,
              retry_failed: bool = False, force: bool = False) -> list[Outcome]:
    """Grade the submissions of `lab_id` (`workers` at a time), one line each as they finish.

    By default, submissions already graded and unchanged since are skipped (a stopped run resumes);
    `retry_failed` grades only those marked "needs regrading", `force` every one, `only` those named.
    """
    course.lab(lab_id)
    if workers < 1:
        raise build.BuildError(f"--workers must be at least 1, got {workers}")
    if course.gradebook_missing:
        raise build.BuildError(f"{course.gradebook_missing}: run `course build` in {course.root} first")
    status = load_status(course, lab_id)
    names, done = to_grade(course, lab_id, status, only, retry_failed, force)
    if done:
        waiting = sum(status[name].needs_regrading for name in done)
        echo(f"{lab_id}: {len(done)} submission(s) already graded and unchanged, skipped (--force grades them again"
             + (f"; {waiting} need regrading: --retry-failed" if waiting else "") + ")")
    if not names:
        echo(f"{lab_id}: nothing to grade" + ("" if done or retry_failed else
                                             f" (no submissions in {course.root / SUBMITTED}/<student>/{lab_id}/)"))
        return []
    lab_limits = limits(course, lab_id)
    echo(f"{lab_id}: grading {len(names)} submission(s) with {workers} worker(s); limits per submission: cell "
         f"{lab_limits.cell_timeout} s, notebook {lab_limits.notebook_timeout} s, CPU {lab_limits.cpu_time} s, "
         f"memory {lab_limits.memory} MiB, {lab_limits.processes} processes, output {lab_limits.output} KiB per cell")
    isolated, why_not = sandbox.isolation_available()
    as_user, why_root = sandbox.user_available() if isolated else (False, "")
    for line in sandbox.protections(sandbox.cgroups_available(), isolated, why_not, as_user, why_root):
        log(course, lab_id, f"protection: {line}")
    if not isolated:
        echo(f"{lab_id}: WARNING: grading kernels are not isolated here ({why_not}): student code can reach the "
             f"course files; grade untrusted submissions in a container that holds nothing else")
    elif not as_user:
        echo(f"{lab_id}: WARNING: grading kernels run as root without capabilities, not as an unprivileged user "
             f"({why_root}): they can read root's files that are not hidden")
    outcomes, lock = [], threading.Lock()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(autograde_one, course, lab_id, student, isolated, as_user): student for student in names}
        for future in as_completed(futures):
            outcome, output = future.result()
            with lock:
                status[outcome.student] = outcome
                save_status(course, lab_id, status)
                log(course, lab_id, f"{time.strftime('%Y-%m-%d %H:%M:%S')} {outcome.line()}")
                if not outcome.graded and output:
                    log(course, lab_id, output)
            echo(outcome.line())
            outcomes.append(outcome)
    outcomes.sort(key=lambda o: names.index(o.student))
    graded = sum(o.graded for o in outcomes)
    regrade = sum(o.needs_regrading for o in outcomes)
    echo(f"{lab_id}: {graded} graded, {len(outcomes) - graded - regrade} not graded, {regrade} need regrading"
         + (f" (`course autograde {lab_id} --retry-failed`)" if regrade else "")
         + f" (log: {course.root / LOG_DIR / f'{lab_id}-autograde.log'})")
    return outcomes
