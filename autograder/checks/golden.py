"""Goldens: outputs of reference parts for weights and inputs fixed by name, and their comparison."""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import zlib
from pathlib import Path
from types import ModuleType

import torch
from torch import nn

from autograder.core.layout import GOLDENS_DIR

TOLERANCE = 1e-6  # max |student - reference| / (1 + |reference|), float64 on the CPU
# How far a fresh build may be from the committed goldens: float64 kernels differ between CPUs (AVX2,
# AVX-512) in the last bits (~1e-15 relative), an edited reference part by far more than TOLERANCE.
STALE_TOLERANCE = 1e-10


def _generator(name: str) -> torch.Generator:
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


def fixed_value(name: str, like: torch.Tensor) -> torch.Tensor:
    """A float64 tensor shaped like `like` whose values depend only on the state-dict key `name` (drawn in float32:
    four times faster than float64 draws, and a network's weights are millions of them)."""
    g = _generator(name)
    shape = like.shape
    if name.endswith("running_var") or (name.endswith("weight") and like.dim() == 1):
        return torch.rand(shape, generator=g).add_(0.5).double()
    if name.endswith("running_mean") or name.endswith("bias"):
        return torch.randn(shape, generator=g).mul_(0.1).double()
    fan_in = max(1, like[0].numel()) if like.dim() > 1 else 1
    return torch.randn(shape, generator=g).mul_((1.0 / fan_in) ** 0.5).double()


def fix_weights(module: nn.Module) -> nn.Module:
    """Cast `module` to float64 on the CPU, fill every float parameter and buffer by name, switch to eval. A module
    built on the meta device gets its storage here (integer buffers, BatchNorm's batch count, zero)."""
    module = module.double().eval()
    if any(tensor.is_meta for tensor in itertools.chain(module.parameters(), module.buffers())):
        module.to_empty(device="cpu")
        for buffer in module.buffers():
            if not buffer.is_floating_point():
                buffer.zero_()
    module.cpu()
    state = {name: fixed_value(name, value) if value.is_floating_point() else value
             for name, value in module.state_dict().items()}
    module.load_state_dict(state)
    return module


def fixed_input(case: str, shape: tuple[int, ...]) -> torch.Tensor:
    """The float64 input of golden case `case`: (N, C, H, W) values fixed by the case name."""
    return torch.randn(shape, generator=_generator(f"input:{case}"), dtype=torch.float64)


@torch.no_grad()
def golden_output(module: nn.Module, case: str, shape: tuple[int, ...]) -> torch.Tensor:
    """Output of `module` with fixed weights on the fixed input of `case`, on the CPU (also inside a check run on
    the meta device: see labkit.device.meta_first)."""
    with torch.device("cpu"):
        return fix_weights(module)(fixed_input(case, shape))


def relative_error(got: torch.Tensor, expected: torch.Tensor) -> float:
    """max |got - expected| / (1 + |expected|) over all elements."""
    return ((got - expected).abs() / (1 + expected.abs())).max().item()


def stale_cases(fresh: dict[str, torch.Tensor], committed: dict[str, torch.Tensor],
                tolerance: float = STALE_TOLERANCE) -> list[str]:
    """The cases where `committed` is not what a fresh build gave: missing, extra, reshaped or off by > tolerance."""
    problems = [f"{case}: not committed" for case in fresh.keys() - committed.keys()]
    problems += [f"{case}: no longer built" for case in committed.keys() - fresh.keys()]
    for case in sorted(fresh.keys() & committed.keys()):
        if fresh[case].shape != committed[case].shape:
            problems.append(f"{case}: shape {tuple(committed[case].shape)}, now {tuple(fresh[case].shape)}")
        elif relative_error(committed[case], fresh[case]) > tolerance:
            problems.append(f"{case}: off by {relative_error(committed[case], fresh[case]):.1e} (relative)")
    return sorted(problems)


def load_goldens(lab_id: str, folder: Path = GOLDENS_DIR) -> dict[str, torch.Tensor]:
    """The expected tensors of `lab_id`, written by `course build`."""
    path = folder / f"{lab_id}.pt"
    if not path.is_file():
        raise FileNotFoundError(f"goldens {path} are missing: run `course build` to write them")
    return torch.load(path, map_location="cpu", weights_only=True)


def load_reference(lab_id: str, folder: Path = GOLDENS_DIR) -> ModuleType:
    """The reference parts of `lab_id` (written by `course build`) as a module."""
    path = folder / f"{lab_id}_reference.py"
    if not path.is_file():
        raise FileNotFoundError(f"reference {path} is missing: run `course build` to write it")
    spec = importlib.util.spec_from_file_location(f"autograder_reference_{lab_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def reference_parts(student_part, reference: ModuleType, names: tuple[str, ...]):
    """While active, the globals `names` seen by `student_part` (a class or function) are the reference's.

    Used to grade one part (a stage of a network) on reference sub-parts (its blocks), so a
    mistake in a block costs the block's points and not the network's too.
    """
    namespace = getattr(student_part, "__globals__", None) or student_part.__init__.__globals__
    saved = {name: namespace[name] for name in names if name in namespace}
    namespace.update({name: getattr(reference, name) for name in names})
    try:
        yield
    finally:
        for name in names:
            namespace.pop(name, None)
        namespace.update(saved)
