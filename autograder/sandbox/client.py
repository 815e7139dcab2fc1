"""A program's stand-in: asks a zygote (autograder/sandbox/zygote.py) to run it, and ends as it ended.

    python -I -S client.py SOCKET SANDBOX_JSON -- MODULE [ARG ...]

runs `python -m MODULE ARG ...` in a fresh fork of the zygote listening on SOCKET, with this process's
environment, working directory and standard streams, under SANDBOX_JSON (limits, cgroup, isolation; "" for
none). Signals sent here (an interrupt, a shutdown) are passed on; when this process is killed, or its
parent ends, the zygote kills the program. Standard library only, so that it starts in milliseconds
(isolation.py borrows `end_like` for the isolating parent).
"""

import json
import os
import select
import signal
import socket
import sys

RELAYED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def end_like(status: int) -> None:
    """Exit as the program with wait status `status` ended: its exit code, or killed by the same signal (so that
    the grader sees how the kernel died)."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number != signal.SIGKILL:
            signal.signal(number, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [number])
        os.kill(os.getpid(), number)
    os._exit(os.waitstatus_to_exitcode(status) % 256)


def main(argv: list[str]) -> None:
    path, sandbox, module, args = argv[0], argv[1], argv[3], argv[4:]
    request = {"module": module, "argv": args, "sandbox": json.loads(sandbox) if sandbox else None,
               "env": dict(os.environ), "cwd": os.getcwd()}
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
    except OSError as error:
        print(f"course sandbox: no zygote at {path} ({error}): the grading run that started it has ended",
              file=sys.stderr)
        os._exit(70)
    signal.pthread_sigmask(signal.SIG_BLOCK, RELAYED)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    for number in RELAYED:
        signal.signal(number, lambda *_: None)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, RELAYED)
    parent, received = os.getppid(), b""
    while True:
        ready, _, _ = select.select([conn, wake_read], [], [], 1.0)
        if wake_read in ready:
            for number in os.read(wake_read, 64):
                conn.sendall(f"{number}\n".encode())
        if conn in ready:
            chunk = conn.recv(64)
            if not chunk:
                print("course sandbox: the zygote ended before the program did", file=sys.stderr)
                os._exit(70)
            received += chunk
            if received.endswith(b"\n"):
                end_like(int(received))
        if os.getppid() != parent:  # whoever started the program has gone: so does it
            os._exit(70)


if __name__ == "__main__":
    main(sys.argv[1:])
