"""Grading against hostile submissions: each payload is stopped or contained, the class goes on,
correct students keep full marks, and `--retry-failed` / a second run grade exactly what is left.

Every payload is bounded (6 GiB at most, 200 sleeping processes at most, 3 MB of output), so the
machine is safe even where a protection is missing.
"""

import functools
import html
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

import editors
import leftovers
from autograder import demo
from autograder import mistakes
from autograder.authoring import build
from autograder.core import claims
from autograder.core import layout
from autograder.core import notebooks
from autograder.core import process
from autograder.feedback import leaks
from autograder.feedback import notes
from autograder.grading import autograde
from autograder.grading import gradebook
from autograder.grading import outcome
from autograder.grading import submission
from autograder.reports import gradescope, records
from autograder.sandbox import isolation
from autograder.sandbox import session
from autograder.sandbox.limits import cgroups_available
from labkit import config

pytestmark = pytest.mark.slow  # runs nbgrader, notebooks or training: not in the fast layer

LAB = "lab4"
CELL_LIMIT, MEMORY_MIB = 20, 3072
PAYLOADS = {  # student -> (solution cell, code put before the reference solution)
    "sys_exit": ("dataset_answer", "import sys; sys.exit(1)"),
    "os_exit": ("metrics_answer", "import os; os._exit(0)"),
    # Keeps nearly all its memory, then torch's OpenMP cannot get memory for its threads' stacks: the kernel dies.
    "memory_hog": ("metrics_answer", "x = torch.ones(4_000_000)\ntorch.set_num_threads(4)\nhog = []\ntry:\n"
                                     "    while True:\n        hog.append(bytearray(1 << 20))\nexcept MemoryError:\n"
                                     "    pass\nx.add_(1)"),
    "endless_loop": ("metrics_answer", "while True:\n    pass"),
    "huge_allocation": ("dataset_answer", "hog = bytearray(6 << 30)"),
    "many_processes": ("dataset_answer", "import subprocess\nkids = [subprocess.Popen(['sleep', '61']) for _ in range(200)]"),
    # Prints 3 MB and leaves a child that escapes into its own session.
    "big_output": ("metrics_answer", "print('x' * 3_000_000)\nimport subprocess\n"
                                     "subprocess.Popen(['sleep', '62'], start_new_session=True)"),
    # Dies only in the clean re-run (a plain IPython shell there, a kernel under nbgrader).
    "exits_in_the_rerun": ("metrics_answer", "if type(get_ipython()).__name__ == 'InteractiveShell':\n"
                                             "    import sys; print('not graded!', file=sys.stderr); import os; os._exit(3)"),
}
CORRECT = ("correct",)  # the damaged notebooks below are correct too
METRICS_POINTS = 20  # the tests after metrics_answer, which a kernel that dies there does not run
# A wrong confusion matrix (normalised by prediction) plus a patch that makes its test pass in the kernel.
TAMPERING = {
    "patches_the_check": "import autograder.checks.lab4 as _g\n_g.confusion_matrix_values = lambda confusion_matrix: None",
    "patches_numpy": "np.allclose = lambda *args, **kwargs: True",
    "rewrites_the_check_code": "import autograder.checks.lab4 as _g\n"
                               "_g.confusion_matrix_values.__code__ = (lambda confusion_matrix: None).__code__",
}
CONFUSION_POINTS = 8
# The same wrong matrix and patched check, and the clean re-run silenced: it ends without an error before its
# verdicts, or the next test's call of the notebook's balanced_accuracy writes a passing verdict for the test
# into the re-run's output.
QUIET_EXIT = "if type(get_ipython()).__name__ == 'InteractiveShell':  # the re-run's shell\n    import os; os._exit(0)"
FORGE = ("import os\n"
         "def _forge():\n"
         "    if type(get_ipython()).__name__ == 'InteractiveShell':\n"
         "        for fd in os.listdir('/proc/self/fd'):  # the re-run's output: a deleted temporary file\n"
         "            try:\n"
         "                if int(fd) > 2 and os.readlink(f'/proc/self/fd/{fd}').endswith('(deleted)'):\n"
         "                    os.write(int(fd), b'{\"confusion_matrix_values\": null}\\n')\n"
         "            except OSError:  # the listing's own descriptor, closed since\n"
         "                pass\n")
BALANCED = "def balanced_accuracy(labels, predictions, num_classes=5):\n"
# Or, called by the confusion matrix's own test in the re-run, it patches print so that the test's failing line
# is written as a pass.
REWRITE = ("import builtins, json\n"
           "_print = builtins.print\n"
           "def _passing(*args, **kwargs):\n"
           "    if args and '\"confusion_matrix_values\"' in str(args[0]):\n"
           "        args = (json.dumps({'confusion_matrix_values': None, '@value': None, '@note': None}),)\n"
           "    _print(*args, **kwargs)\n"
           "def _rewrite():\n"
           "    if type(get_ipython()).__name__ == 'InteractiveShell':\n"
           "        builtins.print = _passing\n")
CONFUSION = "def confusion_matrix(labels, predictions, num_classes=5):\n"
SILENCES_THE_RERUN = {"exits_quietly_in_the_rerun": lambda answer: f"{answer}\n{QUIET_EXIT}",
                      "forges_its_verdict": lambda answer: FORGE + answer.replace(BALANCED, BALANCED + "    _forge()\n"),
                      "rewrites_its_verdict": lambda answer: REWRITE + answer.replace(CONFUSION,
                                                                                      CONFUSION + "    _rewrite()\n")}
# Every answer cell of the skeleton replaced by one line that borrows the instructor's reference parts.
BORROWER, BORROW = "borrows_the_reference", f"from autograder.goldens.{LAB}_reference import *"
ISOLATED, WHY_NOT = isolation.isolation_available()
SHADOW = Path("/etc/shadow")  # readable by root alone on Debian


@functools.cache
def kernel_user() -> tuple[bool, str]:
    """(whether grading kernels run as the unprivileged user here, why not), probed once as a grading run does."""
    if not ISOLATED:
        return False, WHY_NOT
    with submission.zygotes() as forks:
        return session.user_available(forks.kernels)


KIT_CHECKS = Path(layout.KIT_DIR, "autograder", "checks", "lab4.py")
# Payloads that only an isolated kernel may meet: without isolation they would damage the course or the kit.
TRY = "try:\n    {action}\n    print('DONE {name}')\nexcept OSError as error:\n    print('BLOCKED {name}', error)\n"
ISOLATION_PAYLOADS = {
    "overwrites_gradebook": "open({gradebook!r}, 'r+b').write(b'garbage!' * 64)",
    "reads_source_notebook": "print(open({source!r}).read()[:2000])",
    "edits_the_kit": f"open({str(KIT_CHECKS)!r}, 'a').write('\\nresnet18_param_count = print\\n')",
    "uses_the_network": "__import__('socket').create_connection(('pypi.org', 443), timeout=5)",
}
# Only a kernel that runs as an unprivileged user is kept from files that root alone may read.
USER_PAYLOADS = {"reads_root_only_files": "print(len(open('/etc/shadow').read()))"}
REACHER = "reaches_out"  # one student tries every payload above, each in its own try block
DATASET_POINTS = 18  # a payload that stops the Dataset cell costs the Dataset's tests
# Prints the kit's checks and reference code into its own cell and, through an IPython hook, into every later
# cell's output, the hidden tests' included: none of it may reach the student's feedback or Gradescope results.
# Correct notebooks as editors and students damage them: each is repaired and keeps full marks, the repair named.
DAMAGED = {
    "editor_dropped_metadata": (lambda nb, skeleton: editors.new_cell_ids(editors.drop_cell_metadata(nb)),
                                ("lost or changed their nbgrader metadata",)),
    "deleted_tests_copied_an_answer": (
        lambda nb, skeleton: editors.copy_cell(editors.delete_cells(nb, lambda cell: not notebooks.is_graded_test(cell)),
                                               "metrics_answer", skeleton, above=True),
        ("deleted test cell(s) put back: dataset_length",
         "answer cell metrics_answer was there 2 times (copied); graded the edited copy")),
}
LOST_ANSWER = "lost_an_answer"  # metadata and ids gone and an answer deleted: not guessed, sent back
LEAKER = "prints_the_checks"
LEAK = ("import inspect, autograder.checks.lab4 as _g\n"
        "_private = inspect.getsource(_g) + inspect.getsource(_g.reference())\n"
        "print(_private)\n"
        "get_ipython().events.register('post_run_cell', lambda result: print(_private))")


def leftover_sleepers() -> str:
    return subprocess.run(["pgrep", "-af", "sleep 6[12]"], capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def course(kit, tmp_path_factory):
    """A course with lab 4 built, tight limits, and a class of hostile and correct submissions."""
    course = demo.make_course(kit, tmp_path_factory.mktemp("hostile") / "course")
    path = course.root / "course.toml"
    text = path.read_text().replace("cell_timeout = 120", f"cell_timeout = {CELL_LIMIT}")
    path.write_text(text.replace("memory = 4096", f"memory = {MEMORY_MIB}"))
    course = config.load(course.root)
    build.build(course, [LAB], goldens_dir=None)
    release = notebooks.read(course.root / "assignments" / LAB / f"{LAB}.ipynb")
    reference = mistakes.reference_solutions(notebooks.read(layout.source_notebook(course, LAB)))
    submissions = {name: ("", mistakes.fill(release, reference)) for name in CORRECT}
    payloads = {**PAYLOADS, LEAKER: ("metrics_answer", LEAK)}
    paths = {"gradebook": str(course.root / "gradebook.db"), "source": str(layout.source_notebook(course, LAB))}
    reach = [TRY.format(action=action.format(**paths), name=name)
             for name, action in ISOLATION_PAYLOADS.items()] if ISOLATED else []
    if kernel_user()[0] and SHADOW.is_file():
        reach += [TRY.format(action=action, name=name) for name, action in USER_PAYLOADS.items()]
    if reach:
        payloads[REACHER] = ("metrics_answer", "\n".join(reach))
    for name, (cell, payload) in payloads.items():
        submissions[name] = ("", mistakes.fill(release, {**reference, cell: payload + "\n" + reference[cell]}))
    wrong = mistakes.apply(reference, next(m for m in mistakes.catalogue(LAB) if m.name == "confusion_by_prediction"))
    for name, patch in TAMPERING.items():
        submissions[name] = ("", mistakes.fill(release, {**wrong, "metrics_answer": wrong["metrics_answer"] + "\n" + patch}))
    for name, silence in SILENCES_THE_RERUN.items():
        answer = silence(f"{wrong['metrics_answer']}\n{TAMPERING['patches_the_check']}")
        assert {"forges_its_verdict": "    _forge()\n", "rewrites_its_verdict": "    _rewrite()\n"}.get(name, "") in answer
        submissions[name] = ("", mistakes.fill(release, {**wrong, "metrics_answer": answer}))
    submissions[BORROWER] = ("", mistakes.fill(release, {cell: BORROW for cell in reference}))
    correct = mistakes.fill(release, reference)
    skeleton = release.cells[editors.index_of(release, "metrics_answer")].source
    submissions.update({name: ("", damage(correct, skeleton)) for name, (damage, _) in DAMAGED.items()})
    submissions[LOST_ANSWER] = ("", editors.new_cell_ids(editors.drop_cell_metadata(
        editors.delete_cells(correct, lambda cell: editors.grade_id(cell) != "dataset_answer"))))
    demo.write_submissions(course, LAB, submissions)
    return course


@pytest.fixture(scope="module")
def first_run(course):
    """Outcomes of grading the class with 2 workers, and the printed lines."""
    lines = []
    outcomes = autograde.autograde(course, LAB, workers=2, echo=lines.append)
    return {o.student: o for o in outcomes}, lines


def test_correct_students_keep_full_marks(first_run):
    """Do the correct submissions graded beside the hostile ones earn every point?"""
    outcomes, _ = first_run
    assert all(outcomes[name].graded and outcomes[name].score == 100 for name in CORRECT)


def test_sys_exit_costs_only_its_part(first_run):
    """Does sys.exit() in a cell stop that cell only, the rest graded, with the reason in the outcome?"""
    outcome = first_run[0]["sys_exit"]
    assert outcome.graded and outcome.score == 100 - DATASET_POINTS
    assert "cell dataset_answer raised SystemExit: 1" in outcome.problems


@pytest.mark.parametrize("student, cause", [
    ("os_exit", "the notebook ended the kernel (exit code 0: os._exit, or a crash in its own code)"),
    ("memory_hog", f"it ran out of memory under the memory limit of {MEMORY_MIB} MiB (memory)"),
])
def test_a_kernel_the_notebook_kills_is_scored_as_far_as_it_ran(course, first_run, handed_back, student, cause):
    """Does a kernel that os._exit or a memory hog killed keep the scores of the tests before the death, score
    the rest 0 (not 'needs regrading': a regrade would only repeat it), and name the cause in the outcome and in
    the feedback of every test that did not run?"""
    outcome = first_run[0][student]
    assert outcome.graded and not outcome.needs_regrading and outcome.score == 100 - METRICS_POINTS
    assert gradebook.read_score(course, LAB, student) == 100 - METRICS_POINTS
    assert outcome.problems[0].startswith(f"the kernel died in cell metrics_answer: {cause}")
    assert outcome.problems[0].endswith("; the tests before it are scored, the 3 test(s) from there on score 0")
    page = html.unescape((course.root / "feedback" / student / LAB / f"{LAB}.html").read_text())
    assert page.count(f"Not run: the kernel died in cell metrics_answer: {cause}") == 3
    assert page.count("PASSED: ") == len(notebooks.graded_tests(notebooks.read(
        layout.source_notebook(course, LAB)))) - 3


def test_rerun_that_dies_needs_regrading(course, first_run):
    """Does a notebook that dies only in the clean re-run need regrading, with a reason that holds nothing
    it printed (its stderr goes to the log alone)?"""
    outcome = first_run[0]["exits_in_the_rerun"]
    assert not outcome.graded and outcome.needs_regrading
    assert "the hidden tests could not be re-run in a clean process (it exited with code 3; see the log)" \
        in outcome.problems[0] and "not graded!" not in outcome.problems[0]
    assert "not graded!" in (course.root / "logs" / f"{LAB}-autograde.log").read_text()


def test_rerun_that_ends_quietly_needs_regrading(first_run):
    """Does a notebook that patched a check in its kernel and ends the clean re-run without an error (exit code 0,
    no verdicts from there on) need regrading, instead of keeping the points its kernel gave it?"""
    outcome = first_run[0]["exits_quietly_in_the_rerun"]
    assert not outcome.graded and outcome.needs_regrading
    assert "the clean re-run of the hidden tests ended before it gave a verdict for" in outcome.problems[0]
    assert "confusion_matrix_values" in outcome.problems[0]


def test_a_verdict_written_into_the_reruns_output_scores_zero(course, first_run):
    """Does a notebook that patched a check in its kernel and wrote a passing verdict for it into the clean re-run's
    output lose that test's points, with the reason?"""
    outcome = first_run[0]["forges_its_verdict"]
    assert outcome.graded and outcome.score == 100 - CONFUSION_POINTS, (outcome.score, outcome.problems, outcome.messages)
    assert gradebook.read_score(course, LAB, "forges_its_verdict") == 100 - CONFUSION_POINTS
    assert any("test confusion_matrix_values passed in the notebook, and the notebook wrote its own verdict" in problem
               for problem in outcome.problems), outcome.problems


def test_a_verdict_rewritten_by_patching_print_in_the_rerun_still_fails(course, first_run):
    """Does a notebook that patched a check in its kernel and, in the clean re-run, patched print while its failing
    test ran (to write that test's line as a pass) still lose the test's points?"""
    outcome = first_run[0]["rewrites_its_verdict"]
    assert outcome.graded and outcome.score == 100 - CONFUSION_POINTS, (outcome.score, outcome.problems)
    assert any("test confusion_matrix_values passed in the notebook but fails with the kit's checks restored"
               in problem for problem in outcome.problems)


def test_endless_loop_hits_the_cell_limit(first_run):
    """Is an endless loop stopped at the cell limit, named with its cell, and marked 'needs regrading'?"""
    outcome = first_run[0]["endless_loop"]
    assert outcome.needs_regrading and not outcome.graded
    assert f"cell metrics_answer hit the cell time limit ({CELL_LIMIT} s)" in outcome.problems[0]
    assert outcome.seconds < 120


def test_huge_allocation_fails_in_its_cell(first_run):
    """Does a 6 GiB allocation fail with MemoryError under the 3 GiB limit, costing only its part?"""
    outcome = first_run[0]["huge_allocation"]
    assert outcome.graded and outcome.score == 100 - DATASET_POINTS
    assert "cell dataset_answer raised MemoryError: " in outcome.problems


def test_process_limit_and_no_process_outlives_grading(first_run):
    """Are 200 child processes refused beyond the process limit (where cgroups allow), and none left after?"""
    outcome = first_run[0]["many_processes"]
    assert outcome.graded
    if cgroups_available():
        assert outcome.score == 100 - DATASET_POINTS
        assert any("more than 64 processes" in problem for problem in outcome.problems)
    assert leftover_sleepers() == ""


def test_output_is_cut_at_the_limit(course, first_run):
    """Are 3 MB of printed output cut to the output limit in the autograded notebook, the score untouched?"""
    outcome = first_run[0]["big_output"]
    assert outcome.graded and outcome.score == 100
    assert any("printed 2929 KiB; the first 256 KiB were kept" in problem for problem in outcome.problems)
    path = layout.notebook_path(course, layout.AUTOGRADED, LAB, "big_output")
    assert path.stat().st_size < 400 * 1024


def test_the_log_names_the_protections(course, first_run):
    """Does the log say which protections were active and which are missing?"""
    text = (course.root / "logs" / f"{LAB}-autograde.log").read_text()
    assert "protection: limits: CPU time, data memory" in text and "protection: processes: " in text


def test_retry_failed_and_resume(course, first_run):
    """Does --retry-failed grade exactly the submissions that need it, a plain rerun grade nothing, and a
    changed submission only itself, leaving the others' gradebook entries and notebooks byte for byte?"""
    outcomes, _ = first_run
    needing = {name for name, o in outcomes.items() if o.needs_regrading}
    assert needing == {"endless_loop", "exits_in_the_rerun", "exits_quietly_in_the_rerun", LOST_ANSWER}
    kept = {name: layout.notebook_path(course, layout.AUTOGRADED, LAB, name).read_bytes() for name in CORRECT}
    retried = autograde.autograde(course, LAB, retry_failed=True, workers=2, echo=lambda line: None)
    assert {o.student for o in retried} == needing
    lines = []
    assert autograde.autograde(course, LAB, echo=lines.append) == []
    assert f"{len(outcomes)} submission(s) already graded and unchanged, skipped" in lines[0]
    assert {name: layout.notebook_path(course, layout.AUTOGRADED, LAB, name).read_bytes() for name in CORRECT} == kept
    assert all(gradebook.read_score(course, LAB, name) == 100 for name in CORRECT)


def processes_in(folder) -> list[int]:
    """Pids of the processes whose working directory is `folder` or below it."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(entry.joinpath("cwd").readlink()).startswith(str(folder)):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def grader_after_its_first_grade(course, new: list[str]) -> tuple[subprocess.Popen, set[Path], str]:
    """Submit the reference solution as each of `new`, start `course autograde lab4` in a process group of its own
    and return once it has graded the first of them: (the grader, the temporary folders there were before it, the
    student it graded)."""
    release = notebooks.read(course.root / "assignments" / LAB / f"{LAB}.ipynb")
    reference = mistakes.reference_solutions(notebooks.read(layout.source_notebook(course, LAB)))
    demo.write_submissions(course, LAB, {name: ("", mistakes.fill(release, reference)) for name in new})
    before = leftovers.temporary_folders()
    grader = subprocess.Popen([sys.executable, "-m", "autograder.cli", "--root", str(course.root), "autograde", LAB],
                              stdout=subprocess.PIPE, text=True, start_new_session=True, env=process.tool_env())
    for line in grader.stdout:
        if line.split()[:1] and line.split()[0] in new:
            return grader, before, line.split()[0]
    raise AssertionError(f"the grader ended (exit code {grader.wait()}) before it graded any of {new}")


def run_folders_once_made(course, student: str, grader: subprocess.Popen, seconds: float = 120) -> list[Path]:
    """The run folders of `student`'s submission in grading/, waited for while the grader lives (none if it ends or
    `seconds` pass first)."""
    deadline = time.monotonic() + seconds
    while grader.poll() is None and time.monotonic() < deadline:
        runs = list((course.root / layout.STATUS_DIR).glob(f"{submission.run_prefix()}{student}-*"))
        if runs:
            return runs
        time.sleep(0.05)
    return []


def rerun_grades_exactly_the_rest(course, new: list[str]) -> None:
    """The grader stopped after grading one of `new`: does a rerun grade exactly the others, at full marks?"""
    done = {name for name, o in outcome.load_status(course, LAB).items() if name in new}
    assert len(done) == 1
    rest = autograde.autograde(course, LAB, echo=lambda line: None)
    assert {o.student for o in rest} == set(new) - done and all(o.score == 100 for o in rest)


def test_killed_grader_resumes_without_losing_or_duplicating(course, first_run):
    """Killed after its first new grade, does a rerun grade exactly the rest, one gradebook entry each, and remove
    the folders and cgroups the killed grader left?"""
    new = ["next_1", "next_2"]
    grader, before, first = grader_after_its_first_grade(course, new)
    [second] = set(new) - {first}
    runs = run_folders_once_made(course, second, grader)  # killed while it grades the second, not between the two
    for pid in [grader.pid, *processes_in(course.root)]:  # the grader, its nbgrader and kernel: all gone
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    grader.wait()
    left = leftovers.of_grader(grader.pid, before)  # its kernel and zygote folders, its cgroups where it made any
    assert left and runs, "a grader killed outright left nothing: the checks below would prove nothing"
    for path in [*left, *runs]:  # as if killed a minute ago: the rerun's sweep leaves younger ones to their graders
        os.utime(path, (time.time() - claims.GRACE - 5,) * 2)
    rerun_grades_exactly_the_rest(course, new)
    assert leftovers.of_grader(grader.pid, before) == [] and not any(path.exists() for path in runs)
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", course.course.id) as gradebook:
        submissions = [s.student.id for s in gradebook.find_assignment(LAB).submissions]
    assert sorted(submissions) == sorted(set(submissions)) and set(new) <= set(submissions)


def test_a_grader_stopped_with_sigterm_cleans_up_and_resumes(course, first_run):
    """Sent SIGTERM (`kill`, systemd) after its first new grade, does the grader kill the submission it is grading,
    start no other, leave no process, cgroup or temporary folder behind, and end by SIGTERM, and does a rerun
    grade exactly the rest?"""
    new = ["stop_1", "stop_2", "stop_3"]
    grader, before, _ = grader_after_its_first_grade(course, new)
    grader.send_signal(signal.SIGTERM)
    assert grader.wait(timeout=60) == -signal.SIGTERM
    deadline = time.monotonic() + 10  # the programs a zygote ran end within a second of their client
    while processes_in(course.root) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_in(course.root) == [] and leftovers.of_grader(grader.pid, before) == []
    rerun_grades_exactly_the_rest(course, new)


def cell_output(course, student: str, grade_id: str) -> str:
    notebook = notebooks.read(layout.notebook_path(course, layout.AUTOGRADED, LAB, student))
    cell = next(c for c in notebook.cells if notebooks.nbgrader_meta(c).get("grade_id") == grade_id)
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


def expect_blocked(course, first_run, payload: str) -> None:
    outcome = first_run[0][REACHER]
    assert outcome.graded and outcome.score == 100
    output = cell_output(course, REACHER, "metrics_answer")
    assert f"BLOCKED {payload}" in output and f"DONE {payload}" not in output, output[:500]
    assert "BEGIN SOLUTION" not in output


@pytest.mark.skipif(not ISOLATED, reason=f"isolation is not available here: {WHY_NOT}")
@pytest.mark.parametrize("payload", sorted(ISOLATION_PAYLOADS))
def test_isolated_kernel_blocks(course, first_run, payload):
    """Is the gradebook, the source notebook, the kit or the network out of the student's reach (the
    attempt fails in the student's cell), with full marks kept and nothing changed?"""
    expect_blocked(course, first_run, payload)


def test_kernel_runs_as_an_unprivileged_user(course, first_run):
    """Does the kernel run as nobody, so that a file only root may read (/etc/shadow) stays out of reach?"""
    as_user, why_root = kernel_user()
    if not (as_user and SHADOW.is_file()):
        pytest.skip(f"no unprivileged kernel user ({why_root}) or no /etc/shadow")
    expect_blocked(course, first_run, "reads_root_only_files")
    assert "protection: user: the kernel runs as uid 65534 (nobody), not root: active" in \
        (course.root / "logs" / f"{LAB}-autograde.log").read_text()


@pytest.mark.skipif(not ISOLATED, reason=f"isolation is not available here: {WHY_NOT}")
def test_kit_and_gradebook_are_intact(course, first_run):
    """After the class, are the kit's checks unchanged and the gradebook's scores readable and right?"""
    assert "resnet18_param_count = print" not in KIT_CHECKS.read_text()
    assert all(gradebook.read_score(course, LAB, name) == 100 for name in CORRECT)


@pytest.mark.parametrize("student", sorted(TAMPERING))
def test_patched_checks_do_not_turn_a_failure_into_a_pass(course, first_run, student):
    """Does a notebook that patches the kit's check (its attribute or its code) or NumPy still lose the
    points of the test its wrong confusion matrix fails, in the gradebook too, with the reason?"""
    outcome = first_run[0][student]
    assert outcome.graded and outcome.score == 100 - CONFUSION_POINTS
    assert gradebook.read_score(course, LAB, student) == 100 - CONFUSION_POINTS
    assert any("test confusion_matrix_values passed in the notebook but fails with the kit's checks restored"
               in problem for problem in outcome.problems)


def private_lines(course, student: str) -> set[str]:
    """Lines of the lab's checks and reference code that the student's own notebook does not hold (40+ chars)."""
    package = Path(layout.KIT_DIR, "autograder")
    text = KIT_CHECKS.read_text() + (package / "goldens" / f"{LAB}_reference.py").read_text()
    cells = notebooks.read(layout.notebook_path(course, layout.SUBMITTED, LAB, student)).cells
    submitted = "\n".join(cell.source for cell in cells)
    return {line.strip() for line in text.splitlines() if len(line.strip()) >= 40 and line.strip() not in submitted}


@pytest.fixture(scope="module")
def handed_back(course, first_run):
    """The class's feedback pages and Gradescope results."""
    notes.generate(course, LAB, echo=lambda line: None)
    gradescope.write(records.lab_results(course, LAB), leaks.private_text(course, LAB),
                     course.root / layout.REPORTS / LAB / "gradescope", echo=lambda line: None)


def test_printed_checks_do_not_reach_feedback(course, first_run, handed_back):
    """Does a notebook that prints the kit's checks and reference code into its cells, the hidden tests'
    outputs included, keep full marks while none of that text reaches its feedback or Gradescope results?"""
    assert first_run[0][LEAKER].graded and first_run[0][LEAKER].score == 100
    lines = private_lines(course, LEAKER)
    autograded = layout.notebook_path(course, layout.AUTOGRADED, LAB, LEAKER).read_text()
    assert len(lines) > 20 and sum(json.dumps(line)[1:-1] in autograded for line in lines) > 20
    page = html.unescape(re.sub(r"<[^>]+>", "", (course.root / "feedback" / LEAKER / LAB / f"{LAB}.html").read_text()))
    results = (course.root / "reports" / LAB / "gradescope" / LEAKER / "results.json").read_text()
    assert [line for line in lines if line in page or json.dumps(line)[1:-1] in results] == []
    assert page.count("PASSED: ") == len(notebooks.graded_tests(notebooks.read(layout.source_notebook(course, LAB))))


def test_a_notebook_that_borrows_the_reference_scores_zero(course, first_run, handed_back):
    """Does a skeleton whose answers import the kit's reference score 0, with the reason in the log and feedback?"""
    outcome = first_run[0][BORROWER]
    assert outcome.graded and outcome.score == 0 and gradebook.read_score(course, LAB, BORROWER) == 0
    assert len(outcome.zeroed) == len(notebooks.graded_tests(notebooks.read(layout.source_notebook(course, LAB))))
    assert all("passed with code the notebook did not write" in p for p in outcome.problems[-len(outcome.zeroed):])
    page = html.unescape((course.root / "feedback" / BORROWER / LAB / f"{LAB}.html").read_text())
    assert "PASSED" not in page and page.count("The code it graded is not your notebook's own") == len(outcome.zeroed)


def test_feedback_says_which_test_was_passed_by_patching(course, handed_back):
    """Does the feedback of a notebook that patched a check say that test passed only in its own kernel?"""
    page = html.unescape((course.root / "feedback" / "patches_the_check" / LAB / f"{LAB}.html").read_text())
    assert "It passed only in your own kernel: with the grader's checks restored it fails" in page


@pytest.mark.parametrize("student", sorted(DAMAGED))
def test_a_damaged_notebook_is_repaired_and_keeps_full_marks(course, first_run, handed_back, student):
    """Does a correct notebook saved without its metadata and ids, or with its tests deleted and an answer pasted
    twice, get every point, each repair named in its outcome, the log, its feedback and its Gradescope results,
    the submission itself unchanged?"""
    outcome = first_run[0][student]
    assert outcome.graded and outcome.score == 100 and gradebook.read_score(course, LAB, student) == 100
    log = (course.root / "logs" / f"{LAB}-autograde.log").read_text()
    page = html.unescape((course.root / "feedback" / student / LAB / f"{LAB}.html").read_text())
    results = json.loads((course.root / "reports" / LAB / "gradescope" / student / "results.json").read_text())
    assert "Your notebook was repaired before grading" in page and "repaired before grading" in results["output"]
    for named in DAMAGED[student][1]:
        assert any(named in line for line in outcome.repairs)
        assert any(problem.startswith("repaired before grading: ") and named in problem for problem in outcome.problems)
        assert named in log and named in page and named in results["output"]
    submitted = notebooks.read(layout.notebook_path(course, layout.SUBMITTED, LAB, student))
    autograded = notebooks.read(layout.notebook_path(course, layout.AUTOGRADED, LAB, student))
    assert len(notebooks.graded_tests(submitted)) < len(notebooks.graded_tests(autograded))
    runs = (course.root / layout.STATUS_DIR).glob(f"{submission.run_prefix()}{student}-*")
    assert list(runs) == []  # the repaired copy is gone


def test_a_lost_answer_is_sent_back_with_its_name(first_run):
    """Is a notebook whose answer cell cannot be found 'needs regrading', the cell named, never scored 0?"""
    outcome = first_run[0][LOST_ANSWER]
    assert not outcome.graded and outcome.needs_regrading and outcome.score is None
    assert outcome.problems[0].startswith("answer cell(s) dataset_answer could not be found in the notebook")


def test_a_corrected_resubmission_gets_its_points_back(course, first_run):
    """After a test was zeroed for patching the checks, does the student's corrected notebook, graded again on its
    own, get every point back, in its outcome and the gradebook (runs last: it replaces that submission)?"""
    student = "patches_the_check"
    assert gradebook.read_score(course, LAB, student) == 100 - CONFUSION_POINTS
    release = notebooks.read(course.root / "assignments" / LAB / f"{LAB}.ipynb")
    reference = mistakes.reference_solutions(notebooks.read(layout.source_notebook(course, LAB)))
    demo.write_submissions(course, LAB, {student: ("", mistakes.fill(release, reference))})
    (regraded,) = autograde.autograde(course, LAB, only=[student], echo=lambda line: None)
    assert regraded.graded and regraded.score == 100 and regraded.zeroed == [] and regraded.problems == []
    assert gradebook.read_score(course, LAB, student) == 100
