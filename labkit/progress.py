"""Progress bars where someone watches (a terminal, Jupyter), nothing where output goes to a file."""

from __future__ import annotations

import os
import sys
from typing import Iterable, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def interactive() -> bool:
    """True in Jupyter (an IPython kernel) or when stderr is a terminal; LABKIT_PROGRESS=0/1 overrides."""
    forced = os.environ.get("LABKIT_PROGRESS")
    if forced in ("0", "1"):
        return forced == "1"
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def bar(iterable: Iterable[T], **options) -> tqdm:
    """tqdm over `iterable`, disabled off a terminal so redirected logs keep one line per epoch."""
    return tqdm(iterable, disable=not interactive(), **options)
