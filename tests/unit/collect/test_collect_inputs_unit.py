"""`course collect`'s inputs: the usual renamings of a notebook, and a clear error for each bad input."""

import zipfile

import pytest
from lms_downloads import CANVAS, notebook, write_zip

from autograder.core.errors import CourseError
from autograder.core.roster import RosterError
from autograder.grading.collect import lms, placing
from autograder.grading.collect.lms import File
from autograder.grading.collect.placing import collect
from autograder.grading.collect.sources import CollectError, Entry
from labkit import config


def files(*names: str) -> list[File]:
    return [File(name, Entry(name, 1, lambda: b"")) for name in names]


@pytest.mark.parametrize("name, plain", [
    ("lab2.ipynb", ("lab2", ".ipynb", 0)),
    ("Copy of lab2.ipynb", ("lab2", ".ipynb", 0)),
    ("lab2 (1).ipynb", ("lab2", ".ipynb", 1)),
    ("lab2-3.ipynb", ("lab2", ".ipynb", 3)),
    ("work/Lab2.ipynb", ("lab2", ".ipynb", 0)),
    ("Copy of Lab 2 (2).IPYNB", ("lab2", ".ipynb", 2)),
    ("lab2_model-1.pt", ("lab2_model", ".pt", 1)),
    ("lab21.ipynb", ("lab21", ".ipynb", 0)),
])
def test_usual_renamings_come_back_to_the_name(name, plain):
    assert placing.plain(name) == plain


@pytest.mark.parametrize("name", ["Copy of lab2.ipynb", "lab2 (1).ipynb", "lab2-1.ipynb", "Lab2.ipynb"])
def test_a_renamed_notebook_is_taken_beside_another_notebook(name):
    """Is a renaming of lab2.ipynb taken even when the student also submitted an unrelated notebook?"""
    chosen, note = placing.choose_notebook("lab2", files("scratch.ipynb", name))
    assert chosen.name == name and note == f"took {name} as lab2.ipynb"


def test_several_unrelated_notebooks_are_not_guessed():
    chosen, why = placing.choose_notebook("lab2", files("a.ipynb", "b.ipynb", "notes.txt"))
    assert chosen is None and "2 notebooks, none named like lab2.ipynb" in why


def test_the_latest_copy_wins_and_is_named():
    chosen, note = placing.choose_notebook("lab2", files("lab2.ipynb", "lab2 (2).ipynb", "Copy of lab2 (1).ipynb"))
    assert chosen.name == "lab2 (2).ipynb" and "the latest of lab2.ipynb, lab2 (2).ipynb" in note


def test_a_different_file_naming_is_not_an_lms():
    """Does recognise() find no LMS in files that no LMS names that way?"""
    entries = [Entry(name, 1, lambda: b"") for name in ("lab2.ipynb", "ada/lab2.ipynb", "notes_101.txt")]
    assert lms.recognise(entries) is None


def cut_zip(tmp_path):
    whole = write_zip(tmp_path / "whole.zip", CANVAS).read_bytes()
    (tmp_path / "cut.zip").write_bytes(whole[: len(whole) // 2])
    return tmp_path / "cut.zip"


def bad_member_zip(tmp_path):
    """A zip whose directory is intact but whose stored notebook's bytes are damaged (its CRC fails on reading)."""
    path = tmp_path / "damaged.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("lovelaceada_101_48001_lab2.ipynb", notebook("ada"))
    data = bytearray(path.read_bytes())
    at = data.index(b'"cells"')
    data[at:at + 7] = b'"CELLS"'
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "nope.zip", "does not exist"),
    (lambda tmp: (tmp / "grades.csv").write_text("a,b\n") and tmp / "grades.csv", "is neither a .zip nor a folder"),
    (cut_zip, "is not a readable zip (corrupt, or cut off while downloading)"),
    (bad_member_zip, "is a corrupt zip"),
    (lambda tmp: write_zip(tmp / "mine.zip", {"lab2.ipynb": b"{}", "ada/lab2_model.pt": b""}),
     "cannot tell which LMS wrote it"),
])
def test_a_bad_source_is_one_clear_error(course, tmp_path, make, message):
    """Is each unusable SOURCE a CourseError saying what was wrong and what to give instead?"""
    with pytest.raises(CollectError) as error:
        collect(course, "lab2", make(tmp_path), echo=lambda line: None)
    assert isinstance(error.value, CourseError) and message in str(error.value)
    assert not (course.root / "submitted").exists()


def test_no_class_list_says_what_to_set(course, tmp_path):
    (course.root / config.CONFIG_NAME).write_text(
        (course.root / config.CONFIG_NAME).read_text().replace('file = "roster.csv"', 'file = ""'))
    with pytest.raises(RosterError, match=r"set \[roster\] file"):
        collect(config.load(course.root), "lab2", write_zip(tmp_path / "s.zip", CANVAS), echo=lambda line: None)


@pytest.mark.parametrize("option, text, message", [
    ("timezone_name", "Mars/Olympus", "is not a time zone"),
    ("times_file", "user,when\n101,2025-03-03\n", "need the columns submitted_at and lms_id or login"),
    ("times_file", "lms_id,submitted_at\n101,March 3rd\n", "row 2: submitted_at 'March 3rd' is not an ISO-8601"),
    ("worksheet", "Name,Time\nAda,-\n", "is not Moodle's grading worksheet"),
    ("worksheet", "Identifier,Last modified (submission)\nParticipant 1,\"Montag, 3. März 2025, 23:59\"\n",
     "row 2: cannot read the time"),
])
def test_a_bad_option_is_one_clear_error(course, tmp_path, option, text, message):
    """Is a wrong --timezone, --times or --worksheet a CollectError naming the file, row and expected format?"""
    value = text
    if option != "timezone_name":
        value = tmp_path / "given.csv"
        value.write_text(text, encoding="utf-8")
    with pytest.raises(CollectError, match=message):
        collect(course, "lab2", write_zip(tmp_path / "s.zip", CANVAS), echo=lambda line: None, **{option: value})
