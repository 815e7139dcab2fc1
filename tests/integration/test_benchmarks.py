"""The benchmark runs and reports a ratio (its numbers are measured, never asserted)."""

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs nbgrader, notebooks or training: not in the fast layer

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load(script: str):
    """The benchmark script benchmarks/<script> as a module, without running it."""
    spec = importlib.util.spec_from_file_location(Path(script).stem, BENCHMARKS / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_engine_benchmark_prints_a_row_per_depth(capsys):
    """Does the engine-vs-handout benchmark run and print images/second and a ratio for ResNet-20?"""
    load("engine_vs_handout.py").main(["--steps", "1", "--warmup", "1", "--depths", "20"])
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("20 ")]
    assert len(rows) == 1 and rows[0][1] == "269,722" and rows[0][-1].endswith("x")
    assert float(rows[0][2]) > 0 and float(rows[0][3]) > 0


def test_grading_benchmark_times_every_run_and_compares_scores(tmp_path, capsys):
    """Does the grading benchmark grade a demo student idle, in two interleaved rounds, and with plain nbgrader,
    and report seconds, medians, ratios and same scores?"""
    course = tmp_path / "course"
    load("grading.py").main(["--lab", "lab4", "--workers", "1", "--students", "correct", "--dir", str(course),
                             "--plain", "--idle", "--rounds", "2"])
    out = capsys.readouterr().out
    names = ("1 worker(s), idle", "plain nbgrader, idle")
    rows = [line[:28].strip() for line in out.splitlines() if line[:28].strip() in names]
    assert rows == [*names, *names], out  # interleaved: each way once per round
    assert "1 worker(s), busy" not in out
    timed = [float(value) for line in out.splitlines() if line[:28].strip() in names for value in line[28:].split()]
    assert len(timed) == 8 and all(seconds > 0 for seconds in timed)
    assert "medians: 1 worker(s), idle " in out
    assert "ratios to 1 worker(s), idle: 1 worker(s), idle 1.00x" in out and "plain nbgrader, idle" in out
    assert "same scores in every run of the kit: yes" in out
    assert not course.exists()


def test_augmentation_benchmark_times_the_three_ways(capsys):
    """Does the augmentation benchmark time the batch op, torchvision per image and crop + flip, with ratios?"""
    load("augmentation.py").main(["--batch", "8", "--repeats", "1"])
    rows = [line for line in capsys.readouterr().out.splitlines() if "ms/batch" in line]
    assert [row.split("  ")[0].strip() for row in rows] == ["labkit.augment (batch)", "torchvision v2 (per image)",
                                                           "engine crop + flip (batch)"]
    assert all(float(row.split("ms/batch")[0].split()[-1]) > 0 for row in rows)


def test_fundus_benchmark_compares_both_loops(capsys):
    """Does the lab 4 benchmark run both loops on a fixture and print images/second and a ratio?"""
    load("fundus.py").main(["--size", "32", "--steps", "2", "--warmup", "1"])
    out = capsys.readouterr().out
    per_image = next(line for line in out.splitlines() if line.startswith("per image:"))
    fast = next(line for line in out.splitlines() if line.startswith("engine:"))
    assert float(per_image.split()[2]) > 0 and float(fast.split()[1]) > 0 and fast.rstrip().endswith("x")
    assert "decoding them once took" in out
