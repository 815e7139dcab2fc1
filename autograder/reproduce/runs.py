"""`course reproduce`: retrain a lab's reference setting and tabulate the results (CIFAR labs or lab 4)."""

from __future__ import annotations

from pathlib import Path

from autograder.core.errors import ReproduceError
from autograder.reproduce import cifar, fundus
from autograder.reproduce.settings import FundusSetting, lookup
from labkit import config


def run(course: config.Course, lab_id: str, name: str, epochs: int | None = None, data: Path | None = None,
        device: str = "auto", output: Path | None = None, fresh: bool = False, echo=print,
        image_size: int | None = None) -> Path:
    """Retrain setting `name` of `lab_id` (resuming its checkpoint unless `fresh`); return its JSON's path."""
    setting = lookup(lab_id, name)
    if epochs is not None and epochs < 1:
        raise ReproduceError(f"--epochs must be at least 1, got {epochs}")
    if isinstance(setting, FundusSetting):
        return fundus.run(course, lab_id, name, setting, epochs, image_size, data, device, output, echo, fresh)
    if image_size is not None:
        raise ReproduceError(f"--image-size applies to lab 4's fundus images; {lab_id} trains on 32 x 32 CIFAR-10")
    return cifar.run(course, lab_id, name, setting, epochs, data, device, output, fresh, echo)
