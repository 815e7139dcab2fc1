"""Student-facing part of the course kit: set-up, data, training and visible checks.

`Lab`, `setup_lab` and `selfcheck` load on first use, so tools that only read the course
configuration (`labkit.config`: nbgrader's config file, the `course` command) do not import torch.
"""

import importlib

__all__ = ["Lab", "selfcheck", "setup_lab"]
_HOMES = {"Lab": "labkit.setup", "setup_lab": "labkit.setup", "selfcheck": "labkit.self_check"}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'labkit' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
