"""Points for the test accuracy of the model a notebook saved beside itself: loaded safely, evaluated, never trained.

The grader passes the data root (LABKIT_DATA) and the lab's two thresholds (ACCURACY_ENV, from course.toml) to
the grading kernel; a grader without them, or without the test images, cannot grade the test: GraderUnavailable
makes the submission "needs regrading", never 0.
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from autograder.core.kernel_env import ACCURACY_ENV, DATA_ENV
from labkit.checks import CheckFailed

MAX_MIB = 64  # a saved state dict larger than this is refused unread
BATCH = 500


_note: list[str] = []  # what the last graded model scored, for the student's feedback (read by the clean re-run)


def note(text: str) -> None:
    """Record `text` as what the test that is running says of its score, and print it."""
    _note[:] = [text]
    print(text)


def take_note() -> str | None:
    """The note of the test that ran last (None if it gave none), forgotten once read."""
    return _note.pop() if _note else None


class GraderUnavailable(Exception):
    """The grader cannot grade this test here (no test images, no thresholds): grade it again where it can."""


def _course():
    """The course of the working folder (an instructor running the source notebook), or None (a grading kernel,
    which cannot see course.toml)."""
    from labkit import config

    root = config.find_root()
    return config.load(root) if root else None


def thresholds(lab_id: str) -> tuple[float, float]:
    """(accuracy worth 0 points, accuracy worth all of them), in %: as the grader passes them, else course.toml's."""
    text = os.environ.get(ACCURACY_ENV, "")
    if not text:
        course = _course()
        lab = course.labs.get(lab_id) if course else None
        if lab is not None and lab.accuracy_zero is not None:
            return lab.accuracy_zero, lab.accuracy_full
    try:
        zero, full = (float(part) for part in text.split(","))
    except ValueError:
        raise GraderUnavailable(f"the grader passed no accuracy thresholds ({ACCURACY_ENV}={text!r}) and no "
                                f"course.toml gives {lab_id} accuracy_zero and accuracy_full; grade with "
                                f"`course autograde`") from None
    return zero, full


def data_root() -> Path:
    """The grader's data root, where the CIFAR-10 test split is read (read-only): as the grader passes it, else
    course.toml's."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    course = _course()
    if course is None:
        raise GraderUnavailable(f"the grader passed no data root ({DATA_ENV}); grade with `course autograde`")
    return course.data_root


def points_for(accuracy: float, zero: float, full: float, points: float) -> float:
    """`points` scaled linearly from 0 at `zero` % to all at `full` % (clamped), rounded to 2 decimals."""
    share = (accuracy - zero) / (full - zero)
    return round(points * min(1.0, max(0.0, share)), 2)


def load_state(path: Path, max_mib: int = MAX_MIB) -> dict:
    """The dict saved at `path`, read with torch.load(weights_only=True): tensors and plain values only. A missing
    file, a file over `max_mib`, or one that is not such a dict (a pickle that would run code) is refused."""
    if not path.is_file():
        raise CheckFailed(f"no {path.name} beside the notebook: run the training and the cell that saves your best "
                          f"model, then submit {path.name} with the notebook")
    size = path.stat().st_size
    if size > max_mib << 20:
        raise CheckFailed(f"{path.name} is {size / 2 ** 20:.1f} MiB, over the {max_mib} MiB a saved CIFAR ResNet "
                          f"needs: save only the state dict (model.state_dict()), as the notebook's cell does")
    try:
        with warnings.catch_warnings():  # torch warns on stderr about some pickles, which nbgrader would score as 0
            warnings.simplefilter("ignore")
            saved = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, TypeError, AttributeError) as error:
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise CheckFailed(f"{path.name} was refused: it is not a plain dict of tensors (torch.load with "
                          f"weights_only=True said: {reason}); save it with the notebook's cell") from None
    if not isinstance(saved, dict):
        raise CheckFailed(f"{path.name} holds a {type(saved).__name__}, not the dict the notebook's cell saves")
    return saved


def load_into(model: nn.Module, state: dict, expected_parameters: int, what: str) -> nn.Module:
    """`model` with `state` loaded strictly; refused unless the model has `expected_parameters` and the state fits it."""
    found = sum(p.numel() for p in model.parameters())
    if found != expected_parameters:
        raise CheckFailed(f"{what} has {found:,} parameters, expected {expected_parameters:,}: the saved model can "
                          f"only be graded on a network built as the lab asks")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckFailed("the saved state_dict is not a dict of tensors")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise CheckFailed(f"the saved state_dict does not fit {what} (another architecture?): "
                          f"{str(error).splitlines()[1].strip() if len(str(error).splitlines()) > 1 else error}"
                          [:300]) from None
    return model


@torch.no_grad()
def predictions(model: nn.Module, images: np.ndarray, mean, std) -> np.ndarray:
    """The class `model` predicts for each uint8 image (N, 32, 32, 3), normalised with `mean`/`std`, in batches."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = model.to(device).eval()
    mean = torch.tensor(mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(std, device=device).view(1, 3, 1, 1)
    found = []
    for start in range(0, len(images), BATCH):
        batch = torch.from_numpy(images[start:start + BATCH]).to(device).permute(0, 3, 1, 2).float() / 255
        found.append(model((batch - mean) / std).argmax(1).cpu())
    return torch.cat(found).numpy()


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """Percentage of `predicted` equal to `labels`."""
    return 100.0 * float(np.mean(np.asarray(predicted) == np.asarray(labels)))
