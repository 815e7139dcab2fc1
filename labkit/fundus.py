"""Lab 4's data and weights: the fundus CSV + JPEG layout, ImageNet weights for ResNet18/50, training."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import nn
from torch.utils.data import Dataset

from labkit import engine, progress
from labkit.cifar10 import Split
from labkit.files import write_atomic

FOLDER = "fundus"        # under the data root: images/<name>.jpeg, train.csv, test.csv
IMAGES = "images"
SPLITS = ("train", "test")
COLUMNS = ("image", "level")
GRADES = ("no DR", "mild", "moderate", "severe", "proliferative")  # diabetic-retinopathy levels 0-4
# torchvision's ImageNet weights: the URL its weights API downloads from; the file keeps the URL's name.
WEIGHT_URLS = {
    "resnet18": "https://download.pytorch.org/models/resnet18-f37072fd.pth",
    "resnet50": "https://download.pytorch.org/models/resnet50-0676ba61.pth",
}
HEAD = ("fc.weight", "fc.bias")  # the ImageNet classifier, replaced by a new 5-way head


class FundusDataMissing(FileNotFoundError):
    """The fundus folder, a CSV or an image it names is missing or unreadable."""


class WeightsMissing(FileNotFoundError):
    """Pretrained weights are neither on disk nor downloadable."""


class WeightsMismatch(ValueError):
    """A model's parameter names differ from torchvision's, so ImageNet weights do not fit it."""


def data_folder(data_root: Path | str) -> Path:
    """Where lab 4's data set lives under the data root: <data root>/fundus."""
    return Path(data_root) / FOLDER


def read_split(root: Path | str, split: str) -> list[tuple[str, int]]:
    """(image name, level) for every row of root/<split>.csv, each image checked to be in root/images."""
    root = Path(root)
    csv_path, images = root / f"{split}.csv", root / IMAGES
    how = (f"lab 4 expects {root}/{IMAGES}/<image>.jpeg and {root}/{{train,test}}.csv with columns "
           f"image,level (the Kaggle diabetic-retinopathy data, resized); set LABKIT_DATA or [data] root")
    if not images.is_dir():
        raise FundusDataMissing(f"image folder {images} not found: {how}")
    if not csv_path.is_file():
        raise FundusDataMissing(f"label file {csv_path} not found: {how}")
    rows = _read_rows(csv_path)
    missing = [name for name, _ in rows if not (images / f"{name}.jpeg").is_file()]
    if missing:
        raise FundusDataMissing(f"{csv_path} names {len(missing)} image(s) not in {images}, e.g. "
                                f"{images / (missing[0] + '.jpeg')}: copy them there or remove their rows")
    return rows


def _read_rows(csv_path: Path) -> list[tuple[str, int]]:
    """The (image, level) rows of `csv_path`; a clear error for a wrong header or level."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not set(COLUMNS) <= set(reader.fieldnames):
            raise FundusDataMissing(f"{csv_path} has columns {reader.fieldnames}, expected {list(COLUMNS)}")
        rows = []
        for line, row in enumerate(reader, start=2):
            level = row["level"].strip()
            if not level.isdigit() or int(level) >= len(GRADES):
                raise FundusDataMissing(f"{csv_path}, line {line}: level {level!r} is not one of 0-{len(GRADES) - 1}")
            rows.append((row["image"].strip(), int(level)))
    return rows


def load_image(path: Path | str, size: int) -> Image.Image:
    """The RGB image at `path`, resized to size x size; a clear error names an unreadable file."""
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
    except FileNotFoundError:
        raise FundusDataMissing(f"image {path} not found") from None
    except (UnidentifiedImageError, OSError) as error:
        raise FundusDataMissing(f"image {path} cannot be read ({error}): replace or remove it") from None
    return image if image.size == (size, size) else image.resize((size, size), Image.BILINEAR)


def class_counts(labels) -> np.ndarray:
    """How many of `labels` fall in each grade: (5,) int."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(GRADES))


# ---------------------------------------------------------------------------------------------
# Pretrained weights


def weights_file(arch: str) -> str:
    """torchvision's file name of `arch`'s ImageNet weights, e.g. resnet18-f37072fd.pth."""
    return WEIGHT_URLS[arch].rsplit("/", 1)[1]


def pretrained_state(arch: str, path: Path | str, download: bool = True) -> dict[str, torch.Tensor]:
    """ImageNet weights of `arch` from `path`; downloaded there from torchvision's URL when missing."""
    path = Path(path)
    if path.is_file():
        return torch.load(path, map_location="cpu", weights_only=True)
    if download:
        try:
            return torch.hub.load_state_dict_from_url(WEIGHT_URLS[arch], model_dir=str(path.parent),
                                                      file_name=path.name, map_location="cpu", check_hash=True)
        except (OSError, RuntimeError) as error:  # no network, a proxy, a bad hash
            reason = f"the download from {WEIGHT_URLS[arch]} failed ({error})"
    else:
        reason = "downloads are off ([data] download = false in course.toml)"
    raise WeightsMissing(
        f"pretrained {arch} weights not found at {path} and {reason}. Download {WEIGHT_URLS[arch]} on a machine "
        f"with internet and copy it to {path} (or set LABKIT_CHECKPOINTS to the folder holding it).")


def load_pretrained(model: nn.Module, state: dict[str, torch.Tensor]) -> nn.Module:
    """Load ImageNet `state` into `model` except its head (fc), which stays newly initialised.

    Every other name must match torchvision's, or a clear error lists the mismatches.
    """
    body = {name: value for name, value in state.items() if name not in HEAD}
    missing, unexpected = model.load_state_dict(body, strict=False)
    missing = [name for name in missing if name not in HEAD]
    if missing or unexpected:
        raise WeightsMismatch(f"the model's names do not match torchvision's: {len(missing)} missing (e.g. {missing[:3]}), "
                       f"{len(unexpected)} unexpected (e.g. {unexpected[:3]}). Name the modules conv1, bn1, "
                       f"layer1-layer4 (blocks: conv1, bn1, conv2, bn2[, conv3, bn3], downsample) and fc.")
    return model


def start_model(factory, arch: str, pretrained: bool, weights: Path, download: bool = False, seed: int = 0) -> nn.Module:
    """A fresh `factory()` ("resnet18" / "resnet50" with a 5-way head), seeded: ImageNet weights from `weights`
    in its body when `pretrained`, else random."""
    torch.manual_seed(seed)
    model = factory()
    if pretrained:
        load_pretrained(model, pretrained_state(arch, weights, download))
    return model


# ---------------------------------------------------------------------------------------------
# Training and evaluation: the images decoded once through the lab's Dataset, trained with labkit.engine

UNIT_MEAN, UNIT_STD = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)  # the handout feeds [0, 1] pixels, unnormalised


def in_memory(dataset: Dataset) -> Split:
    """Every item of `dataset` ((3, S, S) float in [0, 1], level) decoded once: images (N, S, S, 3) uint8, levels (N,)."""
    first, _ = dataset[0] if len(dataset) else (torch.zeros(3, 1, 1), 0)
    needed = len(dataset) * first.numel()
    available = _available_memory()
    if available is not None and needed > available // 2:
        raise MemoryError(f"{len(dataset):,} images of {tuple(first.shape)} need {needed / 2**30:.1f} GiB decoded, "
                          f"more than half of the {available / 2**30:.1f} GiB free: use a smaller image size")
    images = np.empty((len(dataset), first.shape[1], first.shape[2], 3), dtype=np.uint8)
    labels = np.empty(len(dataset), dtype=np.int64)
    for i in progress.bar(range(len(dataset)), desc="decoding", leave=False):
        image, label = dataset[i]
        images[i] = (image * 255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
        labels[i] = int(label)
    return Split(images, labels)


def _available_memory() -> int | None:
    """Bytes of memory free now (Linux), None where the OS does not say."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def train_config(epochs: int, lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 5e-4,
                 batch_size: int = 8, precision: str = "auto", seed: int = 0) -> engine.TrainConfig:
    """The handout's training (SGD, constant lr, no augmentation) as an engine config; the last epoch's weights kept."""
    return engine.TrainConfig(epochs=epochs, batch_size=batch_size, optimizer="sgd", lr=lr, momentum=momentum,
                              weight_decay=weight_decay, schedule="none", augment=False,
                              eval_batch_size=max(2 * batch_size, 32), restore_best=False, precision=precision,
                              seed=seed, verbose=False)


def as_split(data: Dataset | Split) -> Split:
    """`data` decoded into memory (a Split passes through)."""
    return data if isinstance(data, Split) else in_memory(data)


def fit(model: nn.Module, train_data: Dataset | Split, test_data: Dataset | Split, epochs: int,
        device: torch.device, lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 5e-4,
        history_path: Path | str | None = None, batch_size: int = 8,
        checkpoint_path: Path | str | None = None) -> list[dict]:
    """The handout's training on the engine: train and test accuracy (%) per epoch, resumable from checkpoint_path.

    train_data, test_data: the lab's Dataset (decoded once here) or a Split from in_memory.
    """
    config = train_config(epochs, lr, momentum, weight_decay, batch_size)
    result = engine.train(model, as_split(train_data), as_split(test_data), None, config, UNIT_MEAN, UNIT_STD, device,
                          checkpoint_path=checkpoint_path, resume=checkpoint_path is not None,
                          on_epoch=epoch_report(epochs, history_path),
                          data_device="cpu")  # batches of a few large images move to the GPU as they are used
    return [handout_row(row) for row in result.history]


def epoch_report(epochs: int, history_path: Path | str | None = None):
    """An engine on_epoch callback: one line per epoch in the handout's terms, the history so far as JSON."""
    history = []

    def report(row: dict) -> None:
        history.append(handout_row(row))
        print(f"epoch {row['epoch']}/{epochs}: loss {row['train_loss']:.4f}, train accuracy "
              f"{row['train_accuracy']:.2f} %, test accuracy {row['val_accuracy']:.2f} %  ({row['seconds']:.0f} s)")
        if history_path is not None:
            write_atomic(Path(history_path), json.dumps(history, indent=2))

    return report


def handout_row(row: dict) -> dict:
    """An engine history row in the handout's terms (its validation set is the test set)."""
    return {"epoch": row["epoch"], "loss": row["train_loss"], "train_accuracy": row["train_accuracy"],
            "test_accuracy": row["val_accuracy"], "seconds": row["seconds"]}


def predict(model: nn.Module, data: Dataset | Split, device: torch.device,
            precision: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """(true levels (N,), predicted levels (N,)) of `model` on `data` (a Dataset or a Split)."""
    split = as_split(data)
    resolved = engine.resolve_precision(precision, device)
    predicted = engine.predict(model.to(device), engine.to_device(split, "cpu"), UNIT_MEAN, UNIT_STD, device,
                               resolved, batch_size=32)
    return np.asarray(split.labels), predicted.numpy()
