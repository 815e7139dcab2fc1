"""Choosing the device: the one place that decides between a CUDA GPU and the CPU."""

from __future__ import annotations

import os

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
