"""Simulated saved models: a student's own lab 2 network with its last layer fitted to the CIFAR-10 stand-in
(labkit.fixtures) in seconds, saved as the notebook saves it."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from torch import nn

from labkit import cifar10, labs
from labkit.labs import lab2

DEPTH = 8  # the smallest CIFAR ResNet (6n + 2, n = 1): the quickest to fit and to grade
BUILDER = "resnet"  # the notebook's function that builds the network of a given depth
BATCH = 1000  # images per forward pass while fitting


def _normalised(images) -> torch.Tensor:
    """uint8 images (N, 32, 32, 3) as the notebooks feed them: (N, 3, 32, 32), normalised per channel."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (labs.CIFAR10_MEAN, labs.CIFAR10_STD))
    return (x - mean) / std


@torch.no_grad()
def fitted(resnet: Callable[[int], nn.Module], data_root: Path, depth: int = DEPTH, seed: int = 0) -> nn.Module:
    """resnet(depth) with its random convolutions kept and its last linear layer fitted (ridge regression on that
    layer's inputs) to the training split at `data_root`: on the stand-in's easy images it scores near 100 %."""
    torch.manual_seed(seed)
    model = resnet(depth).eval()
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    split = cifar10.load(data_root, train=True)
    seen = []
    hook = last.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    for start in range(0, len(split.labels), BATCH):
        model(_normalised(split.images[start:start + BATCH]))
    hook.remove()
    features = torch.cat(seen)
    inputs = torch.cat([features, torch.ones(len(features), 1)], 1)
    targets = nn.functional.one_hot(torch.from_numpy(split.labels), last.out_features).float()
    solution = torch.linalg.solve(inputs.T @ inputs + 1e-3 * torch.eye(inputs.shape[1]), inputs.T @ targets)
    last.weight.copy_(solution[:-1].T)
    last.bias.copy_(solution[-1])
    return model


def save(model: nn.Module, depth: int, folder: Path) -> Path:
    """Save `model` in `folder` as lab 2's notebook does: lab2.MODEL_FILE holding {"depth", "state_dict"}."""
    path = Path(folder) / lab2.MODEL_FILE
    torch.save({"depth": depth, "state_dict": model.state_dict()}, path)
    return path


def save_students_model(source_notebook, solutions: dict[str, str], data_root: Path, folder: Path) -> Path | None:
    """Fit and save the model of the student whose solution cells are `solutions` into `folder`, as if they had
    trained their own network; None when that network cannot be built or run (a student with nothing to save)."""
    from autograder.mistakes import definitions

    try:
        resnet = definitions(source_notebook, solutions)[BUILDER]
        return save(fitted(resnet, data_root), DEPTH, folder)
    except Exception:  # the student's network raises: nothing trains
        return None
