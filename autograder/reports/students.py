"""`course report`'s page per student across every graded lab, reports/students/<login>.html, and their index."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from autograder.core import layout
from autograder.core.notebooks import GradedTest
from autograder.feedback.leaks import PrivateText, private_text
from autograder.grading.outcome import Outcome
from autograder.reports.gradescope import test_output
from autograder.reports.htmlpage import document, table
from autograder.reports.records import LabResults, Record, graded_labs, lab_results
from labkit import config

FOLDER = "students"
INDEX = "index.html"
NO_SUBMISSION = "no submission"


@dataclass(frozen=True)
class LabView:
    """A lab of course.toml, its results (None while nothing is graded) and the leak filter of its feedback."""

    lab: config.LabConfig
    results: LabResults | None = None
    private: PrivateText | None = None

    def find(self, student: str) -> tuple[Record | None, Outcome | None]:
        """The student's record and grading outcome in this lab, (None, None) without a submission."""
        if self.results is None:
            return None, None
        record = next((r for r in self.results.records if r.student == student), None)
        return record, self.results.outcomes.get(student)


def lab_views(course: config.Course) -> list[LabView]:
    """Every lab of course.toml in order, with its results and leak filter where something is graded."""
    graded = set(graded_labs(course))
    return [LabView(lab, lab_results(course, lab_id), private_text(course, lab_id)) if lab_id in graded
            else LabView(lab) for lab_id, lab in course.labs.items()]


def logins(labs: list[LabView]) -> list[str]:
    """The students with a submission in any lab, sorted by login."""
    return sorted({r.student for view in labs if view.results for r in view.results.records})


def file_name(login: str) -> str:
    """<login>.html, any character outside letters, digits and '_.-~' percent-encoded (and 'index' kept apart)."""
    name = quote(login, safe="")
    return ("%69" + name[1:] if name == "index" else name) + ".html"


def href(login: str) -> str:
    """The link from the index to the student's page, escaped for an HTML attribute."""
    return html.escape(quote(file_name(login)))


def cleaned(lines: list[str], private: PrivateText) -> list[str]:
    """`lines` through the feedback's leak filter: each one that quotes the grader's private text withheld."""
    return [private.clean(line) for line in lines]


def status(record: Record, outcome: Outcome | None, private: PrivateText) -> str:
    """'graded', or 'not graded' / 'needs regrading' / 'not in gradebook' with why."""
    if record.graded:
        return "graded"
    state = "needs regrading" if outcome is not None and outcome.needs_regrading else record.status
    return f"{state}: " + "; ".join(cleaned(record.problems, private) or ["no result in the gradebook"])


def points_of(tests: list[GradedTest], manual: bool) -> float:
    """The points of the manually graded cells (or of the autograded tests) among `tests`."""
    return sum(t.points for t in tests if t.manual == manual)


def manual_cell(record: Record, tests: list[GradedTest]) -> str:
    """Manual points so far of the manual points, and the written cells still waiting for a manual grade."""
    possible = points_of(tests, manual=True)
    if not possible:
        return "none in this lab"
    waiting = f"; not scored yet: {', '.join(record.pending)}" if record.pending else ""
    return f"{record.manual_points:g} of {possible:g}{waiting}"


def late_cell(record: Record) -> str:
    """The points lost to the late penalty and how late the submission was, or 'on time'."""
    if record.seconds_late <= 0:
        return "on time"
    return f"{record.late_penalty:g} ({record.seconds_late / 3600:.1f} h late)"


def summary(record: Record, tests: list[GradedTest]) -> str:
    """One row: status, autograded points, manual points, late penalty and final score of a graded record."""
    final = f"{record.final:g} of {record.max_score:g}" + (" (will change: manual grading pending)"
                                                            if record.waiting else "")
    return table(["status", "autograded", "graded by hand", "late penalty", "final score"],
                 [["graded", f"{record.autograded:g} of {points_of(tests, manual=False):g}",
                   manual_cell(record, tests), late_cell(record), final]])


def score_cell(record: Record, test: GradedTest) -> str:
    """The points the test or cell earned, '-' when the gradebook has none."""
    score = record.scores.get(test.grade_id)
    return "-" if score is None else f"{score:g}"


def tests_table(record: Record, view: LabView, outcome: Outcome | None) -> str:
    """Every graded test and written cell: points earned, possible, and what the student's feedback says."""
    # gradescope.test_output: the feedback's verdict with the message through the feedback's leak filter
    rows = [[test.grade_id + (" (graded by hand)" if test.manual else ""), score_cell(record, test), f"{test.points:g}",
             test_output(record, test, outcome, view.private)] for test in view.results.tests]
    return table(["test or written cell", "points", "possible", "what the student's feedback says"], rows,
                 numeric={1, 2})


def notes(record: Record, outcome: Outcome | None, private: PrivateText) -> str:
    """What was repaired in the notebook before grading, and the problems grading noted, as paragraphs."""
    lines = [("Repaired before grading", outcome.repairs if outcome else []),
             ("Noted while grading", record.problems if record.graded else [])]
    return "".join(f"<p>{label}: {html.escape('; '.join(cleaned(items, private)))}.</p>"
                   for label, items in lines if items)


def lab_section(view: LabView, student: str) -> str:
    """The student's section for one lab: 'no submission', why it is not graded, or the scores and tests."""
    heading = f"<h2>{html.escape(f'{view.lab.id}: {view.lab.title}')}</h2>\n"
    record, outcome = view.find(student)
    if record is None:
        return heading + f"<p>{NO_SUBMISSION}</p>"
    noted = notes(record, outcome, view.private)
    if not record.graded:
        return heading + f"<p>{html.escape(status(record, outcome, view.private))}</p>" + noted
    return heading + summary(record, view.results.tests) + noted + tests_table(
        record, view, outcome, )


def page(course_title: str, student: str, labs: list[LabView]) -> str:
    """The student's page: one section per lab of the course."""
    body = f'<p><a href="{INDEX}">All students</a></p>\n' + "\n".join(
        lab_section(view, student) for view in labs)
    return document(f"{course_title}: {student}", body)


def index(course_title: str, students: list[str]) -> str:
    """The index: a link to every student's page, sorted by login."""
    items = "".join(f'<li><a href="{href(s)}">{html.escape(s)}</a></li>' for s in sorted(students))
    return document(f"{course_title}: students", f"<p>{len(students)} student(s).</p>\n<ul>{items}</ul>")


def write(course: config.Course, echo=print) -> Path:
    """reports/students/: one page per student with a submission in any graded lab, and index.html; return its path."""
    labs, title = lab_views(course), course.course.title or course.course.id
    folder = course.root / layout.REPORTS / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    students = logins(labs)
    for student in students:
        (folder / file_name(student)).write_text(page(title, student, labs),
                                                 encoding="utf-8")
    path = folder / INDEX
    path.write_text(index(title, students), encoding="utf-8")
    echo(f"students: {len(students)} page(s) -> {path}")
    return path
