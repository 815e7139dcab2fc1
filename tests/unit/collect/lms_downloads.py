"""A course.toml with a due date for lab 2 and a class list, and the three LMS downloads as each LMS names them."""

import io
import json
import zipfile
from pathlib import Path

DUE = "2025-03-03T23:59:00+00:00"
LATE_PENALTY = 0.1
LAB2_POINTS = 115
COURSE_TOML = f"""
[course]
id = "collect-test"

[colab]
repository = ""

[roster]
file = "roster.csv"

[labs.lab1]
title = "VGG-16 and ResNet50_layer4 on CIFAR-10"
points = 170

[labs.lab2]
title = "ResNet32 evaluation report"
points = {LAB2_POINTS}
due = "{DUE}"
late_penalty = {LATE_PENALTY}
accuracy_zero = 70
accuracy_full = 89
"""
ROSTER = """login,name,email,lms_id,sis_id,section
alovelace,Ada Lovelace,ada@uni.edu,101,S1,A
aturing,Alan Turing,alan@uni.edu,102,S2,A
ghopper,Grace Hopper,grace@uni.edu,103,S3,B
kjohnson,Katherine Johnson,kj@uni.edu,104,S4,B
jsmith_2,John Smith,john@uni.edu,105,S5,B
enoether,Emmy Noether,emmy@uni.edu,106,S6,B
"""


def notebook(tag: str) -> bytes:
    """A small notebook whose metadata names it, so a test can tell which file landed where."""
    return json.dumps({"cells": [], "metadata": {"tag": tag}, "nbformat": 4, "nbformat_minor": 5}).encode()


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def zipped(files: dict[str, bytes]) -> bytes:
    """A zip's bytes (a student's own zip, inside the download)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# Canvas's submissions.zip (canvas-lms lib/content_zipper.rb): <lastfirst>_[late_]<user id>_<file id>_<file>, one id
# per file; "-1" on a name uploaded again. The late mark is written "late" (the brief's "LATE" is read too).
CANVAS = {
    "lovelaceada_101_48001_lab2.ipynb": notebook("ada"),
    "lovelaceada_101_48002_lab2_model.pt": b"ada's model",
    "turingalan_LATE_102_48010_lab2-1.ipynb": notebook("alan"),
    "turingalan_LATE_102_48011_lab2_model-1.pt": b"alan's model",
    "hoppergrace_late_103_48020_Copy of lab2.ipynb": notebook("grace"),
    "hoppergrace_late_103_48021_report.pdf": b"%PDF-1.4",
    "johnsonkatherine_104_48030_lab2.ipynb": notebook("katherine, first upload"),
    "johnsonkatherine_104_48031_lab2-1.ipynb": notebook("katherine, re-upload"),
    "nobodyx_999_48040_lab2.ipynb": notebook("nobody"),
}

# Moodle's "Download all submissions" (folders): <Full Name>_<participant id>_assignsubmission_file_/<file>.
MOODLE = {
    "Ada Lovelace_5001_assignsubmission_file_/lab2.ipynb": notebook("ada"),
    "Ada Lovelace_5001_assignsubmission_file_/lab2_model.pt": b"ada's model",
    "Alan Turing_5002_assignsubmission_file/Lab2 (1).ipynb": notebook("alan"),  # Moodle 4.x: no last "_"
    "Alan Turing_5002_assignsubmission_file/lab2_model (1).pt": b"alan's model",
    "Grace Hopper_5003_assignsubmission_file_/work/lab2.ipynb": notebook("grace"),
    "Grace Hopper_5003_assignsubmission_onlinetext_/onlinetext.html": b"<p>see my notebook</p>",
    "Participant_5004_assignsubmission_file_/lab2.ipynb": notebook("katherine"),  # blind marking
    "Someone Else_5005_assignsubmission_file_/lab2.ipynb": notebook("someone"),
}
WORKSHEET = """Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,\
Last modified (submission),Last modified (grade),Feedback comments
Participant 5001,Ada Lovelace,ada@uni.edu,Submitted for grading,,115.00,Yes,"Monday, 3 March 2025, 10:15 PM",-,
Participant 5002,Alan Turing,alan@uni.edu,Submitted for grading,,115.00,Yes,"Wednesday, 5 March 2025, 2:30 AM",-,
Participant 5003,Grace Hopper,grace@uni.edu,Submitted for grading,,115.00,Yes,"Monday, 3 March 2025, 11:59 PM",-,
Participant 5004,Participant,kj@uni.edu,Submitted for grading,,115.00,Yes,"Sunday, 2 March 2025, 9:05 AM",-,
Participant 5006,Emmy Noether,emmy@uni.edu,No submission,,115.00,Yes,-,-,
"""

# Blackboard's Assignment File Download: <assignment>_<user name>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file> and a receipt
# <...>.txt per attempt; handout 002's StudentID_Name.zip inside.
RECEIPT = "Name: {name} ({user})\nAssignment: Lab 2\nDate Submitted: Monday, March 3, 2025 11:30:00 PM UTC\n"
BLACKBOARD = {
    "Lab 2_alovelace_attempt_2025-03-03-20-00-00_lab2.ipynb": notebook("ada, first attempt"),
    "Lab 2_alovelace_attempt_2025-03-03-20-00-00.txt": RECEIPT.format(name="Ada Lovelace", user="alovelace").encode(),
    "Lab 2_alovelace_attempt_2025-03-03-23-30-00_lab2.ipynb": notebook("ada, second attempt"),
    "Lab 2_alovelace_attempt_2025-03-03-23-30-00_lab2_model.pt": b"ada's model",
    "Lab 2_alovelace_attempt_2025-03-03-23-30-00.txt": RECEIPT.format(name="Ada Lovelace", user="alovelace").encode(),
    "Lab 2_jsmith_2_attempt_2025-03-04-01-00-00_S5_John_Smith.zip": zipped({
        "S5_John_Smith/lab2.ipynb": notebook("john"),
        "S5_John_Smith/lab2_model.pt": b"john's model",
        "__MACOSX/S5_John_Smith/._lab2.ipynb": b"resource fork",
    }),
    "Lab 2_jsmith_2_attempt_2025-03-04-01-00-00.txt": RECEIPT.format(name="John Smith", user="jsmith_2").encode(),
    "Lab 2_aturing_attempt_2025-03-03-12-00-00_resnet32_report.ipynb": notebook("alan"),
    "Lab 2_zz99_attempt_2025-03-03-12-00-00_lab2.ipynb": notebook("stranger"),
}
