"""Lab 2 hidden tests: IdentityPadding (option A), the basic ResidualBlock and the CIFAR ResNet builder.

Each function checks one property of one part and raises AssertionError with what was expected,
what was found and where to look. A block is graded on the reference IdentityPadding and the
network on the reference block, so a mistake costs the points of the part it is in.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch
from torch import nn

from autograder.checks import accuracy, golden
from autograder.checks.common import (Parts, count, expect_golden, expect_shape, gradients_reach_every_parameter,
                                      overfits_one_batch, shape_of)
from labkit.checks import CheckFailed
from labkit.device import meta_first
from labkit.labs import lab2

LAB = "lab2"
PARAMETERS = lab2.PARAMETERS
STAGES = (("layers_2n", (2, 16, 32, 32)), ("layers_4n", (2, 32, 16, 16)), ("layers_6n", (2, 64, 8, 8)))


@functools.cache
def reference():
    return golden.load_reference(LAB)


def _golden(case: str, module: nn.Module, shape: tuple[int, ...], hint: str) -> None:
    expect_golden(golden.load_goldens(LAB), case, module, shape, hint)


def _resnet_class(resnet):
    """The ResNet class next to the student's `resnet` function."""
    return resnet.__globals__["ResNet"]


CASES = {
    "identity_padding": (lambda p: p.IdentityPadding(16, 32, 2), (2, 16, 8, 8)),
    "resblock_same": (lambda p: p.ResidualBlock(16, 16), (2, 16, 8, 8)),
    "resblock_down": (lambda p: p.ResidualBlock(16, 32, 2, True), (2, 16, 8, 8)),
    "resnet20": (lambda p: p.ResNet(3, p.ResidualBlock), (2, 3, 32, 32)),
}



# --- IdentityPadding --------------------------------------------------------------------------

@meta_first
def identity_padding_shape(IdentityPadding) -> None:
    """Does IdentityPadding(16, 32, 2) turn (2, 16, 8, 8) into (2, 32, 4, 4)?"""
    expect_shape("IdentityPadding(16, 32, 2) on (2, 16, 8, 8)", shape_of(IdentityPadding(16, 32, 2), (2, 16, 8, 8)),
                 (2, 32, 4, 4), "pad out_channels - in_channels zero channels, subsample with stride 2")


def identity_padding_values(IdentityPadding) -> None:
    """Does it keep x[:, :, ::2, ::2] in the first channels and zeros in the added ones?"""
    x = torch.arange(2 * 16 * 8 * 8, dtype=torch.float32).reshape(2, 16, 8, 8)
    out = IdentityPadding(16, 32, 2)(x)
    assert out.shape == (2, 32, 4, 4), f"output shape {tuple(out.shape)}, expected (2, 32, 4, 4)"
    assert torch.equal(out[:, :16], x[:, :, ::2, ::2]), (
        "the first 16 channels should be the input at every other pixel (x[:, :, ::2, ::2]): "
        "subsample with MaxPool2d(kernel_size=1, stride=2), and pad channels after the input's")
    assert not out[:, 16:].any(), "the 16 added channels should be zeros: F.pad(x, [0, 0, 0, 0, 0, extra])"
    same = IdentityPadding(16, 16, 1)(x)
    assert torch.equal(same, x), "IdentityPadding(16, 16, 1) should return its input unchanged"


# --- ResidualBlock ----------------------------------------------------------------------------

def _block(ResidualBlock, *args):
    with golden.reference_parts(ResidualBlock, reference(), ("IdentityPadding",)):
        return ResidualBlock(*args)


@meta_first
def resblock_kernel_stride_padding(ResidualBlock) -> None:
    """Are conv1 and conv2 3x3 with padding 1 and no bias, the stride on conv1 only?"""
    block = _block(ResidualBlock, 16, 32, 2, True)
    found = [(c.kernel_size, c.stride, c.padding, c.bias is None) for c in (block.conv1, block.conv2)]
    expected = [((3, 3), (2, 2), (1, 1), True), ((3, 3), (1, 1), (1, 1), True)]
    assert found == expected, (
        f"ResidualBlock(16, 32, stride=2): (kernel, stride, padding, no bias) of conv1, conv2 are {found}, "
        f"expected {expected}: both 3x3 with padding 1 and bias=False, stride only on conv1")
    assert (block.conv1.in_channels, block.conv1.out_channels, block.conv2.in_channels) == (16, 32, 32), \
        "conv1 maps in_channels to out_channels, conv2 out_channels to out_channels"


@meta_first
def resblock_shape(ResidualBlock) -> None:
    """Does a block keep the size with stride 1 and halve it with stride 2?"""
    expect_shape("ResidualBlock(16, 16) on (2, 16, 8, 8)", shape_of(_block(ResidualBlock, 16, 16), (2, 16, 8, 8)),
                 (2, 16, 8, 8), "stride 1 and padding 1 keep the size")
    expect_shape("ResidualBlock(16, 32, 2, True) on (2, 16, 8, 8)",
                 shape_of(_block(ResidualBlock, 16, 32, 2, True), (2, 16, 8, 8)), (2, 32, 4, 4),
                 "stride 2 on conv1 halves the size; the shortcut halves it too")


@meta_first
def resblock_golden(ResidualBlock) -> None:
    """Does a block compute relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut) exactly?"""
    for case in ("resblock_same", "resblock_down"):
        with golden.reference_parts(ResidualBlock, reference(), ("IdentityPadding",)):
            factory, shape = CASES[case]
            block = factory(Parts(ResidualBlock=ResidualBlock))
        _golden(case, block, shape, "Check kernel size, stride and padding of conv1 and conv2.")


# --- the ResNet builder -----------------------------------------------------------------------

def _network(resnet, n: int) -> nn.Module:
    return _resnet_class(resnet)(n, reference().ResidualBlock)


@meta_first
def resnet_stage_shapes(resnet) -> None:
    """Do the three stages of ResNet20 give 16x32x32, 32x16x16 and 64x8x8?"""
    model = _network(resnet, 3).eval()
    out = model.relu(model.bn1(model.conv1(torch.randn(2, 3, 32, 32))))
    with torch.no_grad():
        for stage, expected in STAGES:
            out = getattr(model, stage)(out)
            expect_shape(f"{stage} output", tuple(out.shape), expected,
                         "get_layers: the first block gets the stage's stride and down_sample=(stride == 2)")


@meta_first
def resnet_param_counts(resnet) -> None:
    """Have ResNet20/32/44 (on the reference block) exactly the paper's parameter counts?"""
    for depth, expected in PARAMETERS.items():
        got = count(_network(resnet, (depth - 2) // 6))
        assert got == expected, (
            f"ResNet{depth} has {got:,} parameters, expected {expected:,}: get_layers makes num_layers blocks, "
            f"only the first with the stride")


@meta_first
def resnet_depth_validation(resnet) -> None:
    """Does resnet(depth) build 6n+2 depths and raise ValueError for others?"""
    with golden.reference_parts(resnet, reference(), ("ResidualBlock", "IdentityPadding")):
        model = resnet(20)
        assert count(model) == PARAMETERS[20], f"resnet(20) has {count(model):,} parameters, expected {PARAMETERS[20]:,}"
        for depth in (21, 30, 2):
            try:
                resnet(depth)
            except ValueError:
                continue
            raise AssertionError(f"resnet({depth}) should raise ValueError: {depth} is not 6n + 2 with n >= 1")


@meta_first
def resnet_golden(resnet) -> None:
    """Does ResNet20 (on the reference block) compute exactly the reference's function?"""
    factory, shape = CASES["resnet20"]
    _golden("resnet20", factory(Parts(ResNet=_resnet_class(resnet), ResidualBlock=reference().ResidualBlock)),
            shape, "Check get_layers: block order, channels and strides.")


def resnet_gradients_flow(resnet) -> None:
    """Does a backward pass through your ResNet20 reach every parameter?"""
    gradients_reach_every_parameter(resnet(20), (4, 3, 32, 32))


def resnet_overfits_batch(resnet) -> None:
    """Can your ResNet32 overfit one fixed batch in a few steps (GPU when there is one)?"""
    overfits_one_batch(lambda: resnet(32), lr=0.01)


# --- the trained model's accuracy --------------------------------------------------------------

def saved_model_points(resnet, points: float, path: str = lab2.MODEL_FILE) -> float:
    """The points of the model the notebook saved at `path` ({"depth", "state_dict"}): your resnet(depth) with the
    saved weights, tested on the grader's CIFAR-10 test split, scored linearly between course.toml's thresholds."""
    from labkit import cifar10, labs

    zero, full = accuracy.thresholds(LAB)
    saved = accuracy.load_state(Path(path))
    depth = saved.get("depth")
    if not isinstance(depth, int) or isinstance(depth, bool) or not (8 <= depth <= 200 and (depth - 2) % 6 == 0):
        raise CheckFailed(f"{path} gives depth {depth!r}: save {{'depth': 6n + 2, 'state_dict': ...}} as the "
                          f"notebook's cell does")
    expected = count(reference().resnet(depth))
    model = accuracy.load_into(resnet(depth), saved.get("state_dict"), expected, f"your resnet({depth})")
    try:
        test = cifar10.load(accuracy.data_root(), train=False)
    except cifar10.DataMissing as missing:
        raise accuracy.GraderUnavailable(f"the grader has no CIFAR-10 test split: {missing}") from None
    found = accuracy.accuracy(accuracy.predictions(model, test.images, labs.CIFAR10_MEAN, labs.CIFAR10_STD),
                              test.labels)
    score = accuracy.points_for(found, zero, full, points)
    accuracy.note(f"your ResNet{depth} from {path}: {found:.2f} % on the {len(test.labels):,} test images: "
                  f"{score:g}/{points:g} points (0 at {zero:g} %, all at {full:g} %)")
    return score
