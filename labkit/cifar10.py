"""CIFAR-10 from disk (torchvision's batches or class folders) or torchvision's download."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
BATCHES_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("test_batch",)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
# Normalisation used by the lab 1 handout's main.py (the std is the often-copied per-image value).
HANDOUT_MEAN = (0.4914, 0.4822, 0.4465)
HANDOUT_STD = (0.2023, 0.1994, 0.2010)
SOURCE_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"


class DataMissing(FileNotFoundError):
    """The data set is not on disk and could not be downloaded."""


@dataclass(frozen=True)
class Split:
    """One CIFAR-10 split in memory: images (N, 32, 32, 3) uint8 and labels (N,) int64."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def read_batches(folder: Path, train: bool) -> Split:
    """Read torchvision's `cifar-10-batches-py` pickles: data (N, 3072) uint8 in CHW order."""
    images, labels = [], []
    for name in TRAIN_BATCHES if train else TEST_BATCHES:
        path = folder / name
        if not path.is_file():
            raise DataMissing(f"{path} is missing: {folder} looks like a partial CIFAR-10 copy; "
                              f"extract cifar-10-python.tar.gz from {SOURCE_URL} there again")
        try:
            with open(path, "rb") as f:
                entry = pickle.load(f, encoding="latin1")
            images.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            labels.extend(entry["labels"])
        except (pickle.UnpicklingError, EOFError, KeyError, ValueError) as error:
            raise DataMissing(f"{path} is not a CIFAR-10 batch ({error!r}); "
                              f"extract cifar-10-python.tar.gz from {SOURCE_URL} again") from None
    return Split(np.concatenate(images).transpose(0, 2, 3, 1).copy(), np.asarray(labels, dtype=np.int64))


def read_folders(folder: Path) -> Split:
    """Read class-per-folder images: `folder/<class>/*.png|jpg`, classes named as in CLASSES."""
    images, labels = [], []
    for label, name in enumerate(CLASSES):
        for path in sorted((folder / name).glob("*")) if (folder / name).is_dir() else []:
            if path.suffix.lower() in IMAGE_SUFFIXES:
                with Image.open(path) as image:
                    images.append(np.asarray(image.convert("RGB").resize((32, 32))))
                labels.append(label)
    if not images:
        raise DataMissing(f"{folder} holds no images in class folders ({', '.join(CLASSES[:3])}, ...)")
    return Split(np.stack(images), np.asarray(labels, dtype=np.int64))


def download(root: Path, train: bool) -> Split:
    """torchvision's CIFAR-10 download (checksummed) into `root`, read into memory."""
    try:
        dataset = torchvision.datasets.CIFAR10(str(root), train=train, download=True)
    except (OSError, RuntimeError) as error:
        raise DataMissing(
            f"CIFAR-10 is not in {root} and could not be downloaded ({error}). Download "
            f"cifar-10-python.tar.gz from {SOURCE_URL} and extract it into {root} (giving {root / BATCHES_DIR}), "
            f"or set LABKIT_DATA to a folder that has it.") from None
    return Split(np.asarray(dataset.data, dtype=np.uint8), np.asarray(dataset.targets, dtype=np.int64))


def describe(root: Path | str) -> str:
    """What `load` reads in `root`: "CIFAR-10, torchvision's batches" or "CIFAR-10, JPEG class-folder copy" (PNG ...)."""
    root = Path(root)
    if (root / BATCHES_DIR).is_dir():
        return "CIFAR-10, torchvision's cifar-10-batches-py"
    for name in CLASSES:
        first = next((p for p in sorted((root / "train" / name).glob("*")) if p.suffix.lower() in IMAGE_SUFFIXES), None)
        if first is not None:
            kind = "JPEG" if first.suffix.lower() in (".jpg", ".jpeg") else first.suffix[1:].upper()
            return f"CIFAR-10, {kind} class-folder copy"
    return "CIFAR-10 (torchvision download)"


def load(root: Path | str, train: bool, allow_download: bool = False) -> Split:
    """The train or test split from `root`: batches folder, class folders, or a download."""
    root = Path(root)
    split = "train" if train else "test"
    if (root / BATCHES_DIR).is_dir():
        return read_batches(root / BATCHES_DIR, train)
    if (root / split).is_dir():
        return read_folders(root / split)
    if allow_download:
        return download(root, train)
    raise DataMissing(
        f"CIFAR-10 not found in {root}: expected {root / BATCHES_DIR} (torchvision's layout) or "
        f"{root / split}/<class>/*.png. Download cifar-10-python.tar.gz from {SOURCE_URL} and extract "
        f"it there, set LABKIT_DATA to a folder that has it, or set download = true in course.toml.")


def train_val_split(split: Split, val_fraction: float = 0.1,
                    seed: int = 0) -> tuple[Split, Split | None]:
    """A seeded split into train and validation parts (lab 2's, image for image); no validation part at 0."""
    if val_fraction == 0:
        return split, None
    order = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed)).numpy()
    n_val = int(len(split) * val_fraction)
    part = lambda index: Split(split.images[index], split.labels[index])  # noqa: E731
    return part(order[n_val:]), part(order[:n_val])


def handout_transform(train: bool, mean=HANDOUT_MEAN, std=HANDOUT_STD) -> transforms.Compose:
    """main.py's per-sample pipeline: pad-4 crop + flip (train only), ToTensor, Normalize."""
    augment = [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()] if train else []
    return transforms.Compose([*augment, transforms.ToTensor(), transforms.Normalize(mean, std)])


class CIFAR10(Dataset):
    """A split as a map-style dataset of (image (3, 32, 32) float, label int), like torchvision's."""

    def __init__(self, split: Split, transform=None):
        self.split = split
        self.transform = transform

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int):
        image = Image.fromarray(self.split.images[index])
        image = self.transform(image) if self.transform else image
        return image, int(self.split.labels[index])


def handout_loaders(root: Path | str, batch_size: int = 100, allow_download: bool = False,
                    num_workers: int = 0) -> tuple[DataLoader, DataLoader]:
    """main.py's train (shuffled, augmented) and test loaders over CIFAR-10 in `root`."""
    train = CIFAR10(load(root, True, allow_download), handout_transform(train=True))
    test = CIFAR10(load(root, False, allow_download), handout_transform(train=False))
    pin = torch.cuda.is_available()
    return (DataLoader(train, batch_size, shuffle=True, num_workers=num_workers, pin_memory=pin),
            DataLoader(test, batch_size, shuffle=False, num_workers=num_workers, pin_memory=pin))
