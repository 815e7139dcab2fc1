"""CIFAR-10 loading from torchvision's layout and from class folders, and its clear errors."""

import pickle

import numpy as np
import pytest
import torch

from labkit import cifar10, fixtures


def test_batches_layout_reads_like_torchvision(cifar_batches):
    """Does the batches reader give (N, 32, 32, 3) uint8 images and labels in 0..9?"""
    train, test = cifar10.load(cifar_batches, True), cifar10.load(cifar_batches, False)
    assert train.images.shape == (200, 32, 32, 3) and train.images.dtype == np.uint8
    assert len(test) == 100 and set(train.labels.tolist()) == set(range(10))
    expected, labels = fixtures.make_images(200, seed=0)
    assert np.array_equal(train.images, expected) and np.array_equal(train.labels, labels)


def test_fixture_batches_are_torchvision_pickles(cifar_batches):
    """Are the fixture files the real format (latin1 pickles with data (N, 3072) and labels)?"""
    with open(cifar_batches / "cifar-10-batches-py" / "data_batch_1", "rb") as f:
        entry = pickle.load(f, encoding="latin1")
    assert entry["data"].shape == (40, 3072) and entry["data"].dtype == np.uint8
    assert len(entry["labels"]) == 40


def test_class_folders_layout(tmp_path):
    """Does an images-per-class-folder copy load with the labels of its folders?"""
    fixtures.write_cifar10_folders(tmp_path, n_train=30, n_test=10)
    train = cifar10.load(tmp_path, True)
    expected, labels = fixtures.make_images(30, seed=0)
    order = np.argsort(labels, kind="stable")
    assert np.array_equal(np.sort(train.labels), labels[order])
    assert np.array_equal(train.images, expected[order])


def test_missing_data_says_what_to_do(tmp_path):
    """Without data and without download, does the error name the folder and the way to provide it?"""
    with pytest.raises(cifar10.DataMissing) as error:
        cifar10.load(tmp_path, True, allow_download=False)
    message = str(error.value)
    assert str(tmp_path) in message and "cifar-10-python.tar.gz" in message and "LABKIT_DATA" in message


def test_damaged_batch_is_reported(cifar_batches, tmp_path):
    """Does a truncated batch file give an error naming it rather than a pickle traceback?"""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for source in (cifar_batches / "cifar-10-batches-py").iterdir():
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "data_batch_3").write_bytes(b"\x80\x02}q")
    with pytest.raises(cifar10.DataMissing, match="data_batch_3"):
        cifar10.load(tmp_path, True)


def test_handout_loaders_normalise_and_batch(cifar_batches):
    """Do the main.py loaders yield (100, 3, 32, 32) float batches with the handout's normalisation?"""
    train_loader, test_loader = cifar10.handout_loaders(cifar_batches, batch_size=100)
    images, labels = next(iter(test_loader))
    assert images.shape == (100, 3, 32, 32) and images.dtype == torch.float32 and labels.shape == (100,)
    raw = torch.from_numpy(cifar10.load(cifar_batches, False).images[0]).permute(2, 0, 1).float() / 255
    mean, std = torch.tensor(cifar10.HANDOUT_MEAN)[:, None, None], torch.tensor(cifar10.HANDOUT_STD)[:, None, None]
    assert torch.allclose(images[0], (raw - mean) / std, atol=1e-5)
    assert len(train_loader) == 2


def test_fixture_train_and_test_share_class_appearance():
    """Do the fixture's train and test images of one class look alike (so test accuracy means something)?"""
    train, train_labels = fixtures.make_images(200, seed=0)
    test, test_labels = fixtures.make_images(200, seed=1)
    train_means = np.stack([train[train_labels == c].mean(axis=(0, 1, 2)) for c in range(10)])
    test_means = np.stack([test[test_labels == c].mean(axis=(0, 1, 2)) for c in range(10)])
    nearest = np.abs(test_means[:, None, :] - train_means[None, :, :]).sum(axis=2).argmin(axis=1)
    assert nearest.tolist() == list(range(10))
