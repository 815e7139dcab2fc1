"""Grading one submission: nbgrader autograde in the sandbox, beside a clean re-run of its hidden tests.

A submission is first repaired against the released notebook (autograder/grading/repair.py). One whose
grading hit a time limit, or whose kernel died of something other than its own doing, is marked "needs
regrading" with the reason, never scored zero; a kernel the submission killed (its memory, os._exit, a
crash, the CPU-time limit) is named, and the tests before the death keep their scores. A test that passed in the student's kernel but fails in the clean re-run
(autograder/sandbox/verify.py) was passed by tampering with the checks and scores 0.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import nbformat

from autograder.core import claims, kernel_env, layout, modules, notebooks, process
from autograder.grading import deaths, gradebook, jobs, outputs
from autograder.grading.outcome import Outcome, load_status
from autograder.grading.repair import Repaired, repair
from autograder.sandbox.limits import Limits
from autograder.sandbox import verdicts
from autograder.sandbox.provenance import BORROWED
from autograder.sandbox import leftovers, zygote
from autograder.sandbox.session import KERNEL_NAME, Session, client_command
from labkit import config

KERNEL_THREADS = 1  # torch threads per grading kernel: more thrash when kernels share a busy CPU
# What the zygotes import once per grading run: what every kernel and clean re-run imports (the students' package,
# not the kit's checks; the debugger every IPython kernel imports when it starts), and what every nbgrader run
# imports. Not ipykernel.kernelapp: it reads the environment the kernel is started with (JPY_PARENT_PID) when it
# is imported.
KERNEL_PRELOAD = ["numpy", "torch", "torchvision", "PIL.Image", "nbformat", "ipykernel.ipkernel", "ipykernel.debugger",
                  "psutil", "labkit.setup", "labkit.checks", "labkit.fixtures"]
GRADER_PRELOAD = ["nbgrader.apps", "nbgrader.preprocessors", "nbclient", "jupyter_client.manager", "IPython",
                  "sqlalchemy"]
# What a grading kernel must not see: the course's private files (the kit's own solutions/ too).
HIDDEN = (layout.SOURCE_DIR, layout.SUBMITTED, layout.AUTOGRADED, layout.FEEDBACK, layout.REPORTS,
          layout.STATUS_DIR, layout.LOG_DIR, "gradebook.db", config.CONFIG_NAME, layout.CONFIG_FILE)


def limits(course: config.Course, lab_id: str) -> Limits:
    return Limits(**course.limits(lab_id))


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def hidden_paths(course: config.Course) -> list[str]:
    """Absolute paths an isolated grading kernel finds empty: the course's private files and the kit's solutions."""
    paths = [course.root / name for name in HIDDEN] + [layout.KIT_DIR / layout.SOURCE_DIR]
    return sorted({str(path) for path in paths if path.exists()})


@dataclass(frozen=True)
class Zygotes:
    """The sockets of a grading run's two zygotes: one forks kernels and clean re-runs, the other nbgrader runs."""

    kernels: str
    graders: str


@contextlib.contextmanager
def zygotes() -> Iterator[Zygotes]:
    """Start the two zygotes for a grading run (a few seconds, once), after removing what grading runs killed
    outright left on this machine; stopped afterwards."""
    leftovers.sweep()
    env = process.tool_env(PYDEVD_DISABLE_FILE_VALIDATION="1", **{name: str(KERNEL_THREADS) for name in
                              ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    with zygote.running(KERNEL_PRELOAD, env) as kernels, zygote.running(GRADER_PRELOAD, env) as graders:
        yield Zygotes(kernels, graders)


def autograde_args(lab_id: str, student: str, lab_limits: Limits, kernel_dir: str | None,
                   submitted_dir: str = layout.SUBMITTED) -> list[str]:
    """`nbgrader ARGS`: autograde one student (read from `submitted_dir`, relative to the course) with the sandbox
    kernel; when isolated (`kernel_dir` given) it talks to the kernel over IPC sockets in `kernel_dir`, the one
    folder both sides of the sandbox see."""
    args = ["autograde", lab_id, "--student", student, "--force", f"--CourseDirectory.submitted_directory={submitted_dir}",
            f"--Execute.timeout={lab_limits.cell_timeout}", f"--Execute.kernel_name={KERNEL_NAME}"]
    return args + (["--KernelManager.transport=ipc", f"--KernelManager.ip={kernel_dir}/ipc"] if kernel_dir else [])


def run_prefix() -> str:
    """How the run folders this machine makes in grading/ begin: the sweep takes only its own machine's, whose
    locks it is sure to see (on a shared folder mounted without network locks, other machines' are not seen)."""
    return f"run@{socket.gethostname()}@"


@contextlib.contextmanager
def run_folder(course: config.Course, lab_id: str, student: str, repaired: Repaired):
    """(a private folder for this grading run, the folder nbgrader reads the submission from, relative to the
    course). The private folder is under grading/, which grading kernels cannot see, and is removed afterwards;
    it receives the record of a kernel death and, when the notebook was repaired, a copy of the student's
    submission folder holding the repaired notebook. The submission itself is never changed."""
    status = course.root / layout.STATUS_DIR
    status.mkdir(exist_ok=True)
    claims.sweep(status.glob(f"{run_prefix()}*"), functools.partial(shutil.rmtree, ignore_errors=True))
    with tempfile.TemporaryDirectory(prefix=f"{run_prefix()}{student}-", dir=status) as folder, \
            claims.claimed(folder):  # a later grading run removes it if this one is killed outright
        if not repaired.repairs:
            yield Path(folder), layout.SUBMITTED
            return
        copy = Path(folder) / "submitted" / student / lab_id
        shutil.copytree(layout.notebook_path(course, layout.SUBMITTED, lab_id, student).parent, copy)
        nbformat.write(repaired.notebook, copy / f"{lab_id}.ipynb")
        yield Path(folder), str(copy.parents[1].relative_to(course.root))


def sanitized(course: config.Course, lab_id: str, path: Path) -> nbformat.NotebookNode:
    """The submitted notebook at `path` as nbgrader autograde runs it: outputs cleared, duplicate cells
    dropped, test and locked cells restored from the gradebook (nbgrader's own preprocessors)."""
    from nbgrader.preprocessors import ClearOutput, DeduplicateIds, OverwriteCells

    notebook = notebooks.read(path)
    resources = {"nbgrader": {"notebook": lab_id, "assignment": lab_id, "db_url": gradebook.db_url(course)}}
    for step in (ClearOutput(), DeduplicateIds(), OverwriteCells()):
        notebook, resources = step.preprocess(notebook, resources)
    return notebook


def died(output: str) -> bool:
    """True when nbgrader's output says the kernel died under it."""
    return any(sign in output for sign in ("DeadKernelError", "Kernel died", "kernel died"))


@dataclass
class Run:
    """What nbgrader and the clean re-run gave for one submission."""

    code: int | None                    # nbgrader's exit code; None: stopped at the notebook limit
    output: str                         # nbgrader's output (and the re-run's stderr when it failed)
    verdicts: dict[str, str | None]     # the re-run's verdicts (those it gave before it stopped, if it did)
    values: dict[str, float]            # the numbers its passed tests ended with (partial scores)
    notes: dict[str, str]               # what the kit's checks said of those scores (for the feedback)
    unverified: str | None              # why the re-run did not finish, or None
    refused: int | None                 # processes the cgroup refused
    death: dict | None = None           # where and how the kernel died (execute.WatchedExecute's record)


def verified(verifier: jobs.Job, timeout: float, errors) -> tuple[str, str | None, str]:
    """What the clean re-run printed (its verdicts and values, those it gave before it stopped when it did not
    finish); why it did not (None: it did); and what it printed to stderr when it did not (for the log: student
    code prints there too)."""
    code, output = jobs.finish(verifier, max(timeout, 1))
    if code == 0:
        return output or "", None, ""
    errors.seek(0)
    why = "it ran past the notebook time limit" if code is None else f"it exited with code {code}"
    return output or "", f"the hidden tests could not be re-run in a clean process ({why}; see the log)", \
        errors.read()[-4000:]


def grading_env(course: config.Course, lab_id: str) -> dict[str, str]:
    """What the grading kernel and the clean re-run are told of course.toml (hidden from them): the data root, where
    tests read the grader's data sets, and the accuracy thresholds of a lab graded on a saved model."""
    lab = course.lab(lab_id)
    env = {kernel_env.DATA_ENV: str(course.data_root.resolve())}
    if lab.accuracy_zero is not None:
        env[kernel_env.ACCURACY_ENV] = f"{lab.accuracy_zero:g},{lab.accuracy_full:g}"
    return env


def run_in_sandbox(course: config.Course, lab_id: str, student: str, isolated: bool, as_user: bool,
                   deadline: float, repaired: Repaired, forks: Zygotes) -> Run:
    """nbgrader autograde of the (repaired) submission under the lab's limits, and the clean re-run beside it;
    the re-run's verdicts are read only when nbgrader finished and no cell hit the time limit."""
    lab_limits = limits(course, lab_id)
    graded = layout.notebook_path(course, layout.AUTOGRADED, lab_id, student)
    hide = hidden_paths(course) if isolated else None
    with Session(f"{lab_id}-{student}", lab_limits, hide, KERNEL_THREADS, forks.kernels, as_user,
                 show=[str(course.data_root.resolve())]) as box, \
            run_folder(course, lab_id, student, repaired) as (folder, submitted_dir), \
            tempfile.TemporaryFile("w+", encoding="utf-8") as restored, tempfile.TemporaryFile("w+") as errors:
        path = layout.notebook_path(course, submitted_dir, lab_id, student)
        restored.write(nbformat.writes(sanitized(course, lab_id, path)))
        restored.seek(0)
        env = process.tool_env(**box.env, **grading_env(course, lab_id))
        verifier = jobs.start(box.command(modules.VERIFY, lab_id, str(lab_limits.cell_timeout)), path.parent, env,
                              restored, errors)
        nbgrader = client_command(forks.graders, None, "nbgrader", *autograde_args(
            lab_id, student, lab_limits, box.folder if isolated else None, submitted_dir))
        code, output = jobs.run_limited(nbgrader, course.root, lab_limits.notebook_timeout,
                                        {**env, kernel_env.DEATH_RECORD: str(folder / "death.json")})
        death = deaths.read_record(folder / "death.json")
        lines, unverified = "", "the hidden tests were not re-run"
        if code == 0 and (death or not died(output)) and not outputs.cell_problems(graded)[1]:
            lines, unverified, printed = verified(verifier, deadline - time.monotonic(), errors)
            output += printed
        else:
            jobs.finish(verifier, 0)
    return Run(code, output, verdicts.read_verdicts(lines), verdicts.read_values(lines), verdicts.read_notes(lines),
               unverified, box.refused, death)


def tampered(run: Run, passed: list[str], scored: dict[str, float]) -> dict[str, str]:
    """grade_id -> why, for each test that passed in the notebook but fails in the clean re-run, and each that
    scored other partial points there (`scored`: the numbers the notebook's test cells ended with)."""
    found = {t: run.verdicts[t] for t in passed if run.verdicts.get(t) is not None}
    for test, value in scored.items():
        clean = run.values.get(test)
        if test in passed and test not in found and (clean is None or abs(clean - value) > 0.011):
            found[test] = (f"it scored {value:g} in the notebook and {'none' if clean is None else f'{clean:g}'} "
                           f"with the kit's checks restored")
    return found


def problem_of_zeroed(test: str, verdict: str) -> str:
    """The line the log and the report give a test that passed in the notebook and scored 0."""
    if verdict.startswith(BORROWED):
        return f"test {test} passed with code the notebook did not write ({verdict[len(BORROWED):][:160]}); scored 0"
    if verdict == verdicts.FORGED:
        return (f"test {test} passed in the notebook, and the notebook wrote its own verdict into the clean re-run's "
                f"output; scored 0")
    return (f"test {test} passed in the notebook but fails with the kit's checks restored ({verdict[:120]}): "
            f"the notebook changes the grader's checks; scored 0")


class Grader:
    """Turns one submission's run into its outcome."""

    def __init__(self, course: config.Course, lab_id: str, student: str):
        self.course, self.lab_id, self.student = course, lab_id, student
        self.started = time.monotonic()
        self.path = layout.notebook_path(course, layout.SUBMITTED, lab_id, student)
        self.limits = limits(course, lab_id)
        self.digest = ""
        self.repairs: list[str] = []  # what was repaired before grading, for the log, report and feedback
        earlier = load_status(course, lab_id).get(student)
        self.zeroed_before = earlier.zeroed if earlier else []  # tests the kit zeroed in an earlier grading
        self.graded_before = earlier.submission_hash if earlier and earlier.graded else ""

    @property
    def kept(self) -> str:
        return f"the submission is kept at {self.path.relative_to(self.course.root)}"

    def not_graded(self, reason: str, regrade: bool = False, score: float | None = None) -> Outcome:
        return Outcome(self.student, False, score, self.course.lab(self.lab_id).points,
                       time.monotonic() - self.started, [reason, *self.repaired_lines()], needs_regrading=regrade,
                       submission_hash=self.digest, repairs=self.repairs,
                       zeroed=list(self.zeroed_before))  # the kit's 0 overrides stay in the gradebook: keep their record

    def repaired_lines(self) -> list[str]:
        return [f"repaired before grading: {line}" for line in self.repairs]

    def repaired(self) -> Repaired:
        """The submission (read by `unreadable`) repaired against the released notebook (as it is when it needs
        no repair)."""
        release = layout.release_notebook(self.course, self.lab_id)
        repaired = repair(notebooks.read(release), self.notebook) if release.is_file() else Repaired(self.notebook)
        self.repairs = repaired.repairs
        return repaired

    def unplaced(self, repaired: Repaired) -> Outcome | None:
        """The outcome of a submission whose answer cells cannot be found; None when every one was."""
        if not repaired.unplaced:
            return None
        return self.not_graded(f"answer cell(s) {', '.join(repaired.unplaced)} could not be found in the notebook "
                               f"(deleted, or neither its metadata, its cell id nor its place identifies it); "
                               f"{self.kept}; put the answer back in its cell and grade it again", regrade=True)

    def unreadable(self) -> Outcome | None:
        """The outcome of a submission that is missing or not a notebook; None when it can be graded."""
        if not self.path.is_file():
            return self.not_graded(f"no {self.path.name} in {self.path.parent.relative_to(self.course.root)}; "
                                   f"ask for the notebook")
        self.digest = file_hash(self.path)
        try:
            self.notebook = notebooks.read(self.path)
        except notebooks.NotebookError as error:
            return self.not_graded(f"{error}; {self.kept}; ask the student to submit it again")
        return None

    def failed_run(self, run: Run) -> Outcome | None:
        """The outcome when nbgrader did not finish: a time limit, a dead kernel or an error of its own."""
        if run.code is None:
            return self.not_graded(f"grading took longer than {self.limits.notebook_timeout} s (notebook_timeout) "
                                   f"and was stopped; {self.kept}", regrade=True)
        if run.death:
            death = deaths.diagnose(run.death, run.output, self.limits, run.refused)
            if not death.by_submission:
                return self.not_graded(f"{death.line()}; {self.kept}", regrade=True)
        elif died(run.output):
            return self.not_graded(f"the kernel died before the notebook ran (see the log); {self.kept}", regrade=True)
        if run.code != 0:
            return self.not_graded(f"nbgrader autograde failed (it exited with code {run.code}; see the log); "
                                   f"{self.kept}", regrade=True)
        return None

    def outcome(self, run: Run) -> Outcome:
        """The score of a finished run, tests passed only by tampering zeroed, with every problem named."""
        failed = self.failed_run(run)
        if failed:
            return failed
        graded = layout.notebook_path(self.course, layout.AUTOGRADED, self.lab_id, self.student)
        problems, hits = outputs.cell_problems(graded)
        death, not_run = self.death(run, graded)
        problems = self.repaired_lines() + death + problems + outputs.cut_outputs(graded, self.limits.output)
        if run.refused:
            problems.append(f"the notebook tried to run more than {self.limits.processes} processes at once "
                            f"(process limit; {run.refused} refused)")
        if hits:
            score = gradebook.read_score(self.course, self.lab_id, self.student)
            hits = [f"{hit} ({self.limits.cell_timeout} s)" for hit in hits]
            return self.not_graded("; ".join(hits) + f"; scored {score:g} with those cells cut short",
                                   regrade=True, score=score)
        passed = outputs.passed_tests(graded)
        unverified = sorted(t for t in passed if t not in run.verdicts)
        if run.unverified and (not run.death or unverified):
            return self.not_graded(f"{run.unverified}; {self.kept}", regrade=True)
        if unverified:  # the re-run ended early without an error: the notebook may have ended it
            return self.not_graded(f"the clean re-run of the hidden tests ended before it gave a verdict for "
                                   f"{', '.join(unverified)} (see the log); {self.kept}", regrade=True)
        unavailable = [f"test {t}: {v[len(verdicts.UNAVAILABLE):]}" for t, v in run.verdicts.items()
                       if v and v.startswith(verdicts.UNAVAILABLE)]
        if unavailable:
            return self.not_graded(f"{verdicts.UNAVAILABLE}{'; '.join(unavailable)}; {self.kept}", regrade=True)
        tampering = tampered(run, passed, outputs.test_values(graded))
        zeroed = sorted(tampering)
        if zeroed or self.zeroed_before:
            gradebook.zero_grades(self.course, self.lab_id, self.student, zeroed, self.zeroed_before)
        problems += [problem_of_zeroed(t, tampering[t]) for t in zeroed]
        if self.digest == self.graded_before:
            gradebook.keep_manual_scores(self.course, self.lab_id, self.student)
        return Outcome(self.student, True, gradebook.read_score(self.course, self.lab_id, self.student),
                       self.course.lab(self.lab_id).points, time.monotonic() - self.started, problems,
                       submission_hash=self.digest, repairs=self.repairs,
                       messages={**run.notes, **{t: m for t, m in run.verdicts.items() if m is not None},
                                 **{t: tampering[t] for t in zeroed}, **not_run},
                       zeroed=zeroed, manual_pending=gradebook.pending_manual(self.course, self.lab_id, self.student))

    def death(self, run: Run, graded: Path) -> tuple[list[str], dict[str, str]]:
        """(the problem line of a kernel the submission killed, the message of each test that did not run)."""
        if not run.death:
            return [], {}
        death = deaths.diagnose(run.death, run.output, self.limits, run.refused)
        skipped = outputs.not_run_tests(graded)
        rest = f"the {len(skipped)} test(s) from there on score 0" if skipped else "no test came after it"
        return ([f"{death.line()}; the tests before it are scored, {rest}"],
                {test: f"Not run: {death.line()}." for test in skipped})


def grade_one(course: config.Course, lab_id: str, student: str, isolated: bool = False,
              as_user: bool = False, forks: Zygotes | None = None) -> tuple[Outcome, str]:
    """Grade one submission (with the grading run's zygotes `forks`; its own when not given); returns its outcome
    and nbgrader's output (for the log)."""
    grader = Grader(course, lab_id, student)
    unreadable = grader.unreadable()
    if unreadable:
        return unreadable, ""
    repaired = grader.repaired()
    unplaced = grader.unplaced(repaired)
    if unplaced:
        return unplaced, ""
    with contextlib.nullcontext(forks) if forks else zygotes() as forks:
        run = run_in_sandbox(course, lab_id, student, isolated, as_user,
                             grader.started + grader.limits.notebook_timeout, repaired, forks)
    return grader.outcome(run), run.output
