"""The grading kernel's sandbox: a kernel spec that applies the limits and the isolation, and one
submission's session (cgroup, private folder, the command that runs any program the same way).

nbgrader starts the kernel from the kernel spec `course-sandbox` that `write_kernel_spec` writes; its
command is `python client.py SOCKET SANDBOX -- ipykernel_launcher -f FILE`: a fork of the grading run's
zygote (autograder/sandbox/zygote.py, torch and ipykernel already imported) joins the submission's cgroup,
sets the limits on itself, isolates itself, gives up its capabilities and user (`enter_sandbox`), and then
runs the kernel. Protections the platform lacks are skipped and named by `protections`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from autograder.core import claims, modules
from autograder.sandbox.isolation import SANDBOX_USER, Isolation, drop_privileges, isolate
from autograder.sandbox.limits import (Limits, apply_rlimits, create_cgroup, join_cgroup, peak_processes,
                                       remove_cgroup)

KERNEL_NAME = "course-sandbox"
CLIENT = str(Path(__file__).with_name("client.py"))

PROBE_LIMITS = Limits(cell_timeout=60, notebook_timeout=60, cpu_time=60, memory=4096, processes=64, output=256)


def user_available(zygote: str) -> tuple[bool, str]:
    """(whether a kernel can run as SANDBOX_USER in the sandbox, why not): a fork of the kernels' zygote `zygote`,
    isolated as that user, imports what a kernel imports (its Python, packages and the kit readable)."""
    folder = Path(tempfile.mkdtemp(prefix="course-user-probe-"))
    try:
        os.chown(folder, *SANDBOX_USER)
        box = sandbox(PROBE_LIMITS, None, Isolation([], str(folder), list(SANDBOX_USER)))
        done = subprocess.run(client_command(zygote, box, modules.PROBE, str(folder)), capture_output=True, text=True,
                              timeout=60)
        works = (folder / "ok").is_file()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return works, "" if works else (done.stderr.strip().splitlines() or ["unknown"])[-1]


# ---------------------------------------------------------------------------------------------
# The kernel spec


def protections(cgroup: bool, isolated: bool, why_not: str = "", user: bool = False, why_root: str = "") -> list[str]:
    """One line per protection: active, or missing and why."""
    root = os.geteuid() == 0
    if isolated:
        return [
            (f"user: the kernel runs as uid {SANDBOX_USER[0]} (nobody), not root: active" if user else
             f"user: NOT active ({why_root or 'unavailable'}): the kernel runs as root without capabilities"),
            "limits: CPU time, data memory, file size and core dumps per kernel process (setrlimit): active",
            "processes: " + ("pids cgroup per submission: active" if cgroup else "no writable pids cgroup here"),
            "isolation: own mount, network and PID namespaces; file system read-only; course files, source "
            "notebooks, gradebook and other submissions hidden; private /tmp; no network; no capabilities: active",
            "leftover processes: the PID namespace ends with the kernel" + (", and the cgroup is emptied" if cgroup else ""),
        ]
    return [
        "limits: CPU time, data memory, file size and core dumps per kernel process (setrlimit): active",
        "processes: " + ("pids cgroup per submission: active" if cgroup else
                         "per-user RLIMIT_NPROC only" + (" (ignored for root)" if root else "")
                         + ": no writable pids cgroup here"),
        "leftover processes: " + ("killed through the cgroup after each submission" if cgroup else
                                  "the submission's process group is killed after it (a child that calls setsid escapes)"),
        "isolation: NOT active (" + (why_not or "unavailable") + "): the grading kernel runs as "
        + ("root" if root else f"uid {os.geteuid()}") + " and can reach the course files; see the README",
    ]


def sandbox(limits: Limits, cgroup: Path | None, isolation: Isolation | None) -> dict:
    """What `enter_sandbox` is given: the limits, the cgroup to join ("" for none), the isolation plan (or None)."""
    return {"limits": asdict(limits), "cgroup": str(cgroup or ""), "plan": asdict(isolation) if isolation else None}


def client_command(zygote: str, box: dict, module: str, *args: str) -> list[str]:
    """Runs `python -m module args` in sandbox `box` as a fresh fork of the zygote listening at `zygote`."""
    return [sys.executable, "-I", "-S", CLIENT, zygote, json.dumps(box), "--", module, *args]


def write_kernel_spec(folder: Path, box: dict, zygote: str, threads: int) -> Path:
    """Write folder/kernels/course-sandbox/kernel.json for the sandbox `box`; return `folder` (for JUPYTER_PATH)."""
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    argv = client_command(zygote, box, "ipykernel_launcher", "-f", "{connection_file}")
    env = {name: str(threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    if box["plan"]:
        env.update(HOME="/tmp", TMPDIR="/tmp", MPLCONFIGDIR="/tmp/matplotlib")
    (spec / "kernel.json").write_text(json.dumps({
        "argv": argv, "display_name": "Python 3 (course grading limits)", "language": "python",
        "env": env, "metadata": {"debugger": False}}, indent=1), encoding="utf-8")
    return folder


def hand_over_connection_file(command: list[str], user: list[int]) -> None:
    """Give `user` the kernel's connection file (`-f FILE`: nbgrader writes it readable by root only)."""
    if "-f" in command[:-1]:
        os.chown(command[command.index("-f") + 1], *user)


def enter_sandbox(box: dict, args: list[str]) -> None:
    """Join the cgroup, set the limits, hand over the kernel's connection file (`-f FILE` in `args`), isolate
    (this process forks: the child returns, as PID 1 of its namespaces) and give up capabilities and user."""
    limits, cgroup, plan = Limits(**box["limits"]), box["cgroup"], box["plan"]
    if cgroup:
        try:
            join_cgroup(cgroup)
        except OSError as error:
            print(f"course sandbox: could not join {cgroup}: {error}", file=sys.stderr)
    apply_rlimits(limits)
    if plan:
        isolation = Isolation(**plan)
        if isolation.user:
            hand_over_connection_file(args, isolation.user)
        isolate(isolation)
        drop_privileges(isolation.user)


FOLDER_PREFIX = "course-kernel-"  # a submission's private folder, in the temporary directory


def cgroup_names(name: str, pid: int) -> tuple[str, str]:
    """The cgroups of submission `name` graded by process `pid`: (its kernel's, its other programs')."""
    return f"{name}-{pid}", f"{name}-{pid}-rerun"


class Session:
    """One submission's sandbox: a private folder with the kernel spec, the command that runs any other program
    (the clean re-run) under the same limits and isolation (a fork of `zygote`), and a pids cgroup each for the
    kernel and for those programs, so that neither takes the other's processes. Removed (processes killed) on exit."""

    def __init__(self, name: str, limits: Limits, hide: list[str] | None, threads: int, zygote: str,
                 user: bool = False, show: list[str] = ()):
        self.name, self.limits, self.hide, self.threads, self.user = name, limits, hide, threads, user
        self.zygote = zygote
        self.show = list(show)  # read-only folders the kernel reads (the data root), even under a private folder

    def __enter__(self) -> "Session":
        kernel, others = cgroup_names(self.name, os.getpid())
        self.cgroup = create_cgroup(kernel, self.limits.processes)
        self.others_cgroup = create_cgroup(others, self.limits.processes)
        self._folder = tempfile.TemporaryDirectory(prefix=FOLDER_PREFIX)
        self.folder = self._folder.name
        self._claims = contextlib.ExitStack()  # held until removed: a later grader removes them if this one is killed
        for path in (self.cgroup, self.others_cgroup, self.folder):
            self._claims.enter_context(claims.claimed(path))
        user = list(SANDBOX_USER) if self.user and self.hide is not None else None
        if user:  # the kernel's folder and the connection files' folder become the kernel user's
            os.mkdir(f"{self.folder}/runtime")
            for path in (self.folder, f"{self.folder}/runtime"):
                os.chown(path, *user)
        self.isolation = Isolation(self.hide, self.folder, user, self.show) if self.hide is not None else None
        write_kernel_spec(Path(self.folder), sandbox(self.limits, self.cgroup, self.isolation), self.zygote,
                          self.threads)
        return self

    def __exit__(self, *exc) -> None:
        self.refused = peak_processes(self.cgroup) if self.cgroup else None
        remove_cgroup(self.cgroup)
        remove_cgroup(self.others_cgroup)
        self._folder.cleanup()
        self._claims.close()

    @property
    def env(self) -> dict[str, str]:
        """Environment for nbgrader: the kernel spec, torch threads, connection files in the private folder."""
        threads = {name: str(self.threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
        return {"JUPYTER_PATH": self.folder, "JUPYTER_RUNTIME_DIR": f"{self.folder}/runtime", "TMPDIR": self.folder,
                **threads}

    def command(self, module: str, *args: str) -> list[str]:
        """`python -m module args`, run under this submission's limits and isolation (not in the kernel's cgroup)."""
        return client_command(self.zygote, sandbox(self.limits, self.others_cgroup, self.isolation), module, *args)
