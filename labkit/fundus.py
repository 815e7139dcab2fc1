"""Lab 4's data and weights: the fundus CSV + JPEG layout, ImageNet weights for ResNet18/50, training."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import nn
from torch.utils.data import DataLoader

from labkit import progress, train

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


# ---------------------------------------------------------------------------------------------
# Training and evaluation


def fit(model: nn.Module, train_loader: DataLoader, test_loader: DataLoader, epochs: int, device: torch.device,
        lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 5e-4,
        history_path: Path | str | None = None) -> list[dict]:
    """The handout's training: SGD(lr, momentum, weight decay); train and test accuracy (%) per epoch."""
    model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    history = []
    for epoch in progress.bar(range(1, epochs + 1), desc="epochs"):
        loss, train_accuracy = train.train_epoch(model, train_loader, optimizer, device, f"epoch {epoch}/{epochs}")
        test_accuracy = train.evaluate(model, test_loader, device)
        history.append({"epoch": epoch, "loss": loss, "train_accuracy": train_accuracy,
                        "test_accuracy": test_accuracy})
        print(f"epoch {epoch}/{epochs}: loss {loss:.4f}, train accuracy {train_accuracy:.2f} %, "
              f"test accuracy {test_accuracy:.2f} %")
        if history_path is not None:
            Path(history_path).parent.mkdir(parents=True, exist_ok=True)
            Path(history_path).write_text(json.dumps(history, indent=2), encoding="utf-8")
    return history


@torch.no_grad()
def predict(model: nn.Module, loader: DataLoader, device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """(true labels (N,), predicted labels (N,)) of `model` on `loader`."""
    model.to(device).eval()
    labels, predictions = [], []
    for images, targets in progress.bar(loader, desc="predict", leave=False):
        predictions.append(model(images.to(device)).argmax(dim=1).cpu())
        labels.append(torch.as_tensor(targets))
    return torch.cat(labels).numpy(), torch.cat(predictions).numpy()
