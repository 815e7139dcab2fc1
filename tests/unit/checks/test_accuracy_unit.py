"""Lab 2's accuracy item: the saved model is loaded safely, evaluated on the grader's test split, and scored on a
linear scale; every hostile or broken file is refused with its reason, and a grader without data never gives 0."""

import os
import pickle

import pytest
import torch

import harness
from autograder.checks import accuracy
from autograder.checks import lab2 as grade
from autograder.mistakes import models
from labkit.checks import CheckFailed
from labkit.labs import lab2

REFERENCE = harness.definitions(harness.source_notebook("lab2"), harness.reference("lab2"))["resnet"]


@pytest.fixture
def submission(tmp_path, monkeypatch, one_torch_thread):
    """A submission folder as the grading kernel sees it: the working folder, with the grader's environment."""
    monkeypatch.setenv(accuracy.DATA_ENV, str(harness.grader_data()))
    monkeypatch.setenv(accuracy.ACCURACY_ENV, "70,89")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_points_are_linear_between_the_thresholds():
    """Are the points 0 up to the lower threshold, all from the upper one, linear between and rounded to 0.01?"""
    assert [accuracy.points_for(a, 70, 89, 3) for a in (50, 70, 79.5, 89, 95)] == [0, 0, 1.5, 3, 3]
    assert accuracy.points_for(80, 70, 89, 3) == 1.58


def test_a_fitted_model_earns_every_point(submission, capsys):
    """Does the student's network with their saved weights score all 3 points (100 % on the stand-in's test split),
    and say so?"""
    models.save(models.fitted(REFERENCE, harness.grader_data()), models.DEPTH, submission)
    assert grade.saved_model_points(REFERENCE, 3) == 3
    assert "100.00 % on the 100 test images: 3/3 points" in capsys.readouterr().out


def test_an_untrained_model_earns_partial_or_no_points(submission):
    """Does a model with its random last layer (about chance) earn fewer points, by the linear scale?"""
    models.save(REFERENCE(models.DEPTH), models.DEPTH, submission)
    assert grade.saved_model_points(REFERENCE, 3) < 3


def test_a_missing_file_scores_zero_with_what_to_do(submission):
    with pytest.raises(CheckFailed, match=f"no {lab2.MODEL_FILE} beside the notebook: run the training"):
        grade.saved_model_points(REFERENCE, 3)


class RunsCode:
    """Unpickling this runs a command: what torch.load(weights_only=True) must refuse."""

    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_pickle_that_runs_code_is_refused_unrun(submission):
    """Is a pickle that would run code refused, with the reason, and the code never run?"""
    torch.save({"depth": 8, "state_dict": RunsCode()}, submission / lab2.MODEL_FILE)
    with pytest.raises(CheckFailed, match="refused: it is not a plain dict of tensors"):
        grade.saved_model_points(REFERENCE, 3)
    assert not (submission / "pwned").exists()
    (submission / lab2.MODEL_FILE).write_bytes(pickle.dumps(RunsCode()))
    with pytest.raises(CheckFailed, match="refused"):
        grade.saved_model_points(REFERENCE, 3)
    assert not (submission / "pwned").exists()


def test_a_file_over_the_cap_is_refused_unread(submission):
    with open(submission / lab2.MODEL_FILE, "wb") as f:
        f.truncate((accuracy.MAX_MIB << 20) + 1)
    with pytest.raises(CheckFailed, match=f"over the {accuracy.MAX_MIB} MiB"):
        grade.saved_model_points(REFERENCE, 3)


def test_a_state_dict_for_another_architecture_is_refused(submission):
    """Are weights of another depth, of another network, or a depth that is not 6n + 2 refused with the reason?"""
    torch.save({"depth": 8, "state_dict": REFERENCE(20).state_dict()}, submission / lab2.MODEL_FILE)
    with pytest.raises(CheckFailed, match="does not fit your resnet\\(8\\)"):
        grade.saved_model_points(REFERENCE, 3)
    torch.save({"depth": 8, "state_dict": torch.nn.Linear(3, 10).state_dict()}, submission / lab2.MODEL_FILE)
    with pytest.raises(CheckFailed, match="does not fit"):
        grade.saved_model_points(REFERENCE, 3)
    torch.save({"depth": 9, "state_dict": {}}, submission / lab2.MODEL_FILE)
    with pytest.raises(CheckFailed, match="gives depth 9"):
        grade.saved_model_points(REFERENCE, 3)


def test_a_network_with_other_parameters_is_refused(submission):
    """Is a saved model refused when the student's network has other parameters than the lab's (strict load alone
    would accept weights saved from that same wrong network)?"""
    wider = lambda depth: torch.nn.Sequential(REFERENCE(depth), torch.nn.Linear(10, 10))  # noqa: E731
    models.save(wider(models.DEPTH), models.DEPTH, submission)
    with pytest.raises(CheckFailed, match="parameters, expected 75,290"):
        grade.saved_model_points(wider, 3)


def test_a_grader_without_data_or_thresholds_cannot_grade(submission, monkeypatch, tmp_path_factory):
    """Is a grader without the test split, or without the thresholds, GraderUnavailable (needs regrading), never 0?"""
    models.save(models.fitted(REFERENCE, harness.grader_data()), models.DEPTH, submission)
    monkeypatch.setenv(accuracy.DATA_ENV, str(tmp_path_factory.mktemp("empty")))
    with pytest.raises(accuracy.GraderUnavailable, match="no CIFAR-10 test split"):
        grade.saved_model_points(REFERENCE, 3)
    monkeypatch.delenv(accuracy.ACCURACY_ENV)
    monkeypatch.delenv("COURSE_ROOT", raising=False)  # the submission folder has no course.toml above it
    with pytest.raises(accuracy.GraderUnavailable, match="no accuracy thresholds"):
        grade.saved_model_points(REFERENCE, 3)


def test_the_source_notebook_reads_the_thresholds_from_course_toml(monkeypatch, tmp_path):
    """Does an instructor running the source notebook in the course get course.toml's thresholds and data root?"""
    monkeypatch.delenv(accuracy.ACCURACY_ENV, raising=False)
    monkeypatch.delenv(accuracy.DATA_ENV, raising=False)
    monkeypatch.setenv("COURSE_ROOT", str(harness.ROOT))
    assert accuracy.thresholds("lab2") == (harness.KIT.lab("lab2").accuracy_zero, harness.KIT.lab("lab2").accuracy_full)
    assert accuracy.data_root() == harness.KIT.data_root
