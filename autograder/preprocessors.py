"""nbgrader preprocessors of the kit: feedback that shows a hidden test's verdict, not its code."""

from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor

from autograder import notebooks

HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)
PLACEHOLDER = "# (hidden test: its code is not shown; its result is below)\n"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class HideHiddenTests(NbGraderPreprocessor):
    """In graded test cells, replace hidden-test code by a placeholder and errors by their last line."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and notebooks.nbgrader_meta(cell).get("grade"):
            cell.source = HIDDEN_REGION.sub(PLACEHOLDER, cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output['ename']}: {ANSI.sub('', output['evalue'])}"]
        return cell, resources
