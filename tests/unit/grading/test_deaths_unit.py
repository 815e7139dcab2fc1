"""Why a grading kernel died: the submission's doing (named, scored as far as it ran) or perhaps the machine's."""

import json
import signal

import pytest

from autograder.grading import deaths
from autograder.sandbox.limits import Limits

LIMITS = Limits(cell_timeout=120, notebook_timeout=900, cpu_time=900, memory=4096, processes=64, output=256)
LOST_STDERR = "Error in sys.excepthook:\nMemoryError\n\nOriginal exception was:\nMemoryError\nlost sys.stderr\n"
OPENMP = "libgomp: Thread creation failed: Resource temporarily unavailable\n"


def died(status, output="", refused=None) -> deaths.Death:
    return deaths.diagnose({"cell": "resnet50_answer", "index": 18, "status": status}, output, LIMITS, refused)


@pytest.mark.parametrize("status, output, cause", [
    (1, LOST_STDERR, "it ran out of memory under the memory limit of 4096 MiB (memory)"),
    (1, OPENMP, "it ran out of memory under the memory limit of 4096 MiB (memory)"),
    (-signal.SIGABRT, "terminate called after throwing an instance of 'std::bad_alloc'", "ran out of memory"),
    (0, "", "the notebook ended the kernel (exit code 0: os._exit"),
    (3, "", "the notebook ended the kernel (exit code 3"),
    (-signal.SIGSEGV, "", "the kernel crashed (SIGSEGV)"),
    (-signal.SIGXCPU, "", "it used up the CPU-time limit of 900 s (cpu_time)"),
], ids=["lost stderr", "openmp", "bad_alloc", "os._exit", "exit code", "segfault", "cpu time"])
def test_deaths_the_submission_caused_are_named(status, output, cause):
    """Is a death the notebook caused (memory, os._exit, a crash, CPU time) named, and kept from a regrade?"""
    death = died(status, output)
    assert death.by_submission and cause in death.cause
    assert death.line().startswith("the kernel died in cell resnet50_answer: ")


def test_thread_creation_under_the_process_limit_names_the_process_limit():
    assert "more than 64 processes" in died(1, OPENMP, refused=3).cause


@pytest.mark.parametrize("status", [-signal.SIGKILL, -signal.SIGTERM, None], ids=["SIGKILL", "SIGTERM", "unknown"])
def test_deaths_from_outside_are_graded_again(status):
    """Is a kernel killed from outside (the OOM killer's SIGKILL) or of unknown status sent back, not scored?"""
    death = died(status, LOST_STDERR if status else "")
    assert not death.by_submission and "stopped from outside" in death.cause


def test_memory_text_without_a_death_of_its_own_is_not_memory():
    """Does a SIGKILL stay 'from outside' though the kernel printed MemoryError earlier?"""
    assert not died(-signal.SIGKILL, LOST_STDERR).by_submission


def test_the_record_is_read_or_none(tmp_path):
    path = tmp_path / "death.json"
    assert deaths.read_record(path) is None
    path.write_text("{not json")
    assert deaths.read_record(path) is None
    path.write_text(json.dumps({"cell": "x", "index": 1, "status": -9}))
    assert deaths.read_record(path) == {"cell": "x", "index": 1, "status": -9}
