"""Run a lab's graded tests in this process on given solution code, without nbgrader."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from unittest import mock

from autograder import mistakes
from autograder.checks import accuracy
from autograder.core import notebooks
from autograder.mistakes import models
from autograder.sandbox import verify
from labkit import config, fixtures

ROOT = Path(__file__).resolve().parents[1]
KIT = config.load(ROOT)
LABS = tuple(KIT.labs)  # the kit's labs, as course.toml lists them


def source_notebook(lab_id: str):
    return notebooks.read(ROOT / "solutions" / lab_id / f"{lab_id}.ipynb")


definitions = mistakes.definitions


_SNAPSHOTS: dict[str, verify.Snapshot] = {}


def trusted_state(lab_id: str) -> verify.Snapshot:
    """The kit's checks, torch and NumPy as they were before any student code ran here (as autograding restores them)."""
    if lab_id not in _SNAPSHOTS:
        _SNAPSHOTS[lab_id] = verify.Snapshot(verify.trusted_modules(lab_id))
    return _SNAPSHOTS[lab_id]


@functools.cache
def grader_data() -> Path:
    """The grader's data root in the tests: the CIFAR-10 stand-in in a folder any user may read."""
    root = Path(tempfile.mkdtemp(prefix="course-grader-data-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    root.chmod(0o755)
    fixtures.write_cifar10_batches(root, n_train=500, n_test=100)
    return root


@contextlib.contextmanager
def graded_as_submitted(lab_id: str, solutions: dict[str, str]):
    """Inside: the working folder is a submission's, holding the model the student trained with their own network
    when the lab grades a saved model (none when their network cannot be built), and the environment is what
    `course autograde` gives the grading kernel."""
    lab = KIT.lab(lab_id)
    env = {accuracy.DATA_ENV: str(grader_data())}
    if lab.accuracy_zero is not None:
        env[accuracy.ACCURACY_ENV] = f"{lab.accuracy_zero:g},{lab.accuracy_full:g}"
    with tempfile.TemporaryDirectory(prefix="course-submission-") as folder, \
            mock.patch.dict(os.environ, env), contextlib.chdir(folder):
        if lab.accuracy_zero is not None:
            models.save_students_model(source_notebook(lab_id), solutions, grader_data(), Path(folder))
        yield Path(folder)


def failing_tests(lab_id: str, solutions: dict[str, str]) -> dict[str, str]:
    """grade_id -> error message of every graded test that fails on `solutions` (or ends with fewer points than
    the test's: nbgrader's partial credit), the kit's checks restored before each test (and after the last), as
    `course autograde`'s verification does."""
    notebook = source_notebook(lab_id)
    failures = {}
    state = trusted_state(lab_id)
    with graded_as_submitted(lab_id, solutions):
        for test in notebooks.graded_tests(notebook):
            with warnings.catch_warnings(record=True):  # student code may print warnings; they do not fail tests
                namespace = definitions(notebook, solutions)
                state.restore()
                source = verify.keeping_value(notebooks.strip_markers(test.source, notebooks.HIDDEN_MARKERS))
                try:
                    exec(compile(source, test.grade_id, "exec"), namespace)
                except Exception as error:  # a failing test may raise anything the student's code raises
                    failures[test.grade_id] = f"{type(error).__name__}: {error}"
                    continue
                value = verify.number(namespace.get(verify.VALUE))
                if value is not None and value < test.points:
                    failures[test.grade_id] = f"scored {value:g} of {test.points:g} points"
    state.restore()
    return failures


def reference(lab_id: str) -> dict[str, str]:
    return mistakes.reference_solutions(source_notebook(lab_id))
