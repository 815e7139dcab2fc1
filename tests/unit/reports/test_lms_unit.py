"""Grades in Canvas's and Moodle's import CSVs, from records built in memory and a class list (no grading run)."""

import csv
import dataclasses

import pytest

from autograder.core.roster import Student
from autograder.reports import lms
from autograder.reports.records import Record
from labkit import config

# Canvas's gradebook import reads the columns of its own export: Student, ID, SIS User ID, SIS Login ID, Section, then
# one column per assignment "Name (assignment id)", and a second row whose first cell is "    Points Possible".
# https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807
# (as written by instructure/canvas-lms lib/gradebook_exporter.rb, read by lib/gradebook_importer.rb)
CANVAS_DOCUMENTED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_POSSIBLE = "    Points Possible"
# Moodle's CSV grade import maps users "from" a column of the file "to" a user field: Email address to useremail, or
# ID number to useridnumber; each other column is mapped to a grade item. https://docs.moodle.org/311/en/Grade_import
# The user columns are named as Moodle's own grade export names them (lang/en/moodle.php: firstname, lastname,
# idnumber, email).
MOODLE_DOCUMENTED = ["First name", "Last name", "ID number", "Email address"]
MOODLE_MAP_FROM = {"Email address", "ID number"}

LAB1 = config.LabConfig("lab1", "VGG-16 and ResNet50", 170.0, canvas_id=4242)
LAB2 = config.LabConfig("lab2", "ResNet32 report", 115.0)
LAB3 = config.LabConfig("lab3", "ResNet44 project", 115.0)
LABS = [LAB1, LAB2, LAB3]

ADA = Student("ada", "Ada Lovelace", "ada@uni.edu", "101", "S1", "A")
BOB = Student("bob", "Bob King Smith", "bob@uni.edu", "102", "S2", "B")
CYD = Student("cyd", "Cyd", "", "103", "", "A")           # no email, no SIS id: Moodle cannot match them
DEE = Student("dee", "Dee Noone", "dee@uni.edu", "104", "S4", "B")  # on the class list, nothing graded
ROSTER = [ADA, BOB, CYD, DEE]


def by_lab():
    """Records as records.records makes them: bob is late in lab1, cyd's lab2 could not be graded, eve is not on the
    class list, nobody has lab3."""
    return {
        "lab1": [Record("ada", "graded", scores={"t1": 100.0, "t2": 70.0}, max_score=170.0),
                 Record("bob", "graded", scores={"t1": 100.0, "t2": 50.5}, late_penalty=17.0, seconds_late=90000,
                        max_score=170.0),
                 Record("cyd", "graded", scores={"t1": 60.0}, max_score=170.0),
                 Record("eve", "graded", scores={"t1": 40.0}, max_score=170.0)],
        "lab2": [Record("ada", "graded", scores={"t1": 99.25}, max_score=115.0),
                 Record("cyd", "not graded", max_score=115.0, problems=["kernel died"])],
    }


def written(tmp_path):
    """Write both files from the class list and the records; return the printed lines."""
    lines = []
    lms.write_files(ROSTER, lms.finals(by_lab()), LABS, tmp_path, echo=lines.append)
    return lines


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_finals_are_scores_after_the_late_penalty_of_graded_records():
    """Does each student with a record get the final score (total less late penalty) of each graded lab only?"""
    assert lms.finals(by_lab()) == {"ada": {"lab1": 170.0, "lab2": 99.25}, "bob": {"lab1": 133.5},
                                    "cyd": {"lab1": 60.0}, "eve": {"lab1": 40.0}}


def test_canvas_header_and_points_possible_row_are_the_documented_ones(tmp_path):
    """Does the Canvas file open with Canvas's identity columns, then "Title (id)" or the title per graded lab, and a
    second row "    Points Possible", empty identity cells, each lab's points as Canvas writes them?"""
    written(tmp_path)
    header, possible, *_ = read(tmp_path / lms.CANVAS_CSV)
    assert header == [*CANVAS_DOCUMENTED, "VGG-16 and ResNet50 (4242)", "ResNet32 report"]
    assert possible == [CANVAS_POINTS_POSSIBLE, "", "", "", "", "170.00", "115.00"]


def test_canvas_rows_give_ids_late_penalty_and_empty_cells(tmp_path):
    """Does each student's Canvas row hold "Last, First", the LMS id, SIS id, login and section, the final score after
    the late penalty, and an empty cell for a lab without a final score?"""
    written(tmp_path)
    rows = {row[3]: row for row in read(tmp_path / lms.CANVAS_CSV)[2:]}
    assert rows["ada"] == ["Lovelace, Ada", "101", "S1", "ada", "A", "170.00", "99.25"]
    assert rows["bob"] == ["Smith, Bob King", "102", "S2", "bob", "B", "133.50", ""]  # 150.5 less 17 late
    assert rows["cyd"][0] == "Cyd" and rows["cyd"][5:] == ["60.00", ""]               # lab2 not graded


def test_students_missing_on_either_side_are_named_and_written(tmp_path):
    """Are a graded student missing from the class list and a listed student without any grade named in the printed
    line, and both still in the Canvas file (login only; empty grades)?"""
    lines = written(tmp_path)
    assert "submitted but not on it (in the Canvas file with their login only): eve;" in lines[0]
    assert "on it without any grade (rows without grades): dee" in lines[0]
    rows = {row[3]: row for row in read(tmp_path / lms.CANVAS_CSV)[2:]}
    assert list(rows) == ["ada", "bob", "cyd", "dee", "eve"]
    assert rows["eve"] == ["eve", "", "", "eve", "", "40.00", ""]
    assert rows["dee"][5:] == ["", ""]
    found = lms.match(ROSTER, lms.finals(by_lab()))
    assert (found.not_on_roster, found.without_grade) == (["eve"], ["dee"])


def test_moodle_file_and_its_unmatched_students(tmp_path):
    """Does the Moodle file hold its user columns and one column per graded lab, "-" for no grade, and leave out (and
    name) the students without the value Moodle maps users from (no email: cyd, not on the class list: eve)?"""
    lines = written(tmp_path)
    rows = read(tmp_path / lms.MOODLE_CSV)
    assert rows[0] == [*MOODLE_DOCUMENTED, "VGG-16 and ResNet50", "ResNet32 report"]
    assert rows[1:] == [["Ada", "Lovelace", "S1", "ada@uni.edu", "170.00", "99.25"],
                        ["Bob King", "Smith", "S2", "bob@uni.edu", "133.50", lms.MOODLE_NO_GRADE],
                        ["Dee", "Noone", "S4", "dee@uni.edu", lms.MOODLE_NO_GRADE, lms.MOODLE_NO_GRADE]]
    moodle = next(line for line in lines if line.startswith("moodle:"))
    assert "(map users from Email address)" in moodle and "left out, without email address: cyd, eve" in moodle
    assert "above 100" in moodle and "lab1 (170 points), lab2 (115 points)" in moodle  # refused unless allowed


def test_moodle_maps_from_id_number_when_more_students_have_one():
    """Is ID number the column to map from when more students have an ID number than an email address, and is it one
    of the columns Moodle's documentation maps users from?"""
    assert lms.moodle_key([Student("a", sis_id="1"), Student("b", sis_id="2", email="b@x")]) == "ID number"
    assert lms.moodle_key(ROSTER) == "Email address"
    assert set(lms.MOODLE_KEYS) <= MOODLE_MAP_FROM and set(lms.MOODLE_KEYS) <= set(lms.MOODLE_COLUMNS)


def test_both_files_read_back_with_dict_reader(tmp_path):
    """Does csv.DictReader read each file back with the right values under the right column names?"""
    written(tmp_path)
    with open(tmp_path / lms.CANVAS_CSV, newline="", encoding="utf-8") as f:
        canvas = list(csv.DictReader(f))
    assert canvas[0]["Student"] == CANVAS_POINTS_POSSIBLE and canvas[0]["VGG-16 and ResNet50 (4242)"] == "170.00"
    bob = next(row for row in canvas if row["SIS Login ID"] == "bob")
    assert (bob["ID"], bob["SIS User ID"], bob["Section"], bob["VGG-16 and ResNet50 (4242)"],
            bob["ResNet32 report"]) == ("102", "S2", "B", "133.50", "")
    with open(tmp_path / lms.MOODLE_CSV, newline="", encoding="utf-8") as f:
        moodle = {row["Email address"]: row for row in csv.DictReader(f)}
    assert moodle["ada@uni.edu"]["ResNet32 report"] == "99.25" and moodle["ada@uni.edu"]["ID number"] == "S1"


def test_a_lab_nobody_has_a_score_in_is_left_out(tmp_path):
    """Is a lab without any final score (lab3) left out of both files, so Canvas creates no empty assignment?"""
    written(tmp_path)
    assert all("ResNet44 project" not in read(tmp_path / name)[0] for name in (lms.CANVAS_CSV, lms.MOODLE_CSV))
    assert lms.graded_labs(lms.finals(by_lab()), LABS) == [LAB1, LAB2]


def test_canvas_names_and_columns():
    """Is the name written "Last, First" (a single name or the login as is), and the column "Title (id)" only with an
    assignment id?"""
    assert [lms.sortable_name(s) for s in (ADA, BOB, CYD, Student("zed"))] == [
        "Lovelace, Ada", "Smith, Bob King", "Cyd", "zed"]
    assert (lms.canvas_column(LAB1), lms.canvas_column(LAB2)) == ("VGG-16 and ResNet50 (4242)", "ResNet32 report")


def test_without_a_class_list_one_line_says_what_to_set(kit, tmp_path):
    """Does a course without [roster] file get one line naming the setting, no file, and no error?"""
    course = dataclasses.replace(kit, root=tmp_path, roster=config.Roster(""))
    lines = []
    assert lms.write(course, echo=lines.append) == []
    assert lines == [lms.NO_ROSTER] and "set [roster] file in course.toml" in lines[0]
    assert not (tmp_path / "reports").exists()


def test_a_course_with_a_class_list_writes_both_files(kit, tmp_path, monkeypatch):
    """Does `lms.write` read the course's class list and write both files into reports/?"""
    (tmp_path / "roster.csv").write_text("login,name,email,lms_id,sis_id,section\n"
                                         "ada,Ada Lovelace,ada@uni.edu,101,S1,A\n", encoding="utf-8")
    course = dataclasses.replace(kit, root=tmp_path, roster=config.Roster("roster.csv"),
                                 labs={"lab1": LAB1, "lab2": LAB2})
    monkeypatch.setattr(lms, "final_scores", lambda found: lms.finals(by_lab()))
    lines = []
    paths = lms.write(course, echo=lines.append)
    assert paths == [tmp_path / "reports" / lms.CANVAS_CSV, tmp_path / "reports" / lms.MOODLE_CSV]
    assert read(paths[0])[2] == ["Lovelace, Ada", "101", "S1", "ada", "A", "170.00", "99.25"]
    assert "bob, cyd, eve" in lines[0]  # graded, not on this class list


def test_canvas_id_is_an_optional_positive_integer_in_course_toml(tmp_path):
    """Does [labs.<id>] canvas_id read as an int, default to none, and fail with the key's name when it is not one?"""
    toml = '[course]\nid = "c"\n[colab]\nrepository = ""\n[labs.lab1]\ntitle = "t"\npoints = 10\n'
    assert config.parse(toml, tmp_path).lab("lab1").canvas_id is None
    assert config.parse(toml + "canvas_id = 4242\n", tmp_path).lab("lab1").canvas_id == 4242
    with pytest.raises(config.ConfigError, match="labs.lab1.canvas_id"):
        config.parse(toml + 'canvas_id = "4242"\n', tmp_path)
