"""The `course` command: clear one-line errors instead of tracebacks."""

import shutil

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
