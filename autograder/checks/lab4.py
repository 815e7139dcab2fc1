"""Lab 4 hidden tests: the fundus Dataset, torchvision-named blocks and ResNets, the evaluation metrics.

Each function checks one property of one part and raises AssertionError with what was expected,
what was found and where to look. Blocks and networks are compared with torchvision's own for
the same weights (fixed by parameter name) and input; the networks are graded on the reference
blocks and balanced accuracy on the reference confusion matrix, so a mistake costs only its part.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import nn

from autograder.checks import golden
from autograder.core import claims
from autograder.checks.common import count, expect_shape, gradients_reach_every_parameter, overfits_one_batch
from labkit import fixtures, fundus
from labkit.device import meta_first
from labkit.labs import lab4

LAB = "lab4"
PARAMETERS = lab4.PARAMETERS
CASES: dict = {}  # no goldens: blocks and networks are compared with torchvision's directly
STORED_SIZE, ASKED_SIZE = 64, 48  # the fixture's images are 64 x 64; the shape test asks for 48 x 48
NETWORK_INPUT = (2, 3, 64, 64)


@functools.cache
def reference():
    return golden.load_reference(LAB)


FIXTURE_PREFIX = "lab4-fixture-"  # in the temporary directory


@functools.cache
def fixture_root() -> Path:
    """A small fundus data set in the real layout, written once per grading process; removed when the process
    ends, or, where it is killed (nbgrader ends a kernel so), by the next process that writes one."""
    stale = Path(tempfile.gettempdir()).glob(f"{FIXTURE_PREFIX}*")
    claims.sweep(stale, functools.partial(shutil.rmtree, ignore_errors=True))
    folder = tempfile.TemporaryDirectory(prefix=FIXTURE_PREFIX)
    fixture_root.keep = folder, claims.hold(folder.name)
    return fixtures.write_fundus(folder.name, n_train=12, n_test=6, size=STORED_SIZE)


# --- the Dataset ------------------------------------------------------------------------------

def _rows(split: str = "train") -> list[tuple[str, int]]:
    return fundus.read_split(fixture_root(), split)


def _item(RetinopathyDataset, index: int = 0, size: int = STORED_SIZE):
    dataset = RetinopathyDataset(fixture_root(), "train", size)
    item = dataset[index]
    assert isinstance(item, tuple) and len(item) == 2, (
        f"dataset[{index}] returned {type(item).__name__}, expected the pair (image, label): step 4")
    return item


def _pixels(name: str) -> np.ndarray:
    """The fixture image `name` as loaded by the kit: (H, W, 3) values 0-255."""
    return np.asarray(fundus.load_image(fixture_root() / fundus.IMAGES / f"{name}.jpeg", STORED_SIZE))


def dataset_length(RetinopathyDataset) -> None:
    """Is len(dataset) the number of rows of the split's CSV?"""
    for split in fundus.SPLITS:
        got, expected = len(RetinopathyDataset(fixture_root(), split, STORED_SIZE)), len(_rows(split))
        assert got == expected, (f"len() of the {split} split is {got}, expected {expected} (the rows of {split}.csv; "
                                 f"the image folder holds every split's images): return len(self.img_name)")


def dataset_item_shape(RetinopathyDataset) -> None:
    """Is an image a (3, size, size) tensor, channels first, for the size asked for?"""
    image, _ = _item(RetinopathyDataset, size=ASKED_SIZE)
    assert isinstance(image, torch.Tensor), f"the image is a {type(image).__name__}, expected a torch.Tensor: step 3"
    expected = (3, ASKED_SIZE, ASKED_SIZE)
    assert tuple(image.shape) == expected, (
        f"with size={ASKED_SIZE} the image has shape {tuple(image.shape)}, expected {expected}: "
        + ("channels first: transpose the (H, W, C) array to (C, H, W)" if image.shape[-1] == 3 else
           "load it with fundus.load_image(path, self.size), which resizes to the size asked for"))


def dataset_item_dtype(RetinopathyDataset) -> None:
    """Is an image a float32 tensor?"""
    image, _ = _item(RetinopathyDataset)
    dtype = getattr(image, "dtype", type(image).__name__)
    assert isinstance(image, torch.Tensor) and image.dtype == torch.float32, (
        f"the image is {type(image).__name__} of {dtype}, expected a torch.float32 tensor (the network's weights are "
        f"float32): np.asarray(image) / 255 is float64; use np.asarray(image, dtype=np.float32) / 255")


def dataset_item_range(RetinopathyDataset) -> None:
    """Are the pixel values the image's 0-255 values divided by 255?"""
    name = _rows()[0][0]
    image, _ = _item(RetinopathyDataset)
    values = torch.as_tensor(image).double().flatten().sort().values.numpy()
    expected = np.sort(_pixels(name).astype(np.float64).ravel() / 255)
    assert values.size == expected.size, (
        f"the image has {values.size} values, expected {expected.size} (3 x {STORED_SIZE} x {STORED_SIZE})")
    assert 0 <= values[0] and values[-1] <= 1, (
        f"pixel values run {values[0]:.4g}..{values[-1]:.4g}, expected 0..1: divide the 0-255 values by 255")
    error = np.abs(values - expected).max()
    assert error <= 1e-6, (f"the values differ from the image's pixels / 255 by up to {error:.3g}: "
                           f"divide by 255 exactly once, and do not normalise or change the colours here")


def dataset_item_label(RetinopathyDataset) -> None:
    """Is every item's label its level in the CSV?"""
    dataset = RetinopathyDataset(fixture_root(), "train", STORED_SIZE)
    for index, (name, level) in enumerate(_rows()):
        label = dataset[index][1]
        as_array = np.asarray(label)
        assert as_array.shape == () and np.issubdtype(as_array.dtype, np.integer), (
            f"dataset[{index}]'s label is {label!r}, expected one integer (the level): step 2")
        assert int(label) == level, f"dataset[{index}] ({name}) has label {int(label)}, expected {level} from train.csv"


# --- the blocks -------------------------------------------------------------------------------

def _torchvision_block(kind: str, in_channels: int, channels: int, stride: int) -> nn.Module:
    block = getattr(torchvision.models.resnet, kind)
    out = channels * block.expansion
    downsample = None
    if stride != 1 or in_channels != out:
        downsample = nn.Sequential(nn.Conv2d(in_channels, out, 1, stride, bias=False), nn.BatchNorm2d(out))
    return block(in_channels, channels, stride, downsample)


def _same_names(student: nn.Module, expected: nn.Module, what: str) -> None:
    got, want = set(student.state_dict()), set(expected.state_dict())
    assert got == want, (
        f"{what}'s parameter names differ from torchvision's: missing {sorted(want - got)[:4]}, "
        f"unexpected {sorted(got - want)[:4]}. ImageNet weights load by name: use torchvision's attribute names")


def _same_function(student: nn.Module, expected: nn.Module, what: str, shape: tuple[int, ...], hint: str) -> None:
    """Fail unless `student` and `expected` have the same names and outputs for the same weights and input."""
    _same_names(student, expected, what)
    case = f"{LAB}:{what}"
    got, want = golden.golden_output(student, case, shape), golden.golden_output(expected, case, shape)
    assert got.shape == want.shape, f"{what}: output shape {tuple(got.shape)}, torchvision's {tuple(want.shape)}. {hint}"
    error = golden.relative_error(got, want)
    assert error <= golden.TOLERANCE, (
        f"{what}: with torchvision's weights and the same input, the output differs from torchvision's by {error:.3g} "
        f"(tolerance {golden.TOLERANCE:g}). {hint}")


@meta_first
def basic_block_shape(BasicBlock) -> None:
    """Does BasicBlock keep the size with stride 1 and halve it with stride 2?"""
    with torch.no_grad():
        for args, shape, expected in (((64, 64), (2, 64, 16, 16), (2, 64, 16, 16)),
                                      ((64, 128, 2), (2, 64, 16, 16), (2, 128, 8, 8))):
            got = tuple(BasicBlock(*args).eval()(torch.randn(shape)).shape)
            expect_shape(f"BasicBlock{args} on {shape}", got, expected,
                         "3x3 convolutions with padding 1, the stride on conv1, downsample when the shape changes")


@meta_first
def basic_block_matches_torchvision(BasicBlock) -> None:
    """Does BasicBlock compute torchvision's BasicBlock for the same weights?"""
    _same_function(BasicBlock(64, 128, 2), _torchvision_block("BasicBlock", 64, 128, 2), "BasicBlock(64, 128, 2)",
                   (2, 64, 8, 8), "conv1 (stride) -> bn1 -> ReLU -> conv2 -> bn2, add downsample(x), then ReLU")


@meta_first
def bottleneck_shape(Bottleneck) -> None:
    """Does Bottleneck give 4 x channels and halve the size with stride 2?"""
    with torch.no_grad():
        for args, shape, expected in (((64, 64), (2, 64, 16, 16), (2, 256, 16, 16)),
                                      ((256, 128, 2), (2, 256, 16, 16), (2, 512, 8, 8))):
            got = tuple(Bottleneck(*args).eval()(torch.randn(shape)).shape)
            expect_shape(f"Bottleneck{args} on {shape}", got, expected,
                         "conv3 gives channels * expansion (4); the stride halves H and W")


@meta_first
def bottleneck_matches_torchvision(Bottleneck) -> None:
    """Does Bottleneck compute torchvision's Bottleneck for the same weights?"""
    _same_function(Bottleneck(256, 128, 2), _torchvision_block("Bottleneck", 256, 128, 2), "Bottleneck(256, 128, 2)",
                   (2, 256, 8, 8), "1x1 -> bn1 -> ReLU -> 3x3 with the stride -> bn2 -> ReLU -> 1x1 -> bn3, add "
                   "downsample(x), then ReLU (torchvision puts the stride on the 3x3, conv2)")


# --- the networks -----------------------------------------------------------------------------

def _network(factory) -> nn.Module:
    """The student's network built on the reference blocks (a block's mistake is graded in Part 2)."""
    with golden.reference_parts(factory, reference(), ("BasicBlock", "Bottleneck")):
        torch.manual_seed(0)
        return factory()


def _param_count(factory, name: str) -> None:
    got = count(_network(factory))
    assert got == PARAMETERS[name], (
        f"{name}() has {got:,} parameters, expected {PARAMETERS[name]:,} (torchvision's {name} with a 5-way fc): "
        f"check the blocks per stage, the channels (64, 128, 256, 512) and fc's input (512 * expansion)")


@meta_first
def resnet18_param_count(resnet18) -> None:
    """Has resnet18() exactly 11,179,077 parameters?"""
    _param_count(resnet18, "resnet18")


@meta_first
def resnet50_param_count(resnet50) -> None:
    """Has resnet50() exactly 23,518,277 parameters?"""
    _param_count(resnet50, "resnet50")


def _matches(factory, name: str) -> None:
    _same_function(_network(factory), getattr(torchvision.models, name)(num_classes=5), f"{name}()", NETWORK_INPUT,
                   "conv1 -> bn1 -> relu -> maxpool -> layer1..layer4 -> avgpool -> flatten -> fc; the stride on the "
                   "first block of layer2-4 only")


@meta_first
def resnet18_matches_torchvision(resnet18) -> None:
    """Does resnet18() load torchvision's weights and compute its outputs?"""
    _matches(resnet18, "resnet18")


@meta_first
def resnet50_matches_torchvision(resnet50) -> None:
    """Does resnet50() load torchvision's weights and compute its outputs?"""
    _matches(resnet50, "resnet50")


def resnet_gradients_flow(resnet18) -> None:
    """Does backward reach every parameter of the student's ResNet18?"""
    gradients_reach_every_parameter(_network(resnet18), (2, 3, 32, 32))


def resnet_overfits_batch(resnet18) -> None:
    """Can the student's ResNet18 overfit one fixed batch of 32x32 images in a few steps?"""
    overfits_one_batch(lambda: _network(resnet18), classes=5)


# --- the metrics ------------------------------------------------------------------------------

# A hand-computed case: level 3 never occurs; level 0 has 4 images (3 right), 1 has 2 (1 right),
# 2 has 3 (2 right), 4 has 1 (right).
LABELS = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 4])
PREDICTIONS = np.array([0, 0, 1, 0, 1, 0, 2, 2, 0, 4])
CONFUSION = np.array([[3 / 4, 1 / 4, 0, 0, 0],
                      [1 / 2, 1 / 2, 0, 0, 0],
                      [1 / 3, 0, 2 / 3, 0, 0],
                      [0, 0, 0, 0, 0],
                      [0, 0, 0, 0, 1]])
BALANCED = (3 / 4 + 1 / 2 + 2 / 3 + 1) / 4  # the mean recall of the 4 levels that occur


def confusion_matrix_values(confusion_matrix) -> None:
    """Is the matrix normalised by true class, on a hand-computed case?"""
    got = np.asarray(confusion_matrix(LABELS.copy(), PREDICTIONS.copy(), 5), dtype=float)
    assert got.shape == (5, 5), f"the matrix is {got.shape}, expected (5, 5)"
    assert not np.isnan(got).any(), (
        f"the matrix has NaN in rows {sorted(set(np.argwhere(np.isnan(got))[:, 0].tolist()))}: a level with no "
        f"images must get a row of zeros, not 0 / 0")
    assert np.allclose(got, CONFUSION, atol=1e-9), (
        f"for labels {LABELS.tolist()} and predictions {PREDICTIONS.tolist()} the matrix is\n{np.round(got, 3)}\n"
        f"expected\n{np.round(CONFUSION, 3)}\n(row i: true level i, divided by the number of images of level i)")


def balanced_accuracy_values(balanced_accuracy) -> None:
    """Is balanced accuracy the mean recall of the classes present?"""
    with golden.reference_parts(balanced_accuracy, reference(), ("confusion_matrix",)):
        got = float(balanced_accuracy(LABELS.copy(), PREDICTIONS.copy(), 5))
    assert abs(got - BALANCED) < 1e-9, (
        f"for labels {LABELS.tolist()} and predictions {PREDICTIONS.tolist()} balanced accuracy is {got:.4f}, "
        f"expected {BALANCED:.4f}: the mean of the recalls 3/4, 1/2, 2/3 and 1 of the levels that occur "
        f"(plain accuracy is {np.mean(LABELS == PREDICTIONS):.4f}; with level 3's empty row it would be "
        f"{BALANCED * 4 / 5:.4f})")


def majority_baseline_value(majority_baseline) -> None:
    """Is the baseline the test accuracy of the training set's majority class?"""
    train, test = np.array([2, 2, 2, 0, 0, 1]), np.array([0, 0, 0, 2, 1])
    got = float(majority_baseline(train, test))
    assert abs(got - 1 / 5) < 1e-9, (
        f"with training levels {train.tolist()} and test levels {test.tolist()} the baseline is {got:.4f}, expected "
        f"0.2000: always answer the training set's most frequent level (2), right for 1 of 5 test images")
