"""`course fundus-split`: lab 4's data layout from a downloaded fundus folder and its label CSV.

Reads the Kaggle diabetic-retinopathy download (a folder of `<id>_<left|right>.jpeg` and
`trainLabels.csv` with columns image,level, or any subset of it), splits the images that are present
into train and test, stratified by level and seeded, and writes `<data root>/fundus/`:
`images/<name>.jpeg` (linked, copied or resized) and `train.csv` / `test.csv`, the layout lab 4 reads.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from autograder.core import process
from autograder.core.errors import SplitError
from labkit import fundus


@dataclass(frozen=True)
class Summary:
    """What a split wrote: the destination, levels per split, and the CSV rows without an image."""

    folder: Path
    train_levels: list[int]
    test_levels: list[int]
    rows_without_image: int
    images_without_row: int


def rows_with_images(images: Path, labels_csv: Path) -> tuple[list[tuple[str, int]], int, int]:
    """The CSV's (name, level) rows whose images/<name>.jpeg exists; rows without an image; images without a row."""
    if not images.is_dir():
        raise SplitError(f"image folder {images} not found: give the folder holding <name>.jpeg")
    if not labels_csv.is_file():
        raise SplitError(f"label file {labels_csv} not found: give the CSV with columns image,level")
    rows = fundus._read_rows(labels_csv)
    present = {path.stem for path in images.glob("*.jpeg")}
    kept = [(name, level) for name, level in rows if name in present]
    if not kept:
        raise SplitError(f"none of the {len(rows):,} images {labels_csv} names is in {images} as <name>.jpeg")
    named = {name for name, _ in rows}
    return kept, len(rows) - len(kept), len(present - named)


def stratified(rows: list[tuple[str, int]], test_fraction: float, seed: int) -> tuple[list, list]:
    """(train rows, test rows): within each level, a seeded shuffle puts round(n * test_fraction) in test."""
    if not 0 < test_fraction < 1:
        raise SplitError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for level in sorted({level for _, level in rows}):
        members = sorted(name for name, lvl in rows if lvl == level)
        order = rng.permutation(len(members))
        n_test = int(round(len(members) * test_fraction))
        test += [(members[i], level) for i in order[:n_test]]
        train += [(members[i], level) for i in order[n_test:]]
    return sorted(train), sorted(test)


def place_image(source: Path, target: Path, size: int | None) -> None:
    """target as source: a hard link where possible, else a copy; resized to size x size (never enlarged)."""
    if size is None:
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        return
    with Image.open(source) as image:
        if min(image.size) < size:
            raise SplitError(f"{source} is {image.size[0]} x {image.size[1]}; --size {size} would enlarge it: "
                             "choose a size no larger than the images")
        image.convert("RGB").resize((size, size), Image.BILINEAR).save(target, quality=95)


def write_csv(path: Path, rows: list[tuple[str, int]]) -> None:
    """image,level rows, written through a temporary file."""
    process.write_atomic(path, "image,level\n" + "".join(f"{name},{level}\n" for name, level in rows))


def split(images: Path, labels_csv: Path, data_root: Path, test_fraction: float = 0.2, seed: int = 0,
          size: int | None = None, force: bool = False) -> Summary:
    """Write <data_root>/fundus/ from `images` and `labels_csv`: a seeded split stratified by level."""
    folder = fundus.data_folder(data_root)
    if (folder / "train.csv").exists() and not force:
        raise SplitError(f"{folder} already holds a split (train.csv): add --force to replace it")
    rows, without_image, without_row = rows_with_images(Path(images), Path(labels_csv))
    train, test = stratified(rows, test_fraction, seed)
    (folder / fundus.IMAGES).mkdir(parents=True, exist_ok=True)
    for name, _ in train + test:
        target = folder / fundus.IMAGES / f"{name}.jpeg"
        if target.exists():
            target.unlink()
        place_image(Path(images) / f"{name}.jpeg", target, size)
    write_csv(folder / "train.csv", train)
    write_csv(folder / "test.csv", test)
    return Summary(folder, fundus.class_counts([lvl for _, lvl in train]).tolist(),
                   fundus.class_counts([lvl for _, lvl in test]).tolist(), without_image, without_row)


def describe(summary: Summary) -> str:
    """Lines for the terminal: what was written where, levels per split, what was left out."""
    lines = [f"wrote {summary.folder}: {sum(summary.train_levels):,} train / {sum(summary.test_levels):,} test images",
             f"  levels 0-4, train: {summary.train_levels}", f"  levels 0-4, test:  {summary.test_levels}"]
    if summary.rows_without_image:
        lines.append(f"  {summary.rows_without_image:,} CSV row(s) name an image not in the folder (left out)")
    if summary.images_without_row:
        lines.append(f"  {summary.images_without_row:,} image(s) in the folder have no CSV row (left out)")
    return "\n".join(lines)
