"""Handout 003's batch augmentation: each image as torchvision's functional ops would make it, drawn per image."""

import pytest
import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from labkit import augment, fixtures

ADJUST = (TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation)


def images(n: int = 16, seed: int = 0) -> torch.Tensor:
    """(n, 3, 32, 32) uint8 images with structure (the CIFAR fixture's), not noise."""
    pixels, _ = fixtures.make_images(n, seed)
    return torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous()


def torchvision_one(image: torch.Tensor, params: augment.Draw, i: int) -> torch.Tensor:
    """Image i through torchvision's functional ops with draw i's parameters: (3, H, W) uint8."""
    x = TF.hflip(image) if params.flip[i] else image
    x = TF.rotate(x, float(params.angle[i]), InterpolationMode.NEAREST, fill=[0.0] * 3)
    x = TF.affine(x, angle=0.0, translate=[0, 0], scale=float(params.scale[i]), shear=[float(params.shear[i]), 0.0],
                  interpolation=InterpolationMode.NEAREST, fill=[0.0] * 3)
    for which in params.order[i].tolist():
        x = ADJUST[which](x, float(params.factors[i, which]))
    return x


def test_each_image_is_what_torchvision_makes_of_it():
    """Does the batch op give every image what torchvision's rotate, affine and jitter give it with the same draw?"""
    batch = images(64)
    params = augment.draw(len(batch), torch.Generator().manual_seed(3))
    got = augment.apply(batch, params)
    assert got.dtype == torch.uint8 and got.shape == batch.shape
    for i in range(len(batch)):
        expected = torchvision_one(batch[i], params, i)
        differing = (got[i].int() - expected.int()).abs()  # float rounding of the jitter's blends: a level or two
        assert differing.max() <= 2 and (differing > 0).float().mean() < 0.01, (i, differing.max(), differing.float().mean())


def test_draws_cover_the_handout_ranges_per_image():
    """Are angles, shears, scales and jitter factors drawn per image within the handout's ranges, in every order?"""
    params = augment.draw(4000, torch.Generator().manual_seed(0))
    assert params.angle.abs().max() <= 10 and params.angle.min() < -9.5 and params.angle.max() > 9.5
    assert params.shear.abs().max() <= 10 and params.scale.min() >= 0.8 and params.scale.max() <= 1.2
    assert params.factors.min() >= 0.8 and params.factors.max() <= 1.2
    assert 0.45 < params.flip.float().mean() < 0.55
    assert len({tuple(row) for row in params.order.tolist()}) == 6
    assert (params.order.sort(dim=1).values == torch.arange(3)).all()


def test_identity_draw_gives_the_images_back():
    """With no flip, no rotation, no shear, scale 1 and factors 1, is every image returned unchanged?"""
    batch = images(8)
    n = len(batch)
    params = augment.Draw(flip=torch.zeros(n, dtype=torch.bool), angle=torch.zeros(n, dtype=torch.float64),
                          shear=torch.zeros(n, dtype=torch.float64), scale=torch.ones(n, dtype=torch.float64),
                          factors=torch.ones(n, 3, dtype=torch.float64), order=torch.arange(3).repeat(n, 1))
    assert torch.equal(augment.apply(batch, params), batch)


@pytest.mark.parametrize("seed", [0, 1])
def test_random_batches_differ_per_image_and_keep_black_black(seed):
    """Do two images alike come out differently, and does a black image stay black (fill 0, jitter of 0)?"""
    batch = images(1).repeat(2, 1, 1, 1)
    out = augment.rotate_affine_jitter(batch, torch.Generator().manual_seed(seed))
    assert not torch.equal(out[0], out[1])
    black = torch.zeros(4, 3, 32, 32, dtype=torch.uint8)
    assert torch.equal(augment.rotate_affine_jitter(black, torch.Generator().manual_seed(seed)), black)
