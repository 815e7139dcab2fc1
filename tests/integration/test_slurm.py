"""`course autograde --executor slurm` on a real single-node Slurm cluster into a real PostgreSQL gradebook:
the demo class scores as local workers grade it, an array in flight is attached to (never submitted twice),
tasks cancelled with scancel are graded by the rerun, and a task Slurm ends at its time limit needs regrading."""

import socket
import subprocess

import pytest
from nbgrader.api import Gradebook

import leftovers
import slurm_cluster
from autograder import demo
from autograder import mistakes
from autograder.authoring import build
from autograder.core.errors import BuildError
from autograder.core import layout
from autograder.core import notebooks
from autograder.grading import autograde
from autograder.grading import outcome as outcomes_file
from autograder.grading import slurm as slurm_executor
from labkit import config

pytestmark = pytest.mark.slow  # runs nbgrader, notebooks or training: not in the fast layer

LAB = "lab4"
SLEEPER = "sleeps_past_the_limit"


def slurm_course(kit, root, database: str, partition: str, cluster: str) -> config.Course:
    """The demo's course with lab 4 built, grading into `database`, one CPU and 6 GiB per task (the node runs three
    at once), [cluster] as given."""
    course = demo.make_course(kit, root)
    slurm_cluster.point_course_at(course.root / config.CONFIG_NAME, database, partition, cluster)
    course = config.load(course.root)
    build.build(course, [LAB], goldens_dir=None)
    return course


def scancel(array: slurm_executor.Array, tasks: list[int]) -> None:
    subprocess.run(["scancel", *(f"{array.job_id}_{task}" for task in tasks)], check=True, timeout=30)


def stored_submissions(course: config.Course) -> list[str]:
    """The students the gradebook holds a submission of lab 4 for, with repeats if there were any."""
    with Gradebook(course.gradebook_url, course.course.id) as gradebook:
        return sorted(s.student.id for s in gradebook.find_assignment(LAB).submissions)


@pytest.fixture(scope="module")
def sleeper(kit, postgres_database, slurm, tmp_path_factory):
    """A course whose tasks have 1 minute ([cluster] minutes = 1), and its one submission, which sleeps in a cell,
    submitted as an array of one task first, so that Slurm's time limit runs out while the class is graded."""
    course = slurm_course(kit, tmp_path_factory.mktemp("slurm-timeout") / "course",
                          postgres_database("slurm_timeout"), slurm.partition, "minutes = 1\n")
    release = notebooks.read(layout.release_notebook(course, LAB))
    reference = mistakes.reference_solutions(notebooks.read(layout.source_notebook(course, LAB)))
    sleeps = {**reference, "dataset_answer": "import time; time.sleep(600)\n" + reference["dataset_answer"]}
    demo.write_submissions(course, LAB, {SLEEPER: ("", mistakes.fill(release, sleeps))})
    before = leftovers.temporary_folders()
    slurm_executor.submit(course, LAB, [SLEEPER])
    yield course
    # Slurm kills a batch job at its time limit outright (no SIGTERM first): its task left its sandbox behind (the
    # class's tasks, graded meanwhile, removed theirs)
    leftovers.remove([*leftovers.cgroups(f"{LAB}-{SLEEPER}-*"), *(leftovers.temporary_folders() - before)])


@pytest.fixture(scope="module")
def class_on_slurm(kit, postgres_database, slurm, sleeper, tmp_path_factory):
    """The demo's lab 4 class submitted as one array, half of it cancelled with scancel before it ran, then
    `course autograde --executor slurm` run (it attaches), and run once more: (course, outcomes, lines, array,
    cancelled students, second run's lines)."""
    course = slurm_course(kit, tmp_path_factory.mktemp("slurm") / "course", postgres_database("slurm_class"),
                          slurm.partition, "parallelism = 2\n")
    submissions = demo.simulated_class(course, LAB)
    demo.write_submissions(course, LAB, submissions)
    names = layout.students(course, LAB)
    array = slurm_executor.submit(course, LAB, names)
    cancelled = list(range(len(names) // 2, len(names)))  # the last half: still waiting behind parallelism = 2
    scancel(array, cancelled)
    lines = []
    outcomes = {o.student: o for o in autograde.autograde(course, LAB, executor="slurm", echo=lines.append)}
    again = []
    autograde.autograde(course, LAB, executor="slurm", echo=again.append)
    return course, outcomes, lines, array, [names[i] for i in cancelled], again


def test_the_class_scores_as_local_workers_grade_it(class_on_slurm, graded):
    """Does every demo student get on Slurm the score two local workers gave them in the demo (late penalty
    included), the corrupt file not graded in both?"""
    course, outcomes, _, _, _, _ = class_on_slurm
    local = graded[1][LAB]
    assert set(outcomes) == set(local) and len(outcomes) >= 5
    assert {s: (o.graded, o.score) for s, o in outcomes.items()} == {s: (o.graded, o.score) for s, o in local.items()}
    assert outcomes["correct"].score == 100 and not outcomes["corrupt_file"].graded


def test_the_rerun_attaches_and_grades_the_cancelled_half_once(class_on_slurm):
    """Does the command attach to the array submitted before it (no second submission of the class), record the
    cancelled tasks as Slurm ended them, grade them again, and leave one submission per student in PostgreSQL?"""
    course, outcomes, lines, array, cancelled, _ = class_on_slurm
    assert any(f"attaching to Slurm job array {array.job_id}" in line for line in lines)
    log = outcomes_file.log_path(course, LAB).read_text()
    ended = [line for line in log.splitlines() if "(REMOVED: it left the queue before it started (scancel))" in line]
    assert sorted(line.split()[2] for line in ended) == sorted(cancelled)
    assert sum("submitted Slurm job array" in line for line in lines) == 1  # the cancelled half, again
    for student in outcomes:  # one line each, and one more, first, for each cancelled task
        printed = [line for line in lines if line.split()[:1] == [student]]
        assert len(printed) == 1 + (student in cancelled) and "REMOVED" not in printed[-1]
    stored = stored_submissions(course)
    assert len(stored) == len(set(stored)) and {s for s, o in outcomes.items() if o.graded} <= set(stored)
    assert not slurm_executor.array_path(course, LAB).exists()


def test_each_submission_names_the_node_it_ran_on(class_on_slurm):
    """Does the log say, for each graded submission, which node and device its task ran on?"""
    course, outcomes, _, _, _, _ = class_on_slurm
    log = outcomes_file.log_path(course, LAB).read_text()
    on_nodes = [line for line in log.splitlines() if line.startswith("    ran on ") and ", kernel " in line]
    assert len(on_nodes) == len(outcomes)  # the removed tasks ran nowhere
    assert all(line.startswith(f"    ran on {socket.gethostname()}, CPU (no GPU allocated), kernel ")
               and "(Slurm task " in line for line in on_nodes)


def test_a_second_run_grades_nothing(class_on_slurm):
    """Once the array is collected, does running the command again submit nothing?"""
    _, _, _, _, _, again = class_on_slurm
    assert not any("submitted Slurm job array" in line or "attaching" in line for line in again)
    assert any("already graded and unchanged" in line for line in again)


def test_a_task_past_its_time_limit_needs_regrading(sleeper, class_on_slurm):
    """Does a submission still running at [cluster] minutes become "needs regrading" with Slurm's reason (the command,
    after a warning that the limit is below the notebook's, attaching to the array submitted before it), and does a
    plain rerun leave it to --retry-failed?"""
    lines = []
    [outcome] = autograde.autograde(sleeper, LAB, executor="slurm", echo=lines.append)
    assert any("WARNING: [cluster] minutes = 1 is not above lab4's notebook_timeout" in line for line in lines)
    assert any("attaching to Slurm job array" in line for line in lines)
    assert outcome.needs_regrading and not outcome.graded
    assert "(TIMEOUT: it ran past the task's time limit ([cluster] minutes = 1))" in outcome.problems[0]
    again = []
    autograde.autograde(sleeper, LAB, executor="slurm", echo=again.append)
    assert any("1 need regrading: --retry-failed" in line for line in again)


def test_a_partition_slurm_does_not_know_is_named(kit, slurm, tmp_path):
    """Does sbatch's refusal (a mistyped partition) come back as one clear error naming the [cluster] keys?"""
    course = demo.make_course(kit, tmp_path / "course")
    path = course.root / "course.toml"
    path.write_text(path.read_text().replace('partition = ""', 'partition = "no-such-partition"', 1))
    with pytest.raises(BuildError, match=r"sbatch refused the job array: .*(?i:partition).*check \[cluster\] partition"):
        slurm_executor.submit(config.load(course.root), LAB, ["ada"])
