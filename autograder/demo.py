"""`course demo`: the instructor path end to end on a simulated class for every lab."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from autograder import build, export, feedback, grade, mistakes, nbconfig, notebooks
from labkit import config



def make_course(source: config.Course, target: Path) -> config.Course:
    """A fresh course folder at `target` holding the kit's course.toml and solutions/."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy(source.root / config.CONFIG_NAME, target / config.CONFIG_NAME)
    shutil.copytree(source.root / nbconfig.SOURCE_DIR, target / nbconfig.SOURCE_DIR)
    nbconfig.ensure_config_file(target)
    return config.load(target)


def simulated_class(course: config.Course, lab_id: str) -> dict[str, tuple[str, object]]:
    """student -> (what the submission is, its notebook, or raw text for a damaged file)."""
    release = notebooks.read(course.root / nbconfig.RELEASE_DIR / lab_id / f"{lab_id}.ipynb")
    reference = mistakes.reference_solutions(notebooks.read(build.source_notebook(course, lab_id)))
    correct = mistakes.fill(release, reference)
    submissions = {"correct": ("the reference solution", correct),
                   "blank": ("the untouched skeleton", release)}
    for mistake in mistakes.catalogue(lab_id):
        if mistake.in_demo:
            submissions[mistake.name] = (mistake.description, mistakes.fill(release, mistakes.apply(reference, mistake)))
    text = nbformat.writes(correct)
    submissions["corrupt_file"] = ("a notebook file cut off halfway", text[: len(text) // 2])
    return submissions


def write_submissions(course: config.Course, lab_id: str, submissions: dict) -> None:
    """Write each submission to submitted/<student>/<lab>/<lab>.ipynb."""
    for student, (_, content) in submissions.items():
        path = grade.notebook_path(course, grade.SUBMITTED, lab_id, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else nbformat.writes(content), encoding="utf-8")


def run(source: config.Course, target: Path, echo=print) -> dict[str, list[grade.Outcome]]:
    """Build, simulate a class per lab, autograde, write feedback and CSVs, print who got what."""
    course = make_course(source, target)
    echo(f"demo course in {course.root}")
    build.build(course, goldens_dir=None)
    outcomes, csv_paths = {}, []
    for lab_id in course.labs:
        submissions = simulated_class(course, lab_id)
        write_submissions(course, lab_id, submissions)
        outcomes[lab_id] = grade.autograde(course, lab_id, list(submissions), echo)
        feedback.generate(course, lab_id, echo)
        csv_paths.append(export.write_csv(course, lab_id, echo=echo))
        echo("")
        echo(f"{lab_id:<28} {'score':>12}  submission")
        for outcome in outcomes[lab_id]:
            score = f"{outcome.score:g}/{outcome.max_score:g}" if outcome.graded else "not graded"
            echo(f"{outcome.student:<28} {score:>12}  {submissions[outcome.student][0]}")
        echo("")
    echo("grades: " + ", ".join(str(path) for path in csv_paths))
    echo(f"feedback: {course.root / feedback.FEEDBACK}")
    return outcomes
