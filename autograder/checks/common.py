"""Helpers shared by every lab's hidden tests: shapes, parameter counts, goldens, the overfit run."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from autograder.checks import golden
from labkit.device import default_device

OVERFIT_BATCH, OVERFIT_STEPS, OVERFIT_LOSS = 16, 25, 0.05


class Parts:
    """A namespace of named parts, like a reference module."""

    def __init__(self, **parts):
        self.__dict__.update(parts)


def golden_outputs(cases: dict, parts) -> dict[str, torch.Tensor]:
    """Each golden case (name -> (part factory, input shape)) computed on the reference `parts`."""
    return {case: golden.golden_output(factory(parts), case, shape) for case, (factory, shape) in cases.items()}


def count(module: nn.Module) -> int:
    """Number of parameters (scalars) of `module`."""
    return sum(p.numel() for p in module.parameters())


def shape_of(module: nn.Module, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Output shape of `module` in eval mode on a random float32 input of `shape`."""
    with torch.no_grad():
        return tuple(module.eval()(torch.randn(shape)).shape)


def expect_shape(what: str, got: tuple, expected: tuple, hint: str) -> None:
    assert tuple(got) == tuple(expected), f"{what}: output shape {tuple(got)}, expected {tuple(expected)}. Look at: {hint}"


def expect_golden(goldens: dict[str, torch.Tensor], case: str, module: nn.Module, shape: tuple[int, ...], hint: str) -> None:
    """Fail unless `module` (fixed weights, fixed input of `case`) reproduces the golden output."""
    expected = goldens[case]
    got = golden.golden_output(module, case, shape)
    assert got.shape == expected.shape, f"{case}: output shape {tuple(got.shape)}, expected {tuple(expected.shape)}. {hint}"
    error = golden.relative_error(got, expected)
    assert error <= golden.TOLERANCE, (
        f"{case}: with fixed weights and input, the output differs from the reference by {error:.3g} "
        f"(tolerance {golden.TOLERANCE:g}). Shapes are right, so the computation differs. {hint}")


def gradients_reach_every_parameter(model: nn.Module, shape: tuple[int, ...]) -> None:
    """Fail unless one backward pass from a random input of `shape` reaches every parameter."""
    torch.manual_seed(0)
    model.train()(torch.randn(shape)).sum().backward()
    missing = [name for name, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, (
        f"{len(missing)} parameter tensors get no gradient, e.g. {missing[:3]}: "
        f"every layer you create must be used in forward (a projection nobody calls never trains)")


def overfits_one_batch(factory: Callable[[], nn.Module], lr: float = 1e-3, classes: int = 10) -> None:
    """Fail unless the model from `factory` drives Adam's loss on one fixed batch below OVERFIT_LOSS.

    Bounded by steps, not seconds; runs on the GPU when there is one.
    """
    device = default_device()
    torch.manual_seed(0)
    model = factory().to(device).train()
    images = torch.randn(OVERFIT_BATCH, 3, 32, 32, device=device)
    labels = torch.arange(OVERFIT_BATCH, device=device) % classes
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(OVERFIT_STEPS):
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if losses[-1] < OVERFIT_LOSS:
            return
    raise AssertionError(
        f"after {len(losses)} Adam steps (lr {lr:g}) on one batch of {OVERFIT_BATCH} images the loss went "
        f"{losses[0]:.3f} -> {losses[-1]:.3f}, expected below {OVERFIT_LOSS}: something stops the network "
        f"from learning (a layer that zeroes its input, a detached tensor, a missing ReLU?)")
