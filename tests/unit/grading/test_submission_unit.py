"""One submission's grader, before and after nbgrader: what it remembers of earlier gradings."""

import os
import shutil
import time

from autograder.grading.outcome import Outcome, save_status
from autograder.grading.submission import Grader
from labkit import config


def test_a_submission_not_graded_keeps_the_record_of_the_kits_zeros(kit, tmp_path):
    """When a resubmission cannot be graded this time, does its outcome keep the tests the kit zeroed in the
    gradebook before, so that the next grading lifts those zeros if the tests pass?"""
    shutil.copy(kit.root / "course.toml", tmp_path)
    course = config.load(tmp_path)
    save_status(course, "lab4", {"ada": Outcome("ada", True, 92, 100, 10.0, zeroed=["confusion_matrix_values"])})
    grader = Grader(course, "lab4", "ada")
    assert grader.zeroed_before == ["confusion_matrix_values"]
    assert grader.not_graded("grading took longer than 900 s", regrade=True).zeroed == ["confusion_matrix_values"]
    assert Grader(course, "lab4", "bob").not_graded("no notebook").zeroed == []


def test_a_partial_score_that_differs_in_the_clean_rerun_is_tampering():
    """Is a test zeroed when it failed in the clean re-run, or ended with other partial points there than in the
    notebook (or with none), while equal points (to 0.01) and tests that failed in the notebook are left alone?"""
    from autograder.grading.submission import Run, tampered

    run = Run(0, "", verdicts={"a": None, "b": "AssertionError: no", "c": None, "d": None, "e": None},
              values={"c": 1.5, "d": 2.995}, notes={}, unverified=None, refused=None)
    found = tampered(run, {"a", "b", "c", "d", "e"}, {"c": 3.0, "d": 3.0, "e": 3.0, "x": 3.0})
    assert found == {"b": "AssertionError: no",
                     "c": "it scored 3 in the notebook and 1.5 with the kit's checks restored",
                     "e": "it scored 3 in the notebook and none with the kit's checks restored"}


def test_the_clean_rerun_keeps_the_number_a_test_ends_with():
    """Is a test cell's last expression kept for the re-run (and a cell without one run as it is), and read back from
    its lines (a line cut short by a death ends them)?"""
    from autograder.sandbox import verdicts, verify

    namespace = {}
    exec(verify.keeping_value("x = 2\nx * 1.5"), namespace)
    assert namespace[verify.VALUE] == 3.0
    assert verify.keeping_value("x = 2\n") == "x = 2\n"
    assert verify.keeping_value("%time x") == "%time x"  # not Python: left to IPython
    assert [verify.number(v) for v in (2, 1.5, True, "3", None)] == [2.0, 1.5, None, None, None]
    lines = '{"t1": null, "@value": 1.5, "@note": "80 %"}\n{"t2": "AssertionError: x", "@value": null, "@note": null}\n{"t3'
    assert verdicts.read_verdicts(lines) == {"t1": None, "t2": "AssertionError: x"}
    assert (verdicts.read_values(lines), verdicts.read_notes(lines)) == ({"t1": 1.5}, {"t1": "80 %"})


def test_a_verdict_the_notebook_wrote_into_the_reruns_output_fails():
    """Is a test named twice in the re-run's output, named in a line with another test, or given something other
    than a message FORGED (a failure), while the lines the re-run writes itself are read as they are?"""
    from autograder.sandbox import verdicts

    real = [verdicts.line("a", None, None, None), verdicts.line("b", "AssertionError: no", None, None),
            verdicts.line("c", None, 2.0, "fine")]
    assert verdicts.read_verdicts("\n".join(real)) == {"a": None, "b": "AssertionError: no", "c": None}
    forged = [verdicts.line("b", None, None, None), *real, '{"d": null, "e": null}', '{"f": false}']
    assert verdicts.read_verdicts("\n".join(forged)) == {"a": None, "b": verdicts.FORGED, "c": None,
                                                         "d": verdicts.FORGED, "e": verdicts.FORGED,
                                                         "f": verdicts.FORGED}


def test_a_killed_graders_run_folders_on_this_machine_are_removed_and_other_machines_kept(kit, tmp_path):
    """Does a submission's run folder sweep away the unheld, old run folders this machine made, and keep those
    another machine made (a shared grading/ folder may not show that machine's locks)?"""
    import nbformat

    from autograder.core import layout
    from autograder.grading.repair import Repaired
    from autograder.grading.submission import run_folder, run_prefix
    from autograder.core.claims import GRACE

    shutil.copy(kit.root / "course.toml", tmp_path)
    course = config.load(tmp_path)
    status = tmp_path / layout.STATUS_DIR
    mine, theirs = status / f"{run_prefix()}ada-x1", status / "run@another-node@bob-x2"
    for folder in (mine, theirs):
        folder.mkdir(parents=True)
        os.utime(folder, (time.time() - GRACE - 5,) * 2)
    with run_folder(course, "lab4", "cy", Repaired(nbformat.v4.new_notebook())) as (folder, _):
        assert folder.is_dir() and folder.name.startswith(f"{run_prefix()}cy-")
    assert not mine.exists() and theirs.is_dir() and not folder.exists()
