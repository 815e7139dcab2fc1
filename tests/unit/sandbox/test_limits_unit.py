"""The grading kernel's sandbox: which protections are reported, and the kernel spec that applies them."""

import json
import os
import subprocess
import sys
from dataclasses import asdict

import pytest

from autograder.sandbox.isolation import Isolation
from autograder.sandbox.limits import Limits
from autograder.sandbox.session import CLIENT, KERNEL_NAME, protections, sandbox, write_kernel_spec

LIMITS = Limits(cell_timeout=120, notebook_timeout=900, cpu_time=900, memory=4096, processes=64, output=256)
RLIMITS = "limits: CPU time, data memory, file size and core dumps per kernel process (setrlimit): active"


@pytest.fixture
def as_uid(monkeypatch):
    """Run `protections` as if this process had the given effective uid."""
    return lambda uid: monkeypatch.setattr(os, "geteuid", lambda: uid)


def test_isolated_with_a_user_and_a_cgroup(as_uid):
    """Are all five protections reported active when isolated, as nobody, with a pids cgroup?"""
    as_uid(0)
    assert protections(cgroup=True, isolated=True, user=True) == [
        "user: the kernel runs as uid 65534 (nobody), not root: active",
        RLIMITS,
        "processes: pids cgroup per submission: active",
        "isolation: own mount, network and PID namespaces; file system read-only; course files, source "
        "notebooks, gradebook and other submissions hidden; private /tmp; no network; no capabilities: active",
        "leftover processes: the PID namespace ends with the kernel, and the cgroup is emptied",
    ]


def test_isolated_as_root_without_a_cgroup(as_uid):
    """Does an isolated kernel without its user or a cgroup say why it runs as root and that no cgroup exists?"""
    as_uid(0)
    lines = protections(cgroup=False, isolated=True, user=False, why_root="nobody cannot read /opt/venv")
    assert lines[0] == "user: NOT active (nobody cannot read /opt/venv): the kernel runs as root without capabilities"
    assert lines[2] == "processes: no writable pids cgroup here"
    assert lines[4] == "leftover processes: the PID namespace ends with the kernel"
    assert protections(cgroup=False, isolated=True)[0].startswith("user: NOT active (unavailable)")


def test_not_isolated_as_root_without_a_cgroup(as_uid):
    """Does a root kernel without isolation or cgroup say RLIMIT_NPROC is ignored and isolation is not active?"""
    as_uid(0)
    assert protections(cgroup=False, isolated=False, why_not="no user namespaces") == [
        RLIMITS,
        "processes: per-user RLIMIT_NPROC only (ignored for root): no writable pids cgroup here",
        "leftover processes: the submission's process group is killed after it (a child that calls setsid escapes)",
        "isolation: NOT active (no user namespaces): the grading kernel runs as root and can reach the course "
        "files; see the README",
    ]


def test_not_isolated_as_a_user_with_a_cgroup(as_uid):
    """Does a non-root kernel with a cgroup name its uid and the cgroup, without the root caveat?"""
    as_uid(1000)
    lines = protections(cgroup=True, isolated=False)
    assert lines[1:3] == ["processes: pids cgroup per submission: active",
                          "leftover processes: killed through the cgroup after each submission"]
    assert lines[3] == ("isolation: NOT active (unavailable): the grading kernel runs as uid 1000 and can reach "
                        "the course files; see the README")
    assert "(ignored for root)" not in protections(cgroup=False, isolated=False)[1]


def read_spec(folder):
    return json.loads((folder / "kernels" / KERNEL_NAME / "kernel.json").read_text(encoding="utf-8"))


def test_the_kernel_spec_starts_the_kernel_through_the_zygote_client(tmp_path):
    """Does kernel.json run the client with the zygote's socket and the sandbox, then `ipykernel_launcher -f`?"""
    box = sandbox(LIMITS, tmp_path / "cgroup", None)
    assert write_kernel_spec(tmp_path, box, "/tmp/zygote/socket", threads=3) == tmp_path
    spec = read_spec(tmp_path)
    argv = spec["argv"]
    assert argv[:5] == [sys.executable, "-I", "-S", CLIENT, "/tmp/zygote/socket"]
    assert json.loads(argv[5]) == {"limits": asdict(LIMITS), "cgroup": str(tmp_path / "cgroup"), "plan": None}
    assert argv[6:] == ["--", "ipykernel_launcher", "-f", "{connection_file}"]
    assert spec["env"] == {"OMP_NUM_THREADS": "3", "MKL_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "3"}


def test_an_isolated_kernel_spec_carries_the_plan_and_a_private_home(tmp_path):
    """Does an isolated kernel's spec pass the isolation plan, no cgroup, and HOME and TMPDIR in /tmp?"""
    isolation = Isolation(hide=["/course"], kernel_dir=str(tmp_path), user=[65534, 65534])
    spec = read_spec(write_kernel_spec(tmp_path, sandbox(LIMITS, None, isolation), "/tmp/z", threads=1))
    box = json.loads(spec["argv"][5])
    assert box["cgroup"] == "" and Isolation(**box["plan"]) == isolation
    assert spec["argv"][-2:] == ["-f", "{connection_file}"]
    assert spec["env"] == {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                           "HOME": "/tmp", "TMPDIR": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib"}


@pytest.mark.parametrize("how, expected", [("os._exit(7)", 7), ("os.kill(os.getpid(), signal.SIGTERM)", -15)],
                         ids=["exit code", "signal"])
def test_the_isolating_parent_ends_as_its_child_did(how, expected):
    """Does the isolating parent (it waits for the sandboxed program) end with its child's exit code, or die of its
    child's signal, so that the grader sees how the kernel died?"""
    code = ("import os, signal\nfrom autograder.sandbox.client import end_like\nchild = os.fork()\n"
            f"if child == 0:\n    {how}\n_, status = os.waitpid(child, 0)\nend_like(status)\n")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == expected
