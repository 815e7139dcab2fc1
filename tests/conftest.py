"""Shared fixtures: the kit's course, and tiny CIFAR-10 copies in the real on-disk formats."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from labkit import config, fixtures  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def kit():
    return config.load(ROOT)


@pytest.fixture(scope="session")
def cifar_batches(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar-batches")
    fixtures.write_cifar10_batches(root, n_train=200, n_test=100)
    return root
