"""The results' tables: results/<lab>/README.md per lab, curves per run, and the summary in the course's README."""

from __future__ import annotations

import json
from pathlib import Path

from autograder.core import process
from autograder.reproduce.settings import SETTINGS, FundusSetting
from labkit.labs import CIFAR10_TRAIN_IMAGES
from labkit import engine

KAGGLE_TRAIN_IMAGES = 28_000  # the handout's training split of the Kaggle retinopathy images (about 28k)
TINY_TRAIN_IMAGES = 1_000     # below this, a data set is a fixture: its figures say nothing about accuracy


def duration(seconds: float) -> str:
    """42 s, 12 min, 3.4 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def max_load(history: list[dict]) -> float | None:
    """The highest 1-minute load average seen at the end of an epoch (None: not recorded)."""
    loads = [row["load"] for row in history if row.get("load") is not None]
    return max(loads) if loads else None


PAUSED = 4  # an epoch that took this many times the median: the run was paused (or starved) during it


def time_cell(record: dict) -> str:
    """The run's training time and its median epoch, marked "shared" when the load showed other work on its cores,
    with the epochs that took PAUSED times the median or more named (the total counts their wall time)."""
    cores = record.get("cores") or 1
    load = record.get("max_load")
    epochs = sorted(row["seconds"] for row in record.get("history", []) if row.get("seconds") is not None)
    middle = epochs[len(epochs) // 2] if epochs else None
    slow = [seconds for seconds in epochs if middle and seconds >= PAUSED * middle]
    remarks = [f"shared: load up to {load:.1f}"] if load is not None and load > cores + 0.5 else []
    if slow:
        remarks.append(f"{len(slow)} epoch(s) paused or starved, {duration(min(slow))} or more each, counted in the total")
    return (duration(record["training_seconds"]) + (f", {middle:.0f} s/epoch median" if epochs else "")
            + (f" ({'; '.join(remarks)})" if remarks else ""))


def epochs_cell(record: dict) -> str:
    """Epochs run / planned, with the setting's own length when the run was scaled."""
    own = record.get("setting_epochs")
    scaled = f" (scaled from {own})" if own and own != record["epochs"] else ""
    run = record.get("epochs_run", len(record.get("history", [])))  # lab 4's records have no early stopping
    return f"{run}/{record['epochs']}{scaled}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def cifar_table(lab_id: str, records: list[dict]) -> str:
    """The lab's Markdown table: one row per record, the handout's and the paper's figures beside."""
    small = [r for r in records if r["data"]["train_images"] < CIFAR10_TRAIN_IMAGES]
    sources = sorted({r["paper_source"] for r in records if r["paper_accuracy"] is not None})
    data = sorted({r["data"].get("source", "CIFAR-10") for r in records})
    lines = [f"# {lab_id}: reference settings retrained with `course reproduce`", ""]
    if small:
        named = ", ".join(f"{r['setting']} ({r['data']['train_images']:,} training images)" for r in small)
        lines.append(f"**Small data set:** setting(s) {named} had fewer than CIFAR-10's "
                     f"{CIFAR10_TRAIN_IMAGES:,} training images; their figures come from a small data set "
                     f"and say nothing about accuracy.")
    else:
        lines.append("Test accuracy on the CIFAR-10 test images, with the weights of the best validation epoch "
                     "(of the last epoch where a setting holds out no validation images).")
    if data:
        lines += ["", f"Data: {'; '.join(data)}" + (" (JPEG re-encoding costs accuracy against the original "
                                                     "images: compare with the paper accordingly)." if any(
                                                         "JPEG" in d for d in data) else ".")]
    lines += ["", "| setting | model | epochs | test accuracy (%) | with flip TTA (%) | best epoch | time | "
              "hardware | handout (%) | paper (%) | parameters (M): ours / paper |",
              "|" + " --- |" * 11]
    for r in records:
        paper_m = "—" if r["paper_parameters_millions"] is None else f"{r['paper_parameters_millions']:.2f}"
        lines.append(
            f"| {r.get('run', r['setting'])} | {r['title']} | {epochs_cell(r)} | {percent(r['test_accuracy'])} | "
            f"{percent(r['test_accuracy_tta'])} | {r['best_epoch'] or '—'} | {time_cell(r)} | "
            f"{r['hardware']}, {r['device']} {r['precision']} | {percent(r['handout_accuracy'])} | "
            f"{percent(r['paper_accuracy'])} | {r['parameters'] / 1e6:.2f} / {paper_m} |")
    lines += ["", f"Paper: {'; '.join(sources) or '—'}. Handout: — where it gives no figure. The JSON of each "
              "setting beside this file holds its per-epoch history, data, commit and software versions."]
    return "\n".join(lines) + "\n"


def fundus_table(lab_id: str, records: list[dict]) -> str:
    """Lab 4's Markdown table: accuracy beside balanced accuracy, the majority baseline and the handout."""
    lines = [f"# {lab_id}: pretrained versus scratch, retrained with `course reproduce`", "",
             "Accuracy alone flatters a model on this data (about 73 % of the images are level 0): balanced "
             "accuracy and the majority-class baseline stand beside it.", ""]
    tiny = [r.get("run", r["setting"]) for r in records if r["data"]["train_images"] < TINY_TRAIN_IMAGES]
    subset = [r.get("run", r["setting"]) for r in records
              if TINY_TRAIN_IMAGES <= r["data"]["train_images"] < KAGGLE_TRAIN_IMAGES]
    if tiny:
        lines += [f"**Small data set:** {', '.join(tiny)} trained on fewer than {TINY_TRAIN_IMAGES:,} images; their "
                  "figures say nothing about accuracy.", ""]
    if subset:
        lines += [f"**Subset:** {', '.join(subset)} trained on fewer images than the handout's ~{KAGGLE_TRAIN_IMAGES:,} "
                  "(the training images column); compare with the handout accordingly.", ""]
    lines += ["| setting | epochs | image size | best test accuracy (%) | final test accuracy (%) | balanced accuracy "
              "(%) | majority baseline (%) | handout (%) | time | hardware | training images |", "|" + " --- |" * 11]
    for r in records:
        lines.append(
            f"| {r.get('run', r['setting'])} | {r['epochs']} | {r['image_size']} | {percent(r['best_test_accuracy'])} | "
            f"{percent(r['test_accuracy'])} | {percent(r['balanced_accuracy'])} | {percent(r['majority_baseline'])} | "
            f"{percent(r['handout_accuracy'])} | {time_cell(r)} | {r['hardware']}, {r['device']} "
            f"{r.get('precision', '')} | {r['data']['train_images']:,} |")
    lines += ["", "Handout: the best test accuracy per run of handout 004 (— where it gives none). The JSON of each "
              "setting beside this file holds its per-epoch history, confusion matrix and per-level recall."]
    return "\n".join(lines) + "\n"


SUMMARY_BEGIN = "<!-- reference results: generated by `course reproduce` from results/*/*.json; do not edit -->"
SUMMARY_END = "<!-- end of reference results -->"


def read_records(lab_id: str, folder: Path, echo=print) -> list[dict]:
    """The JSON records of `lab_id`'s registered settings in `folder`, in the order of SETTINGS, then epochs."""
    records = []
    for path in sorted(folder.glob("*.json")):
        if path.name.endswith(".ckpt.json"):
            continue
        try:
            record = json.loads(path.read_text())
        except (json.JSONDecodeError, OSError) as error:
            echo(f"skipped {path} in the table: {error}")
            continue
        if isinstance(record, dict) and record.get("setting") in SETTINGS.get(lab_id, {}):
            records.append(record)
    order = list(SETTINGS.get(lab_id, {}))
    return sorted(records, key=lambda r: (order.index(r["setting"]), r.get("epochs", 0), r.get("image_size", 0)))


def summary_row(record: dict) -> str:
    """One line of the README's summary: the run, its accuracy beside the handout's and the paper's, and its cost."""
    tta = record.get("test_accuracy_tta")
    accuracy = percent(record["test_accuracy"]) + (f" ({percent(tta)} TTA)" if tta is not None else "")
    if "balanced_accuracy" in record:
        accuracy += f", balanced {percent(record['balanced_accuracy'])}, majority {percent(record['majority_baseline'])}"
    reference = " / ".join(f"{label} {percent(record.get(key))}" for label, key in
                           (("handout", "handout_accuracy"), ("paper", "paper_accuracy")) if record.get(key) is not None)
    return (f"| {record['lab']} | {record.get('run', record['setting'])} | {epochs_cell(record)} | {accuracy} | "
            f"{reference or '—'} | {time_cell(record)} | {record['hardware']}, {record.get('precision', '')} | "
            f"{record['data'].get('source', '')} |")


def summary(results: Path) -> str:
    """The README's block: one row per run recorded under `results`, every lab."""
    lines = [SUMMARY_BEGIN, "", "| lab | run | epochs | test accuracy (%) | handout / paper (%) | time | hardware, "
             "precision | data |", "|" + " --- |" * 8]
    for lab_id in SETTINGS:
        lines += [summary_row(record) for record in read_records(lab_id, results / lab_id)]
    return "\n".join(lines + ["", SUMMARY_END])


def refresh_readme(readme: Path, results: Path) -> bool:
    """Replace the generated block of `readme` with summary(results); False where the README has no block."""
    if not readme.is_file():
        return False
    text = readme.read_text(encoding="utf-8")
    if SUMMARY_BEGIN not in text or SUMMARY_END not in text:
        return False
    before, rest = text.split(SUMMARY_BEGIN, 1)
    after = rest.split(SUMMARY_END, 1)[1]
    process.write_atomic(readme, before + summary(results) + after)
    return True


def write_curves(record: dict, folder: Path) -> Path:
    """<folder>/<run>.png: the run's loss and accuracy per epoch (lab 4's second curve is its test set)."""
    history = record["history"]
    if history and "train_loss" not in history[0]:  # lab 4's rows, in the handout's terms
        history = [{"epoch": row["epoch"], "train_loss": row["loss"], "train_accuracy": row["train_accuracy"],
                    "val_accuracy": row["test_accuracy"]} for row in history]
        return engine.save_curves(history, folder / f"{record.get('run', record['setting'])}.png", "test")
    return engine.save_curves(history, folder / f"{record.get('run', record['setting'])}.png")


def renderer(lab_id: str):
    """The table function of `lab_id`: lab 4's (fundus) or the CIFAR labs'."""
    if any(isinstance(setting, FundusSetting) for setting in SETTINGS.get(lab_id, {}).values()):
        return fundus_table
    return cifar_table


def write_table(lab_id: str, folder: Path, echo=print) -> Path:
    """Rewrite folder/README.md (and each run's curves) from the JSON of every registered setting in `folder`."""
    path = folder / "README.md"
    records = read_records(lab_id, folder, echo)
    for record in records:
        write_curves(record, folder)
    process.write_atomic(path, renderer(lab_id)(lab_id, records))
    readme = folder.parent.parent / "README.md"  # the course's README, when folder is <course>/results/<lab>
    if folder.parent.name == "results" and refresh_readme(readme, folder.parent):
        echo(f"summary: {readme}")
    return path
