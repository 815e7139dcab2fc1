"""Lab 4's training throughput: labkit.fundus on the engine against the per-image DataLoader loop it replaced.

    python benchmarks/fundus.py [--data DIR] [--size 128] [--steps 40] [--arch resnet18]

Both loops train the same model (same initial weights) with the handout's SGD (lr 1e-3, momentum 0.9,
weight decay 5e-4) and batch 8 for --warmup untimed and --steps timed steps:

- **per image**: the lab's Dataset through a DataLoader (decoding and resizing every JPEG every
  epoch), fp32, NCHW: what `labkit.fundus.fit` ran before it moved to the engine;
- **engine**: the same Dataset decoded once into memory (`fundus.in_memory`, timed separately),
  then `labkit.engine.train` (channels_last, autocast where the hardware supports it).

Prints images/second for both and their ratio, and what decoding once costs. Without --data it
times a generated fixture (timings only). Ratios measured in one run are the result.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from autograder.checks import golden
from labkit import engine, fixtures, fundus

LR, MOMENTUM, WEIGHT_DECAY, BATCH = 1e-3, 0.9, 5e-4, 8


def per_image_steps(model: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer, steps: int) -> None:
    """The old loop for `steps` batches: decode per image, fp32 NCHW forward, loss, backward, step."""
    criterion = nn.CrossEntropyLoss()
    done = 0
    while done < steps:
        for images, labels in loader:
            loss = criterion(model(images), torch.as_tensor(labels))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()
            done += 1
            if done == steps:
                return


def time_per_image(model: nn.Module, dataset, steps: int, warmup: int) -> float:
    """Images/second of the per-image DataLoader loop."""
    loader = DataLoader(dataset, BATCH, shuffle=True, num_workers=0, drop_last=True)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    per_image_steps(model, loader, optimizer, warmup)
    start = time.perf_counter()
    per_image_steps(model, loader, optimizer, steps)
    return steps * BATCH / (time.perf_counter() - start)


def time_engine(model: nn.Module, split, steps: int, warmup: int) -> tuple[float, str]:
    """Images/second of labkit.engine on the decoded split, and the precision it chose."""
    def run(n: int) -> tuple[float, str]:
        config = fundus.train_config(1, LR, MOMENTUM, WEIGHT_DECAY, BATCH)
        config = engine.TrainConfig(**{**config.__dict__, "max_steps_per_epoch": n})
        start = time.perf_counter()
        result = engine.train(model, split, None, None, config, fundus.UNIT_MEAN, fundus.UNIT_STD,
                              torch.device("cpu"))
        return time.perf_counter() - start, result.precision
    run(warmup)
    seconds, precision = run(steps)
    return steps * BATCH / seconds, precision


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a folder holding images/ and train.csv, or a data root with fundus/")
    parser.add_argument("--size", type=int, default=128, help="image size (default 128)")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--arch", default="resnet18", choices=("resnet18", "resnet50"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.data if args.data is not None else fixtures.write_fundus(Path(scratch), 200, 10, args.size)
        folder = folder if (Path(folder) / fundus.IMAGES).is_dir() else fundus.data_folder(folder)
        reference = golden.load_reference("lab4")
        dataset = reference.RetinopathyDataset(folder, "train", args.size)
        start = time.perf_counter()
        split = fundus.in_memory(dataset)
        decode = time.perf_counter() - start
        torch.manual_seed(0)
        initial = getattr(reference, args.arch)().state_dict()
        model = getattr(reference, args.arch)()
        model.load_state_dict(initial)
        per_image = time_per_image(model, dataset, args.steps, args.warmup)
        model.load_state_dict(initial)
        fast, precision = time_engine(model, split, args.steps, args.warmup)
    print(f"lab 4 training: images/second, {args.arch}, {args.size} x {args.size}, batch {BATCH}, "
          f"{args.warmup} warm-up + {args.steps} timed steps per loop")
    print(f"hardware: {engine.describe_hardware(torch.device('cpu'))}; torch {torch.__version__}; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"data:     {len(dataset):,} training images from {folder}; decoding them once took {decode:.1f} s")
    print(f"per image: {per_image:8.1f} img/s  (DataLoader, fp32, NCHW)")
    print(f"engine:    {fast:8.1f} img/s  ({precision}, channels_last, decoded once)   ratio {fast / per_image:.2f}x")


if __name__ == "__main__":
    main()
