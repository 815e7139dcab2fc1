"""`course collect`: Canvas, Moodle and Blackboard downloads written in nbgrader's layout, with times and a report."""

import csv
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from lms_downloads import BLACKBOARD, CANVAS, MOODLE, WORKSHEET, notebook, write_zip
from nbgrader.utils import parse_utc

from autograder import cli
from autograder.grading import latepenalty
from autograder.grading.autograde import warn_untimed
from autograder.grading.collect.placing import collect

LAB = "lab2"


def submitted(course, login: str) -> Path:
    return course.root / "submitted" / login / LAB


def tag(path: Path) -> str:
    """The tag a fixture notebook carries in its metadata."""
    return json.loads(path.read_bytes())["metadata"]["tag"]


def stamp(course, login: str) -> str | None:
    path = submitted(course, login) / "timestamp.txt"
    return path.read_text().strip() if path.exists() else None


def penalty(course, login: str, score: float = 100.0) -> float:
    """The late penalty the kit's plugin takes from `score`, from timestamp.txt as nbgrader reads it."""
    lab = course.lab(LAB)
    seconds_late = (parse_utc(stamp(course, login)) - lab.due_utc.replace(tzinfo=None)).total_seconds()
    return latepenalty.points_lost(score, seconds_late, lab.late_penalty * lab.points)


def not_placed(result) -> dict[str, str]:
    return dict(result.unplaced)


def test_canvas_files_land_by_the_canvas_user_id(course, tmp_path):
    """Does each Canvas file reach submitted/<login>/lab2/ by lms_id, renamed, with its model, and no time invented?"""
    result = collect(course, LAB, write_zip(tmp_path / "submissions.zip", CANVAS), echo=lambda line: None)
    assert result.lms == "Canvas"
    assert tag(submitted(course, "alovelace") / "lab2.ipynb") == "ada"
    assert (submitted(course, "alovelace") / "lab2_model.pt").read_bytes() == b"ada's model"
    assert tag(submitted(course, "aturing") / "lab2.ipynb") == "alan"                  # lab2-1.ipynb
    assert (submitted(course, "aturing") / "lab2_model.pt").read_bytes() == b"alan's model"  # lab2_model-1.pt
    assert tag(submitted(course, "ghopper") / "lab2.ipynb") == "grace"                 # Copy of lab2.ipynb
    assert tag(submitted(course, "kjohnson") / "lab2.ipynb") == "katherine, re-upload"  # lab2-1 over lab2
    assert not list(course.root.glob("submitted/*/lab2/timestamp.txt"))  # Canvas keeps no time: none written
    unplaced = not_placed(result)
    assert "not in the class list's lms_id column" in unplaced["nobodyx_999_48040_lab2.ipynb"]
    assert "not a notebook" in unplaced["hoppergrace_late_103_48021_report.pdf"]
    assert "another notebook of kjohnson" in unplaced["johnsonkatherine_104_48030_lab2.ipynb"]
    assert [s.login for s in result.nothing] == ["jsmith_2", "enoether"]
    assert {login for login, p in result.placed.items() if p.late_mark} == {"aturing", "ghopper"}
    turing = next(line for line in result.lines if line.split()[1:2] == ["aturing:"])
    assert "time unknown, marked LATE by Canvas" in turing and "no late penalty" in turing
    assert result.report.read_text().splitlines() == result.lines
    rows = {row["login"]: row for row in csv.DictReader(open(course.root / "reports" / LAB / "collect.csv"))}
    assert rows["aturing"]["late"] == "LATE mark, time unknown" and rows["aturing"]["submitted_at"] == ""
    assert rows["enoether"]["status"] == "nothing submitted" and rows["alovelace"]["status"] == "written"


def test_canvas_times_from_a_csv_give_timestamps_and_the_late_penalty(course, tmp_path):
    """Does --times write timestamp.txt in UTC, so the kit's late penalty is 2 started days for 29.5 h late?"""
    times = tmp_path / "times.csv"
    times.write_text("lms_id,login,submitted_at\n101,,2025-03-03T22:00:00Z\n102,,2025-03-05T06:30:00+01:00\n"
                     ",ghopper,2025-03-03 23:59:00\n")
    result = collect(course, LAB, write_zip(tmp_path / "submissions.zip", CANVAS), times_file=times,
                     echo=lambda line: None)
    assert stamp(course, "alovelace") == "2025-03-03 22:00:00.000000 UTC"
    assert stamp(course, "aturing") == "2025-03-05 05:30:00.000000 UTC"
    assert stamp(course, "ghopper") == "2025-03-03 23:59:00.000000 UTC"  # no offset: --timezone, UTC
    assert stamp(course, "kjohnson") is None
    assert penalty(course, "alovelace") == 0 and penalty(course, "ghopper") == 0
    assert penalty(course, "aturing") == pytest.approx(2 * 0.1 * 115)
    assert result.placed["aturing"].time_from == "--times times.csv"


def test_moodle_folders_match_by_name_and_blind_ones_need_the_worksheet(course, tmp_path):
    """Does Moodle's download match full names, accept Lab2 (1).ipynb and a sub-folder, and name what it cannot?"""
    result = collect(course, LAB, write_zip(tmp_path / "moodle.zip", MOODLE), echo=lambda line: None)
    assert result.lms == "Moodle"
    assert tag(submitted(course, "alovelace") / "lab2.ipynb") == "ada"
    assert (submitted(course, "aturing") / "lab2_model.pt").read_bytes() == b"alan's model"  # lab2_model (1).pt
    assert tag(submitted(course, "aturing") / "lab2.ipynb") == "alan"                        # Lab2 (1).ipynb
    assert tag(submitted(course, "ghopper") / "lab2.ipynb") == "grace"                       # work/lab2.ipynb
    unplaced = not_placed(result)
    assert "--worksheet" in unplaced["Participant_5004_assignsubmission_file_/lab2.ipynb"]
    assert "no student of the class list is named 'Someone Else'" in \
        unplaced["Someone Else_5005_assignsubmission_file_/lab2.ipynb"]
    assert "not a notebook" in unplaced["Grace Hopper_5003_assignsubmission_onlinetext_/onlinetext.html"]
    assert {s.login for s in result.nothing} == {"kjohnson", "jsmith_2", "enoether"}
    assert not list(course.root.glob("submitted/*/lab2/timestamp.txt"))


def test_moodle_worksheet_gives_emails_and_times_in_the_timezone(course, tmp_path):
    """Does the grading worksheet place the blind participant by email and give times read in --timezone?"""
    sheet = tmp_path / "Grades-Lab 2.csv"
    sheet.write_text(WORKSHEET, encoding="utf-8")
    result = collect(course, LAB, write_zip(tmp_path / "moodle.zip", MOODLE), worksheet=sheet,
                     timezone_name="Europe/Berlin", echo=lambda line: None)
    assert tag(submitted(course, "kjohnson") / "lab2.ipynb") == "katherine"
    assert stamp(course, "kjohnson") == "2025-03-02 08:05:00.000000 UTC"
    assert stamp(course, "alovelace") == "2025-03-03 21:15:00.000000 UTC"   # 10:15 PM in Berlin (UTC+1)
    assert stamp(course, "ghopper") == "2025-03-03 22:59:00.000000 UTC"     # 11:59 PM in Berlin: on time
    assert penalty(course, "ghopper") == 0
    assert penalty(course, "aturing") == pytest.approx(2 * 0.1 * 115)    # 5 March 2:30 AM Berlin: 25.5 h late
    assert "Moodle's grading worksheet, read in Europe/Berlin" in result.placed["aturing"].time_from
    assert [s.login for s in result.nothing] == ["jsmith_2", "enoether"]


def test_moodle_flat_download_is_not_taken_for_canvas(course, tmp_path):
    """Is Moodle's download without folders (names that also fit Canvas's pattern loosely) read as Moodle's?"""
    download = write_zip(tmp_path / "moodle.zip", {
        "Ada Lovelace_5001_assignsubmission_file_lab2.ipynb": notebook("ada"),
        "Alan Turing_5002_assignsubmission_file_Lab2.ipynb": notebook("alan")})
    result = collect(course, LAB, download, echo=lambda line: None)
    assert result.lms == "Moodle" and tag(submitted(course, "aturing") / "lab2.ipynb") == "alan"


def test_blackboard_takes_the_latest_attempt_and_opens_the_students_zip(course, tmp_path):
    """Does Blackboard's download give the latest attempt, its time from the name, and the notebook and model
    inside StudentID_Name.zip of a login holding "_"?"""
    result = collect(course, LAB, write_zip(tmp_path / "gradebook.zip", BLACKBOARD), echo=lambda line: None)
    assert result.lms == "Blackboard"
    assert tag(submitted(course, "alovelace") / "lab2.ipynb") == "ada, second attempt"
    assert stamp(course, "alovelace") == "2025-03-03 23:30:00.000000 UTC"
    assert "2 attempts in the download: took the latest" in "; ".join(result.placed["alovelace"].notes)
    assert tag(submitted(course, "jsmith_2") / "lab2.ipynb") == "john"
    assert (submitted(course, "jsmith_2") / "lab2_model.pt").read_bytes() == b"john's model"
    assert sorted(p.name for p in submitted(course, "jsmith_2").iterdir()) == ["lab2.ipynb", "lab2_model.pt",
                                                                                "timestamp.txt"]
    assert penalty(course, "jsmith_2") == pytest.approx(0.1 * 115)  # 1 h late: one started day
    assert penalty(course, "alovelace") == 0
    assert tag(submitted(course, "aturing") / "lab2.ipynb") == "alan"  # resnet32_report.ipynb, its only notebook
    unplaced = not_placed(result)
    assert "an earlier attempt of alovelace" in unplaced["Lab 2_alovelace_attempt_2025-03-03-20-00-00_lab2.ipynb"]
    assert "not in the class list's login column" in unplaced["Lab 2_zz99_attempt_2025-03-03-12-00-00_lab2.ipynb"]
    assert not any(path.endswith(".txt") for path in unplaced)  # the receipts are expected, not lost files
    assert "3 Blackboard receipt(s)" in result.lines[0]


def test_blackboard_times_are_the_servers_local_time(course, tmp_path):
    """Is an attempt time in a Blackboard name read in --timezone (New York, UTC-5 in March)?"""
    collect(course, LAB, write_zip(tmp_path / "gradebook.zip", BLACKBOARD), timezone_name="America/New_York",
            echo=lambda line: None)
    assert stamp(course, "alovelace") == "2025-03-04 04:30:00.000000 UTC"
    assert penalty(course, "alovelace") == pytest.approx(0.1 * 115)


def test_collecting_again_never_overwrites_silently(course, tmp_path):
    """Is an identical submission left alone, a different one kept unless --force, and the replaced one saved?"""
    download = write_zip(tmp_path / "submissions.zip", CANVAS)
    collect(course, LAB, download, echo=lambda line: None)
    again = collect(course, LAB, download, echo=lambda line: None)
    assert {p.status for p in again.placed.values()} == {"unchanged"}
    changed = write_zip(tmp_path / "later.zip", {**CANVAS, "lovelaceada_101_48001_lab2.ipynb": notebook("ada, v2")})
    kept = collect(course, LAB, changed, echo=lambda line: None)
    assert kept.placed["alovelace"].status == "kept" and kept.placed["aturing"].status == "unchanged"
    assert tag(submitted(course, "alovelace") / "lab2.ipynb") == "ada"
    assert "--force" in next(line for line in kept.lines if " alovelace:" in line)
    forced = collect(course, LAB, changed, force=True, echo=lambda line: None)
    assert forced.placed["alovelace"].status == "replaced"
    assert tag(submitted(course, "alovelace") / "lab2.ipynb") == "ada, v2"
    (old,) = (course.root / "reports" / LAB / "replaced").glob("*/alovelace/lab2.ipynb")
    assert tag(old) == "ada"


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_an_extracted_folder_works_and_the_download_is_never_changed(course, tmp_path):
    """Does a folder holding the extracted download (in a folder of its own) give the same result, and are the zip
    and the folder left exactly as they were?"""
    download = write_zip(tmp_path / "submissions.zip", BLACKBOARD)
    before = hashlib.sha256(download.read_bytes()).hexdigest()
    folder = tmp_path / "downloads"
    with zipfile.ZipFile(download) as archive:
        archive.extractall(folder / "gradebook_lab2")
    files = tree(folder)
    result = collect(course, LAB, folder, echo=lambda line: None)
    assert tag(submitted(course, "jsmith_2") / "lab2.ipynb") == "john" and result.lms == "Blackboard"
    assert stamp(course, "alovelace") == "2025-03-03 23:30:00.000000 UTC"
    collect(course, LAB, download, force=True, echo=lambda line: None)
    assert tree(folder) == files and hashlib.sha256(download.read_bytes()).hexdigest() == before


def test_lab1_carries_no_extra_file_and_a_submission_without_notebook_is_named(course, tmp_path):
    """Does a lab with no extra file take the notebook alone, and is a submission with no notebook reported?"""
    download = write_zip(tmp_path / "submissions.zip", {"lovelaceada_101_51_lab1.ipynb": notebook("ada"),
                                                        "lovelaceada_101_52_lab2_model.pt": b"model",
                                                        "turingalan_102_53_report.pdf": b"%PDF-1.4"})
    result = collect(course, "lab1", download, echo=lambda line: None)
    assert sorted(p.name for p in (course.root / "submitted" / "alovelace" / "lab1").iterdir()) == ["lab1.ipynb"]
    assert "nor a file lab1 expects (lab1.ipynb)" in not_placed(result)["lovelaceada_101_52_lab2_model.pt"]
    assert result.placed["aturing"].status == "no notebook"
    assert "no notebook (.ipynb)" in not_placed(result)["turingalan_102_53_report.pdf"]
    assert not (course.root / "submitted" / "aturing").exists()
    assert "no notebook" in result.lines[-1] and "aturing" not in {s.login for s in result.nothing}


def test_the_command_line_collects_and_reports_errors_in_one_line(course, tmp_path, capsys):
    """Does `course collect` print the placed students, and a bad SOURCE one error line with exit code 2?"""
    download = write_zip(tmp_path / "submissions.zip", CANVAS)
    assert cli.main(["--root", str(course.root), "collect", LAB, str(download)]) == 0
    out = capsys.readouterr().out
    assert "written     alovelace" in out and "report: " in out
    assert cli.main(["--root", str(course.root), "collect", LAB, str(tmp_path / "nope.zip")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("course: error: ") and "does not exist" in err and "Traceback" not in err


def test_autograde_warns_about_submissions_without_a_time(course):
    """Does autograde's header warn, for a lab with a due date only, about exactly the submissions with no
    timestamp.txt?"""
    for login, lab in (("timed", LAB), ("untimed", LAB), ("untimed", "lab1")):
        folder = course.root / "submitted" / login / lab
        folder.mkdir(parents=True)
        (folder / f"{lab}.ipynb").write_bytes(notebook(login))
    (course.root / "submitted" / "timed" / LAB / "timestamp.txt").write_text("2025-03-03 22:00:00.000000 UTC\n")
    lines = []
    warn_untimed(course, LAB, ["timed", "untimed"], lines.append)
    assert len(lines) == 1 and "1 submission(s) have no timestamp.txt" in lines[0]
    assert lines[0].endswith("untimed (`course collect lab2 SOURCE --times FILE` writes it)")
    warn_untimed(course, "lab1", ["untimed"], lines.append)  # lab 1 has no due date
    assert len(lines) == 1
