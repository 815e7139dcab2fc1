"""Re-run a graded notebook's hidden tests in a fresh process, the kit's checks and torch restored before each.

nbgrader runs the hidden tests in the student's kernel, where a submission can redefine the kit's
check functions or the torch and NumPy functions they use, so that a failing test passes. This
runs the notebook's code cells again in order (training skipped, as while grading) and, before each
test cell, puts back every attribute of the kit's modules, of torch, NumPy and the builtins, of
torch's module classes and of the modules table as they were before the first student cell; a test
that passed in nbgrader but fails here was passed by tampering.

It also gives each failed test the message students see in their feedback: the check's own
AssertionError, only when every frame from the check down to the `assert` is the kit's code (a
message raised by, or passed through, student code could carry anything the kernel can read).

    python -m autograder.sandbox.verify LAB CELL_TIMEOUT < NOTEBOOK > VERDICTS   (inside the grading sandbox)

The notebook comes on stdin and the verdicts go to stdout, one JSON line per test as it is known (a
notebook that kills the process keeps the verdicts of the tests before; autograder/sandbox/verdicts.py reads
them), not through files a kernel could write;
it warms up (imports, snapshot) before reading stdin, so it can be started while nbgrader runs.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import os
import signal
import sys
import types
from typing import Callable

import nbformat

from autograder.core import modules as kit_modules
from autograder.checks import accuracy
from autograder.core import notebooks
from autograder.sandbox import provenance, verdicts

# Modules whose attributes the hidden tests rely on; their classes and functions are restored too.
# Every name must import: a module that does not fails the re-run (fail closed), it is never skipped.
TRUSTED = ("builtins", "math", "functools", "importlib", "os", "posixpath", "inspect", "ast", "types", "numpy", "torch", "torch.nn", "torch.nn.functional",
           "torch.nn.init", "torch.autograd", "torch.optim", "torchvision", "torchvision.models",
           "torchvision.models.resnet", "autograder", "autograder.core.layout", kit_modules.CHECKS,
           *kit_modules.CHECK_HELPERS, "labkit", "labkit.fixtures", "labkit.fundus", "labkit.checks", "labkit.cifar10",
           "labkit.device", "labkit.labs", "labkit.labs.lab1", "labkit.labs.lab2", "labkit.labs.lab3", "labkit.labs.lab4",
           "autograder.sandbox.provenance", "autograder.sandbox.verdicts", "json", "json.encoder")


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
    modules = [importlib.import_module(name) for name in (*TRUSTED, kit_modules.lab_checks(lab_id))]
    checks = sys.modules[kit_modules.lab_checks(lab_id)]
    if hasattr(checks, "reference"):
        modules.append(checks.reference())
    return modules


class CellTimeout(BaseException):
    """A cell ran past the cell time limit (not an Exception: no `except Exception` in a check or an answer stops it)."""


def _alarm(signum, frame):
    raise CellTimeout("the cell ran past the cell time limit")


def kit_code(modules: list[types.ModuleType]) -> dict[types.CodeType, dict]:
    """Code object -> the globals it runs with, for every function (nested ones too) of the kit's check modules."""
    found = {}

    def add(code: types.CodeType, namespace: dict) -> None:
        found[code] = namespace
        for constant in code.co_consts:
            if isinstance(constant, types.CodeType):
                add(constant, namespace)

    for module in modules:
        for value in vars(module).values():
            members = vars(value).values() if inspect.isclass(value) else [value]
            for member in members:
                function = _undecorated(member)
                if isinstance(function, types.FunctionType) and function.__module__ == module.__name__:
                    add(function.__code__, vars(module))
    return found


def _undecorated(member):
    """The function under `member`'s decorators (meta_first, torch.no_grad, ...): its frames are the check's."""
    try:
        return inspect.unwrap(member) if callable(member) else member
    except ValueError:  # a wrapper loop
        return member


def message(error: BaseException, trusted: dict[types.CodeType, dict]) -> str:
    """What students may see of a failed test: the check's AssertionError when every frame from the first
    kit frame to the one that raised it is kit code; otherwise only the error's type, where it is built in."""
    frames, tb = [], error.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    first = next((i for i, frame in enumerate(frames) if frame.f_code in trusted), None)
    kit_only = first is not None and all(trusted.get(frame.f_code) is frame.f_globals for frame in frames[first:])
    if type(error) is AssertionError and kit_only:
        return f"AssertionError: {error}"[:MESSAGE_LIMIT]
    if type(error) is NotImplementedError:
        return "NotImplementedError raised while the test ran your code: a part it uses is not written yet"
    if isinstance(error, accuracy.GraderUnavailable) and kit_only:
        return f"{verdicts.UNAVAILABLE}{error}"[:MESSAGE_LIMIT]
    kind = type(error).__name__ if type(error).__module__ == "builtins" else "an error"
    return (f"{kind} raised while the test ran your code (run your code on a small input in the notebook to see "
            f"where)")


MESSAGE_LIMIT = 300
VALUE = "__course_test_value__"  # where the clean re-run keeps the value a test cell ends with (partial credit)


def keeping_value(source: str) -> str:
    """`source` with its last statement, when it is an expression, assigned to VALUE (nbgrader scores a test cell
    that ends with a number as partial credit, so the clean re-run must know that number too)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return source
    last = tree.body[-1]
    tree.body[-1] = ast.Assign(targets=[ast.Name(VALUE, ast.Store())], value=last.value)
    return ast.unparse(ast.fix_missing_locations(tree))


def number(value) -> float | None:
    """`value` as nbgrader would read a partial score from it: an int or float (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def run(read_notebook: Callable[[], str], lab_id: str, cell_timeout: int = 120,
        on_verdict: Callable[[str, str | None, float | None, str | None], None] = lambda *heard: None
        ) -> dict[str, str | None]:
    """grade_id -> None (passed) or the student-facing message, for each graded test cell of the notebook
    (JSON) that `read_notebook` returns once the shell and the snapshot are ready; each cell is stopped
    after `cell_timeout` s. `on_verdict` hears each verdict as soon as it is known, with the number a passed
    test cell ended with (its partial score; None when it ends with none) and what the kit's check said of it."""
    from IPython.core.interactiveshell import InteractiveShell

    os.environ.setdefault("NBGRADER_EXECUTION", "autograde")
    shell = InteractiveShell.instance()
    snapshot = Snapshot([*trusted_modules(lab_id), sys.modules[__name__]])  # this program's own code too
    trusted = kit_code([sys.modules[name] for name in (*kit_modules.CHECK_HELPERS, kit_modules.lab_checks(lab_id))])
    found = {}
    cells = [(cell.source, notebooks.nbgrader_meta(cell)["grade_id"] if notebooks.is_graded_test(cell) else None)
             for cell in nbformat.reads(read_notebook(), as_version=4).cells if cell.cell_type == "code"]
    # Settled before any student code runs: which cells are tests, and what code the notebook's cells hold.
    checks = sys.modules[kit_modules.lab_checks(lab_id)]
    parts = provenance.part_names(checks.reference()) if hasattr(checks, "reference") else set()
    origin = provenance.Provenance(provenance.notebook_code([s for s, _ in cells], shell.transform_cell), parts)
    for source, test in cells:
        if test:
            snapshot.restore()
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(cell_timeout)
        shell.user_ns.pop(VALUE, None)
        result = shell.run_cell(keeping_value(source) if test else source, store_history=False, silent=True)
        signal.alarm(0)
        if test:
            error = result.error_in_exec or result.error_before_exec
            value = number(shell.user_ns.pop(VALUE, None)) if error is None else None
            snapshot.restore()  # the test ran student code: from here the kit's own code decides and writes
            verdict = None if error is None else message(error, trusted)
            if error is None:
                borrowed = origin.borrowed(shell.user_ns, provenance.graded_names(source, parts))
                verdict = f"{provenance.BORROWED}{borrowed}" if borrowed else None
            said = accuracy.take_note() if value is not None else None
            snapshot.restore()  # an error's text and the provenance walk can run student code too (hooks)
            found[test] = verdict
            on_verdict(test, verdict, value, said)
    return found


def write_verdict(out, test: str, verdict: str | None, value: float | None, said: str | None) -> None:
    """Write one test's line to `out` (a function of this module: restored with it, unlike a lambda)."""
    print(verdicts.line(test, verdict, value, said), file=out, flush=True)


def main(argv: list[str]) -> None:
    lab_id, cell_timeout = argv
    verdicts_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    with open(os.devnull, "w") as quiet:  # the notebook's own printing is not the verifier's output
        os.dup2(quiet.fileno(), 1)
        sys.stdout = open(os.devnull, "w")
        run(sys.stdin.read, lab_id, int(cell_timeout), functools.partial(write_verdict, verdicts_out))
    verdicts_out.close()


if __name__ == "__main__":
    main(sys.argv[1:])
