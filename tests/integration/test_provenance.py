"""A notebook that borrows the kit's reference parts scores 0 on every lab, whatever the route."""

import os
import subprocess
import sys

import nbformat
import pytest

import harness
from autograder import mistakes
from autograder.checks import accuracy
from autograder.core import modules
from autograder.sandbox import provenance, verdicts
from autograder.checks import golden

# Each answer cell borrows every part by one of these routes, in turn: imported, exec of the kit's file, the
# source read from the kit at run time, and cells of the notebook's own that delegate to or subclass it.
ROUTES = {
    "imported": "from autograder.goldens.{lab}_reference import *",
    "exec of the kit's file": "import autograder.checks.golden as _g\nexec(open(_g.GOLDENS_DIR / '{lab}_reference.py').read())",
    "source read at run time": "import inspect, autograder.checks.{lab} as _c\nexec(inspect.getsource(_c.reference()))",
    "wrapped": "{wrappers}",
}


def wrappers(lab: str) -> str:
    """Cell code that defines every part of `lab` itself, as a thin layer over the kit's reference."""
    reference = golden.load_reference(lab)
    lines = [f"import autograder.checks.{lab} as _c\n_r = _c.reference()"]
    for name in sorted(provenance.part_names(reference)):
        if isinstance(getattr(reference, name), type):
            lines.append(f"class {name}(_r.{name}):\n    pass")
        else:
            lines.append(f"def {name}(*args, **kwargs):\n    return _r.{name}(*args, **kwargs)")
    return "\n\n".join(lines)


def borrowing_notebook(lab: str):
    """The source notebook (hidden tests in place, as autograde restores them) with every answer borrowed."""
    source = harness.source_notebook(lab)
    answers = mistakes.reference_solutions(source)
    routes = [route.format(lab=lab, wrappers=wrappers(lab)) for route in ROUTES.values()]
    return mistakes.fill(source, {cell: routes[i % len(routes)] for i, cell in enumerate(answers)})


@pytest.mark.parametrize("lab", harness.LABS)
def test_borrowed_reference_scores_zero_in_the_clean_rerun(lab, tmp_path):
    """Does the clean re-run fail every test of a notebook whose answers borrow the reference, naming the borrowing?"""
    notebook = nbformat.writes(borrowing_notebook(lab))
    with harness.graded_as_submitted(lab, harness.reference(lab)) as folder:  # lab 2: a saved model to grade
        done = subprocess.run([sys.executable, "-m", modules.VERIFY, lab, "120"], input=notebook, capture_output=True,
                              text=True, cwd=folder, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    said = verdicts.read_verdicts(done.stdout)
    assert said and all(v is not None for v in said.values()), [t for t, v in said.items() if v is None]
    borrowed = [t for t, v in said.items() if v.startswith(provenance.BORROWED)]
    assert len(borrowed) == len(said), {t: v for t, v in said.items() if t not in borrowed}


def test_the_clean_rerun_scores_a_saved_model_and_says_why(tmp_path):
    """Does the clean re-run give lab 2's accuracy test its partial score and the check's note (what the grader
    compares with the notebook's score), and mark a grader without data 'could not grade', never failed?"""
    notebook = nbformat.writes(mistakes.fill(harness.source_notebook("lab2"), harness.reference("lab2")))
    with harness.graded_as_submitted("lab2", harness.reference("lab2")) as folder:
        done = subprocess.run([sys.executable, "-m", modules.VERIFY, "lab2", "120"], input=notebook,
                              capture_output=True, text=True, cwd=folder, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert verdicts.read_verdicts(done.stdout)["saved_model_accuracy"] is None
    assert verdicts.read_values(done.stdout)["saved_model_accuracy"] == 3.0
    assert "100.00 % on the 100 test images" in verdicts.read_notes(done.stdout)["saved_model_accuracy"]
    with harness.graded_as_submitted("lab2", harness.reference("lab2")) as folder:
        env = {**os.environ, accuracy.DATA_ENV: str(tmp_path)}
        done = subprocess.run([sys.executable, "-m", modules.VERIFY, "lab2", "120"], input=notebook,
                              capture_output=True, text=True, cwd=folder, timeout=900, env=env)
    assert verdicts.read_verdicts(done.stdout)["saved_model_accuracy"].startswith(verdicts.UNAVAILABLE)
