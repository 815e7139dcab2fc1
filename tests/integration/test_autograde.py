"""The instructor path with real nbgrader on the simulated class that `course demo` grades."""

import csv
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

import harness
from autograder import demo
from autograder import mistakes
from autograder.core import layout
from autograder.core import notebooks
from autograder.core import process
from autograder.feedback import leaks
from autograder.grading import autograde
from autograder.grading import gradebook
from autograder.reports import records
from labkit import config

pytestmark = pytest.mark.slow  # runs nbgrader, notebooks or training: not in the fast layer

LAB = "lab1"


@pytest.fixture(scope="module")
def csv_rows(graded):
    """lab -> student -> CSV row."""
    course, _, _ = graded
    rows = {}
    for lab in course.labs:
        with open(course.root / "reports" / lab / "grades.csv", newline="") as f:
            rows[lab] = {row["student"]: row for row in csv.DictReader(f)}
    return rows


LABS = harness.LABS
DEMO_MISTAKES = [(lab, m) for lab in LABS for m in mistakes.catalogue(lab) if m.in_demo]


def test_demo_grades_every_lab(kit, graded):
    """Does the demo simulate and grade a class for every lab in course.toml?"""
    _, outcomes, _ = graded
    assert set(outcomes) == set(kit.labs) == {lab for lab, _ in DEMO_MISTAKES}


@pytest.mark.parametrize("lab", LABS)
def test_reference_earns_full_marks(graded, lab):
    """Does the reference solution, submitted, earn all the lab's autograded points (its written answers wait for a
    manual grade)?"""
    course, outcomes, _ = graded
    autograded = sum(t.points for t in notebooks.graded_tests(notebooks.read(layout.source_notebook(course, lab))))
    assert outcomes[lab]["correct"].graded and outcomes[lab]["correct"].score == autograded
    assert autograded < course.lab(lab).points and outcomes[lab]["correct"].waiting


@pytest.mark.parametrize("lab", LABS)
def test_skeleton_earns_zero_on_every_test(graded, csv_rows, lab):
    """Does the untouched skeleton score zero on each graded test?"""
    course, _, _ = graded
    ids = records.test_ids(course, lab)
    assert ids and all(float(csv_rows[lab]["blank"][i]) == 0 for i in ids)


@pytest.mark.parametrize("lab, mistake", DEMO_MISTAKES, ids=[f"{lab}-{m.name}" for lab, m in DEMO_MISTAKES])
def test_mistake_loses_exactly_its_tests(graded, csv_rows, lab, mistake):
    """Does nbgrader take exactly the points of the tests that catch this mistake, and no others?"""
    course, outcomes, _ = graded
    notebook = notebooks.read(layout.source_notebook(course, lab))
    points = {t.grade_id: t.points for t in notebooks.graded_tests(notebook)}
    row = csv_rows[lab][mistake.name]
    lost = {grade_id for grade_id in points if float(row[grade_id]) < points[grade_id]}
    assert lost == mistake.fails
    assert outcomes[lab][mistake.name].score == sum(points.values()) - sum(points[g] for g in mistake.fails)


def test_raising_cell_is_named_in_the_log_line(graded):
    """Does a cell that raises show up by name, with the error, while the rest is graded?"""
    _, outcomes, _ = graded
    outcome = outcomes[LAB]["vgg_typo_raises"]
    assert outcome.graded and any("cell vgg_check raised AttributeError" in p for p in outcome.problems)


def test_corrupt_notebook_is_reported_and_kept(graded):
    """Is a truncated notebook reported clearly, kept as submitted, and given a feedback note?"""
    course, outcomes, _ = graded
    outcomes = outcomes[LAB]
    outcome = outcomes["corrupt_file"]
    assert not outcome.graded
    assert "not valid JSON" in outcome.problems[0] and "kept at submitted/corrupt_file/lab1/lab1.ipynb" in outcome.problems[0]
    assert (course.root / "submitted" / "corrupt_file" / LAB / "lab1.ipynb").stat().st_size > 1000
    note = (course.root / "feedback" / "corrupt_file" / LAB / "lab1.html").read_text()
    assert "not valid JSON" in note
    assert all(o.graded for name, o in outcomes.items() if name != "corrupt_file")


def test_feedback_pages_for_everyone(graded):
    """Does every simulated student get a feedback page?"""
    course, outcomes, _ = graded
    for lab, graded_lab in outcomes.items():
        for student in graded_lab:
            assert (course.root / "feedback" / student / lab / f"{lab}.html").is_file()


def test_demo_prints_the_grade_table(graded):
    """Does the demo end with a table of who got what and where the files are?"""
    _, _, lines = graded
    text = "\n".join(lines)
    assert "correct" in text and "150/170" in text and "0/170" in text and "not graded" in text
    assert any(line.startswith("grades: ") and line.count("grades.csv") == len(LABS) for line in text.splitlines())


def test_torch_warning_on_stderr_does_not_zero_a_test(graded, tmp_path):
    """Does a torch warning printed to stderr in test cells leave full marks (and would it cost without the filter)?"""
    course, outcomes, _ = graded
    assert outcomes[LAB]["warns_on_stderr"].score == 150
    copy = tmp_path / "course"
    shutil.copytree(course.root, copy, ignore=shutil.ignore_patterns("autograded", "feedback"))
    result = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", LAB, "--student", "warns_on_stderr",
                             "--force", "--IgnorePattern.enabled=False"], cwd=copy, env=process.tool_env(),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert gradebook.read_score(config.load(copy), LAB, "warns_on_stderr") < 150


def test_plain_nbgrader_autograde_works_in_the_course_folder(graded, tmp_path):
    """Does `nbgrader autograde` itself work in a course folder, configured from course.toml?"""
    course, _, _ = graded
    copy = tmp_path / "course"
    shutil.copytree(course.root, copy, ignore=shutil.ignore_patterns("autograded", "feedback"))
    result = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", LAB, "--student", "correct", "--force"],
                            cwd=copy, env=process.tool_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert gradebook.read_score(config.load(copy), LAB, "correct") == 150


def test_notebook_time_limit_stops_grading_and_says_so(graded, tmp_path):
    """Does a submission still running at notebook_timeout get a clear 'needs regrading' line, its file kept,
    and does grading end then, although its kernel (outside nbgrader's process group) is still running?"""
    course, _, _ = graded
    copy = tmp_path / "course"
    shutil.copytree(course.root, copy, ignore=shutil.ignore_patterns("autograded", "feedback", "grading"))
    toml = copy / "course.toml"
    toml.write_text(toml.read_text().replace("notebook_timeout = 900", "notebook_timeout = 10"))
    submitted = copy / "submitted" / "correct" / LAB / "lab1.ipynb"
    notebook = notebooks.read(submitted)
    notebook.cells.insert(0, nbformat.v4.new_code_cell("import time\ntime.sleep(600)"))
    nbformat.write(notebook, submitted)
    lines = []
    (outcome,) = autograde.autograde(config.load(copy), LAB, ["correct"], echo=lines.append)
    assert not outcome.graded and outcome.needs_regrading and "longer than 10 s" in outcome.problems[0]
    assert outcome.seconds < 60
    assert submitted.is_file()
    assert any("NEEDS REGRADING" in line for line in lines) and "--retry-failed" in lines[-1]


def test_feedback_shows_the_message_not_the_hidden_code(graded):
    """Does feedback for a failed hidden test show what was expected and found, but none of the test's code?"""
    course, _, _ = graded
    page = (course.root / "feedback" / "maxpool_padding_0" / LAB / "lab1.html").read_text()
    assert "output shape (2, 64, 7, 7), expected (2, 64, 8, 8)" in page
    for leak in ("BEGIN HIDDEN TESTS", "autograder.checks", "autograder/checks", "resnet50_stage_shape("):
        assert leak not in page, leak
    assert "hidden test: its code is not shown" in page


def test_plain_nbgrader_stops_on_a_broken_course_toml(graded, tmp_path):
    """Does plain `nbgrader` refuse to run, naming the key, when course.toml has a typo (not fall back to defaults)?"""
    course, _, _ = graded
    copy = tmp_path / "course"
    shutil.copytree(course.root, copy, ignore=shutil.ignore_patterns("autograded", "feedback"))
    toml = copy / "course.toml"
    toml.write_text(toml.read_text().replace("cell_timeout", "cell_timout"))
    result = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", LAB, "--student", "correct", "--force"],
                            cwd=copy, env=process.tool_env(), capture_output=True, text=True)
    assert result.returncode != 0
    assert "unknown key grading.cell_timout" in result.stdout + result.stderr


def test_no_demo_message_is_withheld(graded):
    """Does every failed test's message in the demo class (honest mistakes) pass the leak filter?"""
    from autograder.feedback import leaks

    course, outcomes, _ = graded
    messages = [(lab, message) for lab, graded_lab in outcomes.items() for outcome in graded_lab.values()
                for message in outcome.messages.values()]
    assert len(messages) > 50
    assert [m for lab, m in messages if leaks.private_text(course, lab).leaks(m)] == []


def test_leak_filter_withholds_private_text(graded):
    """Is a message quoting the reference code, a hidden test or the checks' code withheld, while the
    checks' own hints and code the students were given pass?"""

    course, _, _ = graded
    private = leaks.private_text(course, LAB)
    source = notebooks.read(layout.source_notebook(course, LAB))
    plain = lambda line: len(line) > 45 and not re.search(r"""['"#]|\b\d""", line)  # noqa: E731  (no literals)
    solution = next(line.strip() for line in notebooks.reference_source(source).splitlines()
                    if plain(line.strip()) and leaks.squeeze(line.strip()) not in private.visible)
    hidden = next(line for line in notebooks.hidden_tests(source).splitlines() if "grade." in line and plain(line))
    checks_code = "missing = [name for name, p in model.named_parameters() if p.requires_grad and p.grad is None]"
    for leaked in (solution, hidden, checks_code):
        assert private.leaks(f"AssertionError: expected 3, found {leaked}"), leaked
        assert private.clean(leaked) == leaks.WITHHELD
    given = next(line.strip() for line in notebooks.reference_source(source).splitlines()  # given code
                 if len(line.strip()) > 45 and leaks.squeeze(line.strip()) in private.visible)
    hint = "7x7 conv (3->64, stride 2, padding 3), BN, ReLU, MaxPool2d(3, stride 2, padding 1)"
    assert not private.leaks(given) and not private.leaks(f"layer1: output shape (2, 64, 7, 7). Look at: {hint}")


def test_demo_sends_grades_back_in_the_lms_formats(graded, csv_rows):
    """Does the demo's class list give Canvas's and Moodle's import files with each student's final score after
    late penalty, Canvas's Points Possible row, and an empty row for the student who submitted nothing?"""
    course, _, _ = graded
    with open(course.root / "reports" / "canvas-grades.csv", newline="") as f:
        canvas = list(csv.reader(f))
    header, possible, rows = canvas[0], canvas[1], {row[3]: dict(zip(canvas[0], row)) for row in canvas[2:]}
    labs = [course.lab(lab) for lab in course.labs]
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *(lab.title for lab in labs)]
    assert possible[0] == "    Points Possible" and [float(p) for p in possible[5:]] == [lab.points for lab in labs]
    late = demo.late_student(LAB)
    for student in ("correct", late):
        assert float(rows[student][course.lab(LAB).title]) == float(csv_rows[LAB][student]["final"])
    assert float(csv_rows[LAB][late]["late_penalty"]) > 0
    assert rows[demo.ABSENT]["ID"] and all(rows[demo.ABSENT][lab.title] == "" for lab in labs)
    with open(course.root / "reports" / "moodle-grades.csv", newline="") as f:
        moodle = {row["Email address"]: row for row in csv.DictReader(f)}
    assert float(moodle["correct@example.edu"][course.lab(LAB).title]) == float(csv_rows[LAB]["correct"]["final"])
    assert all(moodle[f"{demo.ABSENT}@example.edu"][lab.title] == "-" for lab in labs)
    assert (course.root / "reports" / "students" / f"{late}.html").is_file()


def test_demo_collects_each_lab_from_an_lms_download(graded):
    """Does the demo hand each lab over as an LMS download (Blackboard, Canvas with its times, Moodle with its
    worksheet) and collect every submission it grades from it, the late student with their time?"""
    course, outcomes, lines = graded
    for lab, lms in demo.LMS_OF_LAB.items():
        assert any(line.startswith(f"{lab}: collected") and f"from a {lms} download" in line for line in lines)
        with open(course.root / "reports" / lab / "collect.csv", newline="") as f:
            rows = {row["login"]: row for row in csv.DictReader(f)}
        assert {login for login, row in rows.items() if row["status"] == "written"} == set(outcomes[lab])
        assert rows[demo.late_student(lab)]["late"] == "yes" and rows[demo.ABSENT]["status"] == "nothing submitted"
