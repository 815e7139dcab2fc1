"""Training throughput of labkit.engine against a handout-style loop on the same CIFAR ResNets.

    python benchmarks/engine_vs_handout.py [--steps N] [--depths 20 32 44] [--data DIR]

Both loops train the same model (same initial weights) for --warmup untimed and then --steps
timed optimizer steps of batch 128, and the script prints images/second and their ratio per
depth. The handout loop is the labs' main.py: torchvision PIL transforms per sample through a
DataLoader, fp32, NCHW, SGD. Ratios measured in one run are the result; absolute numbers
depend on the machine and on whatever else runs on it.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from labkit import cifar10, engine, fixtures

BATCH = 128            # images per optimizer step, as in the handouts
LR = 0.1               # SGD learning rate, momentum 0.9, weight decay 1e-4 (He et al. 2016)
RESNET20_PARAMETERS = 269_722


def model_source() -> tuple[object, str]:
    """A `resnet(depth)` factory (lab 2's reference, written by `course build`) and its name."""
    from autograder.checks import golden

    return golden.load_reference("lab2").resnet, "autograder lab2 reference (option A)"


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters of `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ---------------------------------------------------------------------------------------------
# The two loops


def time_engine(model: nn.Module, split: cifar10.Split, steps: int, warmup: int, precision: str,
                device: torch.device) -> tuple[float, str]:
    """Images/second of labkit.engine.train over `steps` steps (after `warmup` untimed ones)."""
    def run(n: int) -> tuple[float, str]:
        config = engine.TrainConfig(epochs=1, batch_size=BATCH, lr=LR, momentum=0.9, weight_decay=1e-4,
                                    precision=precision, max_steps_per_epoch=n, verbose=False)
        start = time.perf_counter()
        result = engine.train(model, split, None, None, config, cifar10.HANDOUT_MEAN,
                              cifar10.HANDOUT_STD, device)
        return time.perf_counter() - start, result.precision
    run(warmup)
    seconds, used = run(steps)
    return steps * BATCH / seconds, used


def handout_steps(model: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer,
                  device: torch.device, steps: int) -> None:
    """main.py's inner loop for `steps` batches: to(device), forward, loss, backward, step, item()."""
    criterion = nn.CrossEntropyLoss()
    done = 0
    while done < steps:
        for images, labels in loader:
            images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            loss = criterion(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()
            done += 1
            if done == steps:
                return


def time_handout(model: nn.Module, split: cifar10.Split, steps: int, warmup: int, workers: int,
                 device: torch.device) -> float:
    """Images/second of the handout loop (PIL transforms, DataLoader, fp32, NCHW, SGD)."""
    dataset = cifar10.CIFAR10(split, cifar10.handout_transform(train=True))
    loader = DataLoader(dataset, BATCH, shuffle=True, num_workers=workers, drop_last=True,
                        pin_memory=device.type == "cuda")
    model.to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, weight_decay=1e-4)
    handout_steps(model, loader, optimizer, device, warmup)
    start = time.perf_counter()
    handout_steps(model, loader, optimizer, device, steps)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * BATCH / (time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------
# Report


def load_average() -> str:
    """The 1-minute load average (other processes skew CPU timings)."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "n/a"


def training_data(data: Path | None, steps: int, warmup: int) -> tuple[cifar10.Split, str]:
    """CIFAR-10's training split from `data`, or a generated fixture big enough for one pass."""
    if data is not None:
        split = cifar10.load(data, train=True)
        return split, f"CIFAR-10 training split from {data} ({len(split):,} images)"
    n = max(2560, (max(steps, warmup) + 1) * BATCH)
    images, labels = fixtures.make_images(n, seed=0)
    return cifar10.Split(images, labels), f"generated fixture of {n:,} images (timings only, not accuracy)"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed optimizer steps per loop (batch 128)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps before timing")
    parser.add_argument("--depths", type=int, nargs="+", default=[20, 32, 44], help="ResNet depths 6n+2")
    parser.add_argument("--data", type=Path, default=None, help="CIFAR-10 root (torchvision layout)")
    parser.add_argument("--precision", default="auto", choices=engine.PRECISIONS, help="engine precision")
    parser.add_argument("--workers", type=int, default=0, help="handout DataLoader workers")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = engine.default_device()
    split, data_line = training_data(args.data, args.steps, args.warmup)
    resnet, source = model_source()
    assert parameter_count(resnet(20)) == RESNET20_PARAMETERS, "ResNet-20 must have 269,722 parameters"
    print(f"engine vs handout loop: training images/second, batch {BATCH}, "
          f"{args.warmup} warm-up + {args.steps} timed steps per loop")
    print(f"hardware: {engine.describe_hardware(device)}; torch {torch.__version__}; device {device}; "
          f"load average {load_average()}")
    print(f"data:     {data_line}")
    print(f"models:   {source}")
    print(f"handout:  torchvision PIL transforms per sample, DataLoader (num_workers={args.workers}), "
          f"fp32, NCHW, SGD")
    rows = []
    for depth in args.depths:
        torch.manual_seed(depth)
        model = resnet(depth)
        initial = {k: v.clone() for k, v in model.state_dict().items()}
        handout = time_handout(model, split, args.steps, args.warmup, args.workers, device)
        model.load_state_dict(initial)
        fast, precision = time_engine(model, split, args.steps, args.warmup, args.precision, device)
        rows.append((depth, parameter_count(model), handout, fast))
    print(f"engine:   {precision} ({args.precision}), channels_last, uint8 data on {device}, "
          f"batch augmentation on tensors")
    print(f"{'depth':>5}  {'params':>9}  {'handout img/s':>13}  {'engine img/s':>12}  {'ratio':>6}")
    for depth, params, handout, fast in rows:
        print(f"{depth:>5}  {params:>9,}  {handout:>13.1f}  {fast:>12.1f}  {fast / handout:>5.2f}x")
    print(f"load average at the end {load_average()}")


if __name__ == "__main__":
    main()
