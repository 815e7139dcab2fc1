"""Student-facing part of the course kit: set-up, data, training and visible checks."""

from labkit.self_check import selfcheck
from labkit.setup import Lab, setup_lab

__all__ = ["Lab", "selfcheck", "setup_lab"]
