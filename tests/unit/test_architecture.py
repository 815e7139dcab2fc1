"""The autograder's layout holds: import direction, no cycles, every module path kept as a string imports."""

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.core import layout, modules
from autograder.feedback import leaks
from autograder.sandbox import verify

KIT = layout.KIT_DIR
LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())"]


def lint(root: Path) -> subprocess.CompletedProcess:
    """lint-imports with the kit's contracts (pyproject.toml) on the packages under `root`."""
    return subprocess.run([*LINT, "--config", str(KIT / "pyproject.toml")], cwd=root, capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, timeout=120)


def test_the_import_contracts_are_kept():
    """Do the packages import downwards only, labkit never the autograder, and no modules in a cycle?"""
    done = lint(KIT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 kept, 0 broken" in done.stdout


@pytest.mark.parametrize("importer, imported, contract", [
    ("autograder/core/layout.py", "autograder.grading.outcome", "import downwards only"),
    ("labkit/engine.py", "autograder.core.layout", "never imports the autograder"),
    ("autograder/grading/outcome.py", "autograder.grading.submission", "no import cycle"),
])
def test_an_import_against_the_direction_breaks_a_contract(tmp_path, importer, imported, contract):
    """Does one added import upwards, from labkit, or closing a cycle, break its contract (inside a function too)?"""
    for package in ("autograder", "labkit"):
        shutil.copytree(KIT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.pt"))
    path = tmp_path / importer
    path.write_text(path.read_text() + f"\n\ndef _added():\n    import {imported}  # noqa\n")
    done = lint(tmp_path)
    assert done.returncode != 0 and f"{contract}" in done.stdout and "BROKEN" in done.stdout, done.stdout[-3000:]


def test_every_module_named_in_a_string_imports(kit):
    """Does each module path the kit keeps as a string (python -m, nbgrader's config, probes) resolve?"""
    for name in modules.every_name(kit.labs):
        module, _, attribute = name.rpartition(".")
        if attribute[:1].isupper():  # module.Class
            assert hasattr(importlib.import_module(module), attribute), name
        else:
            importlib.import_module(name)


def test_verify_fails_closed_on_a_module_that_does_not_import(monkeypatch):
    """Does the clean re-run stop when a module it protects cannot be imported, instead of skipping it?"""
    assert verify.trusted_modules("lab1")  # every name in TRUSTED imports today
    monkeypatch.setattr(verify, "TRUSTED", (*verify.TRUSTED, "autograder.checks.renamed_away"))
    with pytest.raises(ImportError):
        verify.trusted_modules("lab1")


def test_the_leak_filter_reads_every_check_file(kit):
    """Does the leak filter find the source file of each lab's checks and of the helpers they run?"""
    for lab_id in kit.labs:
        files = leaks.check_files(lab_id)
        assert files and all(path.is_file() for path in files), files


def test_the_grading_process_imports_neither_torch_nor_nbgrader():
    """Does a grading process (a Slurm task too) start without importing torch or nbgrader (the zygotes import them:
    a task that grades one submission would pay for them twice)?"""
    heavy = ("torch", "numpy", "nbgrader")
    done = subprocess.run([sys.executable, "-c", "import sys, autograder.grading.autograde, autograder.grading.slurm; "
                           f"print(sorted(set({heavy!r}) & set(sys.modules)))"], capture_output=True, text=True,
                          cwd=KIT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]", done.stdout
