"""Lab 1 hidden tests: conv helpers, ResidualBlock, ResNet50_layer4 and VGG-16's make_layers.

Each function checks one property of one part and raises AssertionError with what was expected,
what was found and where to look. Parts are graded on reference sub-parts (a stage on reference
blocks, a block on reference helpers), so a mistake costs the points of the part it is in.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from autograder.checks import golden
from autograder.checks.common import (Parts, count, expect_golden, expect_shape, gradients_reach_every_parameter,
                                      overfits_one_batch, shape_of)
from labkit.device import meta_first

LAB = "lab1"
HELPERS = ("conv1x1", "conv3x3")
BLOCK_PARTS = ("ResidualBlock", *HELPERS)
STAGE_INPUTS = {"layer1": (2, 3, 32, 32), "layer2": (2, 64, 8, 8), "layer3": (2, 256, 4, 4),
                "layer4": (2, 512, 2, 2)}
STAGE_OUTPUTS = {"layer1": (2, 64, 8, 8), "layer2": (2, 256, 4, 4), "layer3": (2, 512, 2, 2),
                 "layer4": (2, 1024, 2, 2)}
STAGE_HINTS = {
    "layer1": "7x7 conv (3->64, stride 2, padding 3), BN, ReLU, MaxPool2d(3, stride 2, padding 1)",
    "layer2": "ResidualBlock(64, 64, 256), (256, 64, 256), then (256, 64, 256, downsample=True)",
    "layer3": "ResidualBlock(256, 128, 512), two of (512, 128, 512), then (512, 128, 512, downsample=True)",
    "layer4": "ResidualBlock(512, 256, 1024), then five of (1024, 256, 1024), none downsampling",
}


@functools.cache
def reference():
    return golden.load_reference(LAB)


@functools.cache
def goldens() -> dict[str, torch.Tensor]:
    return golden.load_goldens(LAB)


def _expect_golden(case: str, module: nn.Module, shape: tuple[int, ...], hint: str) -> None:
    expect_golden(goldens(), case, module, shape, hint)


# Golden cases: (part factory on a namespace of parts, input shape). `course build` runs them on
# the reference; the tests run them on the student's parts.
CASES = {
    "resblock_downsample": (lambda p: p.ResidualBlock(256, 64, 256, True), (2, 256, 4, 4)),
    "resblock_identity_projected": (lambda p: p.ResidualBlock(64, 64, 256, False), (2, 64, 4, 4)),
    "resblock_identity_same": (lambda p: p.ResidualBlock(256, 64, 256, False), (2, 256, 4, 4)),
    **{f"resnet50_{stage}": (lambda p, s=stage: getattr(p.ResNet50_layer4(), s), STAGE_INPUTS[stage])
       for stage in STAGE_INPUTS},
    "vgg16": (lambda p: p.VGG(p.make_layers(p.VGG16_CFG)), (2, 3, 32, 32)),
}



# --- conv helpers ---------------------------------------------------------------------------

HELPER_CALLS = ((1, 0), (2, 0), (1, 1), (2, 1), (1, 2))  # (stride, padding) each helper is called with
CONV_ARGUMENTS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                  "padding_mode", "transposed", "output_padding")


def _helper_pairs(conv1x1, conv3x3):
    """(student helper, reference helper, kernel size) for each helper."""
    ref = reference()
    return ((conv1x1, ref.conv1x1, 1), (conv3x3, ref.conv3x3, 3))


@meta_first
def conv_helpers_structure(conv1x1, conv3x3) -> None:
    """Are conv1x1/conv3x3 an nn.Sequential of Conv2d -> BatchNorm2d -> ReLU whose every Conv2d argument
    (kernel, stride, padding, dilation, groups, bias, ...) is the handout's, for every stride and padding?"""
    for helper, expected_helper, size in _helper_pairs(conv1x1, conv3x3):
        for stride, padding in HELPER_CALLS:
            call = f"{helper.__name__}(8, 16, {stride}, {padding})"
            block, expected = helper(8, 16, stride, padding), expected_helper(8, 16, stride, padding)
            kinds = [type(m).__name__ for m in block.children()]
            assert kinds == ["Conv2d", "BatchNorm2d", "ReLU"], (
                f"{call} holds {kinds}, expected ['Conv2d', 'BatchNorm2d', 'ReLU'] inside nn.Sequential")
            conv, want = block[0], expected[0]
            for name in CONV_ARGUMENTS:
                assert getattr(conv, name) == getattr(want, name), (
                    f"{call}: its Conv2d has {name}={getattr(conv, name)!r}, expected {getattr(want, name)!r} "
                    f"(a {size}x{size} convolution with the given stride and padding and nothing else)")
            assert (conv.bias is None) == (want.bias is None), (
                f"{call}: its Conv2d has bias={conv.bias is not None}, expected bias={want.bias is not None}")
            assert block[1].num_features == 16, f"{call}: BatchNorm2d must normalise out_channels=16"


@meta_first
@torch.no_grad()
def conv_helpers_shape(conv1x1, conv3x3) -> None:
    """Do conv1x1/conv3x3 honour their stride and padding, and compute the handout's helper (same fixed
    weights and input, same output)?"""
    for helper, expected_helper, size in _helper_pairs(conv1x1, conv3x3):
        for stride, padding, expected in ((1, size // 2, (2, 16, 12, 12)), (2, size // 2, (2, 16, 6, 6)),
                                          (1, size // 2 + 1, (2, 16, 14, 14))):
            call = f"{helper.__name__}(8, 16, stride={stride}, padding={padding})"
            expect_shape(f"{call} on (2, 8, 12, 12)", shape_of(helper(8, 16, stride, padding), (2, 8, 12, 12)),
                         expected, "pass stride and padding on to nn.Conv2d")
            case = f"{helper.__name__}_{stride}_{padding}"
            got = golden.golden_output(helper(8, 16, stride, padding), case, (2, 8, 12, 12))
            want = golden.golden_output(expected_helper(8, 16, stride, padding), case, (2, 8, 12, 12))
            error = golden.relative_error(got, want)
            assert error <= golden.TOLERANCE, (
                f"{call} with fixed weights computes other values than the handout's helper (relative error "
                f"{error:.2e}, expected below {golden.TOLERANCE:g}): a Conv2d -> BatchNorm2d -> ReLU with "
                f"kernel_size={size}, the given stride and padding, and nothing else")


# --- ResidualBlock ----------------------------------------------------------------------------

@meta_first
def resblock_downsample_shape(ResidualBlock) -> None:
    """Does a downsampling block halve H and W and give out_channels channels?"""
    with golden.reference_parts(ResidualBlock, reference(), HELPERS):
        block = ResidualBlock(256, 64, 256, True)
    expect_shape("ResidualBlock(256, 64, 256, downsample=True) on (2, 256, 8, 8)",
                  shape_of(block, (2, 256, 8, 8)), (2, 256, 4, 4),
                  "stride 2 in self.layer's first 1x1 conv and in self.downsize")


@meta_first
def resblock_downsample_stride_position(ResidualBlock) -> None:
    """Is the stride-2 convolution of a downsampling block its first 1x1, as the handout says?"""
    with golden.reference_parts(ResidualBlock, reference(), HELPERS):
        block = ResidualBlock(256, 64, 256, True)
    convs = [m for m in block.layer.modules() if isinstance(m, nn.Conv2d)]
    found = [(c.kernel_size[0], c.stride[0]) for c in convs]
    assert found == [(1, 2), (3, 1), (1, 1)], (
        f"self.layer's convolutions (kernel, stride) are {found}, expected [(1, 2), (3, 1), (1, 1)]: "
        f"the handout puts stride 2 on the first 1x1 convolution, not on the 3x3")


@meta_first
def resblock_downsample_golden(ResidualBlock) -> None:
    """Does a downsampling block compute layer(x) + downsize(x) exactly as the reference?"""
    with golden.reference_parts(ResidualBlock, reference(), HELPERS):
        factory, shape = CASES["resblock_downsample"]
        block = factory(Parts(ResidualBlock=ResidualBlock))
    _expect_golden("resblock_downsample", block, shape,
                   "Check self.layer (1x1 stride 2, 3x3 padding 1, 1x1), self.downsize (1x1 stride 2) and forward.")


@meta_first
def resblock_identity_shape(ResidualBlock) -> None:
    """Does a block without downsampling keep H and W and give out_channels channels?"""
    with golden.reference_parts(ResidualBlock, reference(), HELPERS):
        blocks = {(64, 256): ResidualBlock(64, 64, 256, False), (256, 256): ResidualBlock(256, 64, 256, False)}
    for (cin, cout), block in blocks.items():
        expect_shape(f"ResidualBlock({cin}, 64, {cout}) on (2, {cin}, 8, 8)", shape_of(block, (2, cin, 8, 8)),
                      (2, cout, 8, 8), "stride 1 everywhere, padding 1 on the 3x3; make_equal_channel when channels differ")


@meta_first
def resblock_identity_param_count(ResidualBlock) -> None:
    """Does a block create make_equal_channel only where in_channels != out_channels?"""
    ref = reference()
    for cin in (64, 256):
        with golden.reference_parts(ResidualBlock, ref, HELPERS):
            got = count(ResidualBlock(cin, 64, 256, False))
        expected = count(ref.ResidualBlock(cin, 64, 256, False))
        assert got == expected, (
            f"ResidualBlock({cin}, 64, 256) has {got:,} parameters, expected {expected:,}: "
            + ("a projection is only needed when in_channels != out_channels" if cin == 256
               else "self.layer is 1x1 -> 3x3 -> 1x1 and make_equal_channel is one 1x1 conv"))


@meta_first
def resblock_identity_golden(ResidualBlock) -> None:
    """Does a block without downsampling compute layer(x) + x, projecting x only when needed?"""
    for case in ("resblock_identity_projected", "resblock_identity_same"):
        with golden.reference_parts(ResidualBlock, reference(), HELPERS):
            factory, shape = CASES[case]
            block = factory(Parts(ResidualBlock=ResidualBlock))
        _expect_golden(case, block, shape,
                       "The shortcut is x itself when the channel counts match (compare sizes with !=, not "
                       "`is not`), and make_equal_channel(x) when they differ.")


# --- ResNet50_layer4 --------------------------------------------------------------------------

def _resnet(ResNet50_layer4) -> nn.Module:
    with golden.reference_parts(ResNet50_layer4, reference(), BLOCK_PARTS):
        return ResNet50_layer4()


@meta_first
def resnet50_stage_shape(ResNet50_layer4, stage: str) -> None:
    """Does `stage` turn its input into the handout table's size?"""
    model = _resnet(ResNet50_layer4)
    expect_shape(f"{stage} on {STAGE_INPUTS[stage]}", shape_of(getattr(model, stage), STAGE_INPUTS[stage]),
                  STAGE_OUTPUTS[stage], STAGE_HINTS[stage])


@meta_first
def resnet50_stage_golden(ResNet50_layer4, stage: str) -> None:
    """Does `stage` compute exactly the reference's function (same layers, same order)?"""
    model = _resnet(ResNet50_layer4)
    _expect_golden(f"resnet50_{stage}", getattr(model, stage), STAGE_INPUTS[stage], f"Expected: {STAGE_HINTS[stage]}.")


@meta_first
def resnet50_head_shape(ResNet50_layer4) -> None:
    """Do avgpool and fc turn (N, 1024, 2, 2) into (N, 1024, 1, 1) and then 10 logits?"""
    model = _resnet(ResNet50_layer4)
    expect_shape("avgpool on (2, 1024, 2, 2)", shape_of(model.avgpool, (2, 1024, 2, 2)), (2, 1024, 1, 1),
                  "AvgPool2d with kernel 2 and stride 1")
    expect_shape("fc on (2, 1024)", shape_of(model.fc, (2, 1024)), (2, 10),
                  "fc is nn.Linear(1024, num_classes) and num_classes defaults to 10")


@meta_first
def resnet50_param_count(ResNet50_layer4) -> None:
    """Has ResNet50_layer4 (on reference blocks) exactly the reference's number of parameters?"""
    ref = reference()
    got, expected = count(_resnet(ResNet50_layer4)), count(ref.ResNet50_layer4())
    assert got == expected, (
        f"ResNet50_layer4 has {got:,} parameters, expected {expected:,}: compare each stage with the "
        f"handout's table (blocks per stage 3/4/6, channels 256/512/1024) and fc = Linear(1024, 10) with bias")


def resnet50_gradients_flow(ResNet50_layer4) -> None:
    """Does a backward pass through your whole network reach every parameter?"""
    gradients_reach_every_parameter(ResNet50_layer4(), (4, 3, 32, 32))


def resnet50_overfits_batch(ResNet50_layer4) -> None:
    """Can your whole network overfit one fixed batch in a few Adam steps (GPU when there is one)?"""
    overfits_one_batch(ResNet50_layer4)


# --- VGG-16 -----------------------------------------------------------------------------------

def _vgg_pattern(cfg, batch_norm: bool) -> list[str]:
    conv = ["Conv2d", "BatchNorm2d", "ReLU"] if batch_norm else ["Conv2d", "ReLU"]
    return [kind for v in cfg for kind in (["MaxPool2d"] if v == "M" else conv)]


@meta_first
def vgg_layers(make_layers) -> None:
    """Does make_layers emit Conv2d(3x3, padding 1) [+ BN] + ReLU per number and MaxPool2d(2, 2) per 'M'?"""
    cfg = reference().VGG16_CFG
    for batch_norm in (False, True):
        features = make_layers(cfg, batch_norm=batch_norm)
        kinds = [type(m).__name__ for m in features]
        expected = _vgg_pattern(cfg, batch_norm)
        assert kinds == expected, (
            f"make_layers(cfg, batch_norm={batch_norm}) gives {len(kinds)} layers starting {kinds[:5]}, expected "
            f"{len(expected)} starting {expected[:5]}: per number Conv2d{' + BatchNorm2d' if batch_norm else ''} "
            f"+ ReLU, per 'M' one MaxPool2d")
        pools = [m for m in features if isinstance(m, nn.MaxPool2d)]
        convs = [m for m in features if isinstance(m, nn.Conv2d)]
        assert all(p.kernel_size == 2 and p.stride == 2 for p in pools), "each 'M' is MaxPool2d(kernel_size=2, stride=2)"
        assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in convs), \
            "each number is Conv2d(in_channels, v, kernel_size=3, padding=1)"


@meta_first
def vgg_param_count(make_layers) -> None:
    """Has VGG-16 built on your make_layers exactly the reference's number of parameters?"""
    ref = reference()
    got = count(ref.VGG(make_layers(ref.VGG16_CFG)))
    expected = count(ref.VGG(ref.make_layers(ref.VGG16_CFG)))
    assert got == expected, (
        f"VGG-16 on your make_layers has {got:,} parameters, expected {expected:,}: each convolution takes the "
        f"previous one's width as in_channels (start at 3, then set in_channels = v)")


@meta_first
def vgg_golden(make_layers) -> None:
    """Does VGG-16 on your make_layers compute exactly the reference's function?"""
    ref = reference()
    factory, shape = CASES["vgg16"]
    _expect_golden("vgg16", factory(Parts(VGG=ref.VGG, VGG16_CFG=ref.VGG16_CFG, make_layers=make_layers)), shape,
                   "Layer order per number: Conv2d(3x3, padding 1), [BatchNorm2d], ReLU; 'M' is MaxPool2d(2, 2).")
