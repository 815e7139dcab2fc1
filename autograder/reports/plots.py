"""The grade report's plots: score distribution, per-test results, student x test heatmap, grading time."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from autograder.core.notebooks import GradedTest  # noqa: E402
from autograder.reports.records import Record  # noqa: E402

GRADED, NOT_GRADED = "#4c72b0", "#c44e52"


def empty(title: str, message: str) -> Figure:
    """A small figure saying there is nothing to plot."""
    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center")
    return fig


def score_distribution(records: list[Record], points: float) -> Figure:
    """Histogram of final scores (after late penalty), with the raw scores outlined and the mean marked."""
    graded = [r for r in records if r.graded]
    if not graded:
        return empty("Score distribution", "no graded submission")
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bins = [points * i / 20 for i in range(21)]
    finals = [r.final for r in graded]
    ax.hist(finals, bins=bins, color=GRADED, label="final score")
    if any(r.late_penalty for r in graded):
        ax.hist([r.total for r in graded], bins=bins, histtype="step", color="black", label="before late penalty")
    mean = sum(finals) / len(finals)
    ax.axvline(mean, color="black", linestyle="--", label=f"mean {mean:.1f}")
    ax.set(xlim=(0, points), xlabel=f"score (of {points:g})", ylabel="students",
           title=f"Score distribution ({len(graded)} graded)")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    fig.tight_layout()
    return fig


def test_summary(records: list[Record], tests: list[GradedTest]) -> pd.DataFrame:
    """Per graded test: points, mean score, mean as a fraction of the points, pass rate (full points)."""
    graded = [r for r in records if r.graded]
    rows = []
    for test in tests:
        scores = [r.scores.get(test.grade_id, 0.0) for r in graded]
        mean = sum(scores) / len(scores) if scores else float("nan")
        passed = sum(score >= test.points for score in scores) / len(scores) if scores else float("nan")
        rows.append({"test": test.grade_id, "points": test.points, "mean": mean,
                     "mean_fraction": mean / test.points if test.points else float("nan"), "pass_rate": passed})
    return pd.DataFrame(rows, columns=["test", "points", "mean", "mean_fraction", "pass_rate"])


def per_test(summary: pd.DataFrame) -> Figure:
    """Two bar charts side by side: each test's mean score (fraction of its points) and pass rate."""
    if summary.empty or summary["pass_rate"].isna().all():
        return empty("Per test", "no graded submission")
    fig, axes = plt.subplots(1, 2, figsize=(10, 1.2 + 0.3 * len(summary)), sharey=True)
    for ax, column, title in zip(axes, ("mean_fraction", "pass_rate"), ("mean score (fraction of points)", "pass rate")):
        ax.barh(summary["test"], summary[column], color=GRADED)
        ax.set(xlim=(0, 1), title=title)
    axes[0].invert_yaxis()
    fig.tight_layout()
    return fig


def heatmap(records: list[Record], tests: list[GradedTest]) -> Figure:
    """Student x test heatmap of the fraction of each test's points earned (graded submissions only)."""
    graded = [r for r in records if r.graded]
    if not graded or not tests:
        return empty("Students x tests", "no graded submission")
    frame = pd.DataFrame([[r.scores.get(t.grade_id, 0.0) / t.points if t.points else 0.0 for t in tests]
                          for r in graded], index=[r.student for r in graded], columns=[t.grade_id for t in tests])
    # No tight_layout: the cells keep their size and the PNG is cropped around the long tick labels.
    fig, ax = plt.subplots(figsize=(2.5 + 0.4 * len(tests), 1.5 + 0.4 * len(graded)))
    sns.heatmap(frame, vmin=0, vmax=1, cmap="RdYlGn", linewidths=0.5, linecolor="white", ax=ax,
                cbar_kws={"label": "fraction of the test's points"})
    ax.set(xlabel="graded test", ylabel="student", title="Students x tests")
    return fig


def grading_time(records: list[Record]) -> Figure:
    """Seconds `course autograde` took per submission, not-graded ones in red."""
    timed = [r for r in records if r.seconds is not None]
    if not timed:
        return empty("Grading time", "no timing recorded (graded without `course autograde`)")
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.3 * len(timed)))
    bars = ax.barh([r.student for r in timed], [r.seconds for r in timed],
                   color=[GRADED if r.graded else NOT_GRADED for r in timed])
    ax.bar_label(bars, labels=[f"{r.seconds:.1f} s" + ("" if r.graded else " (not graded)") for r in timed],
                 padding=3)
    ax.margins(x=0.2)
    ax.invert_yaxis()
    ax.set(xlabel="seconds", title=f"Grading time per submission (total {sum(r.seconds for r in timed):.0f} s; "
                                   f"red: not graded)")
    fig.tight_layout()
    return fig
