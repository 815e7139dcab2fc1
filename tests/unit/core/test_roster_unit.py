"""The class list: read in its own order, and every bad row named."""

import pytest

from autograder.core import roster
from labkit import config

GOOD = "login,name,email,lms_id,sis_id,section\nalovelace,Ada Lovelace,ada@uni.edu,101,S1,A\nbtur,Alan Turing,,102,,B\n"


def write(tmp_path, text):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_students_are_read_in_order_with_their_ids(tmp_path):
    """Does each row become a student with its columns, blank rows skipped and a BOM ignored?"""
    students = roster.read(write(tmp_path, "\ufeff" + GOOD + ",,,,,\n"))
    assert [s.login for s in students] == ["alovelace", "btur"]
    assert students[0] == roster.Student("alovelace", "Ada Lovelace", "ada@uni.edu", "101", "S1", "A")
    assert students[0].first_last == ("Ada", "Lovelace") and students[1].email == ""


def test_only_login_is_required(tmp_path):
    assert roster.read(write(tmp_path, "login\nx1\n")) == [roster.Student("x1")]


@pytest.mark.parametrize("text, message", [
    ("name,email\nAda,a@b\n", "has no `login` column"),
    ("login,mail\nada,a@b\n", "unknown column(s) mail"),
    ("login\n../ada\n", "row 2: login '../ada' cannot name a folder"),
    ("login,email\nada,a@b\nbob,A@B\n", "row 3: email 'A@B' is also on row 2"),
    ("login\nada\nada\n", "row 3: login 'ada' is also on row 2"),
    ("", "is empty"),
])
def test_a_bad_class_list_is_named(tmp_path, text, message):
    """Does each kind of bad class list fail with the file, row and what to fix?"""
    with pytest.raises(roster.RosterError) as error:
        roster.read(write(tmp_path, text))
    assert message in str(error.value) and "roster.csv" in str(error.value)


def test_a_course_without_a_roster_says_what_to_set(kit):
    """Does a course.toml naming no class list say which key to set?"""
    assert kit.roster_path is None
    with pytest.raises(roster.RosterError, match=r"set \[roster\] file"):
        roster.load(kit)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(roster.RosterError, match="cannot read the class list"):
        roster.read(tmp_path / "nope.csv")


def test_the_colab_repository_must_be_owner_and_name_or_not_set(tmp_path):
    """Does [colab] repository take "owner/name" or "" (not set), and name the key for anything else?"""
    base = '[course]\nid = "c"\n[colab]\nrepository = {}\n[labs.lab1]\ntitle = "L"\npoints = 1\n'
    for value, is_set in (('"o/r"', True), ('""', False)):
        (tmp_path / "course.toml").write_text(base.format(value))
        assert config.load(tmp_path).colab.is_set is is_set
    (tmp_path / "course.toml").write_text(base.format('"https://github.com/o/r"'))
    with pytest.raises(config.ConfigError, match="colab.repository must be the GitHub repository"):
        config.load(tmp_path)
