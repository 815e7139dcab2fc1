"""`course report` on the graded demo class: CSVs and Gradescope results agree with nbgrader's gradebook,
the late penalty is nbgrader's, and report.html shows every plot in a real headless browser."""

import csv
import html
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

import browser
from autograder import cli
from autograder import demo
from autograder.core import layout
from autograder.core import notebooks
from autograder.core import process
from autograder.grading import latepenalty
from autograder.grading.outcome import load_status
from autograder.reports import gradescope, records
from labkit import config

pytestmark = pytest.mark.slow  # runs nbgrader, notebooks or training: not in the fast layer

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def gradebook(course: config.Course) -> Gradebook:
    return Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", course.course.id)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def gradebook_finals(course: config.Course, lab: str) -> dict[str, float]:
    """student -> autograded score minus late penalty, straight from the gradebook."""
    with gradebook(course) as gb:
        return {s.student.id: s.score - s.late_submission_penalty for s in gb.find_assignment(lab).submissions}


def not_graded(course: config.Course, lab: str) -> set[str]:
    return {name for name, outcome in load_status(course, lab).items() if not outcome.graded}


def test_lms_csv_holds_the_gradebooks_final_scores(graded):
    """Does reports/course-grades.csv give every student each lab's gradebook score minus late penalty (manual
    points included: none are given in the demo)?"""
    course, _, _ = graded
    rows = read_csv(course.root / "reports" / "course-grades.csv")
    assert list(rows[0]) == ["student_id", *course.labs, "manual_grading_pending"]
    by_student = {row["student_id"]: row for row in rows}
    checked = 0
    for lab in course.labs:
        finals = gradebook_finals(course, lab)
        for student, final in finals.items():
            if student in not_graded(course, lab):
                assert by_student[student][lab] == ""
            else:
                assert float(by_student[student][lab]) == pytest.approx(final), (lab, student)
                checked += 1
        assert {s for s, row in by_student.items() if row[lab] != ""} == set(finals) - not_graded(course, lab)
    assert checked >= 4 * len(course.labs)


def test_lab_csv_shows_total_penalty_and_final(graded):
    """Does each reports/<lab>/grades.csv hold the gradebook's per-test scores, total, penalty and final score?"""
    course, _, _ = graded
    for lab in course.labs:
        rows = {row["student"]: row for row in read_csv(course.root / "reports" / lab / "grades.csv")}
        with gradebook(course) as gb:
            for submission in gb.find_assignment(lab).submissions:
                row = rows[submission.student.id]
                if row["status"] != "graded":
                    continue
                for grade_ in gb.find_submission_notebook(lab, lab, submission.student.id).grades:
                    assert float(row[grade_.name]) == grade_.score
                assert float(row["total"]) == submission.score
                assert float(row["late_penalty"]) == submission.late_submission_penalty
                assert float(row["final"]) == submission.score - submission.late_submission_penalty


@pytest.fixture(scope="module")
def late_students(graded) -> dict[str, str]:
    """lab -> the demo student who submitted it late."""
    course, _, _ = graded
    late = {lab: demo.late_student(lab) for lab in course.labs}
    assert all(late.values())
    return late


def test_late_submission_loses_the_configured_fraction(graded, late_students):
    """Does nbgrader's autograde, with the kit's plugin, take late_penalty x points per started day late
    from the late student (30 h: two days) and nothing from the students who were on time?"""
    course, _, _ = graded
    for lab, late in late_students.items():
        settings = course.lab(lab)
        assert settings.due and settings.late_penalty > 0
        with gradebook(course) as gb:
            assignment = gb.find_assignment(lab)
            assert assignment.duedate == settings.due_utc.replace(tzinfo=None)
            penalties = {s.student.id: s.late_submission_penalty for s in assignment.submissions}
            late_submission = gb.find_submission(lab, late)
            assert late_submission.total_seconds_late == demo.LATE.total_seconds()
            assert late_submission.score > 2 * settings.late_penalty * settings.points  # not capped at the score
        assert penalties[late] == pytest.approx(2 * settings.late_penalty * settings.points), lab
        assert all(penalty == 0 for student, penalty in penalties.items() if student != late), penalties


def test_days_late_counts_started_days():
    """Is one second late a day, a day exactly still one, and a second more two?"""
    assert [latepenalty.days_late(s) for s in (0, 1, 86400, 86401, 3 * 86400)] == [0, 1, 1, 2, 3]


def autograded_errors(course: config.Course, lab: str, student: str) -> dict[str, list[tuple[str, str]]]:
    """grade_id -> the errors (name, value) nbgrader recorded in each graded test cell of the autograded notebook."""
    nb = notebooks.read(layout.notebook_path(course, layout.AUTOGRADED, lab, student))
    return {notebooks.nbgrader_meta(c)["grade_id"]: [(o["ename"], o["evalue"]) for o in c.outputs
                                                     if o.output_type == "error"]
            for c in nb.cells if c.cell_type == "code" and notebooks.nbgrader_meta(c).get("grade")}


def test_gradescope_results_match_the_gradebook(graded):
    """Does every results.json parse, in Gradescope's format, with the gradebook's scores and the failure
    message of the kit's check (never the hidden test's code, never what student code raised)?"""
    course, outcomes, _ = graded
    failures_seen = 0
    for lab in course.labs:
        tests = {t.grade_id: t for t in records.graded_cells(course, lab)}
        finals = gradebook_finals(course, lab)
        for student, outcome in outcomes[lab].items():
            results = json.loads((course.root / "reports" / lab / "gradescope" / student / "results.json").read_text())
            assert set(results) == {"score", "execution_time", "output", "tests"}
            assert results["execution_time"] == round(outcome.seconds)
            if not outcome.graded:
                assert results["score"] == 0 and results["tests"] == [] and outcome.problems[0] in results["output"]
                continue
            assert results["score"] == pytest.approx(finals[student])
            with gradebook(course) as gb:
                grades = {g.name: (g.score, g.max_score) for g in gb.find_submission_notebook(lab, lab, student).grades}
            assert [t["name"].removesuffix(" (graded by hand)") for t in results["tests"]] == list(tests)
            errors = autograded_errors(course, lab, student)
            for number, test in enumerate(results["tests"], start=1):
                assert set(test) == {"name", "number", "score", "max_score", "output", "visibility"}
                assert test["number"] == str(number) and test["visibility"] in VISIBILITIES
                name = test["name"].removesuffix(" (graded by hand)")
                assert (test["score"], test["max_score"]) == grades[name]
                if tests[name].manual:
                    assert test["name"].endswith(" (graded by hand)")
                    assert test["output"] in (gradescope.MANUAL_PENDING, f"Graded by hand: {test['score']:g}/"
                                                                         f"{test['max_score']:g}."), test
                elif test["score"] < test["max_score"]:
                    assert test["output"].startswith(f"FAILED: {test['score']:g}/{test['max_score']:g} points. "), test
                    for name, value in errors[test["name"]]:
                        assert (value[:200] if name == "AssertionError" else "raised while the test ran your code") \
                            in test["output"], test
                    assert tests[test["name"]].source.strip() not in test["output"]
                    assert "BEGIN HIDDEN TESTS" not in test["output"] and "autograder.checks" not in test["output"]
                    failures_seen += 1
                else:
                    assert test["output"] == ""
    assert failures_seen >= len(course.labs)


def test_gradescope_output_is_the_recorded_message(graded):
    """Is a failed test's output its verdict with the check's message (lab 1, stride on the 3x3)?"""
    course, _, _ = graded
    results = json.loads((course.root / "reports" / "lab1" / "gradescope" / "stride_on_3x3" / "results.json").read_text())
    test = next(t for t in results["tests"] if t["name"] == "resblock_downsample_stride_position")
    assert test["score"] == 0
    assert test["output"].startswith("FAILED: 0/5 points. AssertionError: ")
    assert "stride 2 on the first 1x1 convolution" in test["output"]
    assert "late penalty 34 points, final score 101/170" in results["output"]


class Tables(HTMLParser):
    """Every <table>'s rows as lists of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def test_report_page_states_the_gradebooks_numbers(graded):
    """Does report.html give each test's mean score and pass rate as the gradebook has them, and list the
    submissions that were not graded with the reason?"""
    course, outcomes, _ = graded
    for lab in course.labs:
        page = (course.root / "reports" / lab / "report.html").read_text()
        parser = Tables()
        parser.feed(page)
        per_test = next(t for t in parser.tables if t[0][:2] == ["test", "points"])
        graded_students = [s for s, o in outcomes[lab].items() if o.graded]
        with gradebook(course) as gb:
            scores = {s: {g.name: (g.score, g.max_score) for g in gb.find_submission_notebook(lab, lab, s).grades}
                      for s in graded_students}
        for name, points, mean, pass_rate in per_test[1:]:
            grades = [scores[s][name] for s in graded_students]
            assert float(mean) == pytest.approx(sum(score for score, _ in grades) / len(grades), abs=0.005)
            passed = sum(score >= max_score for score, max_score in grades) / len(grades)
            assert pass_rate == f"{passed:.0%}", (lab, name)
        assert [row[0] for row in per_test[1:]] == records.test_ids(course, lab)
        missing = next(t for t in parser.tables if t[0] == ["student", "status", "why"])
        assert {row[0] for row in missing[1:]} == not_graded(course, lab) and "corrupt_file" in not_graded(course, lab)
        assert all(row[2] == "; ".join(outcomes[lab][row[0]].problems) for row in missing[1:])


def test_report_shows_every_plot_in_a_browser(graded, chromium):
    """Does each report.html load in headless chromium, show all its plots (embedded, no other file) and log no error?"""
    course, _, _ = graded
    for lab in course.labs:
        folder = course.root / "reports" / lab
        page = browser.check_page(chromium, folder / "report.html")
        assert page.problems == [], (lab, page.problems)
        assert len(page.images) == 4 and all(i["src"].startswith("data:image/png;base64,") for i in page.images)
        for name in ("score_distribution", "per_test", "heatmap", "grading_time"):
            assert (folder / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


GOOD_IMAGE = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.mark.parametrize("body, expected", [
    (f'<img src="data:image/png;base64,{GOOD_IMAGE}" alt="dot">', None),
    ('<img src="data:image/png;base64,AAAAAAAA" alt="corrupt">', "image 'corrupt' not shown"),
    ('<img src="missing.png" alt="missing">', "image 'missing' not shown"),
    (f'<img src="data:image/png;base64,{GOOD_IMAGE}" alt="dot"><script>plotAll();</script>',
     "console error: ReferenceError: plotAll is not defined"),
    ('<script>console.error("no data for the heatmap")</script>', "console error: no data for the heatmap"),
], ids=["good", "corrupt-image", "missing-image", "script-error", "console-error"])
def test_browser_check_catches_a_broken_page(chromium, tmp_path, body, expected):
    """Does the browser check pass a good page and fail one with a broken image or a script error?"""
    path = tmp_path / "page.html"
    path.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>'
                    f"<body>{body}</body></html>")
    problems = browser.check_page(chromium, path).problems
    if expected is None:
        assert problems == []
    else:
        assert any(expected in problem for problem in problems), problems


def test_demo_prints_where_the_reports_are(graded):
    """Does the demo end by naming each lab's report.html and the LMS CSV, all written?"""
    course, _, lines = graded
    (reports,) = [line for line in lines if line.startswith("reports: ")]
    pages = [Path(p) for p in reports.removeprefix("reports: ").split(", ")]
    assert pages == [course.root / "reports" / lab / "report.html" for lab in course.labs]
    assert all(page.is_file() for page in pages)
    assert any(line.endswith(str(course.root / "reports" / "course-grades.csv")) for line in lines)


def test_course_report_writes_every_graded_lab(graded, tmp_path, capsys):
    """Does `course report` with no lab rewrite every lab's report, the LMS CSV and the students' pages in a graded
    course?"""
    course, _, _ = graded
    copy = tmp_path / "course"
    shutil.copytree(course.root, copy, ignore=shutil.ignore_patterns("feedback", "reports"))
    assert cli.main(["--root", str(copy), "report"]) == 0
    out = capsys.readouterr().out
    for lab in course.labs:
        assert f"{lab}: report -> {copy / 'reports' / lab / 'report.html'}" in out
        assert (copy / "reports" / lab / "gradescope" / "correct" / "results.json").is_file()
    assert read_csv(copy / "reports" / "course-grades.csv") == read_csv(course.root / "reports" / "course-grades.csv")
    assert {"index.html", "correct.html", "corrupt_file.html"} <= {
        page.name for page in (copy / "reports" / "students").iterdir()}


def test_report_before_grading_says_what_to_run(kit, tmp_path, capsys, monkeypatch):
    """Does `course report` say to build first without a gradebook, and to autograde when a lab has no grades?"""
    monkeypatch.setenv("PATH", process.tool_env()["PATH"])  # a new gradebook runs alembic
    shutil.copy(kit.root / "course.toml", tmp_path)
    assert cli.main(["--root", str(tmp_path), "report", "lab1"]) == 2
    assert "run `course build`" in capsys.readouterr().err
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}", kit.course.id):
        pass
    assert cli.main(["--root", str(tmp_path), "report", "lab1"]) == 2
    assert "nothing graded for lab1 yet: run `course autograde lab1`" in capsys.readouterr().err
    assert cli.main(["--root", str(tmp_path), "report"]) == 2
    assert "has been graded yet: run `course autograde <lab>` first" in capsys.readouterr().err


GOOD = """
[course]
id = "c"
[colab]
repository = "o/r"
[labs.lab1]
title = "Lab 1"
points = 150
"""


@pytest.mark.parametrize("keys, message", [
    ('due = "31 January"', "labs.lab1.due must be an ISO-8601 date-time"),
    ('due = "2025-01-31"', "labs.lab1.due must be an ISO-8601 date-time with a time of day"),
    ("due = 20250131", "labs.lab1.due must be an ISO-8601 date-time"),
    ("late_penalty = 1.5", "labs.lab1.late_penalty must be a fraction of the lab's points from 0 to 1"),
    ("late_penalty = -0.1", "labs.lab1.late_penalty must be a fraction"),
    ('late_penalty = "10%"', "labs.lab1.late_penalty must be a fraction"),
])
def test_a_wrong_due_date_or_penalty_is_named(tmp_path, keys, message):
    """Does a bad due date or late penalty in course.toml fail with the key's name?"""
    (tmp_path / "course.toml").write_text(GOOD + keys + "\n")
    with pytest.raises(config.ConfigError, match=message.replace("(", r"\(")):
        config.load(tmp_path)


@pytest.mark.parametrize("due, utc", [
    ('"2025-01-31T23:59:00+01:00"', "2025-01-31T22:59:00+00:00"),
    ('"2025-01-31T23:59:00"', "2025-01-31T23:59:00+00:00"),
    ("2025-01-31T23:59:00Z", "2025-01-31T23:59:00+00:00"),
])
def test_due_date_and_penalty_load(tmp_path, due, utc):
    """Do a due date (string or TOML date-time, UTC without an offset) and a penalty load; are they optional?"""
    (tmp_path / "course.toml").write_text(GOOD + f"due = {due}\nlate_penalty = 0.1\n")
    lab = config.load(tmp_path).lab("lab1")
    assert lab.due_utc.isoformat() == utc and lab.late_penalty == 0.1
    (tmp_path / "course.toml").write_text(GOOD)
    lab = config.load(tmp_path).lab("lab1")
    assert lab.due is None and lab.due_utc is None and lab.late_penalty == 0


def test_similar_submissions_are_listed_for_the_instructor(graded):
    """Does each lab's report list the demo's near-identical submissions (every demo student starts from the same
    reference code), with the lines they share, and keep them out of the students' Gradescope results?"""
    course, _, _ = graded
    for lab in course.labs:
        page = html.unescape((course.root / "reports" / lab / "report.html").read_text())
        section = page[page.index("<h2>Similar submissions</h2>"):]
        assert "For the instructor only" in section and "<td>correct</td>" in section and "<pre>" in section
        results = (course.root / "reports" / lab / "gradescope" / "correct" / "results.json").read_text()
        assert "Similar" not in results and "copydetect" not in results
