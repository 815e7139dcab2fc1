"""What a grader killed outright leaves is removed by the next one, and what a live grader uses never is."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.core import process
from autograder.core import claims
from autograder.sandbox import leftovers, session, zygote
from autograder.sandbox.limits import Limits, cgroups_available, create_cgroup, remove_cgroup

HOLDER = ("import sys; from autograder.core import claims\n"
          "with claims.claimed(sys.argv[1]):\n    print('held', flush=True); sys.stdin.read()")
LIMITS = Limits(cell_timeout=60, notebook_timeout=60, cpu_time=60, memory=512, processes=16, output=1)


def made_long_ago(path: Path) -> Path:
    """`path`, its time set to before the sweep's grace: as if its grader had been killed a while ago."""
    then = time.time() - claims.GRACE - 5
    os.utime(path, (then, then))
    return path


@pytest.fixture
def grader_holding():
    """Start another process that claims a path as a live grader does; yields the start function."""
    started = []

    def start(path: Path) -> subprocess.Popen:
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline() == "held\n"
        started.append(holder)
        return holder

    yield start
    for holder in started:
        holder.kill()
        holder.wait()


def test_a_killed_graders_folder_is_removed_and_a_live_ones_kept(tmp_path, grader_holding):
    """Does the sweep keep a folder a live process holds, remove it once that process is SIGKILLed, and keep an
    unclaimed folder made within the grace (the instant before its grader claims it)?"""
    live, young = tmp_path / "live", tmp_path / "young"
    live.mkdir(), young.mkdir()
    (live / "notebook.ipynb").write_text("{}")
    made_long_ago(live)
    grader = grader_holding(live)
    assert claims.sweep([live, young], leftovers.remove) == [] and live.is_dir() and young.is_dir()
    grader.kill()
    grader.wait()
    assert claims.sweep([live, young], leftovers.remove) == [live] and not live.exists() and young.is_dir()


def test_a_live_sessions_folder_and_cgroups_survive_a_sweep():
    """Does a sandbox session claim its folder and cgroups, so that a sweep keeps them however old they are?"""
    with session.Session("claims-test", LIMITS, None, 1, zygote="unused") as box:
        held = [made_long_ago(Path(path)) for path in (box.folder, box.cgroup, box.others_cgroup) if path]
        swept = leftovers.sweep()
        assert not set(held) & set(swept) and all(path.is_dir() for path in held)
    assert not any(path.exists() for path in held)


def test_a_live_zygotes_folder_survives_a_sweep():
    """Does a running zygote's socket folder survive a sweep however old it is?"""
    with zygote.running([], process.tool_env()) as socket:
        folder = made_long_ago(Path(socket).parent)
        assert folder not in leftovers.sweep() and folder.is_dir()


@pytest.mark.skipif(not cgroups_available(), reason="this process cannot make pids cgroups here")
def test_a_killed_graders_cgroup_is_removed_with_what_runs_in_it(grader_holding):
    """Does the sweep keep a cgroup a live process holds, and once that process is SIGKILLed, kill what still runs
    in the cgroup and remove it?"""
    cgroup = create_cgroup(f"claims-test-{os.getpid()}", 16)
    try:
        orphan = subprocess.Popen(["sleep", "60"])
        (cgroup / "cgroup.procs").write_text(str(orphan.pid))
        made_long_ago(cgroup)
        grader = grader_holding(cgroup)
        assert cgroup not in leftovers.sweep() and cgroup.is_dir() and orphan.poll() is None
        grader.send_signal(signal.SIGKILL)
        grader.wait()
        assert cgroup in leftovers.sweep()
        assert orphan.wait(timeout=10) == -signal.SIGKILL and not cgroup.exists()
    finally:
        remove_cgroup(cgroup)
