"""nbgrader's Execute preprocessor, watching for a grading kernel that dies.

nbgrader gives up on a notebook whose kernel died and keeps nothing of it. Here the cell the kernel
died in, and every code cell after it, gets an error output instead (so nbgrader scores the tests that
ran before the death and every later test 0), and what the grader needs to name the cause (the cell,
the kernel's exit status) goes to the file named by $COURSE_KERNEL_DEATH, in a folder the kernel
cannot see.
"""

from __future__ import annotations

import json
import os
import subprocess

from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import default

from autograder.core import notebooks
from autograder.core.kernel_env import DEATH_RECORD
from autograder.grading.outputs import DIED, NOT_RUN


def cell_name(cell, index: int) -> str:
    """A cell as the grader names it: its grade_id, else #index."""
    return notebooks.nbgrader_meta(cell).get("grade_id") or f"#{index}"


def error_output(name: str, text: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=name, evalue=text, traceback=[f"{name}: {text}"])


class WatchedExecute(Execute):
    """Execute, except that a dead kernel ends the run with every remaining code cell marked, not the notebook lost,
    and that the kernel is killed when the notebook has run (a grading kernel has nothing to save: a graceful
    shutdown only risks a kernel that does not exit, and nbclient's 5 s wait for it)."""

    @default("shutdown_kernel")
    def _kill_when_done(self) -> str:
        return "immediate"

    def preprocess(self, nb, resources=None, km=None):
        self.death: dict | None = None
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if self.death is not None:
            if cell.cell_type == "code":
                cell.outputs = [error_output(NOT_RUN, f"not run: the kernel died in cell {self.death['cell']}")]
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self.death = {"cell": cell_name(cell, index), "index": index, "status": self.kernel_status()}
            self.record()
            cell.outputs.append(error_output(DIED, "the kernel died while this cell ran"))
            return cell, self.resources

    def kernel_status(self) -> int | None:
        """The dead kernel's exit status (negative: the signal that killed it), or None when it cannot be read."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        try:
            return process.wait(timeout=10) if process is not None else None
        except (subprocess.TimeoutExpired, OSError):
            return None

    def record(self) -> None:
        path = os.environ.get(DEATH_RECORD)
        if path:
            with open(path, "w", encoding="utf-8") as f:
                json.dump(self.death, f)
