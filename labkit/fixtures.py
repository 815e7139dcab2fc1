"""Tiny CIFAR-10 stand-ins written in the real on-disk formats, learnable by a small model."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from PIL import Image

from labkit.cifar10 import BATCHES_DIR, CLASSES, TEST_BATCHES, TRAIN_BATCHES


PALETTE = np.random.default_rng(2016).integers(30, 226, size=(len(CLASSES), 3))  # one colour per class


def make_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n images (n, 32, 32, 3) uint8 whose colour and stripe depend on the label, and labels (n,).

    The class colours are the same for every seed, so a model trained on one seed's images can
    be tested on another's.
    """
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(CLASSES)
    rng.shuffle(labels)
    palette = PALETTE
    images = rng.normal(0, 25, size=(n, 32, 32, 3)) + palette[labels][:, None, None, :]
    for i, label in enumerate(labels):
        row = 3 * label
        images[i, row:row + 3, :, :] = 255 - palette[label]
    return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.int64)


def _write_batch(path: Path, name: str, images: np.ndarray, labels: np.ndarray) -> None:
    entry = {
        "batch_label": name,
        "labels": [int(label) for label in labels],
        "data": images.transpose(0, 3, 1, 2).reshape(len(images), -1),
        "filenames": [f"fixture_{i:05d}.png" for i in range(len(images))],
    }
    with open(path, "wb") as f:
        pickle.dump(entry, f, protocol=2)


def write_cifar10_batches(root: Path | str, n_train: int = 500, n_test: int = 100, seed: int = 0) -> Path:
    """Write `root/cifar-10-batches-py` as torchvision lays it out; return that folder."""
    folder = Path(root) / BATCHES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = make_images(n_train, seed)
    for name, part in zip(TRAIN_BATCHES, np.array_split(np.arange(n_train), len(TRAIN_BATCHES))):
        _write_batch(folder / name, name, images[part], labels[part])
    test_images, test_labels = make_images(n_test, seed + 1)
    _write_batch(folder / TEST_BATCHES[0], TEST_BATCHES[0], test_images, test_labels)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": list(CLASSES), "num_cases_per_batch": n_train // 5, "num_vis": 3072},
                    f, protocol=2)
    return folder


def write_cifar10_folders(root: Path | str, n_train: int = 200, n_test: int = 50, seed: int = 0) -> Path:
    """Write `root/{train,test}/<class>/<i>.png`; return `root`."""
    root = Path(root)
    for split, n, offset in (("train", n_train, 0), ("test", n_test, 1)):
        images, labels = make_images(n, seed + offset)
        for i, (image, label) in enumerate(zip(images, labels)):
            folder = root / split / CLASSES[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{i:05d}.png")
    return root


# ---------------------------------------------------------------------------------------------
# Lab 4: a fundus-style data set (JPEG + CSV) and stand-in ImageNet weights

FUNDUS_SHARES = (0.735, 0.07, 0.15, 0.025, 0.02)  # the Kaggle retinopathy data's share of each level


def fundus_labels(n: int, seed: int) -> np.ndarray:
    """n levels (n,) in the real data's proportions (at least one of each), shuffled."""
    counts = np.maximum(1, np.round(np.array(FUNDUS_SHARES) * n)).astype(int)
    counts[0] += n - counts.sum()
    labels = np.repeat(np.arange(len(FUNDUS_SHARES)), counts)
    np.random.default_rng(seed).shuffle(labels)
    return labels


def fundus_image(level: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """A (size, size, 3) uint8 fundus-like image: a red-orange disc with 3 x `level` bright lesions."""
    rows, cols = np.mgrid[:size, :size]
    disc = ((rows / size - 0.5) ** 2 + (cols / size - 0.5) ** 2) < 0.2
    image = np.zeros((size, size, 3)) + rng.normal(0, 8, size=(size, size, 3))
    image[disc] += (170 + 10 * level, 70, 30)
    for _ in range(3 * level):
        cy, cx = rng.uniform(0.25, 0.75, size=2) * size
        spot = (rows - cy) ** 2 + (cols - cx) ** 2 < (size / 16) ** 2
        image[spot] = (250, 230, 120)
    return np.clip(image, 0, 255).astype(np.uint8)


def write_fundus(root: Path | str, n_train: int = 60, n_test: int = 30, size: int = 64, seed: int = 0) -> Path:
    """Write root/fundus/{images/<name>.jpeg, train.csv, test.csv} (columns image,level); return root/fundus."""
    folder = Path(root) / "fundus"
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, n, offset in (("train", n_train, 0), ("test", n_test, 1)):
        rows = []
        for i, level in enumerate(fundus_labels(n, seed + offset)):
            name = f"{10 + i}_{'left' if i % 2 == 0 else 'right'}" if split == "train" else f"{5000 + i}_left"
            Image.fromarray(fundus_image(int(level), size, rng)).save(folder / "images" / f"{name}.jpeg", quality=90)
            rows.append(f"{name},{level}")
        (folder / f"{split}.csv").write_text("image,level\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return folder


def write_standin_weights(folder: Path | str, arch: str, seed: int = 0) -> Path:
    """A seeded torchvision `arch` state dict (1000-way head) under torchvision's file name; return its path."""
    import torch
    import torchvision

    from labkit import fundus

    torch.manual_seed(seed)
    path = Path(folder) / fundus.weights_file(arch)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(getattr(torchvision.models, arch)(weights=None).state_dict(), path)
    return path
