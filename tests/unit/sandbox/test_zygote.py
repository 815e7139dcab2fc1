"""The zygote and its client: each program a fresh fork that behaves as `python -m MODULE` would, in its sandbox."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.sandbox import isolation, session, zygote
from autograder.sandbox.limits import Limits
from autograder.sandbox.session import client_command, sandbox

LIMITS = Limits(cell_timeout=60, notebook_timeout=60, cpu_time=77, memory=2048, processes=64, output=256)


@pytest.fixture(scope="module")
def forks():
    """A zygote that has imported only `random` (fast to start); its socket."""
    with zygote.running(["random"], dict(os.environ)) as path:
        yield path


@pytest.fixture
def program(tmp_path):
    """Write a module `prog` into tmp_path with the given source; the folder to run it in."""
    def write(source: str) -> Path:
        (tmp_path / "prog.py").write_text(source, encoding="utf-8")
        return tmp_path
    return write


def run(forks, folder, *args, box=None, **kwargs):
    return subprocess.run(client_command(forks, box, "prog", *args), cwd=folder, capture_output=True, text=True,
                          timeout=60, **kwargs)


def test_a_program_gets_the_clients_arguments_environment_folder_and_streams(forks, program):
    """Does the program see its arguments, the client's environment and folder, read its stdin and exit with its code?"""
    folder = program("import os, sys\nprint(sys.argv[1:], os.environ['GREETING'], os.getcwd(), sys.stdin.read())\n"
                     "print('to stderr', file=sys.stderr)\nsys.exit(4)")
    done = run(forks, folder, "a", "b", input="from stdin", env={**os.environ, "GREETING": "hello"})
    assert done.returncode == 4
    assert done.stdout.strip() == f"['a', 'b'] hello {folder} from stdin"
    assert done.stderr.strip() == "to stderr"


@pytest.mark.parametrize("how, expected", [("os.kill(os.getpid(), signal.SIGKILL)", -9), ("os._exit(3)", 3),
                                           ("raise SystemExit('bye')", 1), ("1 / 0", 1)],
                         ids=["killed", "os._exit", "exit message", "exception"])
def test_the_client_ends_as_the_program_did(forks, program, how, expected):
    """Does the client exit with the program's code, or die of its signal, so that the grader sees how it ended?"""
    done = run(forks, program(f"import os, signal\n{how}\n"))
    assert done.returncode == expected


def test_every_program_is_a_new_process_with_fresh_random_state(forks, program):
    """Do two runs get different processes and different random numbers (not the zygote's state, twice)?"""
    folder = program("import os, random\nprint(os.getpid(), random.random())")
    first, second = (run(forks, folder).stdout.split() for _ in range(2))
    assert first[0] != second[0] and first[1] != second[1]
    assert int(first[0]) != os.getpid()


def test_a_signal_to_the_client_reaches_the_program(forks, program, tmp_path):
    """Does an interrupt sent to the client (as Jupyter interrupts a kernel) reach the program?"""
    folder = program("import signal, sys, time\nsignal.signal(signal.SIGINT, lambda *a: sys.exit(5))\n"
                     "open('ready', 'w').close()\ntime.sleep(60)")
    client = subprocess.Popen(client_command(forks, None, "prog"), cwd=folder)
    wait_for(lambda: (folder / "ready").exists())
    client.send_signal(signal.SIGINT)
    assert client.wait(timeout=30) == 5


def test_a_killed_client_takes_its_program_along(forks, program):
    """When the client is killed (Jupyter gives up on a kernel, or the grader on nbgrader), does the program end too?"""
    folder = program("import os, time\nopen('pid', 'w').write(str(os.getpid()))\ntime.sleep(60)")
    client = subprocess.Popen(client_command(forks, None, "prog"), cwd=folder)
    wait_for(lambda: (folder / "pid").exists() and (folder / "pid").read_text())
    pid = int((folder / "pid").read_text())
    client.kill()
    client.wait()
    wait_for(lambda: not alive(pid))


def test_a_sandboxed_program_runs_under_the_limits(forks, program):
    """Does a program asked for with a sandbox run with its CPU-time and memory limits?"""
    folder = program("import resource\nprint(resource.getrlimit(resource.RLIMIT_CPU)[0], "
                     "resource.getrlimit(resource.RLIMIT_DATA)[0] >> 20)")
    done = run(forks, folder, box=sandbox(LIMITS, None, None))
    assert done.stdout.split() == ["77", "2048"], done.stderr


@pytest.mark.skipif(not isolation.isolation_available()[0], reason="isolation is not available here")
def test_an_isolated_program_has_no_capabilities_and_cannot_reach_the_zygote(forks, program, tmp_path):
    """Does an isolated program run as nobody with no capability at all, and find the zygote's socket gone?"""
    os.chmod(tmp_path, 0o755)
    folder = program("import os, socket, sys\nstatus = open('/proc/self/status').read().splitlines()\n"
                     "print(os.getuid(), *[line.split()[1] for line in status if line.startswith(('CapEff', 'CapPrm', "
                     "'CapBnd'))], os.path.exists(sys.argv[1]))")
    box = sandbox(LIMITS, None, isolation.Isolation([], str(tmp_path), [65534, 65534]))
    done = run(forks, folder, forks, box=box)
    assert done.stdout.split() == ["65534", "0000000000000000", "0000000000000000", "0000000000000000", "False"], \
        done.stderr


@pytest.mark.skipif(not isolation.isolation_available()[0], reason="isolation is not available here")
def test_the_kernel_user_is_probed_as_a_fork_of_the_zygote(forks, tmp_path):
    """Does the probe run as the unprivileged user through the zygote, and say why when it cannot run?"""
    assert session.user_available(forks) == (True, "")
    works, why = session.user_available(str(tmp_path / "no-zygote"))
    assert not works and "zygote" in why


def test_the_zygote_ends_with_the_grading_run_and_leaves_nothing(program):
    """After the grading run's `with` block, is the zygote gone and its socket's folder removed?"""
    with zygote.running([], dict(os.environ)) as path:
        assert Path(path).parent.parent == Path(zygote.SOCKET_DIR)
        found = subprocess.run(["pgrep", "-f", path], capture_output=True, text=True).stdout.split()
        assert found
    assert not Path(path).parent.exists()
    wait_for(lambda: not any(alive(int(pid)) for pid in found))
    done = subprocess.run(client_command(path, None, "json.tool"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 70 and "no zygote at" in done.stderr


def test_a_zygote_whose_grading_run_was_killed_ends_and_removes_its_socket():
    """When the process that started the zygote is killed (no `finally` runs), does the zygote end and clean up?"""
    code = ("import os, sys\nfrom autograder.sandbox import zygote\nwith zygote.running([], dict(os.environ)) as path:\n"
            "    print(path, flush=True)\n    os.kill(os.getpid(), 9)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == -9
    folder = Path(done.stdout.strip()).parent
    wait_for(lambda: not folder.exists())


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
