"""The grading kernel's limits: a kernel spec that applies CPU, memory, file and process limits, and a
process-count cgroup that also lets the grader stop every process a submission started.

nbgrader starts the kernel from the kernel spec `course-sandbox` that `write_kernel_spec` writes;
its command is `python -m autograder.sandbox LIMITS -- python -m ipykernel_launcher -f FILE`, which
sets the limits on itself, joins the submission's cgroup, and then becomes the kernel (exec).
Protections the platform lacks are skipped and named by `protections`.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

KERNEL_NAME = "course-sandbox"
PIDS_ROOT = Path("/sys/fs/cgroup/pids")  # cgroup v1 process-count controller
CGROUP_PARENT = "course-grading"
MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one submission may use (course.toml [grading], overridable per lab)."""

    cell_timeout: int          # seconds of wall-clock time per cell
    notebook_timeout: int      # seconds of wall-clock time for the whole submission
    cpu_time: int              # CPU seconds per kernel process
    memory: int                # MiB of data memory per kernel process
    processes: int             # processes (and threads) at once in the submission's cgroup
    output: int                # KiB of output kept per cell in the autograded notebook
    file_size: int = 256       # MiB: the largest file the kernel may write


def apply_rlimits(limits: Limits) -> None:
    """Set this process's CPU-time, data-memory, file-size and core-dump limits (children inherit them)."""
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_time, limits.cpu_time + 5))
    resource.setrlimit(resource.RLIMIT_DATA, (limits.memory * MIB, limits.memory * MIB))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size * MIB, limits.file_size * MIB))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.geteuid() != 0:  # the kernel ignores RLIMIT_NPROC for root
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))


# ---------------------------------------------------------------------------------------------
# The process-count cgroup


def cgroups_available() -> bool:
    """True when this process may create cgroups under the pids controller (root on cgroup v1)."""
    return (PIDS_ROOT / "cgroup.procs").is_file() and os.access(PIDS_ROOT, os.W_OK)


def create_cgroup(name: str, processes: int) -> Path | None:
    """A new pids cgroup `name` allowing `processes` tasks; None where cgroups are not available."""
    if not cgroups_available():
        return None
    path = PIDS_ROOT / CGROUP_PARENT / name
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / "pids.max").write_text(str(processes))
    except OSError:
        return None
    return path


def cgroup_pids(path: Path) -> list[int]:
    try:
        return [int(pid) for pid in (path / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def peak_processes(path: Path) -> int | None:
    """How often the cgroup refused a new process (pids.events max), or None when unknown."""
    try:
        return int((path / "pids.events").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None


def remove_cgroup(path: Path | None) -> int:
    """Kill every process left in the cgroup and remove it; return how many were killed."""
    if path is None:
        return 0
    killed = 0
    for _ in range(50):
        pids = cgroup_pids(path)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    try:
        path.rmdir()
    except OSError:
        pass
    return killed


def join_cgroup(path: str) -> None:
    """Move this process into the cgroup at `path` (its children follow)."""
    Path(path, "cgroup.procs").write_text(str(os.getpid()))


# ---------------------------------------------------------------------------------------------
# Isolation: private mount, network and process namespaces, without capabilities (Linux, as root)

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18)
PR_SET_PDEATHSIG = 1
KEEP_WRITABLE = ("/dev", "/proc")  # device files and the process table stay as they are (a new /proc follows)
# No capabilities, none regained by exec: root in the sandbox cannot remount, unmount or reach other processes.
DROP_CAPABILITIES = ["--bounding-set=-all", "--inh-caps=-all", "--no-new-privs",
                     "--securebits=+noroot,+noroot_locked,+no_setuid_fixup,+no_setuid_fixup_locked,+keep_caps_locked"]


SANDBOX_USER = (65534, 65534)  # nobody:nogroup, the kernel's user and group where it can run Python as them


@dataclass(frozen=True)
class Isolation:
    """What the sandbox hides and keeps writable (absolute paths), and whom the kernel runs as."""

    hide: list[str] = field(default_factory=list)      # folders become empty, files /dev/null
    kernel_dir: str = ""                                # stays writable: connection file, IPC sockets, home
    user: list[int] | None = None                       # [uid, gid] to run as; None: root without capabilities


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda text: text.encode() if text is not None else None  # noqa: E731
    _check(_libc().mount(encode(source), encode(target), encode(fstype), flags, encode(data)), f"mount {target}")


def mount_points() -> list[str]:
    """Every mount point of this mount namespace, parents first."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        points.append(point.encode().decode("unicode_escape"))  # \040 and friends
    return sorted(set(points), key=len)


def under(path: str, folders) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


# Replaced by empty file systems (path -> mode): other kernels' connection files and sockets, and the homes.
PRIVATE = {"/tmp": "1777", "/dev/shm": "1777", "/root": "755", "/home": "755"}


def needed_under_private() -> list[str]:
    """The folders under PRIVATE the kernel's Python needs (its prefixes, its path, the kit), top-most only."""
    kit = str(Path(__file__).resolve().parents[1])
    found = sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, kit, *sys.path)
                    if p and os.path.isdir(p) and under(os.path.realpath(p), PRIVATE)}, key=len)
    return [path for i, path in enumerate(found) if not under(path, found[:i])]


def isolate(plan: Isolation) -> None:
    """Enter new mount, network and PID namespaces; everything read-only, `plan.hide` hidden, private
    /tmp and /dev/shm, `plan.kernel_dir` writable. Forks: the parent waits for the child and exits with
    its status; the child returns, as PID 1 of its namespace, to exec the kernel."""
    _check(_libc().unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    opened = lambda path: os.open(path, os.O_PATH | os.O_DIRECTORY)  # noqa: E731  (survives the mounts below)
    software = {path: opened(path) for path in needed_under_private()}
    own = {path: opened(path) for path in (plan.kernel_dir, os.getcwd())}
    for point in mount_points():
        if not under(point, KEEP_WRITABLE):
            try:
                _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
            except OSError:
                pass  # a special file system that cannot be remounted; the read-only root covers writes
    for private, mode in PRIVATE.items():
        if os.path.isdir(private):
            _mount("tmpfs", private, "tmpfs", MS_NOSUID | MS_NODEV, f"size=1g,mode={mode}")
    for path, handle in software.items():  # Python and the kit, when they live under PRIVATE: back, read-only
        _bind_back(path, handle)
    hidden = [path for path in plan.hide if os.path.isdir(path)]
    for path in hidden:
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
    for path in plan.hide:
        if os.path.isfile(path):
            _mount("/dev/null", path, None, MS_BIND)
    for path, handle in own.items():  # the kernel's folder (writable) and working directory (read-only)
        _bind_back(path, handle)
        if path == plan.kernel_dir:
            _mount(None, path, None, MS_REMOUNT | MS_BIND)  # the bind copied the read-only flag: lift it
    os.chdir(os.getcwd())
    for path in hidden:
        _mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    child = os.fork()
    if child:
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, lambda signum, frame: os.kill(child, signum))
        _, status = os.waitpid(child, 0)
        os._exit(os.waitstatus_to_exitcode(status) % 256)
    _check(_libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def _bind_back(path: str, handle: int) -> None:
    """Mount the folder open as `handle` at `path` again (creating the mount point), then close it."""
    os.makedirs(path, exist_ok=True)
    _mount(f"/proc/self/fd/{handle}", path, None, MS_BIND)
    os.close(handle)


@functools.cache
def isolation_available() -> tuple[bool, str]:
    """(whether `isolate` works here, why not): tried in a throw-away child process."""
    if os.geteuid() != 0:
        return False, "needs root (namespaces and mounts)"
    if not shutil.which("setpriv"):
        return False, "setpriv (util-linux) is not installed"
    probe = ("import os, sys; from autograder import sandbox; d = sys.argv[1]; "
             "sandbox.isolate(sandbox.Isolation([], d)); open(os.path.join(d, 'ok'), 'w').write('1')")
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"course-isolation-probe-{os.getpid()}"
    folder.mkdir(exist_ok=True)
    try:
        done = subprocess.run([sys.executable, "-c", probe, str(folder)], capture_output=True, text=True, timeout=60)
        works = (folder / "ok").is_file()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return works, "" if works else (done.stderr.strip().splitlines() or ["unknown"])[-1]


PROBE_LIMITS = Limits(cell_timeout=60, notebook_timeout=60, cpu_time=60, memory=4096, processes=64, output=256)
USER_PROBE = ("import importlib.util, os, sys, ipykernel, autograder.verify; "
              "assert importlib.util.find_spec('torch'); open(os.path.join(sys.argv[1], 'ok'), 'w').write('1')")


@functools.cache
def user_available() -> tuple[bool, str]:
    """(whether a kernel can run as SANDBOX_USER in the sandbox: its Python, packages and kit readable, why not)."""
    folder = Path(tempfile.mkdtemp(prefix="course-user-probe-"))
    try:
        os.chown(folder, *SANDBOX_USER)
        command = [*launcher(PROBE_LIMITS, None, Isolation([], str(folder), list(SANDBOX_USER))),
                   sys.executable, "-c", USER_PROBE, str(folder)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
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


def launcher(limits: Limits, cgroup: Path | None, isolation: Isolation | None) -> list[str]:
    """`python -m autograder.sandbox LIMITS CGROUP PLAN --`: put before a command to run it like the kernel."""
    plan = json.dumps(asdict(isolation)) if isolation else ""
    return [sys.executable, "-m", "autograder.sandbox", json.dumps(asdict(limits)), str(cgroup or ""), plan, "--"]


def write_kernel_spec(folder: Path, limits: Limits, cgroup: Path | None, threads: int,
                      isolation: Isolation | None = None) -> Path:
    """Write folder/kernels/course-sandbox/kernel.json for these limits; return `folder` (for JUPYTER_PATH)."""
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    argv = [*launcher(limits, cgroup, isolation), sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    env = {name: str(threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    if isolation:
        env.update(HOME="/tmp", TMPDIR="/tmp", MPLCONFIGDIR="/tmp/matplotlib")
    (spec / "kernel.json").write_text(json.dumps({
        "argv": argv, "display_name": "Python 3 (course grading limits)", "language": "python",
        "env": env, "metadata": {"debugger": False}}, indent=1), encoding="utf-8")
    return folder


def as_user(user: list[int] | None) -> list[str]:
    """setpriv options that run the command as `user` ([uid, gid]) with no supplementary groups."""
    return [f"--reuid={user[0]}", f"--regid={user[1]}", "--clear-groups"] if user else []


def hand_over_connection_file(command: list[str], user: list[int]) -> None:
    """Give `user` the kernel's connection file (`-f FILE`: nbgrader writes it readable by root only)."""
    if "-f" in command[:-1]:
        os.chown(command[command.index("-f") + 1], *user)


def main(argv: list[str]) -> None:
    """Kernel launcher: LIMITS_JSON CGROUP ISOLATION_JSON -- KERNEL COMMAND; apply the limits, isolate, exec the kernel."""
    limits, cgroup, plan, command = Limits(**json.loads(argv[0])), argv[1], argv[2], argv[4:]
    if cgroup:
        try:
            join_cgroup(cgroup)
        except OSError as error:
            print(f"course sandbox: could not join {cgroup}: {error}", file=sys.stderr)
    apply_rlimits(limits)
    if plan:
        isolation = Isolation(**json.loads(plan))
        if isolation.user:
            hand_over_connection_file(command, isolation.user)
        isolate(isolation)
        command = [shutil.which("setpriv"), *DROP_CAPABILITIES, *as_user(isolation.user), "--", *command]
    os.execv(command[0], command)



class Session:
    """One submission's sandbox: its pids cgroup, a private folder with the kernel spec, and the command
    prefix that runs any program under the same limits and isolation. Removed (processes killed) on exit."""

    def __init__(self, name: str, limits: Limits, hide: list[str] | None, threads: int, user: bool = False):
        self.name, self.limits, self.hide, self.threads, self.user = name, limits, hide, threads, user

    def __enter__(self) -> "Session":
        self.cgroup = create_cgroup(f"{self.name}-{os.getpid()}", self.limits.processes)
        self._folder = tempfile.TemporaryDirectory(prefix="course-kernel-")
        self.folder = self._folder.name
        user = list(SANDBOX_USER) if self.user and self.hide is not None else None
        if user:  # the kernel's folder and the connection files' folder become the kernel user's
            os.mkdir(f"{self.folder}/runtime")
            for path in (self.folder, f"{self.folder}/runtime"):
                os.chown(path, *user)
        self.isolation = Isolation(self.hide, self.folder, user) if self.hide is not None else None
        write_kernel_spec(Path(self.folder), self.limits, self.cgroup, self.threads, self.isolation)
        return self

    def __exit__(self, *exc) -> None:
        self.refused = peak_processes(self.cgroup) if self.cgroup else None
        remove_cgroup(self.cgroup)
        self._folder.cleanup()

    @property
    def env(self) -> dict[str, str]:
        """Environment for nbgrader: the kernel spec, torch threads, connection files in the private folder."""
        threads = {name: str(self.threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
        return {"JUPYTER_PATH": self.folder, "JUPYTER_RUNTIME_DIR": f"{self.folder}/runtime", "TMPDIR": self.folder,
                **threads}

    def prefix(self) -> list[str]:
        """Put before a command to run it under this submission's limits and isolation."""
        return launcher(self.limits, self.cgroup, self.isolation)


if __name__ == "__main__":
    main(sys.argv[1:])
