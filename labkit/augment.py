"""Handout 003's augmentation on whole batches: flip, rotation, shear + scale, colour jitter, drawn per image.

The per-image pipeline it replaces (torchvision, on PIL images)::

    RandomHorizontalFlip(), RandomRotation(10), RandomAffine(0, shear=10, scale=(0.8, 1.2)),
    ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2)

Here every image of a (B, 3, H, W) uint8 batch gets its own draw of the same parameters, and each
step computes what torchvision's functional ops compute on a uint8 tensor (nearest interpolation,
black fill, the jitter's three adjustments in a random order per image), on the batch's device.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

ROTATION_DEGREES = 10.0          # RandomRotation(10): angle uniform in [-10, 10] degrees
SHEAR_DEGREES = 10.0             # RandomAffine(0, shear=10): x shear uniform in [-10, 10] degrees
SCALE_RANGE = (0.8, 1.2)         # RandomAffine(scale=(0.8, 1.2))
JITTER = 0.2                     # ColorJitter(0.2, 0.2, 0.2): factors uniform in [0.8, 1.2]
GRAY_WEIGHTS = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale
ADJUSTMENTS = ("brightness", "contrast", "saturation")


@dataclass(frozen=True)
class Draw:
    """The random parameters of one batch, one entry per image: (B,) tensors, order (B, 3) int64."""

    flip: torch.Tensor        # bool
    angle: torch.Tensor       # rotation in degrees
    shear: torch.Tensor       # x shear in degrees
    scale: torch.Tensor
    factors: torch.Tensor     # (B, 3): brightness, contrast, saturation factors
    order: torch.Tensor       # (B, 3): the order in which the three adjustments apply (a permutation of 0, 1, 2)

    def to(self, device: torch.device | str) -> "Draw":
        """The same draw on `device`."""
        return Draw(*(getattr(self, name).to(device) for name in self.__dataclass_fields__))


def draw(batch: int, generator: torch.Generator) -> Draw:
    """Random parameters for `batch` images from `generator` (a CPU generator)."""
    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(batch, *shape, generator=generator, dtype=torch.float64)

    return Draw(flip=torch.rand(batch, generator=generator) < 0.5,
                angle=uniform(-ROTATION_DEGREES, ROTATION_DEGREES),
                shear=uniform(-SHEAR_DEGREES, SHEAR_DEGREES),
                scale=uniform(*SCALE_RANGE),
                factors=uniform(1 - JITTER, 1 + JITTER, 3),
                order=torch.rand(batch, 3, generator=generator).argsort(dim=1))


# ---------------------------------------------------------------------------------------------
# Geometry: torchvision's inverse affine matrices and sampling grid, one matrix per image


def rotation_matrices(angle: torch.Tensor) -> torch.Tensor:
    """(B,) degrees -> (B, 2, 3) inverse matrices of F.rotate(img, angle) about the centre."""
    rot = torch.deg2rad(-angle)  # F.rotate passes -angle to _get_inverse_affine_matrix
    cos, sin, zero = rot.cos(), rot.sin(), torch.zeros_like(rot)
    return torch.stack([torch.stack([cos, sin, zero], 1), torch.stack([-sin, cos, zero], 1)], 1)


def shear_scale_matrices(shear: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """(B,) x-shear degrees, (B,) scales -> (B, 2, 3) inverse matrices of F.affine(angle=0, shear=[s, 0], scale)."""
    tan, one, zero = torch.tan(torch.deg2rad(shear)), torch.ones_like(shear), torch.zeros_like(shear)
    rows = torch.stack([torch.stack([one, tan, zero], 1), torch.stack([zero, one, zero], 1)], 1)
    return rows / scale[:, None, None]


def warp(images: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """Resample (B, C, H, W) float images through (B, 2, 3) inverse matrices: nearest, zeros outside.

    The grid is torchvision's `_gen_affine_grid` (pixel-centred coordinates, normalised after theta).
    """
    b, _, h, w = images.shape
    device = images.device
    theta = matrices.to(device=device, dtype=torch.float32)
    xs = torch.linspace(-w * 0.5 + 0.5, w * 0.5 - 0.5, steps=w, device=device)
    ys = torch.linspace(-h * 0.5 + 0.5, h * 0.5 - 0.5, steps=h, device=device)
    base = torch.stack([xs.expand(h, w), ys[:, None].expand(h, w), torch.ones(h, w, device=device)], -1)
    scale = torch.tensor([0.5 * w, 0.5 * h], device=device)
    grid = base.view(1, h * w, 3).expand(b, -1, -1).bmm(theta.transpose(1, 2) / scale)
    return F.grid_sample(images, grid.view(b, h, w, 2), mode="nearest", padding_mode="zeros", align_corners=False)


# ---------------------------------------------------------------------------------------------
# Colour: ColorJitter's adjustments on 0-255 values, truncated to integers as on uint8 tensors


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) 0-255 -> (B, 1, H, W) luma, truncated to integers (rgb_to_grayscale on uint8)."""
    r, g, b = x.unbind(1)
    return (GRAY_WEIGHTS[0] * r + GRAY_WEIGHTS[1] * g + GRAY_WEIGHTS[2] * b).unsqueeze(1).floor()


def blend(x: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """factor * x + (1 - factor) * other, clamped to [0, 255] and truncated: (B, 3, H, W); factor (B,)."""
    f = factor.view(-1, 1, 1, 1).to(x.dtype)
    return (f * x + (1 - f) * other).clamp(0, 255).floor()


def jitter(x: torch.Tensor, factors: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """ColorJitter on (B, 3, H, W) 0-255 floats: image i's adjustments in the order order[i].

    Each adjustment blends the image with something: black (brightness), its mean grey (contrast)
    or its greyscale copy (saturation); one blend per position serves every image at once.
    """
    for position in range(len(ADJUSTMENTS)):
        which = order[:, position]
        gray = grayscale(x)
        target = torch.where((which == 1).view(-1, 1, 1, 1), gray.mean(dim=(1, 2, 3), keepdim=True), gray)
        target = torch.where((which == 0).view(-1, 1, 1, 1), 0.0, target)
        x = blend(x, target, factors.gather(1, which[:, None]).squeeze(1))
    return x


# ---------------------------------------------------------------------------------------------
# The pipeline


def apply(images: torch.Tensor, params: Draw) -> torch.Tensor:
    """(B, 3, H, W) uint8 -> (B, 3, H, W) uint8: flip, rotate, shear + scale, jitter, each by `params`."""
    params = params.to(images.device)
    x = torch.where(params.flip.view(-1, 1, 1, 1), images.flip(3), images).float()
    x = warp(x, rotation_matrices(params.angle))
    x = warp(x, shear_scale_matrices(params.shear, params.scale))
    return jitter(x, params.factors, params.order).to(torch.uint8)


def rotate_affine_jitter(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Handout 003's training augmentation on a (B, 3, H, W) uint8 batch, drawn per image from `generator`."""
    return apply(images, draw(len(images), generator))

