"""`course report`: per lab a grade CSV, plots, one self-contained HTML page and Gradescope results; the LMS CSV."""

from __future__ import annotations

import base64
import html
import io
import math
import statistics
from pathlib import Path

from autograder.core import layout
from autograder.core.notebooks import GradedTest
from autograder.core.errors import ReportError
from autograder.feedback.leaks import private_text
from autograder.reports import csvs, gradescope, lms, plots, similarity, students
from autograder.reports.htmlpage import STYLE, table
from autograder.reports.records import Record, graded_labs, lab_results
from labkit import config


def save(fig, path: Path) -> bytes:
    """Save `fig` as a PNG at `path`, close it, and return the PNG's bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plots.plt.close(fig)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def image(png: bytes, alt: str) -> str:
    """An <img> with the PNG embedded as a base64 data URI."""
    return f'<img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}" alt="{html.escape(alt)}">'


def number(value: float, spec: str) -> str:
    """`value` formatted with `spec`, or '-' when it is NaN (no graded submission)."""
    return "-" if math.isnan(value) else format(value, spec)


def overview(records: list[Record], lab: config.LabConfig) -> str:
    """The headline numbers: students, graded, mean and median final score, late submissions."""
    finals = sorted(r.final for r in records if r.graded)
    late = [r for r in records if r.graded and r.seconds_late > 0]
    mean = f"{sum(finals) / len(finals):.1f}" if finals else "-"
    median = f"{statistics.median(finals):g}" if finals else "-"
    due = f"due {lab.due}, late penalty {lab.late_penalty:.0%} of the points per started day" if lab.due else "no due date"
    waiting = sum(r.waiting for r in records)
    return (f"<p>{len(records)} submission(s), {len(finals)} graded, {len(records) - len(finals)} not graded"
            + (f", {waiting} of them waiting for a manual grade (their scores will change)" if waiting else "")
            + f"; mean final score {mean} and median {median} of {lab.points:g}; {len(late)} late "
            f"({html.escape(due)}).</p>")


def not_graded_section(records: list[Record]) -> str:
    """The submissions that could not be graded, and why."""
    missing = [r for r in records if not r.graded]
    if not missing:
        return "<p>Every submission was graded.</p>"
    return table(["student", "status", "why"], [[r.student, r.status, "; ".join(r.problems) or "-"] for r in missing])


def manual_section(records: list[Record], tests: list[GradedTest]) -> str:
    """The cells scored by hand, and the graded submissions that still wait for their manual grade."""
    manual = [t for t in tests if t.manual]
    if not manual:
        return "<p>This lab has no manually graded cells.</p>"
    cells = ", ".join(f"{t.grade_id} ({t.points:g})" for t in manual)
    waiting = [r for r in records if r.waiting]
    intro = (f"<p>Written answers and tasks scored by hand, {sum(t.points for t in manual):g} points: "
             f"{html.escape(cells)}. Score them in nbgrader's Formgrader (<code>nbgrader formgrader</code>, or "
             f"Formgrader in JupyterLab, in the course folder), then run <code>course report</code> again.</p>")
    if not waiting:
        return intro + "<p>Every graded submission has its manual grade.</p>"
    return intro + f"<p>{len(waiting)} graded submission(s) wait for a manual grade:</p>" + table(
        ["student", "not scored yet", "manual points so far", "score so far"],
        [[r.student, ", ".join(r.pending), f"{r.manual_points:g}", f"{r.final:g}"] for r in waiting], numeric={2, 3})


def late_section(records: list[Record]) -> str:
    """Late submissions: hours late, penalty and final score."""
    late = [r for r in records if r.graded and r.seconds_late > 0]
    if not late:
        return "<p>No late submission.</p>"
    return table(["student", "hours late", "score", "late penalty", "final"],
                 [[r.student, f"{r.seconds_late / 3600:.1f}", f"{r.total:g}", f"{r.late_penalty:g}", f"{r.final:g}"]
                  for r in late], numeric={1, 2, 3, 4})


def similarity_section(pairs: list[similarity.Pair], threshold: float, shown: int = 12) -> str:
    """Pairs of similar submissions with the lines they share (the first `shown` of each), for the instructor."""
    intro = (f"<p>For the instructor only: pairs of submissions sharing more than {threshold:.0%} of either one's "
             f"code beyond the released notebook (copydetect). Similar code is a reason to look, not proof of "
             f"copying: read the lines.</p>")
    if not pairs:
        return intro + "<p>No pair above the threshold.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(pair.first)}</td><td>{html.escape(pair.second)}</td>"
        f"<td class=number>{pair.similarity[0]:.0%}</td><td class=number>{pair.similarity[1]:.0%}</td>"
        f"<td><pre>{html.escape(chr(10).join(pair.shared[:shown]))}"
        f"{html.escape(chr(10) + f'... and {len(pair.shared) - shown} more lines') if len(pair.shared) > shown else ''}"
        f"</pre></td></tr>" for pair in pairs)
    head = "".join(f"<th>{name}</th>" for name in ("student", "student", "share of the first's code",
                                                    "share of the second's code", "shared lines"))
    return intro + f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def page(course: config.Course, lab_id: str, records: list[Record], tests: list[GradedTest], summary,
         images: dict[str, bytes], similar: str = "") -> str:
    """The whole report as one HTML page with every image embedded (`similar`: the similarity section)."""
    lab = course.lab(lab_id)
    title = html.escape(f"{course.course.title or course.course.id}: {lab_id} ({lab.title})")
    per_test = table(["test", "points", "mean score", "pass rate"],
                     [[t.test, f"{t.points:g}", number(t.mean, ".2f"), number(t.pass_rate, ".0%")]
                      for t in summary.itertuples()], numeric={1, 2, 3})
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="icon" href="data:,"><style>{STYLE}</style></head>
<body>
<h1>{title}</h1>
{overview(records, lab)}
<h2>Score distribution</h2>
{image(images["score_distribution"], "histogram of the final scores")}
<h2>Graded tests and cells</h2>
{image(images["per_test"], "mean score and pass rate per graded test")}
{per_test}
<h2>Students and tests</h2>
{image(images["heatmap"], "heatmap of the fraction of each test's points per student")}
<h2>Graded by hand</h2>
{manual_section(records, tests)}
<h2>Not graded</h2>
{not_graded_section(records)}
<h2>Late submissions</h2>
{late_section(records)}
<h2>Grading time</h2>
{image(images["grading_time"], "seconds of grading per submission")}
<h2>Similar submissions</h2>
{similar}
</body></html>
"""


def write_lab(course: config.Course, lab_id: str, echo=print, threshold: float = similarity.THRESHOLD) -> Path:
    """reports/<lab>/: grades.csv, the plots as PNG, report.html (with the pairs of submissions sharing more than
    `threshold` of their code) and gradescope/; return the HTML path."""
    results = lab_results(course, lab_id)
    folder = course.root / layout.REPORTS / lab_id
    folder.mkdir(parents=True, exist_ok=True)
    csvs.write_lab_csv(results, csvs.default_path(course, lab_id), echo)
    summary = plots.test_summary(results.records, results.tests)
    figures = {"score_distribution": plots.score_distribution(results.records, course.lab(lab_id).points),
               "per_test": plots.per_test(summary), "heatmap": plots.heatmap(results.records, results.tests),
               "grading_time": plots.grading_time(results.records)}
    images = {name: save(fig, folder / f"{name}.png") for name, fig in figures.items()}
    path = folder / "report.html"
    pairs = similarity.similar_submissions(course, lab_id, threshold)
    similar = similarity_section(pairs, threshold)
    path.write_text(page(course, lab_id, results.records, results.tests, summary, images, similar), encoding="utf-8")
    gradescope.write(results, private_text(course, lab_id), folder / "gradescope", echo)
    echo(f"{lab_id}: report -> {path} ({len(pairs)} pair(s) of similar submissions listed)")
    return path


def write(course: config.Course, lab_id: str | None = None, echo=print,
          threshold: float = similarity.THRESHOLD) -> list[Path]:
    """Report `lab_id` (or every lab graded so far), write the LMS CSV and the students' pages (every graded lab);
    return the labs' HTML paths."""
    labs = [lab_id] if lab_id else graded_labs(course)
    if not labs:
        raise ReportError(f"no lab of {course.root / config.CONFIG_NAME} has been graded yet: "
                          f"run `course autograde <lab>` first")
    pages = [write_lab(course, lab, echo, threshold) for lab in labs]
    csvs.write_course_csv(course, echo=echo)
    students.write(course, echo)
    lms.write(course, echo)  # last: a broken class list stops here, with every other file written
    return pages
