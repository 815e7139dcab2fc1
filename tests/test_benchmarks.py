"""The benchmark runs and reports a ratio (its numbers are measured, never asserted)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "engine_vs_handout.py"


def test_engine_benchmark_prints_a_row_per_depth(capsys):
    """Does the engine-vs-handout benchmark run and print images/second and a ratio for ResNet-20?"""
    spec = importlib.util.spec_from_file_location("engine_vs_handout", SCRIPT)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    benchmark.main(["--steps", "1", "--warmup", "1", "--depths", "20"])
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("20 ")]
    assert len(rows) == 1 and rows[0][1] == "269,722" and rows[0][-1].endswith("x")
    assert float(rows[0][2]) > 0 and float(rows[0][3]) > 0
