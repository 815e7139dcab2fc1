"""A command asked to stop stops as an interrupted one does, cleaning up on its way out.

Python's default for SIGTERM (`kill`, systemd, a Slurm task sent one) and SIGHUP (the terminal closed) ends the
process on the spot: a grader stopped so leaves its sandbox's cgroups, its kernel folder and its run folder behind.
Within `stops_cleanly`, those signals raise `Stopped` instead, so that every with-block unwinds (kernels killed,
cgroups and folders removed), and then the process ends by the same signal, so that whoever sent it sees how it
ended. SIGKILL cannot be caught: Slurm ends a batch task at its time limit so (measured on the tests' cluster).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Iterator

STOPPING = (signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """The process was asked to stop (not an Exception: no handler of grading errors swallows it)."""

    def __init__(self, number: int):
        super().__init__(f"stopped by {signal.Signals(number).name}")
        self.number = number


def _stop(number: int, frame) -> None:
    for other in STOPPING:  # a second signal must not interrupt the cleaning up
        signal.signal(other, signal.SIG_IGN)
    raise Stopped(number)


@contextlib.contextmanager
def stops_cleanly() -> Iterator[None]:
    """Within: SIGTERM and SIGHUP raise Stopped (except where they are ignored, as under nohup); the process then
    ends by that signal once the block has unwound. Does nothing outside the main thread (signals reach only it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in STOPPING}
    for number, handler in previous.items():
        if handler != signal.SIG_IGN:
            signal.signal(number, _stop)
    try:
        yield
    except Stopped as stopped:
        signal.signal(stopped.number, signal.SIG_DFL)
        os.kill(os.getpid(), stopped.number)
        raise  # not reached: the signal ends the process
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
