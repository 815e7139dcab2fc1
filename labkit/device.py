"""Choosing the device: the one place that decides between a CUDA GPU and the CPU."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import sys
from typing import Callable

import torch


class DeviceUnavailable(ValueError):
    """A CUDA device was asked for where there is none."""


def default_device() -> torch.device:
    """The first GPU when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def pick_device(requested: str | None = None) -> torch.device:
    """`requested` ("cpu", "cuda", "cuda:1"; "auto" or None: $LABKIT_DEVICE, else default_device())."""
    name = requested if requested not in (None, "auto") else os.environ.get("LABKIT_DEVICE")
    if not name or name == "auto":
        return default_device()
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceUnavailable(f"device {name!r}: no CUDA GPU is available here (use 'auto' or 'cpu')")
    return torch.device(name)


def meta_first(check: Callable) -> Callable:
    """`check` run with every tensor it makes on the meta device (shapes without values: no weight initialised and
    nothing computed, for checks of shapes, structure and parameter counts; the golden checks compute on the CPU
    what they fill with fixed weights), its printing held back until it passes; run again as written when it fails
    there, so that a failure, its message and printing included, is always the one the CPU gives."""

    @functools.wraps(check)
    def run(*args, **kwargs):
        held = io.StringIO()
        try:
            with torch.device("meta"), contextlib.redirect_stdout(held):
                result = check(*args, **kwargs)
        except Exception:  # an op without a meta kernel, a value read (.item()), or a real mistake
            return check(*args, **kwargs)
        sys.stdout.write(held.getvalue())
        return result

    return run
