"""Shared fixtures: the kit's course, and tiny CIFAR-10 copies in the real on-disk formats."""

import sys
from pathlib import Path

import pytest
import torch

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


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models on one thread: two OpenMP threads on a busy 2-core machine run them many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
