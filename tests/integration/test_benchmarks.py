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
    """Does the grading benchmark grade a demo student idle and with plain nbgrader, and report seconds, ratios and
    same scores?"""
    course = tmp_path / "course"
    load("grading.py").main(["--lab", "lab4", "--workers", "1", "--students", "correct", "--dir", str(course),
                             "--plain", "--idle"])
    out = capsys.readouterr().out
    names = ("1 worker(s), idle", "plain nbgrader, idle")
    rows = {line[:28].strip(): line[28:].split() for line in out.splitlines() if line[:28].strip() in names}
    assert set(rows) == set(names) and "1 worker(s), busy" not in out
    assert all(float(seconds) > 0 for row in rows.values() for seconds in row)
    assert "ratios to 1 worker(s), idle: 1 worker(s), idle 1.00x" in out and "plain nbgrader, idle" in out
    assert "same scores in every run of the kit: yes" in out
    assert not course.exists()


def test_grading_benchmark_rounds_compare_medians(capsys):
    """Over interleaved rounds, are the ratios those of the medians, and a round with other scores reported?"""
    report = load("grading.py").report
    runs = {"a": [4.0, 9.0, 5.0], "b": [10.0, 8.0, 12.0]}
    report(runs, {"a": [{"x": 1}] * 3, "b": [{"x": 1}] * 3}, "a")
    out = capsys.readouterr().out
    assert "medians: a 5.0, b 10.0" in out and "ratios to a: a 1.00x, b 0.50x" in out
    assert "same scores in every run of the kit: yes" in out
    report(runs, {"a": [{"x": 1}] * 3, "b": [{"x": 1}, {"x": 0}, {"x": 1}]}, "a")
    assert "same scores in every run of the kit: NO" in capsys.readouterr().out


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
