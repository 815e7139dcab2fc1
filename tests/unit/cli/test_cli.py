"""The `course` command: clear one-line errors instead of tracebacks."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from autograder import cli


def test_typo_in_course_toml_names_the_key(kit, tmp_path, capsys):
    """Does a misspelt key in course.toml stop `course` with the key's name and exit code 2?"""
    (tmp_path / "course.toml").write_text((kit.root / "course.toml").read_text().replace("cell_timeout", "cell_timout"))
    assert cli.main(["--root", str(tmp_path), "build"]) == 2
    assert "unknown key grading.cell_timout (did you mean 'cell_timeout'?)" in capsys.readouterr().err


def test_autograde_before_build_says_to_build(kit, tmp_path, capsys):
    """Does grading a course that was never built say to run `course build` first?"""
    shutil.copy(kit.root / "course.toml", tmp_path)
    assert cli.main(["--root", str(tmp_path), "autograde", "lab1"]) == 2
    assert "run `course build`" in capsys.readouterr().err


def test_unknown_lab_lists_the_labs(kit, capsys):
    """Does `course export lab9` name the labs that exist?"""
    assert cli.main(["--root", str(kit.root), "export", "lab9"]) == 2
    err = capsys.readouterr().err
    assert "no lab 'lab9'" in err and "labs are lab1" in err


def test_feedback_before_build_is_one_line_not_a_traceback(kit, tmp_path, capsys):
    """Does `course feedback` where nbgrader cannot write feedback end with one line naming the lab, exit code 2?"""
    shutil.copy(kit.root / "course.toml", tmp_path)
    assert cli.main(["--root", str(tmp_path), "feedback", "lab1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("course: error: nbgrader generate_feedback lab1 failed") and "Traceback" not in err


def test_a_similarity_share_out_of_range_is_one_line(kit, capsys):
    """Does `course report --similarity 50` (a percentage, not a share) say what it takes, exit code 2?"""
    assert cli.main(["--root", str(kit.root), "report", "lab1", "--similarity", "50"]) == 2
    assert "--similarity must be a share between 0 and 1 (like 0.5), got 50.0" in capsys.readouterr().err


def test_reporting_commands_do_not_load_torch():
    """Do the CLI and the report, export, feedback and collect commands' modules import without torch?"""
    probe = ("import sys, autograder.cli, autograder.reports.csvs, autograder.reports.pages, "
             "autograder.feedback.notes, autograder.authoring.publish, autograder.grading.collect.placing; "
             "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


def test_ctrl_c_ends_with_one_line_and_the_shells_code(kit, monkeypatch, capsys):
    """Does Ctrl-C during a command end `course` with one line naming it and exit code 130, not a traceback?"""
    def interrupted(course, args):
        os.kill(os.getpid(), signal.SIGINT)  # as the terminal sends it: Python raises KeyboardInterrupt here
        time.sleep(30)

    monkeypatch.setitem(cli.COMMANDS, "results", interrupted)
    try:
        code = cli.main(["--root", str(kit.root), "results"])
    except KeyboardInterrupt:  # not let through: pytest would take it as its own and stop the whole run
        pytest.fail("Ctrl-C escaped `course` as Python's traceback")
    assert code == 130
    assert capsys.readouterr().err == "course: results stopped by Ctrl-C\n"
