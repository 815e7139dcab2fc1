"""A process asked to stop (SIGTERM, SIGHUP) unwinds its with-blocks, then ends by that signal; nohup is respected."""

import signal
import subprocess
import sys
import textwrap

import pytest

from autograder.core.process import tool_env

# A process holding a with-block, like a grader holding its sandbox: "cleaned" is written when the block unwinds.
HOLDER = textwrap.dedent("""
    import contextlib, signal, sys, time
    from autograder.core import shutdown

    @contextlib.contextmanager
    def sandbox():
        try:
            yield
        finally:
            open(sys.argv[1], "w").write("cleaned")

    for name in ("SIGTERM", "SIGHUP"):  # the defaults, whatever the test run inherited (nohup ignores SIGHUP)
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    for name in sys.argv[3:]:
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    stops = shutdown.stops_cleanly() if sys.argv[2] == "stops_cleanly" else contextlib.nullcontext()
    with stops, sandbox():
        print("ready", flush=True)
        time.sleep(30)
    print("slept", flush=True)
""")


def hold(tmp_path, how: str, number: int, *ignored: str) -> tuple[int, bool, str]:
    """Start HOLDER under `how`, send it `number` once it is ready: (its exit status, whether it cleaned up, output)."""
    marker = tmp_path / "cleaned"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(marker), how, *ignored], stdout=subprocess.PIPE,
                              text=True, env=tool_env())
    assert holder.stdout.readline() == "ready\n"
    holder.send_signal(number)
    try:
        code = holder.wait(timeout=2 if ignored else 20)
    except subprocess.TimeoutExpired:
        holder.kill()
        code = holder.wait()
    return code, marker.is_file(), holder.stdout.read()


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stopped_process_cleans_up_and_ends_by_the_signal(tmp_path, number):
    """Does the with-block unwind before the process ends, killed by the same signal (as Slurm expects to see)?"""
    code, cleaned, output = hold(tmp_path, "stops_cleanly", number)
    assert (code, cleaned, output) == (-number, True, "")


def test_without_it_the_signal_ends_the_process_on_the_spot(tmp_path):
    """Python's default, which the test above must tell apart: killed by SIGTERM, nothing cleaned up."""
    assert hold(tmp_path, "default", signal.SIGTERM) == (-signal.SIGTERM, False, "")


def test_an_ignored_signal_stays_ignored(tmp_path):
    """Under nohup (SIGHUP ignored), does a hang-up leave the process running, as nohup promises?"""
    code, cleaned, output = hold(tmp_path, "stops_cleanly", signal.SIGHUP, "SIGHUP")
    assert code == -signal.SIGKILL and not cleaned  # still sleeping when the test gave up on it
