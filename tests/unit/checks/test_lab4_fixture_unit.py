"""Lab 4's checks write a small fundus data set per grading kernel; a kernel killed outright does not leave it for
good (plain `nbgrader autograde` ends its kernels so)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.core import claims, process

WRITER = ("import sys; from autograder.checks import lab4\n"
          "print(lab4.fixture_root().parent, flush=True); sys.stdin.read()")


def kernel_with_a_fixture() -> subprocess.Popen:
    """A process that writes lab 4's fixture (as a grading kernel does), prints its folder and waits."""
    return subprocess.Popen([sys.executable, "-c", WRITER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=process.tool_env())


def folder_of(kernel: subprocess.Popen) -> Path:
    """The fixture folder `kernel` wrote, dated back past the sweep's grace."""
    folder = Path(kernel.stdout.readline().strip())
    assert folder.is_dir(), f"no fixture folder from the kernel (exit {kernel.poll()})"
    then = time.time() - claims.GRACE - 5  # as if written a while ago: only its holder keeps it
    os.utime(folder, (then, then))
    return folder


@pytest.mark.slow  # three processes import torch
def test_a_killed_kernels_fixture_is_removed_by_the_next_and_a_live_ones_kept():
    """After one kernel is SIGKILLed and another still runs, does the next kernel's fixture remove the dead one's
    folder and keep the live one's, and does a kernel that ends normally remove its own?"""
    live, killed = kernel_with_a_fixture(), kernel_with_a_fixture()
    try:
        live_folder, killed_folder = folder_of(live), folder_of(killed)
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        assert killed_folder.is_dir()  # nothing in a killed process cleans up
        following = kernel_with_a_fixture()
        following_folder = folder_of(following)
        assert not killed_folder.exists() and live_folder.is_dir() and following_folder.is_dir()
        for kernel in (live, following):
            kernel.stdin.close()
            assert kernel.wait(timeout=60) == 0
        assert not live_folder.exists() and not following_folder.exists()
    finally:
        for kernel in (live, killed):
            kernel.kill()
