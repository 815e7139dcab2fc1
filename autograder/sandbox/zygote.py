"""A zygote: a process that imports the heavy modules once (torch, ipykernel, nbgrader) and forks a fresh process
for every program it is asked to run, so that no grading kernel, clean re-run or nbgrader run pays for them again.

    python -m autograder.sandbox.zygote SOCKET MODULE [MODULE ...]    (imports the MODULEs, then serves SOCKET)

A client (autograder/sandbox/client.py) sends what `python -m MODULE ARG ...` would be given: arguments,
environment, working directory, standard streams, and the sandbox to run it in. For each, the zygote forks a
supervisor, which forks the program: the program sets up as a new process would (environment, random seeds, torch
threads), enters its sandbox (cgroup, limits, namespaces, no capabilities, its own user) and runs the module;
the supervisor passes on the client's signals, kills the program when the client goes, and sends back how it
ended. Every program is its own process: nothing one submission does reaches another's. The zygote never runs
student code itself, and its socket lives in /tmp, which isolated kernels see empty. It ends when the standard
input the grading run holds open closes.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import random
import runpy
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Iterator

from autograder.core import claims, modules
from autograder.sandbox.session import enter_sandbox

REQUEST_LIMIT = 1 << 22  # bytes: a request is arguments and an environment
FOLDER_PREFIX = "course-zygote-"  # the folder of a zygote's socket, in SOCKET_DIR
SOCKET_DIR = "/tmp"  # replaced by an empty file system in every isolated kernel: no kernel reaches the zygote


@contextlib.contextmanager
def running(preload: list[str], env: dict[str, str]) -> Iterator[str]:
    """A zygote that has imported `preload`, started with `env` (threads: read once, when torch loads); yields
    its socket's path; stopped afterwards (programs it is running go on to their own end)."""
    folder = tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=SOCKET_DIR)
    path = os.path.join(folder, "socket")
    with claims.claimed(folder):  # a later grader removes the folder if this one is killed
        zygote = subprocess.Popen([sys.executable, "-m", modules.ZYGOTE, path, *preload], stdin=subprocess.PIPE,
                                  env=env, start_new_session=True)
        try:
            while not os.path.exists(path) and zygote.poll() is None:
                time.sleep(0.01)
            yield path
        finally:
            zygote.stdin.close()
            try:
                zygote.wait(timeout=30)
            except subprocess.TimeoutExpired:
                zygote.kill()
                zygote.wait()
            shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The server


def serve(path: str, preload: list[str]) -> None:
    """Listen on `path` (before importing, so that clients may queue), import `preload` and freeze it out of the
    garbage collector's reach, then fork a supervisor for each connection until standard input closes; then remove
    the socket's folder."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(128)
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception as error:  # the program imports it again and shows the error where it belongs
            print(f"course zygote: could not import {name}: {error}", file=sys.stderr)
    gc.collect()
    gc.freeze()  # what the imports made is never collected: no fork scans it (or copies its pages to do so)
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [], 1.0)
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1):
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)  # its grading run may have been killed
            return
        if listener in ready:
            conn, _ = listener.accept()
            if os.fork() == 0:
                listener.close()
                supervise(conn)
            conn.close()
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass


def receive(conn: socket.socket) -> tuple[dict, list[int]]:
    """One request (a JSON line) and the client's standard streams sent with it."""
    data, fds, _, _ = socket.recv_fds(conn, REQUEST_LIMIT, 3)
    while not data.endswith(b"\n"):
        more = conn.recv(REQUEST_LIMIT)
        if not more:
            raise ConnectionError("the client went before its request was complete")
        data += more
    return json.loads(data), fds


def supervise(conn: socket.socket) -> None:
    """Run the client's program in a child; pass on its signals, kill the program if it goes, report its end."""
    code = 1
    try:
        request, fds = receive(conn)
        program = os.fork()
        if program == 0:
            conn.close()
            run(request, fds)
        for fd in fds:
            os.close(fd)
        ended = os.pidfd_open(program)
        while True:
            ready, _, _ = select.select([conn, ended], [], [])
            if ended in ready:
                _, status = os.waitpid(program, 0)
                conn.sendall(f"{status}\n".encode())
                code = 0
                break
            received = conn.recv(64)
            if not received:  # the client was killed, or its parent ended: so does the program, with its group
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(program, signal.SIGKILL)
                os.waitpid(program, 0)
                code = 0
                break
            for number in received.split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(program, int(number))
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


# ---------------------------------------------------------------------------------------------
# The program


def become_new_process(request: dict, fds: list[int]) -> None:
    """Take the client's streams, session, directory, environment and arguments, and fresh random state."""
    os.setsid()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None
    sys.argv = [request["module"], *request["argv"]]
    sys.path[0] = request["cwd"]
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    threads = os.environ.get("OMP_NUM_THREADS", "")
    if "torch" in sys.modules and threads.isdigit():
        sys.modules["torch"].set_num_threads(int(threads))
    for name in [name for name in sys.modules if name.split(".")[0] == "autograder"]:
        del sys.modules[name]  # the program imports what it needs of the kit itself


def run(request: dict, fds: list[int]) -> None:
    """Become the requested program in its sandbox and run it; exit as `python -m` would have."""
    code: int | str | None = 1
    try:
        become_new_process(request, fds)
        if request["sandbox"]:
            enter_sandbox(request["sandbox"], request["argv"])
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as done:
        code = done.code
    except BaseException:
        traceback.print_exc()
    finally:
        if isinstance(code, str):
            print(code, file=sys.stderr)
            code = 1
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        os._exit((code or 0) & 0xFF if isinstance(code, int) else 1)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2:])
