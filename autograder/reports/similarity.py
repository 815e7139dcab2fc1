"""Similar submissions, for the instructor's report: copydetect over each student's code cells, the
released notebook's code as boilerplate (so the skeleton everyone was given does not count)."""

from __future__ import annotations

import html
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder.core import layout, notebooks
from labkit import config

THRESHOLD = 0.5  # a pair is listed when this share of either one's own code is found in the other's
HIGHLIGHT = re.compile(r"<span class='highlight-red'>(.*?)</span>", re.S)


@dataclass(frozen=True)
class Pair:
    """Two submissions that share code: the share of each one's own code found in the other's, the lines."""

    first: str
    second: str
    similarity: tuple[float, float]
    shared: list[str]


def code_of(notebook) -> str:
    """The code cells of a notebook, one after another."""
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code") + "\n"


def shared_lines(highlighted: str) -> list[str]:
    """The lines copydetect marked as shared in its highlighted (HTML) code, in order, without blanks."""
    text = "\n".join(html.unescape(match) for match in HIGHLIGHT.findall(highlighted))
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def similar_files(codes: dict[str, str], boilerplate: str, threshold: float = THRESHOLD) -> list[Pair]:
    """Pairs of `codes` (name -> Python source) sharing more than `threshold` of either one's code beyond
    `boilerplate`, most similar first."""
    import copydetect

    with tempfile.TemporaryDirectory(prefix="course-similarity-") as folder:
        code_dir, boiler_dir = Path(folder, "code"), Path(folder, "boilerplate")
        code_dir.mkdir()
        boiler_dir.mkdir()
        for name, code in codes.items():
            (code_dir / f"{name}.py").write_text(code, encoding="utf-8")
        (boiler_dir / "released.py").write_text(boilerplate, encoding="utf-8")
        detector = copydetect.CopyDetector(
            test_dirs=[str(code_dir)], ref_dirs=[str(code_dir)], boilerplate_dirs=[str(boiler_dir)],
            extensions=["py"], display_t=threshold, autoopen=False, silent=True, force_language="python")
        detector.run()
        found = detector.get_copied_code_list() if len(codes) > 1 else []
    pairs = [Pair(Path(first).stem, Path(second).stem, (float(first_share), float(second_share)),
                  shared_lines(highlighted))
             for first_share, second_share, first, second, highlighted, *_ in found]
    return sorted(pairs, key=lambda pair: -max(pair.similarity))


def similar_submissions(course: config.Course, lab_id: str, threshold: float = THRESHOLD) -> list[Pair]:
    """The lab's pairs of similar submissions (unreadable notebooks are left out; the report names them)."""
    codes = {}
    for student in layout.students(course, lab_id):
        try:
            codes[student] = code_of(notebooks.read(layout.notebook_path(course, layout.SUBMITTED, lab_id, student)))
        except notebooks.NotebookError:
            continue
    release = layout.release_notebook(course, lab_id)
    boilerplate = code_of(notebooks.read(release)) if release.is_file() else ""
    return similar_files(codes, boilerplate, threshold)
