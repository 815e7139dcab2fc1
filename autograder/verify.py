"""Re-run a graded notebook's hidden tests in a fresh process, the kit's checks and torch restored before each.

nbgrader runs the hidden tests in the student's kernel, where a submission can redefine the kit's
check functions or the torch and NumPy functions they use, so that a failing test passes. This
runs the notebook's code cells again in order (training skipped, as while grading) and, before each
test cell, puts back every attribute of the kit's modules, of torch, NumPy and the builtins, of
torch's module classes and of the modules table as they were before the first student cell; a test
that passed in nbgrader but fails here was passed by tampering.

    python -m autograder.verify NOTEBOOK LAB RESULT_JSON CELL_TIMEOUT     (run inside the grading sandbox)
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import json
import os
import signal
import sys
import types

import nbformat

# Modules whose attributes the hidden tests rely on; their classes and functions are restored too.
TRUSTED = ("builtins", "math", "functools", "importlib", "numpy", "torch", "torch.nn", "torch.nn.functional",
           "torch.nn.init", "torch.autograd", "torch.optim", "torchvision", "torchvision.models",
           "torchvision.models.resnet", "autograder", "autograder.golden", "autograder.checks",
           "autograder.checks.common", "labkit", "labkit.fixtures", "labkit.fundus", "labkit.checks")


class Snapshot:
    """The attributes of modules and classes, and the code of their functions, at one moment."""

    def __init__(self, modules: list[types.ModuleType]):
        self.modules = {name: module for name, module in sys.modules.items() if module in modules}
        self.namespaces = [(module, dict(vars(module))) for module in modules]
        classes = {value for module in modules for value in vars(module).values() if inspect.isclass(value)}
        classes |= {cls for cls in _subclasses(__import__("torch").nn.Module)}
        self.classes = [(cls, dict(vars(cls))) for cls in classes if _patchable(cls)]
        functions = {value for _, names in self.namespaces + self.classes for value in names.values()
                     if isinstance(value, types.FunctionType)}
        self.code = [(f, f.__code__, f.__defaults__, f.__kwdefaults__) for f in functions]

    def restore(self) -> None:
        """Put every recorded attribute, class member, function body and sys.modules entry back."""
        sys.modules.update(self.modules)
        for owner, saved in self.namespaces:
            _restore(owner, saved, vars(owner))
        for owner, saved in self.classes:
            _restore(owner, saved, dict(vars(owner)))
        for function, code, defaults, kwdefaults in self.code:
            function.__code__, function.__defaults__, function.__kwdefaults__ = code, defaults, kwdefaults


def _subclasses(cls) -> set:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def _patchable(cls) -> bool:
    try:
        setattr(cls, "__course_probe__", None)
        delattr(cls, "__course_probe__")
        return True
    except (TypeError, AttributeError):
        return False


def _restore(owner, saved: dict, current: dict) -> None:
    """Set back what `saved` holds; on a class, also remove members added since (a module keeps its new
    names: packages add submodules and caches as they are used)."""
    if not isinstance(owner, types.ModuleType):
        for name in [name for name in current if name not in saved]:
            try:
                delattr(owner, name)
            except (AttributeError, TypeError):
                pass
    for name, value in saved.items():
        if current.get(name, _MISSING) is not value:
            try:
                setattr(owner, name, value)
            except (AttributeError, TypeError):
                pass


_MISSING = object()


def trusted_modules(lab_id: str) -> list[types.ModuleType]:
    """The trusted modules, imported now (before any student code), the lab's checks and reference included."""
    modules = []
    for name in (*TRUSTED, f"autograder.checks.{lab_id}"):
        try:
            modules.append(importlib.import_module(name))
        except ImportError:
            continue
    checks = sys.modules[f"autograder.checks.{lab_id}"]
    if hasattr(checks, "reference"):
        modules.append(checks.reference())
    return modules


class CellTimeout(Exception):
    """A cell ran past the cell time limit."""


def _alarm(signum, frame):
    raise CellTimeout("the cell ran past the cell time limit")


def run(notebook_path: str, lab_id: str, cell_timeout: int = 120) -> dict[str, str | None]:
    """grade_id -> None (passed) or the error, for each graded test cell, run in a fresh IPython shell;
    each cell is stopped after `cell_timeout` s."""
    from IPython.core.interactiveshell import InteractiveShell

    os.environ.setdefault("NBGRADER_EXECUTION", "autograde")
    shell = InteractiveShell.instance()
    snapshot = Snapshot(trusted_modules(lab_id))
    verdicts = {}
    for cell in nbformat.read(notebook_path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            snapshot.restore()
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(cell_timeout)
        result = shell.run_cell(cell.source, store_history=False, silent=True)
        signal.alarm(0)
        if meta.get("grade") and not meta.get("solution"):
            error = result.error_in_exec or result.error_before_exec
            verdicts[meta["grade_id"]] = None if error is None else f"{type(error).__name__}: {error}"[:300]
    return verdicts


def main(argv: list[str]) -> None:
    notebook_path, lab_id, result_path, cell_timeout = argv
    real_stdout = os.dup(1)
    with open(os.devnull, "w") as quiet:  # the notebook's own printing is not the verifier's output
        os.dup2(quiet.fileno(), 1)
        sys.stdout = open(os.devnull, "w")
        verdicts = run(notebook_path, lab_id, int(cell_timeout))
    os.dup2(real_stdout, 1)
    with open(result_path, "w", encoding="utf-8") as f:
        json.dump(verdicts, f)
    builtins.print(f"verified {len(verdicts)} tests")


if __name__ == "__main__":
    main(sys.argv[1:])
