"""course.toml: the kit's own file loads, and every kind of mistake names its key."""

import pytest

from labkit import config

GOOD = """
[course]
id = "c"
[colab]
repository = "o/r"
[labs.lab1]
title = "Lab 1"
points = 150
"""


def test_the_kits_course_toml_loads(kit):
    """Does the committed course.toml validate, with lab 1 worth its tests' points?"""
    assert kit.lab("lab1").points == 170
    limits = kit.limits("lab1")
    assert limits["cell_timeout"] > 0 and limits["notebook_timeout"] >= limits["cell_timeout"]


@pytest.mark.parametrize("text, message", [
    (GOOD.replace("points = 150", "pionts = 150"), "unknown key labs.lab1.pionts (did you mean 'points'?)"),
    (GOOD.replace("points = 150", 'points = "many"'), "labs.lab1.points must be float"),
    (GOOD.replace("points = 150", "points = -3"), "labs.lab1.points must be positive"),
    (GOOD + "\n[grading]\ncell_timeout = true\n", "grading.cell_timeout must be int"),
    (GOOD + "\n[gradin]\ncell_timeout = 3\n", "unknown table [gradin] (did you mean 'grading'?)"),
    (GOOD.replace('[colab]\nrepository = "o/r"', ""), "missing table [colab]"),
    (GOOD.replace('title = "Lab 1"', ""), "missing key labs.lab1.title"),
    (GOOD.replace("[course]", "[course"), "is not valid TOML"),
])
def test_a_wrong_key_or_value_is_named(tmp_path, text, message):
    """Does each typo in course.toml fail with the key's name and the file's path?"""
    (tmp_path / "course.toml").write_text(text)
    with pytest.raises(config.ConfigError) as error:
        config.load(tmp_path)
    assert message in str(error.value)
    assert str(tmp_path / "course.toml") in str(error.value)


def test_an_unknown_lab_lists_the_known_ones(tmp_path):
    """Does asking for a lab that is not configured say which labs exist?"""
    (tmp_path / "course.toml").write_text(GOOD)
    with pytest.raises(config.ConfigError, match=r"no lab 'lab2'.*labs are lab1"):
        config.load(tmp_path).lab("lab2")


def test_environment_overrides_data_root(tmp_path, monkeypatch):
    """Do LABKIT_DATA and relative roots resolve as documented?"""
    (tmp_path / "course.toml").write_text(GOOD)
    assert config.load(tmp_path).data_root == tmp_path / "data"
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "elsewhere"))
    assert config.load(tmp_path).data_root == tmp_path / "elsewhere"
