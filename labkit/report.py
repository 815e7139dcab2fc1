"""Experiment reports: the settings table in Markdown, accuracy curves and confusion matrices."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """A Markdown table of `rows` (dicts) with the given column order; missing cells are blank."""
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(column, "")) for column in columns) + " |")
    return "\n".join(lines)


def _cell(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def plot_curves(curves: dict[str, list[float]], ylabel: str, path: Path | str | None = None, title: str = ""):
    """One line per named curve (values per epoch); saved to `path` when given."""
    figure, axis = plt.subplots(figsize=(6, 4))
    for name, values in curves.items():
        axis.plot(range(1, len(values) + 1), values, label=name)
    axis.set_xlabel("epoch")
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, bbox_inches="tight", dpi=120)
    return figure


def plot_confusion(matrix, class_names: list[str], path: Path | str | None = None, title: str = ""):
    """A seaborn heatmap of a (C, C) confusion matrix normalised by true class; saved to `path` when given."""
    import seaborn as sns

    figure, axis = plt.subplots(figsize=(6, 5))
    sns.heatmap(matrix, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="Blues", square=True,
                xticklabels=class_names, yticklabels=class_names, ax=axis)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, bbox_inches="tight", dpi=120)
    return figure
