"""`course fundus-split`: lab 4's layout from a downloaded fundus folder and its label CSV."""

import shutil

import pytest
from PIL import Image

from autograder import cli
from autograder.reproduce import fundus_split
from labkit import fixtures, fundus


@pytest.fixture
def download(tmp_path):
    """A Kaggle-style download: train/<name>.jpeg and trainLabels.csv naming more images than are present."""
    made = fixtures.write_fundus(tmp_path / "made", n_train=80, n_test=40, size=48)
    folder = tmp_path / "download"
    shutil.copytree(made / "images", folder / "train")
    rows = [line for split in ("train", "test") for line in (made / f"{split}.csv").read_text().split()[1:]]
    (folder / "trainLabels.csv").write_text("image,level\n" + "\n".join(rows + ["99999_left,3"]) + "\n")
    shutil.copy(folder / "train" / "10_left.jpeg", folder / "train" / "88888_right.jpeg")  # an image with no row
    return folder


def split_cli(course_root, download, data, *more) -> int:
    return cli.main(["--root", str(course_root), "fundus-split", str(download / "train"),
                     str(download / "trainLabels.csv"), "--data", str(data), *more])


def levels(rows):
    return fundus.class_counts([level for _, level in rows]).tolist()


def test_split_is_stratified_disjoint_complete_and_readable(kit, download, tmp_path, capsys):
    """Does the split keep every present image once, put a fifth of each level in test, and read as lab 4's data?"""
    assert split_cli(kit.root, download, tmp_path / "data") == 0
    out = capsys.readouterr().out
    folder = tmp_path / "data" / "fundus"
    train, test = fundus.read_split(folder, "train"), fundus.read_split(folder, "test")
    names = [name for name, _ in train + test]
    assert len(names) == len(set(names)) == 120 and "99999_left" not in names and "88888_right" not in names
    for level, (n_train, n_test) in enumerate(zip(levels(train), levels(test))):
        assert n_test == round((n_train + n_test) * 0.2), level
    assert "1 CSV row(s) name an image not in the folder" in out and "1 image(s) in the folder have no CSV row" in out


def test_split_is_seeded(download, tmp_path):
    """Does the same seed give the same split, and another seed another one?"""
    args = (download / "train", download / "trainLabels.csv")
    first = fundus_split.split(*args, tmp_path / "a", seed=0)
    again = fundus_split.split(*args, tmp_path / "b", seed=0)
    other = fundus_split.split(*args, tmp_path / "c", seed=1)
    read = lambda summary: (summary.folder / "test.csv").read_text()  # noqa: E731
    assert read(first) == read(again) != read(other)


def test_resizing_never_enlarges(download, tmp_path):
    """Does --size shrink the images, and does a size above theirs stop with a clear error and no CSV?"""
    args = (download / "train", download / "trainLabels.csv")
    summary = fundus_split.split(*args, tmp_path / "small", size=32)
    name = fundus.read_split(summary.folder, "train")[0][0]
    with Image.open(summary.folder / "images" / f"{name}.jpeg") as image:
        assert image.size == (32, 32)
    with pytest.raises(fundus_split.SplitError, match="would enlarge"):
        fundus_split.split(*args, tmp_path / "big", size=64)
    assert not (tmp_path / "big" / "fundus" / "train.csv").exists()


def test_bad_input_says_what_and_existing_split_is_kept(kit, download, tmp_path, capsys):
    """Do a missing folder, a wrong CSV header and a split already there stop with exit code 2 and the reason?"""
    assert cli.main(["--root", str(kit.root), "fundus-split", str(tmp_path / "nowhere"),
                     str(download / "trainLabels.csv"), "--data", str(tmp_path / "d")]) == 2
    assert "image folder" in capsys.readouterr().err
    (download / "bad.csv").write_text("name,grade\n10_left,0\n")
    assert cli.main(["--root", str(kit.root), "fundus-split", str(download / "train"), str(download / "bad.csv"),
                     "--data", str(tmp_path / "d")]) == 2
    assert "expected ['image', 'level']" in capsys.readouterr().err
    assert split_cli(kit.root, download, tmp_path / "d") == 0
    before = (tmp_path / "d" / "fundus" / "train.csv").read_text()
    assert split_cli(kit.root, download, tmp_path / "d", "--seed", "5") == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "d" / "fundus" / "train.csv").read_text() == before
    assert split_cli(kit.root, download, tmp_path / "d", "--seed", "5", "--force") == 0
