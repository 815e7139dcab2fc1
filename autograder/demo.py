"""`course demo`: the instructor path end to end on a simulated class for every lab."""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat

from autograder import mistakes
from autograder.authoring import build
from autograder.core import layout, notebooks
from autograder.feedback import notes
from autograder.grading import nbconfig
from autograder.grading.collect.placing import collect
from autograder.grading.autograde import autograde
from autograder.grading.outcome import Outcome
from autograder.mistakes import models
from autograder.core import roster
from autograder.reports import csvs, lms as lms_files, pages as report_pages, students
from autograder.reports.records import records
from labkit import cifar10, config, fixtures
from labkit.labs import lab2

# The demo's labs are due at DUE and lose LATE_PENALTY of their points per started day late; one student
# per lab submits LATE after the due date, everyone else an hour before it.
DUE = datetime(2025, 1, 31, 23, 59, tzinfo=timezone.utc)
LATE_PENALTY = 0.1
LATE = timedelta(hours=30)
ROSTER = "roster.csv"  # the demo's class list: every simulated student, and one who submits nothing
ABSENT = "never_submitted"
DOWNLOADS = "downloads"  # the demo's LMS downloads, one zip per lab, collected into submitted/ by `course collect`
LMS_OF_LAB = {"lab1": "Blackboard", "lab2": "Canvas", "lab3": "Moodle"}  # each LMS once; any other lab: Blackboard
NO_MODEL = "forgot_the_model"  # in a lab graded on a saved model, the student who submits the notebook alone
DEMO_WORKERS = 2  # submissions graded at once (the kit's tests check the scores equal one-at-a-time grading)


def with_due_dates(text: str, labs) -> str:
    """course.toml `text` with the demo's due date and late penalty in every lab table that has no due date."""
    for lab in labs:
        if lab.due is None:
            text = re.sub(rf"(?m)^\[labs\.{re.escape(lab.id)}\]\s*$",
                          f'[labs.{lab.id}]\ndue = "{DUE.isoformat()}"\nlate_penalty = {LATE_PENALTY}', text, count=1)
    return text


def with_roster(text: str) -> str:
    """course.toml `text` naming the demo's class list in [roster]."""
    return re.sub(r'(?m)^file = ""', f'file = "{ROSTER}"', text, count=1)


def write_roster(course: config.Course) -> config.Course:
    """The class list: every student the demo simulates in any lab, and ABSENT, with made-up LMS ids and emails,
    named in course.toml; returns the course read again."""
    logins = sorted({student for lab_id in course.labs for student in simulated_class(course, lab_id)} | {ABSENT})
    with open(course.root / ROSTER, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(roster.COLUMNS)
        for number, login in enumerate(logins, start=1):
            writer.writerow([login, f"{login.replace('_', ' ').title()} Student", f"{login}@example.edu",
                             1000 + number, f"S{20250000 + number}", "AB"[number % 2]])
    path = course.root / config.CONFIG_NAME
    path.write_text(with_roster(path.read_text(encoding="utf-8")), encoding="utf-8")
    return config.load(course.root)


def make_course(source: config.Course, target: Path) -> config.Course:
    """A fresh course folder at `target` holding the kit's course.toml and solutions/."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    text = (source.root / config.CONFIG_NAME).read_text(encoding="utf-8")
    (target / config.CONFIG_NAME).write_text(with_due_dates(text, source.labs.values()), encoding="utf-8")
    shutil.copytree(source.root / layout.SOURCE_DIR, target / layout.SOURCE_DIR)
    nbconfig.ensure_config_file(target)
    return config.load(target)


def simulated_class(course: config.Course, lab_id: str) -> dict[str, tuple[str, object]]:
    """student -> (what the submission is, its notebook, or raw text for a damaged file)."""
    release = notebooks.read(layout.release_notebook(course, lab_id))
    reference = mistakes.reference_solutions(notebooks.read(layout.source_notebook(course, lab_id)))
    correct = mistakes.fill(release, reference)
    submissions = {"correct": ("the reference solution", correct),
                   "blank": ("the untouched skeleton", release)}
    for mistake in mistakes.catalogue(lab_id):
        if mistake.in_demo:
            submissions[mistake.name] = (mistake.description, mistakes.fill(release, mistakes.apply(reference, mistake)))
    text = nbformat.writes(correct)
    late = late_student(lab_id)
    if late in submissions:
        description, notebook = submissions[late]
        submissions[late] = (f"{description} (submitted {LATE.total_seconds() / 3600:g} h late)", notebook)
    submissions["corrupt_file"] = ("a notebook file cut off halfway", text[: len(text) // 2])
    if course.lab(lab_id).accuracy_zero is not None:
        submissions[NO_MODEL] = (f"the reference solution, submitted without {lab2.MODEL_FILE}", correct)
    return submissions


def write_models(course: config.Course, lab_id: str, submissions: dict) -> None:
    """For a lab graded on the student's saved model: the grader's test data (the CIFAR-10 stand-in, where the
    data root has none) and, beside each submission but NO_MODEL's, the model the student's own network gives."""
    try:
        cifar10.load(course.data_root, train=False)
    except cifar10.DataMissing:
        fixtures.write_cifar10_batches(course.data_root, n_train=500, n_test=100)
    source = notebooks.read(layout.source_notebook(course, lab_id))
    for student, (_, content) in submissions.items():
        if student != NO_MODEL and not isinstance(content, str):
            models.save_students_model(source, notebooks.solution_cells(content), course.data_root,
                                       layout.notebook_path(course, layout.SUBMITTED, lab_id, student).parent)


def late_student(lab_id: str) -> str | None:
    """The student who submits `lab_id` late in the demo: the first of its demo mistakes."""
    return next((m.name for m in mistakes.catalogue(lab_id) if m.in_demo), None)


def submitted_at(course: config.Course, lab_id: str, student: str) -> datetime:
    """When the demo's `student` submitted: LATE after the due date for the late student, else an hour before."""
    due = course.lab(lab_id).due_utc or DUE
    return due + LATE if student == late_student(lab_id) else due - timedelta(hours=1)


def write_submissions(course: config.Course, lab_id: str, submissions: dict) -> None:
    """Write each submission to submitted/<student>/<lab>/<lab>.ipynb, with nbgrader's timestamp.txt."""
    for student, (_, content) in submissions.items():
        path = layout.notebook_path(course, layout.SUBMITTED, lab_id, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else nbformat.writes(content), encoding="utf-8")
        stamp = submitted_at(course, lab_id, student).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
        (path.parent / "timestamp.txt").write_text(stamp + "\n", encoding="utf-8")


def moodle_time(moment: datetime) -> str:
    """A time as Moodle's grading worksheet writes it: "Friday, 31 January 2025, 10:59 PM"."""
    return f"{moment:%A}, {moment.day} {moment:%B %Y}, {moment.hour % 12 or 12}:{moment:%M %p}"


def lms_name(lms: str, lab: config.LabConfig, student: roster.Student, number: int, late: bool, at: datetime,
             file: str, file_id: int) -> str:
    """The name `lms` gives a student's `file` in its download (course collect's docstrings quote the layouts)."""
    if lms == "Canvas":
        first, last = student.first_last
        sortable = re.sub(r"[^a-z0-9]", "", (last + first).lower())  # Canvas: the sortable name, letters only
        return f"{sortable}_{'late_' if late else ''}{student.lms_id}_{file_id}_{file}"
    if lms == "Moodle":
        return f"{student.name}_{5000 + number}_assignsubmission_file_/{file}"
    return f"{lab.title}_{student.login}_attempt_{at:%Y-%m-%d-%H-%M-%S}_{file}"


def lms_download(course: config.Course, lab_id: str) -> tuple[Path, dict]:
    """The lab's submissions, moved from submitted/ into the zip its LMS (LMS_OF_LAB) would give the instructor,
    with Canvas's submission times or Moodle's grading worksheet beside it; returns the zip and course collect's
    options for them."""
    lms, lab = LMS_OF_LAB.get(lab_id, "Blackboard"), course.lab(lab_id)
    folder = course.root / DOWNLOADS
    folder.mkdir(exist_ok=True)
    path, times, sheet = folder / f"{lab_id}-{lms.lower()}.zip", [["login", "submitted_at"]], [
        ["Identifier", "Full name", "Email address", "Status", "Last modified (submission)"]]
    with zipfile.ZipFile(path, "w") as archive:
        for number, student in enumerate(roster.load(course), start=1):
            submitted = layout.notebook_path(course, layout.SUBMITTED, lab_id, student.login).parent
            if not submitted.is_dir():
                continue
            at = submitted_at(course, lab_id, student.login)
            for file_id, file in enumerate(sorted(p for p in submitted.iterdir() if p.name != "timestamp.txt")):
                archive.writestr(lms_name(lms, lab, student, number, at > lab.due_utc, at, file.name,
                                          48000 + 10 * number + file_id), file.read_bytes())
            times.append([student.login, at.isoformat()])
            sheet.append([f"Participant {5000 + number}", student.name, student.email, "Submitted for grading",
                          moodle_time(at)])
            shutil.rmtree(submitted)
    options = {}
    if lms in ("Canvas", "Moodle"):
        extra = folder / f"{lab_id}-{'times' if lms == 'Canvas' else 'worksheet'}.csv"
        with open(extra, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(times if lms == "Canvas" else sheet)
        options = {"times_file": extra} if lms == "Canvas" else {"worksheet": extra}
    return path, options


def collect_download(course: config.Course, lab_id: str, echo) -> None:
    """Hand the lab's submissions over as its LMS would (lms_download) and place them back with course collect."""
    path, options = lms_download(course, lab_id)
    collected = collect(course, lab_id, path, echo=lambda line: None, **options)
    given = ", ".join(f"{key.split('_')[0]} {value.name}" for key, value in options.items())
    echo(f"{lab_id}: collected {len(collected.placed)} submission(s) from a {collected.lms} download ({path.name}"
         f"{', ' + given if given else ''}); {len(collected.nothing)} student(s) of the class list submitted nothing "
         f"(report: {collected.report})")


def print_table(course: config.Course, lab_id: str, outcomes: list[Outcome], submissions: dict, echo) -> None:
    """Who got what: the autograded score, the final score after any late penalty, the submission."""
    finals = {r.student: r.final for r in records(course, lab_id) if r.graded}
    echo(f"{lab_id:<28} {'score':>12} {'final':>7}  submission")
    for outcome in outcomes:
        score = f"{outcome.score:g}/{outcome.max_score:g}" if outcome.graded else "not graded"
        final = f"{finals[outcome.student]:g}" if outcome.student in finals else "-"
        echo(f"{outcome.student:<28} {score:>12} {final:>7}  {submissions[outcome.student][0]}")


def run(source: config.Course, target: Path, echo=print) -> dict[str, list[Outcome]]:
    """Build, simulate a class per lab, autograde, write feedback and reports, print who got what."""
    course = make_course(source, target)
    echo(f"demo course in {course.root}")
    build.build(course, goldens_dir=None)
    course = write_roster(course)
    outcomes, pages = {}, []
    for lab_id in course.labs:
        submissions = simulated_class(course, lab_id)
        write_submissions(course, lab_id, submissions)
        if course.lab(lab_id).accuracy_zero is not None:
            write_models(course, lab_id, submissions)
        collect_download(course, lab_id, echo)
        outcomes[lab_id] = autograde(course, lab_id, list(submissions), echo, workers=DEMO_WORKERS)
        notes.generate(course, lab_id, echo)
        pages.append(report_pages.write_lab(course, lab_id, echo))
        echo("")
        print_table(course, lab_id, outcomes[lab_id], submissions, echo)
        echo("")
    lms = csvs.write_course_csv(course, echo=echo)
    lms_files.write(course, echo)
    student_pages = students.write(course, echo)
    reports = course.root / layout.REPORTS
    echo("grades: " + ", ".join(str(reports / lab_id / "grades.csv") for lab_id in course.labs))
    echo(f"course grades for the LMS: {lms}")
    waiting = sum(o.waiting for graded in outcomes.values() for o in graded)
    echo(f"written answers and tasks: {waiting} graded submission(s) need manual grading; score them in nbgrader's "
         f"Formgrader (`nbgrader formgrader` in {course.root}), then run `course report` for the final totals")
    echo(f"feedback: {course.root / layout.FEEDBACK}")
    echo("reports: " + ", ".join(str(page) for page in pages))
    echo(f"a page per student: {student_pages}")
    return outcomes
