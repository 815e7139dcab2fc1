"""Whose code passed a test: the notebook's own cells, or code it borrowed (imported, exec'd, read from the kit).

Before any student code runs, every code cell of the notebook is compiled here and the code objects it
defines are fingerprinted (name, bytecode, names, constants). After a test passed, each graded object it
was given (a name the lab's reference parts define) is walked: its functions, its class's methods and
bases, and the globals and closures its code reaches (other graded parts excepted: their own tests judge
them). Code that no cell of the notebook compiles to, and any module of the kit's private files, make the
test "borrowed". Library code (torch, NumPy, labkit, the standard library) is not the notebook's to write.
"""

from __future__ import annotations

import __future__
import ast
import inspect
import os
import sys
import types
from typing import Callable, Iterable

from autograder.core import layout

PRIVATE_DIR = str(layout.KIT_DIR / "autograder") + os.sep
LIBRARY_DIRS = tuple({os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
                     | {str(layout.KIT_DIR / "labkit") + os.sep})
# What dataclasses writes into a class it decorates: generated code, not the notebook's.
DATACLASS_METHODS = {"__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__lt__", "__le__",
                     "__gt__", "__ge__", "__getstate__", "__setstate__", "__match_args__", "__replace__"}
BORROWED = "borrowed code: "  # starts the verdict of a test passed by code the notebook did not write
HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class created at run time (a class statement, type(...))
COMPILE_FLAGS = (0, __future__.annotations.compiler_flag)  # a cell may have turned `annotations` on


def fingerprint(code: types.CodeType) -> tuple:
    """What a code object computes, without where it stands: name, bytecode, names, constants."""
    constants = tuple(fingerprint(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts)
    return code.co_name, code.co_code, code.co_names, code.co_varnames, code.co_freevars, constants


def code_tree(code: types.CodeType) -> Iterable[types.CodeType]:
    """`code` and every code object nested in it (functions, classes, lambdas, comprehensions)."""
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from code_tree(constant)


def notebook_code(sources: list[str], transform: Callable[[str], str]) -> set[tuple]:
    """The fingerprints of every code object the code cells `sources` compile to (IPython syntax transformed
    by `transform`); a cell that does not compile adds nothing."""
    found = set()
    for source in sources:
        for flags in COMPILE_FLAGS:
            found |= {fingerprint(code) for unit in compiled(transform(source), flags) for code in code_tree(unit)}
    return found


def compiled(source: str, flags: int) -> list[types.CodeType]:
    """`source` compiled as one module, and each of its statements on its own, as IPython runs a cell: the bytecode
    of a function differs between the two where the cell imports a module the function uses (CPython 3.11 and
    later load an imported module's functions as attributes, not as methods)."""
    try:
        tree = ast.parse(source)
        units = [compile(source, "<cell>", "exec", flags=flags, dont_inherit=True)]
    except (SyntaxError, ValueError):
        return []
    for node in tree.body:
        pieces = [("exec", ast.Module([node], type_ignores=[]))]
        if isinstance(node, ast.Expr):  # IPython runs a cell's last expression in "single" mode, to show its value
            pieces.append(("single", ast.Interactive([node])))
        for mode, piece in pieces:
            try:
                units.append(compile(piece, "<cell>", mode, flags=flags, dont_inherit=True))
            except (SyntaxError, ValueError):  # a statement that compiles only beside the others (a __future__ import)
                pass
    return units


def graded_names(test_source: str, parts: set[str]) -> list[str]:
    """The names of the lab's parts (`parts`) that the test cell's code mentions, in order."""
    try:
        tree = ast.parse(test_source)
    except SyntaxError:
        return []
    names = [node.id for node in ast.walk(tree) if isinstance(node, ast.Name)]
    return sorted(set(names) & parts, key=names.index)


def part_names(reference: types.ModuleType) -> set[str]:
    """The functions and classes the lab's reference parts define (what the notebook must write itself)."""
    return {name for name, value in vars(reference).items()
            if (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ == reference.__name__}


def is_private(path: str | None) -> bool:
    return bool(path) and os.path.realpath(path).startswith(PRIVATE_DIR)


def is_library(path: str | None) -> bool:
    """True for a file of an installed library, the standard library or labkit (not the kit's private files)."""
    return bool(path) and os.path.isfile(path) and not is_private(path) \
        and os.path.realpath(path).startswith(LIBRARY_DIRS)


class Provenance:
    """Finds code a graded object uses that the notebook's own cells did not write."""

    def __init__(self, own: set[tuple], parts: set[str]):
        self.own, self.parts = own, parts

    def borrowed(self, namespace: dict, names: list[str]) -> str | None:
        """What the first of `names` (looked up in `namespace`) uses that the notebook did not write, or None."""
        for name in names:
            if name in namespace:
                found = self._foreign(namespace[name], set(), top=True)
                if found:
                    return f"{name} uses {found}"
        return None

    def _foreign(self, value, seen: set[int], top: bool = False) -> str | None:
        if id(value) in seen:
            return None
        seen.add(id(value))
        if isinstance(value, types.ModuleType):
            return f"module {value.__name__}, the grader's own code" if is_private(getattr(value, "__file__", None)) \
                or value.__name__.startswith(("autograder", "autograder_reference")) else None
        if isinstance(value, (staticmethod, classmethod)):
            return self._foreign(value.__func__, seen)
        if isinstance(value, property):
            return next((f for f in (self._foreign(g, seen) for g in (value.fget, value.fset) if g) if f), None)
        if inspect.isclass(value):
            return self._foreign_class(value, seen)
        if isinstance(value, types.FunctionType):
            return self._foreign_function(value, seen)
        if isinstance(value, (int, float, complex, str, bytes, bool, type(None))):
            return None
        for inner in (getattr(value, "func", None), getattr(value, "__wrapped__", None)):  # partial, lru_cache, ...
            if callable(inner):
                found = self._foreign(inner, seen)
                if found:
                    return found
        return self._foreign(type(value), seen)  # an instance: its class must be the notebook's or a library's

    def _foreign_class(self, cls: type, seen: set[int]) -> str | None:
        if not cls.__flags__ & HEAP_TYPE:  # built in or from a C extension: no Python code to borrow
            return None
        module = sys.modules.get(cls.__module__)
        if module is not None and module.__name__ != "__main__" and is_library(getattr(module, "__file__", None)) \
                and getattr(module, cls.__name__, None) is cls:
            return None
        generated = DATACLASS_METHODS if hasattr(cls, "__dataclass_fields__") else set()
        for base in cls.__bases__:
            found = self._foreign(base, seen)
            if found:
                return f"base class {base.__qualname__} ({found})"
        for name, member in vars(cls).items():
            if name in generated:
                continue
            found = self._foreign(member, seen)
            if found:
                return found
        return None

    def _foreign_function(self, function: types.FunctionType, seen: set[int]) -> str | None:
        code = function.__code__
        if is_library(code.co_filename):
            inner = [cell.cell_contents for cell in function.__closure__ or () if _filled(cell)]
            return next((f for f in (self._foreign(v, seen) for v in inner) if f), None)  # e.g. a decorator's target
        if is_private(code.co_filename):
            return f"{function.__qualname__} from {os.path.relpath(code.co_filename, layout.KIT_DIR)}, the grader's code"
        if any(fingerprint(c) not in self.own for c in code_tree(code)):
            where = code.co_filename if code.co_filename.startswith("<") else os.path.basename(code.co_filename)
            return f"{function.__qualname__}, whose code no cell of this notebook holds (it came from {where})"
        names = {name for c in code_tree(code) for name in c.co_names}
        reached = [function.__globals__[n] for n in sorted(names) if n in function.__globals__ and n not in self.parts]
        reached += [cell.cell_contents for cell in function.__closure__ or () if _filled(cell)]
        reached += list(function.__defaults__ or ())
        return next((f for f in (self._foreign(v, seen) for v in reached) if f), None)


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True
