"""Lab 4's data and weights: the CSV + JPEG layout, its errors, the fixture's imbalance, ImageNet weights."""

import numpy as np
import pytest
import torch
import torchvision

from autograder.checks import golden

from labkit import fixtures, fundus


@pytest.fixture
def root(tmp_path):
    return fixtures.write_fundus(tmp_path, n_train=40, n_test=12, size=32)


def test_fixture_has_the_real_imbalance():
    """Do the fixture's levels follow the real data's shares (about 73/7/15/2.5/2 %), every level present?"""
    counts = fundus.class_counts(fixtures.fundus_labels(400, seed=0))
    assert counts.tolist() == [294, 28, 60, 10, 8]
    assert (fundus.class_counts(fixtures.fundus_labels(10, seed=0)) >= 1).all()


def test_fixture_is_in_the_real_layout(root):
    """Are the fixture's files JPEGs named by a CSV with the columns image,level, as in the Kaggle data?"""
    rows = fundus.read_split(root, "train")
    assert len(rows) == 40 and (root / "train.csv").read_text().splitlines()[0] == "image,level"
    image = fundus.load_image(root / "images" / f"{rows[0][0]}.jpeg", 32)
    assert image.mode == "RGB" and image.size == (32, 32)
    assert (root / "images" / f"{rows[0][0]}.jpeg").read_bytes()[:2] == b"\xff\xd8"  # JPEG magic


def test_levels_look_different(root):
    """Does an image's content depend on its level (more bright lesions at higher levels), so a model can learn it?"""
    rows = fundus.read_split(root, "train")
    bright = {level: [] for level in range(5)}
    for name, level in rows:
        pixels = np.asarray(fundus.load_image(root / "images" / f"{name}.jpeg", 32))
        bright[level].append((pixels[..., 2] > 90).mean())
    means = [np.mean(bright[level]) for level in range(5)]
    assert means[0] < means[2] < means[4]


def test_missing_folder_names_the_layout(tmp_path):
    """Does a data root without the fundus folder say which folder and layout it expects?"""
    with pytest.raises(fundus.FundusDataMissing, match="image folder .*images not found.*image,level"):
        fundus.read_split(tmp_path / "fundus", "train")


def test_missing_csv_names_it(root):
    """Does a missing split CSV get an error naming the file?"""
    (root / "test.csv").unlink()
    with pytest.raises(fundus.FundusDataMissing, match=r"label file .*test\.csv not found"):
        fundus.read_split(root, "test")


def test_image_named_but_missing_is_named(root):
    """Does an image the CSV names but the folder lacks get an error naming the file?"""
    name = fundus.read_split(root, "train")[3][0]
    (root / "images" / f"{name}.jpeg").unlink()
    with pytest.raises(fundus.FundusDataMissing, match=f"names 1 image.*{name}.jpeg"):
        fundus.read_split(root, "train")


def test_unreadable_image_is_named(root):
    """Does an image that is not a JPEG get an error naming the file?"""
    name = fundus.read_split(root, "train")[0][0]
    path = root / "images" / f"{name}.jpeg"
    path.write_bytes(b"not an image")
    with pytest.raises(fundus.FundusDataMissing, match=f"{name}.jpeg cannot be read"):
        fundus.load_image(path, 32)


def test_bad_level_is_named(root):
    """Does a level outside 0-4 get an error naming the CSV line?"""
    lines = (root / "train.csv").read_text().splitlines()
    lines[2] = lines[2].split(",")[0] + ",7"
    (root / "train.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(fundus.FundusDataMissing, match="train.csv, line 3: level '7'"):
        fundus.read_split(root, "train")


def test_pretrained_weights_load_except_the_head(tmp_path):
    """Does a weights file in torchvision's format load into a 5-way model, body equal, head left alone?"""
    path = fixtures.write_standin_weights(tmp_path, "resnet18")
    assert path.name == "resnet18-f37072fd.pth"
    state = fundus.pretrained_state("resnet18", path, download=False)
    model = torchvision.models.resnet18(num_classes=5)
    head = model.fc.weight.clone()
    fundus.load_pretrained(model, state)
    assert torch.equal(model.layer4[1].conv2.weight, state["layer4.1.conv2.weight"])
    assert torch.equal(model.fc.weight, head) and state["fc.weight"].shape == (1000, 512)


def test_wrong_names_are_listed(tmp_path):
    """Does a model whose names differ from torchvision's get an error listing them?"""
    state = fundus.pretrained_state("resnet18", fixtures.write_standin_weights(tmp_path, "resnet18"), download=False)
    model = torch.nn.Sequential(torchvision.models.resnet18(num_classes=5))
    with pytest.raises(fundus.WeightsMismatch, match=r"names do not match torchvision's: 102 missing .*'0.conv1.weight'.*"
                                                     r"120 unexpected .*'conv1.weight'"):
        fundus.load_pretrained(model, state)


def test_missing_weights_without_download_say_where(tmp_path):
    """With downloads off and no file, does the error name the file, the URL and the fix?"""
    with pytest.raises(fundus.WeightsMissing) as error:
        fundus.pretrained_state("resnet50", tmp_path / "resnet50-0676ba61.pth", download=False)
    message = str(error.value)
    assert str(tmp_path / "resnet50-0676ba61.pth") in message and fundus.WEIGHT_URLS["resnet50"] in message
    assert "LABKIT_CHECKPOINTS" in message


def test_decoded_once_equals_what_the_dataset_gives(root):
    """Does in_memory hold, as uint8, exactly the [0, 1] tensors and levels the lab's Dataset returns?"""
    dataset = golden.load_reference("lab4").RetinopathyDataset(root, "train", 32)
    split = fundus.in_memory(dataset)
    assert split.images.shape == (40, 32, 32, 3) and split.images.dtype == np.uint8
    for i in (0, 17, 39):
        image, level = dataset[i]
        assert torch.equal(torch.from_numpy(split.images[i]).permute(2, 0, 1).float() / 255, image)
        assert split.labels[i] == level


def test_fit_trains_on_the_engine_and_resumes(root, tmp_path, capsys):
    """Does fit give the handout's per-epoch rows, checkpoint each epoch, and predict one level per test image?"""

    reference = golden.load_reference("lab4")
    train_set, test_set = (reference.RetinopathyDataset(root, split, 32) for split in ("train", "test"))
    torch.manual_seed(0)
    model = reference.resnet18()
    history = fundus.fit(model, train_set, test_set, 2, torch.device("cpu"), batch_size=8,
                         history_path=tmp_path / "history.json", checkpoint_path=tmp_path / "run.ckpt")
    assert [set(row) for row in history] == [{"epoch", "loss", "train_accuracy", "test_accuracy", "seconds"}] * 2
    assert "epoch 2/2: loss" in capsys.readouterr().out and (tmp_path / "run.ckpt").is_file()
    again = fundus.fit(reference.resnet18(), train_set, test_set, 2, torch.device("cpu"), batch_size=8,
                       checkpoint_path=tmp_path / "run.ckpt")
    assert again == history and "epoch 1/2" not in capsys.readouterr().out
    labels, predicted = fundus.predict(model, test_set, torch.device("cpu"))
    assert labels.tolist() == test_set.label and predicted.shape == (12,) and set(predicted) <= set(range(5))
