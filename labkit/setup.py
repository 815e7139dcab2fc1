"""The first cell of every lab: seed, device, Colab detection, data and checkpoint roots."""

from __future__ import annotations

import os
import random
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from labkit import config
from labkit.device import pick_device
from labkit.fetch import FetchFailed, archive_folder, fetch, fetch_archive

GRADING_ENV = ("NBGRADER_EXECUTION", "LABKIT_GRADING")


@dataclass(frozen=True)
class Lab:
    """Everything a lab notebook needs to know about where and how it runs."""

    lab_id: str
    seed: int
    device: torch.device
    data_root: Path
    checkpoint_root: Path
    checkpoints: dict[str, str]
    weights: dict[str, str]
    download: bool
    on_colab: bool
    grading: bool
    epochs: int | None
    image_size: int | None = None
    files: dict[str, config.HostedFile] = field(default_factory=dict)  # course.toml [files]
    # file name -> why its download failed; not retried by this Lab (a new setup_lab retries)
    unfetched: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def checkpoint(self, name: str) -> Path:
        """Path of the instructor checkpoint `name` listed in course.toml for this lab, downloaded first when it is
        missing and [files] lists it (with `course reproduce`'s JSON record beside it, when listed too)."""
        if name not in self.checkpoints:
            raise KeyError(f"course.toml lists no checkpoint {name!r} for {self.lab_id} "
                           f"(known: {', '.join(self.checkpoints) or 'none'}); add it under "
                           f"[labs.{self.lab_id}] checkpoints")
        path = self.checkpoint_root / self.checkpoints[name]
        self.fetch_if_listed(path)
        if path.is_file():
            self.fetch_if_listed(path.with_suffix(".json"))
        return path

    def checkpoint_record(self, name: str) -> dict | None:
        """What `course reproduce` recorded of the checkpoint `name` (its JSON, downloaded alone when [files] lists it
        and it is missing); None when course.toml names no such checkpoint or there is no record."""
        from labkit import train

        if name not in self.checkpoints:
            return None
        path = self.checkpoint_root / self.checkpoints[name]
        self.fetch_if_listed(path.with_suffix(".json"))
        return train.checkpoint_record(path)

    def fetch_if_listed(self, path: Path) -> bool:
        """Download `path` when it is missing and course.toml's [files] lists its name; True when it is on disk.

        Never while grading or with [data] download = false. A failure is printed as one line, not raised: a
        missing checkpoint is something lab notebooks already handle (they train from scratch, and say so)."""
        if path.is_file():
            return True
        if self.grading or not self.download or path.name not in self.files or path.name in self.unfetched:
            return False
        try:
            fetch(path.name, path.parent, self.files)
        except FetchFailed as failed:
            self.unfetched[path.name] = str(failed)
            print(f"{failed} (Run the set-up cell again to retry the download.)")
            return False
        return True

    def fetch_data(self, name: str) -> bool:
        """Download and unpack the data sample `name` (a zip [files] lists) into the data root when the folder it
        unpacks to is missing; True when that folder is there.

        "fundus-sample.zip" unpacks to <data root>/fundus/, what fundus.data_folder(lab.data_root) reads: its top level
        holds only fundus/ (fundus/images/<name>.jpeg, fundus/train.csv, fundus/test.csv); see fetch.fetch_archive.
        Never while grading or with [data] download = false. A failure is printed as one line, not raised, and not
        retried by this Lab: the lab then says which data it is missing, as it does without [files]."""
        folder = self.data_root / archive_folder(name)  # ValueError for a name that is not <folder>[-<label>].zip
        if folder.is_dir():
            return True
        if self.grading or not self.download or name not in self.files or name in self.unfetched:
            return False
        try:
            fetch_archive(name, self.data_root, self.files)
        except FetchFailed as failed:
            self.unfetched[name] = str(failed)
            print(f"{failed} (Run the set-up cell again to retry the download.)")
            return False
        print(f"Unpacked {name} into {folder}")
        return True

    def weights_path(self, arch: str) -> Path:
        """Where `arch`'s pretrained weights are read (or downloaded to): course.toml's file, else torchvision's name."""
        from labkit import fundus

        return self.checkpoint_root / self.weights.get(arch, fundus.weights_file(arch))

    def epochs_or(self, default: int) -> int:
        """The epoch budget: $LABKIT_EPOCHS when set (quick runs), else `default`."""
        return self.epochs if self.epochs is not None else default

    def image_size_or(self, default: int) -> int:
        """The image size: $LABKIT_IMAGE_SIZE when set (quick runs), else `default`."""
        return self.image_size if self.image_size is not None else default


def is_grading() -> bool:
    """True while nbgrader (or the kit) executes the notebook to grade or validate it."""
    return any(os.environ.get(name) for name in GRADING_ENV)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and every GPU)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def quiet_warnings() -> None:
    """Silence library warnings that would print to stderr (nbgrader scores stderr as failure)."""
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)


def setup_lab(lab_id: str, seed: int = 0, device: str | None = None) -> Lab:
    """Seed, pick the device, read course.toml (defaults when absent) and report the set-up."""
    quiet_warnings()
    seed_everything(seed)
    course = config.load_or_packaged()
    lab_cfg = course.labs.get(lab_id) if course else None
    data = course.data if course else config.Data()
    base = course.root if course else Path.cwd()
    epochs, image_size = os.environ.get("LABKIT_EPOCHS"), os.environ.get("LABKIT_IMAGE_SIZE")
    lab = Lab(
        lab_id=lab_id,
        seed=seed,
        device=pick_device(device),
        data_root=config.resolve_path("LABKIT_DATA", data.root, base),
        checkpoint_root=config.resolve_path("LABKIT_CHECKPOINTS", data.checkpoints, base),
        checkpoints=dict(lab_cfg.checkpoints) if lab_cfg else {},
        weights=dict(lab_cfg.weights) if lab_cfg else {},
        download=data.download,
        on_colab="google.colab" in sys.modules,
        grading=is_grading(),
        epochs=int(epochs) if epochs else None,
        image_size=int(image_size) if image_size else None,
        files=dict(course.files) if course else {},
    )
    mode = "grading (long training skipped)" if lab.grading else "interactive"
    print(f"{lab_id}: device {lab.device}, seed {seed}, data {lab.data_root}, {mode}")
    return lab
