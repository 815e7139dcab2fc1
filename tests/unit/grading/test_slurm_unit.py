"""The Slurm executor's checks before it submits, and the outcome of a task Slurm ended."""

import hashlib
import os
import sys

import pytest

from autograder.core.errors import BuildError
from autograder.grading import autograde, slurm
from autograder.grading.outcome import Outcome, save_status
from labkit import config

COURSE = """
[course]
id = "c"
[colab]
repository = ""
[grading]
db_url = "postgresql://grader@dbhost/course"
memory = 4096
notebook_timeout = 900
[cluster]
memory = 8192
minutes = 20
shared = ["/"]
[labs.lab1]
title = "Lab 1"
points = 10
"""


@pytest.fixture
def sbatch_on_path(tmp_path, monkeypatch):
    """A PATH holding an executable named sbatch (never run: only looked for)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "sbatch").write_text("#!/bin/sh\nexit 1\n")
    (folder / "sbatch").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def course(tmp_path, text=COURSE):
    (tmp_path / "course.toml").write_text(text)
    return config.load(tmp_path)


def test_a_course_set_up_for_slurm_passes(tmp_path, sbatch_on_path):
    """With PostgreSQL, sbatch, room above the kernel's limits and shared folders, is nothing in the way?"""
    assert slurm.requirements(course(tmp_path), "lab1") == []


@pytest.mark.parametrize("change, problem", [
    (('db_url = "postgresql://grader@dbhost/course"', 'db_url = ""'), "needs a PostgreSQL gradebook"),
    (('db_url = "postgresql://grader@dbhost/course"', 'db_url = "mysql://grader@dbhost/course"'),
     "set [grading] db_url = \"postgresql://"),
    (("memory = 8192", "memory = 4096"), "[cluster] memory = 4096 MiB per task is not above the grading kernel's 4096"),
    (('shared = ["/"]', 'shared = ["/nowhere"]'), "is not under a folder [cluster] shared names (/nowhere)"),
    (('shared = ["/"]', "shared = []"), "is in a folder each node has its own of"),
])
def test_each_requirement_names_what_to_set(tmp_path, sbatch_on_path, change, problem):
    """Is each thing the Slurm executor needs, when missing, named with the key to set (and nothing else)?"""
    problems = slurm.requirements(course(tmp_path, COURSE.replace(*change)), "lab1")
    assert problems and all(problem in line for line in problems)  # that problem (for each path), nothing else


def test_without_sbatch_the_command_says_where_to_run(tmp_path, monkeypatch):
    """Does a machine without sbatch get told to run on a login node, as one error naming every problem?"""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BuildError, match=r"cannot grade with --executor slurm:\n  - sbatch is not on PATH.*login node"):
        slurm.check(course(tmp_path), "lab1")


def test_the_python_environment_must_be_shared(tmp_path, sbatch_on_path):
    """Is a Python environment outside [cluster] shared named, beside the course folder?"""
    shared = f'shared = ["{tmp_path}"]'
    problems = slurm.requirements(course(tmp_path, COURSE.replace('shared = ["/"]', shared)), "lab1")
    assert any(line.startswith(f"the Python environment {os.path.realpath(sys.prefix)}") for line in problems)
    assert not any(line.startswith("the course folder") for line in problems)


def submitted(tmp_path, student="ada", text=b"{}"):
    path = tmp_path / "submitted" / student / "lab1" / "lab1.ipynb"
    path.parent.mkdir(parents=True)
    path.write_bytes(text)
    return hashlib.sha256(text).hexdigest()


@pytest.mark.parametrize("state, why, kept", [
    ("TIMEOUT", "it ran past the task's time limit ([cluster] minutes = 20)", True),
    ("OUT_OF_MEMORY", "it used more than the task's memory ([cluster] memory = 8192 MiB)", True),
    ("CANCELLED by 0", "it was cancelled (scancel)", False),
    ("NODE_FAIL", "its node failed", False),
    ("", "it ended without a result", False),
])
def test_a_task_slurm_ended_needs_regrading_with_its_reason(tmp_path, state, why, kept):
    """Is a task Slurm ended "needs regrading" with Slurm's state and what it means, the submission's hash kept
    only where the submission may have caused it (so a plain rerun grades the others again)?"""
    digest = submitted(tmp_path)
    c = course(tmp_path)
    save_status(c, "lab1", {"ada": Outcome("ada", True, 5, 10, 1.0, zeroed=["t3"])})
    outcome = slurm.ended_by_slurm(c, "lab1", "ada", state, "41_0")
    assert outcome.needs_regrading and not outcome.graded and outcome.score is None
    assert outcome.problems[0].startswith(f"Slurm ended task 41_0 ({state or 'state unknown'}: {why})")
    assert outcome.submission_hash == (digest if kept else "")
    assert outcome.zeroed == ["t3"]  # the kit's earlier 0 overrides stay recorded


def test_the_executor_asks_for_what_cluster_says(tmp_path):
    """Does the sbatch script submitit writes carry [cluster]'s partition, account, time, memory, CPUs, GPUs,
    array limit and extra options?"""
    text = COURSE.replace("[cluster]\n", '[cluster]\npartition = "grading"\naccount = "cs101"\ngpus = 1\n'
                          'parallelism = 8\nsbatch = { qos = "short" }\ncpus = 3\n')
    script = slurm.executor(course(tmp_path, text), "lab1", 40)._make_submission_file_text("python -c 1", "x")
    for line in ("#SBATCH --partition=grading", "#SBATCH --account=cs101", "#SBATCH --time=20",
                 "#SBATCH --mem=8192M", "#SBATCH --cpus-per-task=3", "#SBATCH --gpus-per-task=1",
                 "#SBATCH --qos=short", "#SBATCH --job-name=course-lab1"):
        assert line in script
    assert "#SBATCH --partition" not in slurm.executor(course(tmp_path), "lab1", 40)._make_submission_file_text(
        "python -c 1", "x")


def test_a_time_limit_below_the_notebooks_is_a_warning(tmp_path):
    """Does a task time limit the kit's own notebook limit would not reach get a warning naming both?"""
    assert slurm.short_time_limit(course(tmp_path), "lab1") is None
    warning = slurm.short_time_limit(course(tmp_path, COURSE.replace("minutes = 20", "minutes = 15")), "lab1")
    assert "[cluster] minutes = 15 is not above lab1's notebook_timeout (900 s)" in warning
    assert "set it to at least 20" in warning


@pytest.mark.parametrize("options, message", [
    (dict(executor="slurm", workers=4), "--workers 4 sets local workers; with --executor slurm, [cluster] parallelism"),
    (dict(executor="cloud"), "--executor must be one of local, slurm, got 'cloud'"),
])
def test_options_that_do_not_fit_the_executor_are_refused(tmp_path, options, message):
    """Are --workers with Slurm, and an unknown executor, refused before anything is graded or submitted?"""
    with pytest.raises(BuildError) as error:
        autograde.autograde(course(tmp_path), "lab1", echo=lambda line: None, **options)
    assert message in str(error.value)
