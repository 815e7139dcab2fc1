"""Shared fixtures: the kit's course, the graded demo course, tiny CIFAR-10 copies, a headless chromium, a
PostgreSQL server, a Slurm cluster."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

import postgres_server  # noqa: E402
import slurm_cluster  # noqa: E402
from labkit import config, fixtures  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def kit():
    return config.load(ROOT)


@pytest.fixture(scope="session")
def graded(kit, tmp_path_factory):
    """The demo course, built, graded, with feedback, CSVs and reports: (course, outcomes by lab and
    student, printed lines). Runs the whole demo (minutes) once for the session."""
    from autograder import demo

    lines, target = [], tmp_path_factory.mktemp("demo") / "course"
    outcomes = demo.run(kit, target, echo=lines.append)
    return config.load(target), {lab: {o.student: o for o in graded} for lab, graded in outcomes.items()}, lines


@pytest.fixture(scope="session")
def chromium():
    """Path of Debian's chromium, installed with apt-get on first use when it is not on PATH."""
    found = shutil.which("chromium")
    if found:
        return found
    if not shutil.which("apt-get") or os.geteuid() != 0:
        pytest.skip("chromium is not on PATH and cannot be installed here (needs root and apt-get): "
                    "install Debian's `chromium` package to run the browser checks")
    result = subprocess.run("apt-get update && apt-get install -y --no-install-recommends chromium", shell=True,
                            capture_output=True, text=True, timeout=900,
                            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    found = shutil.which("chromium")
    if result.returncode != 0 or not found:
        pytest.fail(f"`apt-get install chromium` failed (exit {result.returncode}); the browser checks need it:\n"
                    f"{(result.stdout + result.stderr)[-3000:]}")
    return found


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


@pytest.fixture(scope="session")
def postgres():
    """A database URL on a real PostgreSQL server started for the session (Debian's package, installed
    with apt-get when missing), listening on a Unix socket only."""
    try:
        programs = postgres_server.install()
    except postgres_server.Unavailable as why:
        pytest.skip(str(why))
    with postgres_server.running(programs) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_database(postgres):
    """make(name) -> the URL of a new, empty database `name` on the session's PostgreSQL server."""
    return lambda name: postgres_server.create_database(postgres, name)


@pytest.fixture(scope="session")
def slurm():
    """A real one-node Slurm cluster started for the session (Debian's slurmctld, slurmd, munge and slurmdbd on a
    MariaDB, installed with apt-get when missing), all in a temporary folder, SLURM_CONF exported while it runs."""
    try:
        slurm_cluster.install()
    except slurm_cluster.Unavailable as why:
        pytest.skip(f"no Slurm cluster here: {why}")
    with slurm_cluster.running() as cluster, mock.patch.dict(os.environ, cluster.env):
        yield cluster


def pytest_collection_modifyitems(items):
    """Everything under tests/integration/ is end to end: marked slow, so `pytest -m "not slow"` skips it."""
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.slow)
