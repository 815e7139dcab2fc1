"""Cost of handout 003's augmentation on a training batch: labkit.augment against per-image torchvision.

    python benchmarks/augmentation.py [--batch 128] [--repeats 20]

Times, on the CPU and in one run, three ways of augmenting a (B, 3, 32, 32) uint8 batch:
labkit.augment.rotate_affine_jitter (the whole batch at once), torchvision.transforms.v2's
RandomHorizontalFlip + RandomRotation + RandomAffine + ColorJitter called once per image on uint8
tensors, and, for scale, the engine's crop + flip. Prints milliseconds per batch and the ratios.
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from torchvision.transforms import v2

from labkit import augment, engine, fixtures


def per_image_v2() -> v2.Compose:
    """Handout 003's pipeline as torchvision v2 transforms on a (3, H, W) uint8 tensor."""
    return v2.Compose([v2.RandomHorizontalFlip(), v2.RandomRotation(10),
                       v2.RandomAffine(0, shear=10, scale=(0.8, 1.2)),
                       v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2)])


def milliseconds(step, repeats: int) -> float:
    """Mean wall-clock milliseconds of step() over `repeats` calls, after one warm-up call."""
    step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return 1000 * (time.perf_counter() - start) / repeats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    pixels, _ = fixtures.make_images(args.batch, 0)
    batch = torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous()
    generator = torch.Generator().manual_seed(0)
    pipeline = per_image_v2()
    times = {
        "labkit.augment (batch)": milliseconds(lambda: augment.rotate_affine_jitter(batch, generator), args.repeats),
        "torchvision v2 (per image)": milliseconds(lambda: torch.stack([pipeline(image) for image in batch]),
                                                   args.repeats),
        "engine crop + flip (batch)": milliseconds(lambda: engine.random_crop_flip(batch, generator), args.repeats),
    }
    print(f"hardware: {engine.describe_hardware(torch.device('cpu'))}; torch {torch.__version__}; "
          f"batch {args.batch}, {args.repeats} repeats; load average {os.getloadavg()[0]:.2f}")
    base = times["labkit.augment (batch)"]
    for name, ms in times.items():
        print(f"{name:28s} {ms:8.2f} ms/batch  {ms / base:6.2f}x labkit.augment")


if __name__ == "__main__":
    main()
