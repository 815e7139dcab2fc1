"""The `slurm` fixture's cluster runs submitit's jobs: an array's results, a task over its memory limit (the
executor's own cases, a time limit included, are in test_slurm.py)."""

import time

import pytest
import submitit

pytestmark = pytest.mark.slow  # starts Slurm's daemons: not in the fast layer

# The tasks run builtins: cloudpickle pickles a function of this module by reference, as
# tests.integration.test_slurm_cluster, which a task imports only when sbatch ran from the repository's root.


def executor(slurm, folder, **parameters) -> submitit.AutoExecutor:
    """submitit's executor on the fixture's partition, one CPU per task."""
    slurm_executor = submitit.AutoExecutor(folder=folder, cluster="slurm")
    slurm_executor.update_parameters(slurm_partition=slurm.partition, cpus_per_task=1, **parameters)
    return slurm_executor


def finished(job, poll_s: float = 2) -> float:
    """Wait for the job, asking sacct every `poll_s` (submitit alone backs off to half the job's age); the seconds."""
    start = time.monotonic()
    while not job.done(force_check=True):
        time.sleep(poll_s)
    return time.monotonic() - start


def test_an_array_returns_each_tasks_result(slurm, tmp_path):
    """Does map_array over 4 inputs, on a node of at least 2 CPUs, give back the 4 results in order?"""
    assert slurm.cpus >= 2
    jobs = executor(slurm, tmp_path / "jobs", timeout_min=2).map_array(pow, [1, 2, 3, 4], [2] * 4)
    assert [job.result() for job in jobs] == [1, 4, 9, 16]
    assert {job.job_id.split("_")[0] for job in jobs} == {jobs[0].job_id.split("_")[0]}  # one array


def test_a_task_over_its_memory_ends_out_of_memory(slurm, tmp_path):
    """Where the fixture enforces --mem, is a task touching 1 GiB with 256 MiB killed, OUT_OF_MEMORY in sacct?"""
    if not slurm.memory_enforced:
        pytest.skip(f"memory limits are not enforced here: {slurm.memory_reason}")
    limited = executor(slurm, tmp_path / "jobs", timeout_min=2, mem_gb=0.25, slurm_use_srun=False)
    job = limited.submit(bytearray, 1 << 30)  # a GiB of zeros, written
    finished(job)
    assert job.state == "OUT_OF_MEMORY"
