"""The handouts' written parts: nbgrader's manually graded cells, the instructor's pass in Formgrader (through the
gradebook API Formgrader calls), and the totals every output gives before and after it."""

import csv
import json
import shutil

import pytest
from nbgrader.api import Gradebook

from autograder import cli
from autograder.core import layout, notebooks
from autograder.grading import gradebook
from labkit import config

LAB, STUDENT = "lab1", "correct"  # the demo's correct lab 1 answers every written question


def manual_ids(course, lab):
    return {cell.grade_id for cell in notebooks.manual_parts(notebooks.read(layout.source_notebook(course, lab)))}


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {row.get("student") or row["student_id"]: row for row in csv.DictReader(f)}


def test_every_lab_has_written_parts_worth_the_handouts_weight(kit):
    """Has every lab manually graded cells: lab 2 the handout's 15-point report less its autograded accuracy item,
    the others 10-20 % of their autograded points?"""
    for lab in kit.labs:
        cells = notebooks.graded_cells(notebooks.read(layout.source_notebook(kit, lab)))
        manual = sum(c.points for c in cells if c.manual)
        auto = sum(c.points for c in cells if not c.manual)
        assert 0.1 * auto <= manual <= 0.2 * auto, (lab, manual, auto)
        assert manual + auto == kit.lab(lab).points


def test_formgrader_lists_exactly_the_written_cells(graded):
    """After `course autograde`, are the cells nbgrader flags for manual grading (what Formgrader lists) exactly the
    written answers students wrote and the tasks, never a test (the kit's zeroed ones included)?"""
    course, outcomes, lines = graded
    with Gradebook(course.gradebook_url, course.course.id) as gb:
        for lab in course.labs:
            manual = manual_ids(course, lab)
            for submission in gb.find_assignment(lab).submissions:
                flagged = {g.name for n in submission.notebooks for g in n.grades if g.needs_manual_grade}
                assert flagged <= manual, (lab, submission.student.id, flagged - manual)
                outcome = outcomes[lab].get(submission.student.id)
                if outcome and outcome.graded:
                    assert sorted(flagged) == outcome.manual_pending
            assert {g.name for n in gb.find_submission(lab, STUDENT).notebooks for g in n.grades
                    if g.needs_manual_grade} == manual
            blank = {g.name: g for n in gb.find_submission(lab, "blank").notebooks for g in n.grades}
            assert all(not blank[name].needs_manual_grade and blank[name].score == 0 for name in manual
                       if notebooks.written_answers(notebooks.read(layout.source_notebook(course, lab))).get(name))
    assert any("needs manual grading: code_description, stride_discussion" in line for line in lines)
    assert any(line.startswith("lab1: ") and "need manual grading: `nbgrader formgrader`" in line for line in lines)


@pytest.fixture(scope="module")
def scored(graded, tmp_path_factory):
    """A copy of the demo course where the instructor scored lab 1's written answers of `correct` (through the
    gradebook API) and ran `course report` again."""
    course, _, _ = graded
    copy = tmp_path_factory.mktemp("manual") / "course"
    shutil.copytree(course.root, copy)
    course = config.load(copy)
    gradebook.set_manual_score(course, LAB, STUDENT, "code_description", 8)
    gradebook.set_manual_score(course, LAB, STUDENT, "stride_discussion", 10, extra_credit=1)
    assert cli.main(["--root", str(copy), "report", LAB]) == 0
    return course


def test_reports_before_the_manual_pass_say_what_waits(graded):
    """Before any manual score, do the lab CSV, the LMS CSV, Gradescope and the report page say which submissions
    wait for a manual grade, and count the written answers as 0?"""
    course, _, _ = graded
    row = read_csv(course.root / "reports" / LAB / "grades.csv")[STUDENT]
    assert (row["autograded"], row["manual"], row["total"], row["manual_pending"]) == (
        "150.0", "0.0", "150.0", "code_description stride_discussion")
    assert read_csv(course.root / "reports" / "course-grades.csv")[STUDENT]["manual_grading_pending"] == \
        " ".join(course.labs)
    results = json.loads((course.root / "reports" / LAB / "gradescope" / STUDENT / "results.json").read_text())
    assert results["output"].startswith("Score 150/170: autograded 150, graded by hand 0 of 20. Not graded by hand "
                                        "yet: code_description, stride_discussion (20 points); this score will change.")
    page = (course.root / "reports" / LAB / "report.html").read_text()
    assert "wait for a manual grade" in page and "nbgrader formgrader" in page
    feedback = (course.root / "feedback" / STUDENT / LAB / f"{LAB}.html").read_text()
    assert "Not graded by hand yet:" in feedback and "code_description" in feedback


def test_manual_scores_reach_every_output(scored):
    """After the instructor's scores, do the CSVs, Gradescope and the report give autograded + manual = total, and
    does the submission wait no more (while the others still do)?"""
    row = read_csv(scored.root / "reports" / LAB / "grades.csv")[STUDENT]
    assert (row["code_description"], row["stride_discussion"]) == ("8.0", "11.0")
    assert (row["autograded"], row["manual"], row["total"], row["final"], row["manual_pending"]) == (
        "150.0", "19.0", "169.0", "169.0", "")
    lms = read_csv(scored.root / "reports" / "course-grades.csv")
    assert lms[STUDENT][LAB] == "169" and LAB not in lms[STUDENT]["manual_grading_pending"].split()
    assert LAB in lms["stride_on_3x3"]["manual_grading_pending"].split()
    results = json.loads((scored.root / "reports" / LAB / "gradescope" / STUDENT / "results.json").read_text())
    assert results["score"] == 169 and results["output"] == "Score 169/170: autograded 150, graded by hand 19 of 20."
    by_name = {t["name"]: t for t in results["tests"]}
    assert by_name["code_description (graded by hand)"]["output"] == "Graded by hand: 8/10."
    assert gradebook.read_score(scored, LAB, STUDENT) == 169
    assert gradebook.pending_manual(scored, LAB, STUDENT) == []


def test_a_regrade_keeps_the_manual_scores_and_a_changed_answer_is_reviewed(scored):
    """Does autograding the unchanged submission again keep the instructor's manual scores with nothing to review,
    and a resubmission with a changed answer keep the scores but ask for the written cells to be reviewed?"""
    assert cli.main(["--root", str(scored.root), "autograde", LAB, "--student", STUDENT]) == 0
    assert gradebook.read_score(scored, LAB, STUDENT) == 169
    assert gradebook.pending_manual(scored, LAB, STUDENT) == []
    path = layout.notebook_path(scored, layout.SUBMITTED, LAB, STUDENT)
    notebook = notebooks.read(path)
    answer = next(c for c in notebook.cells if notebooks.nbgrader_meta(c).get("grade_id") == "stride_discussion")
    answer.source += "\n\nI also measured it: see Part 5."
    path.write_text(json.dumps(notebook), encoding="utf-8")
    assert cli.main(["--root", str(scored.root), "autograde", LAB]) == 0
    assert gradebook.read_score(scored, LAB, STUDENT) == 169
    assert gradebook.pending_manual(scored, LAB, STUDENT) == ["code_description", "stride_discussion"]


def test_a_late_submission_keeps_its_penalty_with_manual_points(scored):
    """Does a late student's final score count the manual points and lose the per-day penalty of the lab's
    points (never more than the total: tests/unit/reports checks the cap with manual points)?"""
    late = "stride_on_3x3"  # 135/170 autograded, 30 h late: 2 started days of 10 % of 170 points
    gradebook.set_manual_score(scored, LAB, late, "code_description", 10)
    gradebook.set_manual_score(scored, LAB, late, "stride_discussion", 10)
    assert cli.main(["--root", str(scored.root), "export", LAB]) == 0
    row = read_csv(scored.root / "reports" / LAB / "grades.csv")[late]
    assert (row["total"], row["late_penalty"], row["final"]) == ("155.0", "34.0", "121.0")
