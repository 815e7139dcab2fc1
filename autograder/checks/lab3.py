"""Lab 3 hidden tests: data-set statistics, augmentation, the seeded split, ResNet44, the training loop.

Each function checks one property of one part and raises AssertionError with what was expected,
what was found and where to look. The network is graded on the reference block and `fit` on the
reference epoch functions, so a mistake costs the points of the part it is in.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision import transforms

from autograder.checks import golden
from autograder.checks.common import Parts, count, expect_golden, expect_shape, overfits_one_batch
from labkit.device import meta_first
from labkit.labs import lab3

LAB = "lab3"
RESNET44_PARAMETERS = lab3.RESNET44_PARAMETERS
STAGES = (("layer1", (2, 16, 32, 32)), ("layer2", (2, 32, 16, 16)), ("layer3", (2, 64, 8, 8)))
HISTORY_KEYS = {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"}


@functools.cache
def reference():
    return golden.load_reference(LAB)


def _golden(case: str, module: nn.Module, shape: tuple[int, ...], hint: str) -> None:
    expect_golden(golden.load_goldens(LAB), case, module, shape, hint)


CASES = {
    "block_plain": (lambda p: p.ResidualBlock(16, 16), (2, 16, 8, 8)),
    "block_shortcut": (lambda p: p.ResidualBlock(16, 32, 2, nn.Sequential(p.conv3(16, 32, 2), nn.BatchNorm2d(32))),
                       (2, 16, 8, 8)),
    "resnet44": (lambda p: p.ResNet(p.ResidualBlock, [7, 7, 7]), (2, 3, 32, 32)),
}



# --- statistics ---------------------------------------------------------------------------------

def _images() -> np.ndarray:
    """(40, 32, 32, 3) uint8 images of different brightness: per-image stds underestimate the data set's."""
    rng = np.random.default_rng(3)
    return (rng.integers(0, 200, size=(40, 1, 1, 3)) + rng.integers(0, 56, size=(40, 32, 32, 3))).astype(np.uint8)


def _dataset_stats(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = images.reshape(-1, 3).astype(np.float64) / 255
    return x.mean(axis=0), x.std(axis=0)


def stats_mean(channel_stats) -> None:
    """Is the per-channel mean over all pixels of all images right (in [0, 1] units)?"""
    images = _images()
    mean, _ = channel_stats(images)
    expected, _ = _dataset_stats(images)
    assert np.shape(mean) == (3,), f"mean should hold 3 values (R, G, B), got {mean!r}"
    assert np.allclose(mean, expected, atol=1e-4), (
        f"mean is {np.round(mean, 4)}, expected {np.round(expected, 4)}: average each channel over every "
        f"pixel of every image, after dividing by 255")


def stats_std_dataset_wide(channel_stats) -> None:
    """Is the std taken over the whole data set, not averaged over images?"""
    images = _images()
    _, std = channel_stats(images)
    _, expected = _dataset_stats(images)
    per_image = (images.astype(np.float64) / 255).std(axis=(1, 2)).mean(axis=0)
    assert np.shape(std) == (3,), f"std should hold 3 values (R, G, B), got {std!r}"
    hint = ("that is the average of per-image stds (the handout's way), which leaves out how much the images "
            "differ from each other" if np.allclose(std, per_image, atol=1e-4) else
            "take the std of each channel over every pixel of every image, after dividing by 255")
    assert np.allclose(std, expected, atol=1e-4), f"std is {np.round(std, 4)}, expected {np.round(expected, 4)}: {hint}"


# --- augmentation -------------------------------------------------------------------------------

PIPELINE = ["RandomHorizontalFlip", "RandomRotation", "RandomAffine", "ColorJitter", "ToTensor", "Normalize"]


def augment_pipeline(train_transform) -> None:
    """Are the handout's transforms there, in order, with their parameters?"""
    mean, std = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)
    pipeline = train_transform(mean, std)
    assert isinstance(pipeline, transforms.Compose), f"return a transforms.Compose, got {type(pipeline).__name__}"
    kinds = [type(t).__name__ for t in pipeline.transforms]
    assert kinds == PIPELINE, f"the transforms are {kinds}, expected {PIPELINE}"
    flip, rotation, affine, jitter, _, normalize = pipeline.transforms
    found = {"flip p": flip.p, "rotation degrees": list(rotation.degrees), "affine degrees": list(affine.degrees),
             "affine shear": list(affine.shear or []), "affine scale": tuple(affine.scale or ()),
             "jitter": (tuple(jitter.brightness), tuple(jitter.contrast), tuple(jitter.saturation), jitter.hue),
             "normalize": (tuple(normalize.mean), tuple(normalize.std))}
    expected = {"flip p": 0.5, "rotation degrees": [-10.0, 10.0], "affine degrees": [0.0, 0.0],
                "affine shear": [-10.0, 10.0], "affine scale": (0.8, 1.2),
                "jitter": ((0.8, 1.2), (0.8, 1.2), (0.8, 1.2), None), "normalize": (mean, std)}
    wrong = {key: found[key] for key in expected
             if not np.allclose(*_comparable(found[key], expected[key]), equal_nan=True)}
    assert not wrong, f"parameters differ from the handout's: {wrong}; expected {({k: expected[k] for k in wrong})}"


def _comparable(a, b):
    """Flatten nested tuples/lists (None as nan) so np.allclose can compare them."""
    def flat(v):
        if isinstance(v, (list, tuple)):
            return [x for item in v for x in flat(item)]
        return [np.nan if v is None else float(v)]
    fa, fb = flat(a), flat(b)
    return (np.array(fa), np.array(fb)) if len(fa) == len(fb) else (np.zeros(1), np.ones(1))


def augment_output(train_transform) -> None:
    """Does the pipeline give (3, 32, 32) float tensors, normalised, that differ between calls?"""
    from PIL import Image

    mean, std = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)
    pipeline = train_transform(mean, std)
    torch.manual_seed(0)
    black = pipeline(Image.new("RGB", (32, 32)))
    assert isinstance(black, torch.Tensor) and black.dtype == torch.float32 and black.shape == (3, 32, 32), (
        f"output is {type(black).__name__} {getattr(black, 'dtype', '')} {tuple(getattr(black, 'shape', ()))}, "
        f"expected a float32 tensor (3, 32, 32): end with ToTensor() and Normalize(mean, std)")
    expected = (-torch.tensor(mean) / torch.tensor(std))[:, None, None].expand(3, 32, 32)
    assert torch.allclose(black, expected, atol=1e-5), (
        "a black image should become (0 - mean) / std everywhere: augmentations keep black black (rotations "
        "and affine transforms fill with 0), then ToTensor scales to [0, 1] and Normalize uses mean and std")
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    outputs = [pipeline(image) for _ in range(6)]
    assert any(not torch.equal(outputs[0], other) for other in outputs[1:]), \
        "six calls on one image gave the same tensor: the augmentations must be random"


# --- split --------------------------------------------------------------------------------------

def _as_sets(parts) -> tuple[list[int], list[int]]:
    train, val = (np.asarray(p).tolist() for p in parts)
    return train, val


def split_sizes(split_indices) -> None:
    """Are the parts 90 % and 10 % (floor) of the data?"""
    for n, expected in ((50_000, (45_000, 5_000)), (101, (91, 10))):
        train, val = _as_sets(split_indices(n, 0.1, 0))
        assert (len(train), len(val)) == expected, (
            f"split_indices({n}) gives {len(train)} training and {len(val)} validation indices, expected {expected}: "
            f"the first floor(0.1 * n) shuffled indices validate")


def split_disjoint_complete(split_indices) -> None:
    """Do the parts share no index and cover every index exactly once?"""
    train, val = _as_sets(split_indices(1000, 0.1, 0))
    assert not set(train) & set(val), f"{len(set(train) & set(val))} indices are in both parts"
    assert sorted(train + val) == list(range(1000)), \
        "together the parts must hold every index 0..n-1 exactly once: shuffle a permutation, do not sample"


def split_deterministic(split_indices) -> None:
    """Is the split the same for one seed, different for another, whatever np.random's state?"""
    first = _as_sets(split_indices(1000, 0.1, 0))
    np.random.seed(12345)
    np.random.rand(7)
    again = _as_sets(split_indices(1000, 0.1, 0))
    assert first == again, "two calls with seed 0 gave different splits: shuffle with a generator seeded by `seed`"
    other = _as_sets(split_indices(1000, 0.1, 1))
    assert first != other, "seeds 0 and 1 gave the same split: use the `seed` argument"


# --- ResNet44 -----------------------------------------------------------------------------------

@meta_first
def block_golden(ResidualBlock) -> None:
    """Does a block compute relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut(x)) exactly, with and without shortcut?"""
    for case in ("block_plain", "block_shortcut"):
        factory, shape = CASES[case]
        _golden(case, factory(Parts(ResidualBlock=ResidualBlock, conv3=reference().conv3)), shape,
                "forward: conv1, bn1, relu, conv2, bn2, then add self.shortcut(x) (or x) and apply relu last.")


def _network(ResNet) -> nn.Module:
    with golden.reference_parts(ResNet, reference(), ("conv3",)):
        return ResNet(reference().ResidualBlock, [7, 7, 7])


@meta_first
def resnet44_stage_shapes(ResNet) -> None:
    """Do the stages of ResNet44 (on the reference block) give 16x32x32, 32x16x16 and 64x8x8?"""
    model = _network(ResNet).eval()
    with torch.no_grad():
        out = model.relu(model.bn(model.conv(torch.randn(2, 3, 32, 32))))
        for stage, expected in STAGES:
            out = getattr(model, stage)(out)
            expect_shape(f"{stage} output", tuple(out.shape), expected,
                         "make_layer: the first block gets the stride and the shortcut; update self.in_channels")


@meta_first
def resnet44_param_count(ResNet) -> None:
    """Has ResNet44 (on the reference block) exactly 681,818 parameters?"""
    got = count(_network(ResNet))
    assert got == RESNET44_PARAMETERS, (
        f"ResNet44 has {got:,} parameters, expected {RESNET44_PARAMETERS:,}: num_blocks blocks per stage, and a "
        f"shortcut conv3 + BatchNorm2d only where the size or the channels change")


@meta_first
def resnet44_golden(ResNet) -> None:
    """Does ResNet44 (on the reference block) compute exactly the reference's function?"""
    factory, shape = CASES["resnet44"]
    with golden.reference_parts(ResNet, reference(), ("conv3",)):
        model = factory(Parts(ResNet=ResNet, ResidualBlock=reference().ResidualBlock))
    _golden("resnet44", model, shape, "Check make_layer: which block gets the stride and the shortcut.")


def resnet44_overfits_batch(resnet44) -> None:
    """Can your ResNet44 overfit one fixed batch in a few Adam steps (GPU when there is one)?"""
    overfits_one_batch(resnet44)


# --- the training loop --------------------------------------------------------------------------

class Probe(nn.Module):
    """Records, at each forward, whether gradients are enabled and whether the model trains."""

    def __init__(self):
        super().__init__()
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x):
        self.seen.append((torch.is_grad_enabled(), self.training))
        return x


def _problem(seed: int = 0):
    """A small model with batch norm, and a loader of 30 images in 4 batches (8, 8, 8, 6)."""
    torch.manual_seed(seed)
    model = nn.Sequential(Probe(), nn.Flatten(), nn.Linear(12, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    images, labels = torch.randn(30, 3, 2, 2), torch.arange(30) % 3
    return model, DataLoader(TensorDataset(images, labels), batch_size=8)


def _optimizer(model):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return optimizer, torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)


def _one_epoch(train_one_epoch, model, loader):
    optimizer, scheduler = _optimizer(model)
    result = train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, scheduler, "cpu")
    return result, scheduler


def train_epoch_updates(train_one_epoch) -> None:
    """Does one epoch leave the weights and the schedule exactly where the reference leaves them?"""
    model, loader = _problem()
    expected_model = copy.deepcopy(model)
    _, expected_scheduler = _one_epoch(reference().train_one_epoch, expected_model, loader)
    _, scheduler = _one_epoch(train_one_epoch, model, loader)
    assert scheduler.last_epoch == expected_scheduler.last_epoch, (
        f"the scheduler stepped {scheduler.last_epoch} times in an epoch of {len(loader)} batches, expected "
        f"{expected_scheduler.last_epoch}: step it once per batch, after optimizer.step()")
    for (name, got), expected in zip(model.named_parameters(), expected_model.parameters()):
        assert torch.allclose(got, expected, atol=1e-6), (
            f"after one epoch, {name} differs from the reference's: per batch, zero the gradients, forward, "
            f"loss, backward, then optimizer.step()")
    assert all(training for _, training in model[0].seen), "train_one_epoch must put the model in training mode"


def train_epoch_metrics(train_one_epoch) -> None:
    """Are the returned loss (per image) and accuracy (%) the reference's?"""
    model, loader = _problem()
    expected, _ = _one_epoch(reference().train_one_epoch, copy.deepcopy(model), loader)
    got, _ = _one_epoch(train_one_epoch, model, loader)
    assert np.allclose(got, expected, atol=1e-6), (
        f"train_one_epoch returned {got}, expected {expected}: the loss per image is the sum of "
        f"loss.item() * batch size over the epoch divided by the number of images; accuracy in %")


def validate_metrics(validate) -> None:
    """Does validate measure the right loss and accuracy in eval mode, without gradients?"""
    model, loader = _problem()
    model.train()(torch.randn(16, 3, 2, 2))  # running statistics now differ from any batch's
    state = copy.deepcopy(model.state_dict())
    expected = reference().validate(copy.deepcopy(model), loader, nn.CrossEntropyLoss(), "cpu")
    model[0].seen.clear()
    got = validate(model, loader, nn.CrossEntropyLoss(), "cpu")
    assert model[0].seen and not any(grad for grad, _ in model[0].seen), "validate must run under torch.no_grad()"
    assert not any(training for _, training in model[0].seen), "validate must put the model in eval mode (model.eval())"
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items()), "validate must not change the model"
    assert np.allclose(got, expected, atol=1e-6), f"validate returned {got}, expected {expected} (loss per image, accuracy %)"


def fit_history(fit) -> None:
    """Does fit train then validate each epoch and return one dict per epoch with the five keys?"""
    model, loader = _problem()
    expected_model = copy.deepcopy(model)
    ref = reference()
    optimizer, scheduler = _optimizer(expected_model)
    expected = ref.fit(expected_model, loader, loader, nn.CrossEntropyLoss(), optimizer, scheduler, 3, "cpu")
    optimizer, scheduler = _optimizer(model)
    with golden.reference_parts(fit, ref, ("train_one_epoch", "validate")):
        history = fit(model, loader, loader, nn.CrossEntropyLoss(), optimizer, scheduler, 3, "cpu")
    assert isinstance(history, list) and len(history) == 3, f"fit(..., epochs=3) returned {history!r}, expected 3 dicts"
    for row, want in zip(history, expected):
        assert isinstance(row, dict) and set(row) == HISTORY_KEYS, f"each entry needs exactly the keys {sorted(HISTORY_KEYS)}"
        assert row["epoch"] == want["epoch"], f"epochs are numbered from 1, got {[r['epoch'] for r in history]}"
        assert all(np.isclose(row[k], want[k], atol=1e-6) for k in HISTORY_KEYS), (
            f"epoch {want['epoch']}: {row}, expected {want}: train_one_epoch then validate on val_loader, every epoch")
