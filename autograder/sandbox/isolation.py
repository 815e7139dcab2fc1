"""Isolation: private mount, network and process namespaces, without capabilities (Linux, as root)."""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder.core import layout, modules
from autograder.sandbox.client import end_like

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18)
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS = 1, 24, 28, 38
KEEP_WRITABLE = ("/dev", "/proc")  # device files and the process table stay as they are (a new /proc follows)
# No capabilities, none regained by exec or by root's uid: noroot, no_setuid_fixup and keep_caps off, all locked.
SECUREBITS = 0b101111
CAPABILITY_VERSION_3 = 0x20080522


SANDBOX_USER = (65534, 65534)  # nobody:nogroup, the kernel's user and group where it can run Python as them


@dataclass(frozen=True)
class Isolation:
    """What the sandbox hides and keeps writable (absolute paths), and whom the kernel runs as."""

    hide: list[str] = field(default_factory=list)      # folders become empty, files /dev/null
    kernel_dir: str = ""                                # stays writable: connection file, IPC sockets, home
    user: list[int] | None = None                       # [uid, gid] to run as; None: root without capabilities
    show: list[str] = field(default_factory=list)      # folders kept readable even under a private one (data)


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
    kit = str(layout.KIT_DIR)
    found = sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, kit, *sys.path)
                    if p and os.path.isdir(p) and under(os.path.realpath(p), PRIVATE)}, key=len)
    return [path for i, path in enumerate(found) if not under(path, found[:i])]


def isolate(plan: Isolation) -> None:
    """Enter new mount, network and PID namespaces; everything read-only, `plan.hide` hidden, private
    /tmp and /dev/shm, `plan.kernel_dir` writable. Forks: the parent waits for the child and ends as it
    did (its exit code, or its signal); the child returns, as PID 1 of its namespace, to exec the kernel."""
    _check(_libc().unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    opened = lambda path: os.open(path, os.O_PATH | os.O_DIRECTORY)  # noqa: E731  (survives the mounts below)
    software = {path: opened(path) for path in [*needed_under_private(), *plan.show]
                if os.path.isdir(path) and under(path, PRIVATE)}
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
    for path, handle in software.items():  # Python, the kit and the data, when under PRIVATE: back, read-only
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
        end_like(status)
    _check(_libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def drop_privileges(user: list[int] | None) -> None:
    """Give up every capability for good (bounding set, effective, permitted, inheritable; none regained by exec)
    and become `user` ([uid, gid], no supplementary groups) when given; root without capabilities otherwise."""
    libc = _libc()
    _check(libc.prctl(PR_SET_SECUREBITS, SECUREBITS, 0, 0, 0), "prctl(securebits)")
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for capability in range(last + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), "prctl(capbset_drop)")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(no_new_privs)")
    if user:
        os.setgroups([])
        os.setresgid(user[1], user[1], user[1])
        os.setresuid(user[0], user[0], user[0])
    header, data = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0), (ctypes.c_uint32 * 6)()
    _check(libc.capset(header, data), "capset")


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
    probe = (f"import os, sys; from {modules.ISOLATION} import Isolation, isolate; d = sys.argv[1]; "
             "isolate(Isolation([], d)); open(os.path.join(d, 'ok'), 'w').write('1')")
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"course-isolation-probe-{os.getpid()}"
    folder.mkdir(exist_ok=True)
    try:
        done = subprocess.run([sys.executable, "-c", probe, str(folder)], capture_output=True, text=True, timeout=60)
        works = (folder / "ok").is_file()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return works, "" if works else (done.stderr.strip().splitlines() or ["unknown"])[-1]
