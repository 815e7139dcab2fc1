"""What must not reach students: the text of the hidden tests, the kit's checks and the reference code.

A failed test's message (from the clean re-run, autograder/sandbox/verify.py) is shown in feedback only when
no run of WINDOW characters of it appears in that private text (its string and number literals left
out: messages quote those) and not in the text the students were given.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from autograder.core import layout, modules, notebooks
from labkit import config

WINDOW = 40  # characters: long enough that kit messages and student code never match by chance
WITHHELD = ("(its message is withheld: it holds text of the grader's private files; run the visible checks in "
            "your notebook to see what is wrong)")
SPACE = re.compile(r"\s+")


def squeeze(text: str) -> str:
    return SPACE.sub(" ", text)


def without_literals(code: str) -> str:
    """Python `code` with its string and number literals emptied, the rest as written: the checks' messages
    and the values they expect are meant to be shown."""
    kinds = {tokenize.STRING, tokenize.NUMBER} | ({tokenize.FSTRING_MIDDLE} if hasattr(tokenize, "FSTRING_MIDDLE") else set())
    starts = [0]
    for line in io.StringIO(code):  # the lines tokenize reads: split at "\n" only (not at form feeds)
        starts.append(starts[-1] + len(line))
    offset = lambda row, column: starts[row - 1] + column  # noqa: E731
    try:
        spans = [(offset(*t.start), offset(*t.end)) for t in tokenize.generate_tokens(io.StringIO(code).readline)
                 if t.type in kinds]
    except (tokenize.TokenError, SyntaxError):
        return code
    for start, end in reversed(spans):
        code = code[:start] + code[end:]
    return code


def module_file(name: str) -> Path:
    """The source file of the kit's module `name` (found without importing it)."""
    return layout.KIT_DIR.joinpath(*name.split(".")).with_suffix(".py")


def check_files(lab_id: str) -> list[Path]:
    """The kit's code the lab's checks run: its checks module and the helpers every check uses."""
    return [module_file(name) for name in (modules.lab_checks(lab_id), *modules.CHECK_HELPERS)]


@dataclass(frozen=True)
class PrivateText:
    """A lab's private text and the text its students are given, whitespace squeezed."""

    private: str
    visible: str

    def leaks(self, message: str) -> bool:
        """True when a WINDOW-character run of `message` is private and not given to students."""
        text = squeeze(message)
        return any((window := text[i:i + WINDOW]) in self.private and window not in self.visible
                   for i in range(max(len(text) - WINDOW + 1, 0)))

    def clean(self, message: str) -> str:
        return WITHHELD if self.leaks(message) else message


@cache
def _private_text(root: Path, lab_id: str) -> PrivateText:
    course = config.load(root)
    source = notebooks.read(layout.source_notebook(course, lab_id))
    private = [path.read_text(encoding="utf-8") for path in check_files(lab_id) if path.is_file()]
    private = [without_literals(code) for code in (*private, notebooks.reference_source(source),
                                                   notebooks.hidden_tests(source))]
    release = layout.release_notebook(course, lab_id)
    visible = [cell.source for cell in notebooks.read(release).cells] if release.is_file() else []
    return PrivateText(squeeze("\n".join(private)), squeeze("\n".join(visible)))


def private_text(course: config.Course, lab_id: str) -> PrivateText:
    """The private and the given text of `lab_id` in `course` (read once per process)."""
    return _private_text(course.root, lab_id)
