"""Visible checks run under each blank: shapes and sizes, with messages that say where to look."""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

from labkit.device import meta_first
from labkit.labs import lab2, lab3, lab4
from labkit.setup import is_grading

# Lab 1: for a (2, 3, 32, 32) input, each stage's output (C, H, W) and where to look when it is off.
RESNET50_STAGES = (
    ("layer1", (64, 8, 8), "7x7 conv stride 2 padding 3, then 3x3 max pool stride 2 padding 1"),
    ("layer2", (256, 4, 4), "three blocks 64->256; only the last one has downsample=True"),
    ("layer3", (512, 2, 2), "four blocks 256->512; only the last one has downsample=True"),
    ("layer4", (1024, 2, 2), "six blocks 512->1024, none downsampling"),
    ("avgpool", (1024, 1, 1), "AvgPool2d(2, 1) turns 2x2 into 1x1"),
)
VGG16_CONVS, VGG16_POOLS = 13, 5


class CheckFailed(AssertionError):
    """A visible check found something to fix; the message says what and where."""


def fast_while_grading(check):
    """While grading, `check` runs on the meta device first (labkit.device.meta_first: the same verdict without
    initialising or computing anything); in a student's own run always as written, so that a tensor printed in
    their code shows its values."""
    fast = meta_first(check)

    @functools.wraps(check)
    def run(*args, **kwargs):
        return (fast if is_grading() else check)(*args, **kwargs)

    return run


def passed(message: str) -> None:
    print(f"\u2713 {message}")


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def expect_shape(what: str, tensor: torch.Tensor, expected: tuple, hint: str) -> None:
    """Fail with 'what is X, expected Y: hint' unless `tensor` has shape `expected`."""
    got = tuple(tensor.shape)
    expect(got == tuple(expected), f"{what} is {got}, expected {tuple(expected)}: {hint}")


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars in `module`."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def build(factory, *args, what: str):
    """Call `factory(*args)`, turning the skeleton's NotImplementedError into a clear message."""
    try:
        return factory(*args)
    except NotImplementedError:
        raise CheckFailed(f"{what} is not written yet: replace `raise NotImplementedError()`") from None


@fast_while_grading
def check_conv_helpers(conv1x1, conv3x3) -> None:
    """conv1x1/conv3x3 return Conv -> BatchNorm -> ReLU with the given stride and padding."""
    x = torch.randn(2, 8, 16, 16)
    for helper, size in ((conv1x1, 1), (conv3x3, 3)):
        name = helper.__name__
        block = build(helper, 8, 16, 2, size // 2, what=name)
        kinds = [type(m).__name__ for m in block.children()]
        expect(kinds == ["Conv2d", "BatchNorm2d", "ReLU"],
               f"{name}(8, 16, 2, {size // 2}) holds {kinds}, expected ['Conv2d', 'BatchNorm2d', 'ReLU'] in nn.Sequential")
        expect(block[0].kernel_size == (size, size), f"{name} uses kernel {block[0].kernel_size}, expected {size}")
        expect_shape(f"{name}(8, 16, stride=2, padding={size // 2}) on (2, 8, 16, 16)", block(x), (2, 16, 8, 8),
                     "pass stride and padding on to nn.Conv2d")
    passed("conv1x1 and conv3x3: Conv -> BN -> ReLU, stride and padding honoured")


def expect_block_shapes(ResidualBlock, cases) -> None:
    """For each (constructor args, input shape, expected output shape, hint), build a block and check its output."""
    for args, shape, expected, hint in cases:
        block = build(ResidualBlock, *args, what=f"ResidualBlock{args}")
        expect_shape(f"ResidualBlock{args} on {shape}", block(torch.randn(shape)), expected, hint)


@fast_while_grading
def check_residual_block(ResidualBlock) -> None:
    """Both kinds of block keep or halve the size and give out_channels channels."""
    expect_block_shapes(ResidualBlock, [
        ((256, 64, 256, True), (2, 256, 8, 8), (2, 256, 4, 4),
         "a downsampling block halves H and W in self.layer and in self.downsize"),
        ((64, 64, 256, False), (2, 64, 8, 8), (2, 256, 8, 8),
         "keep H and W; make_equal_channel brings the input to out_channels"),
        ((256, 64, 256, False), (2, 256, 8, 8), (2, 256, 8, 8), "keep H and W"),
    ])
    passed("ResidualBlock: shapes right with and without downsampling")


@fast_while_grading
def check_resnet50(ResNet50_layer4) -> None:
    """Every stage of ResNet50_layer4 gives the handout table's size for a 32x32 input."""
    model = build(ResNet50_layer4, what="ResNet50_layer4").eval()
    out = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        for stage, (channels, height, width), hint in RESNET50_STAGES:
            out = getattr(model, stage)(out)
            expect_shape(f"{stage} output", out, (2, channels, height, width), hint)
            passed(f"{stage}: {tuple(out.shape)}")
        logits = model(torch.randn(2, 3, 32, 32))
    expect_shape("the logits", logits, (2, 10), "fc maps 1024 features to num_classes=10")
    passed(f"logits: {tuple(logits.shape)}; {count_parameters(model):,} parameters")


@fast_while_grading
def check_vgg(make_layers, VGG, cfg) -> None:
    """make_layers(cfg) builds VGG-16's 13 convolutions and 5 poolings; VGG maps 32x32 to 10 logits."""
    features = build(make_layers, cfg, what="make_layers")
    convs = [m for m in features if isinstance(m, nn.Conv2d)]
    pools = [m for m in features if isinstance(m, nn.MaxPool2d)]
    expect(len(convs) == VGG16_CONVS and len(pools) == VGG16_POOLS,
           f"make_layers(cfg) has {len(convs)} convolutions and {len(pools)} max pools, expected "
           f"{VGG16_CONVS} and {VGG16_POOLS}: one Conv2d(3x3, padding 1) + ReLU per number, one MaxPool2d(2, 2) per 'M'")
    model = VGG(features).eval()
    expect_shape("VGG-16 logits", model(torch.randn(2, 3, 32, 32)), (2, 10),
                 "in_channels must follow the previous layer's width")
    passed(f"VGG-16: {len(convs)} convolutions, {len(pools)} max pools, {count_parameters(model):,} parameters")


# Lab 2: option-A CIFAR ResNets.
CIFAR_RESNET_PARAMETERS = lab2.PARAMETERS


def check_identity_padding(IdentityPadding) -> None:
    """IdentityPadding subsamples with the stride and appends zero channels."""
    shortcut = build(IdentityPadding, 16, 32, 2, what="IdentityPadding")
    x = torch.randn(2, 16, 8, 8)
    out = shortcut(x)
    expect_shape("IdentityPadding(16, 32, 2) on (2, 16, 8, 8)", out, (2, 32, 4, 4),
                 "pad 16 zero channels, then subsample with stride 2")
    expect(torch.equal(out[:, :16], x[:, :, ::2, ::2]) and not out[:, 16:].any(),
           "the first 16 channels should be x[:, :, ::2, ::2] and the other 16 zeros")
    passed("IdentityPadding: subsampled input, then zero channels")


@fast_while_grading
def check_basic_block(ResidualBlock) -> None:
    """A block keeps the size with stride 1 and halves it with stride 2."""
    expect_block_shapes(ResidualBlock, [
        ((16, 16), (2, 16, 8, 8), (2, 16, 8, 8), "3x3 kernels with padding 1 and stride 1 keep the size"),
        ((16, 32, 2, True), (2, 16, 8, 8), (2, 32, 4, 4), "stride 2 on conv1 only"),
    ])
    passed("ResidualBlock: shapes right with stride 1 and 2")


@fast_while_grading
def check_cifar_resnet(resnet) -> None:
    """resnet(depth) gives 10 logits and the paper's parameter count for depths 20, 32, 44."""
    for depth, expected in CIFAR_RESNET_PARAMETERS.items():
        model = build(resnet, depth, what=f"resnet({depth})")
        got = count_parameters(model)
        expect(got == expected, f"resnet({depth}) has {got:,} parameters, expected {expected:,}: "
                                f"num_layers blocks per stage, only the first with the stride")
    expect_shape("resnet(20) logits", resnet(20).eval()(torch.randn(2, 3, 32, 32)), (2, 10),
                 "three stages, 8x8 average pool, fc to 10 classes")
    passed(f"resnet(20/32/44): {', '.join(f'{v:,}' for v in CIFAR_RESNET_PARAMETERS.values())} parameters")


# Lab 3: statistics, augmentation, split, ResNet44, the loop.
RESNET44_CONV_SHORTCUT_PARAMETERS = lab3.RESNET44_PARAMETERS


def check_channel_stats(channel_stats, per_image_stats) -> None:
    """channel_stats returns 3 means and 3 stds in [0, 1], the std at least the per-image average."""
    rng = np.random.default_rng(0)
    images = (rng.integers(0, 200, (20, 1, 1, 3)) + rng.integers(0, 56, (20, 32, 32, 3))).astype(np.uint8)
    mean, std = build(channel_stats, images, what="channel_stats")
    expect(np.shape(mean) == (3,) and np.shape(std) == (3,), f"expected 3 means and 3 stds, got {mean!r}, {std!r}")
    expect(all(0 <= v <= 1 for v in (*mean, *std)), f"values should be in [0, 1] (divide by 255): {mean}, {std}")
    expect(all(s >= p - 1e-6 for s, p in zip(std, per_image_stats(images)[1])),
           f"std {np.round(std, 4)} is below the per-image average {np.round(per_image_stats(images)[1], 4)}: "
           f"take it over all pixels of all images")
    passed(f"channel_stats: mean {np.round(mean, 3)}, std {np.round(std, 3)}")


def check_train_transform(train_transform) -> None:
    """train_transform maps a PIL image to a normalised (3, 32, 32) float tensor."""
    from PIL import Image

    pipeline = build(train_transform, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), what="train_transform")
    out = pipeline(Image.new("RGB", (32, 32), (128, 128, 128)))
    expect(isinstance(out, torch.Tensor) and out.shape == (3, 32, 32),
           f"expected a (3, 32, 32) tensor, got {type(out).__name__} {tuple(getattr(out, 'shape', ()))}")
    passed(f"train_transform: {len(pipeline.transforms)} transforms, output {tuple(out.shape)} {out.dtype}")


def check_split(split_indices) -> None:
    """split_indices(50000) gives 45,000 and 5,000 disjoint indices."""
    train, val = build(split_indices, 50_000, what="split_indices")
    expect((len(train), len(val)) == (45_000, 5_000), f"sizes {len(train)}, {len(val)}; expected 45,000 and 5,000")
    expect(not set(np.asarray(train).tolist()) & set(np.asarray(val).tolist()), "the parts overlap")
    passed("split_indices: 45,000 train and 5,000 validation indices, disjoint")


@fast_while_grading
def check_resnet44(resnet44) -> None:
    """resnet44() gives 10 logits and 681,818 parameters."""
    model = build(resnet44, what="resnet44")
    got = count_parameters(model)
    expect(got == RESNET44_CONV_SHORTCUT_PARAMETERS,
           f"ResNet44 has {got:,} parameters, expected {RESNET44_CONV_SHORTCUT_PARAMETERS:,}")
    expect_shape("resnet44() logits", model.eval()(torch.randn(2, 3, 32, 32)), (2, 10), "stages 16/32/64, avg pool, fc")
    passed(f"ResNet44: {got:,} parameters, logits (2, 10)")


def check_loop(train_one_epoch, validate, fit) -> None:
    """One epoch and one validation on a tiny problem return (loss, accuracy) pairs; fit returns a history."""
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    loader = DataLoader(TensorDataset(torch.randn(20, 3, 2, 2), torch.arange(20) % 3), batch_size=8)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss, accuracy = build(train_one_epoch, model, loader, nn.CrossEntropyLoss(), optimizer, None, "cpu",
                           what="train_one_epoch")
    expect(loss > 0 and 0 <= accuracy <= 100, f"train_one_epoch returned {loss}, {accuracy}")
    loss, accuracy = build(validate, model, loader, nn.CrossEntropyLoss(), "cpu", what="validate")
    expect(loss > 0 and 0 <= accuracy <= 100, f"validate returned {loss}, {accuracy}")
    history = build(fit, model, loader, loader, nn.CrossEntropyLoss(), optimizer, None, 2, "cpu", what="fit")
    expect(isinstance(history, list) and len(history) == 2, f"fit(..., epochs=2) returned {history!r}")
    passed("train_one_epoch, validate and fit run and return numbers in range")


# Lab 4: the fundus Dataset, torchvision-named ResNet18/50 with 5 outputs, the evaluation metrics.
TRANSFER_PARAMETERS = lab4.PARAMETERS


def check_fundus_dataset(RetinopathyDataset) -> None:
    """On a tiny generated data set: the length, and an item is a (3, size, size) tensor in [0, 1] with its level."""
    import tempfile

    from labkit import fixtures, fundus

    with tempfile.TemporaryDirectory() as folder:
        root = fixtures.write_fundus(folder, n_train=8, n_test=4, size=32)
        dataset = build(RetinopathyDataset, root, "train", 32, what="RetinopathyDataset")
        rows = fundus.read_split(root, "train")
        expect(len(dataset) == len(rows), f"len(dataset) is {len(dataset)}, expected {len(rows)} (rows of train.csv)")
        image, label = build(dataset.__getitem__, 0, what="__getitem__")
    expect(isinstance(image, torch.Tensor), f"the image is a {type(image).__name__}, expected a torch.Tensor")
    expect_shape("the image", image, (3, 32, 32), "channels first: (C, H, W), from the (H, W, C) array")
    expect(0 <= image.min() and image.max() <= 1, f"pixel values run {image.min():.3g}..{image.max():.3g}, "
           "expected 0..1: divide the 0-255 values by 255")
    expect(int(label) == rows[0][1], f"item 0 has label {label}, expected {rows[0][1]} from train.csv")
    passed(f"RetinopathyDataset: {len(rows)} items, image {tuple(image.shape)} {image.dtype} in [0, 1], label {label}")


@fast_while_grading
def check_transfer_blocks(BasicBlock, Bottleneck) -> None:
    """BasicBlock keeps or halves the size; Bottleneck gives 4 x channels."""
    expect_block_shapes(BasicBlock, [
        ((64, 64), (2, 64, 16, 16), (2, 64, 16, 16), "two 3x3 convolutions with padding 1 keep the size"),
        ((64, 128, 2), (2, 64, 16, 16), (2, 128, 8, 8), "stride 2 on conv1; downsample = 1x1 conv (stride 2) + BN"),
    ])
    expect_block_shapes(Bottleneck, [
        ((64, 64), (2, 64, 16, 16), (2, 256, 16, 16), "1x1 -> 3x3 -> 1x1 with 4 x channels out; downsample when "
                                                      "the input has other channels"),
        ((256, 128, 2), (2, 256, 16, 16), (2, 512, 8, 8), "stride 2 on the 3x3 (conv2) and in the downsample"),
    ])
    passed("BasicBlock and Bottleneck: shapes right with stride 1 and 2")


def check_transfer_resnets(resnet18, resnet50) -> None:
    """Both networks give 5 logits, have torchvision's parameter count, and load torchvision's weights."""
    import torchvision

    from labkit import fundus

    for name, factory in (("resnet18", resnet18), ("resnet50", resnet50)):
        model = build(factory, what=f"{name}()")
        got, expected = count_parameters(model), TRANSFER_PARAMETERS[name]
        expect(got == expected, f"{name}() has {got:,} parameters, expected {expected:,} (torchvision's with a "
                                f"5-way fc): check the blocks per stage and the channels")
        fundus.load_pretrained(model, getattr(torchvision.models, name)().state_dict())
        expect_shape(f"{name}() logits", model.eval()(torch.randn(2, 3, 64, 64)), (2, 5),
                     "adaptive average pool to 1x1, then fc to num_classes=5")
    passed("resnet18 and resnet50: 5 logits, torchvision's parameter counts, torchvision's weights load")


def check_metrics(confusion_matrix, balanced_accuracy) -> None:
    """The confusion matrix is 5 x 5 with rows summing to 1; balanced accuracy lies in [0, 1]."""
    labels, predictions = np.array([0, 0, 1, 2, 3, 4]), np.array([0, 1, 1, 2, 0, 4])
    matrix = np.asarray(build(confusion_matrix, labels, predictions, what="confusion_matrix"), dtype=float)
    expect(matrix.shape == (5, 5), f"the matrix is {matrix.shape}, expected (5, 5): one row per true class")
    expect(np.allclose(matrix.sum(axis=1), 1), f"row sums {matrix.sum(axis=1)}, expected 1 each: divide each row "
                                               f"by the number of images of that true class")
    score = float(build(balanced_accuracy, labels, predictions, what="balanced_accuracy"))
    expect(0 <= score <= 1, f"balanced accuracy {score}, expected a fraction in [0, 1]")
    passed(f"confusion_matrix rows sum to 1; balanced accuracy {score:.3f} on the check's example")
