"""The committed reference results: every figure comes from a run's JSON, which names its data, length and hardware."""

import json
import re

import pytest

from autograder.core import layout
from autograder.reproduce import settings
from autograder.reproduce import tables

RESULTS = layout.KIT_DIR / "results"
CIFAR_KEYS = {"test_accuracy", "epochs", "epochs_run", "training_seconds", "precision", "hardware", "cpu_capability",
              "torch", "commit", "date", "data", "history", "config"}
FUNDUS_KEYS = {"test_accuracy", "balanced_accuracy", "majority_baseline", "confusion_matrix", "epochs", "image_size",
               "training_seconds", "precision", "hardware", "cpu_capability", "torch", "commit", "date", "data",
               "history"}


def records():
    """(lab, JSON path, record) of every run committed under results/."""
    return [(lab.name, path, json.loads(path.read_text())) for lab in sorted(RESULTS.iterdir()) if lab.is_dir()
            for path in sorted(lab.glob("*.json")) if not path.name.endswith(".ckpt.json")]


def test_results_are_committed():
    """Are reference results committed at all (the tests below would pass vacuously without them)?"""
    assert RESULTS.is_dir() and records(), "run `course reproduce` on real data and commit results/"


@pytest.mark.parametrize("lab, path, record", records(), ids=lambda value: getattr(value, "name", None))
def test_each_run_names_its_data_length_and_hardware(lab, path, record):
    """Does every committed run say what data it used, how long it trained, on what, in what precision?"""
    fundus = tables.renderer(lab) is tables.fundus_table
    assert (FUNDUS_KEYS if fundus else CIFAR_KEYS) <= set(record), path
    assert record["lab"] == lab and record["setting"] in settings.SETTINGS[lab]
    assert record["data"]["source"] and record["data"]["train_images"] > 1000, path  # real data, not a fixture
    assert len(record["history"]) == record.get("epochs_run", record["epochs"])
    assert record["training_seconds"] > 0 and record["precision"] in ("fp32", "bf16", "fp16")
    assert path.with_suffix(".png").is_file(), f"{path.with_suffix('.png')} (its curves) is missing: run `course results`"


def test_tables_are_generated_from_the_json():
    """Is each results/<lab>/README.md, and the summary in the kit's README, exactly what the JSON gives?"""
    for lab in sorted(p for p in RESULTS.iterdir() if p.is_dir()):
        expected = tables.renderer(lab.name)(lab.name, tables.read_records(lab.name, lab))
        assert (lab / "README.md").read_text() == expected, f"{lab}/README.md is stale: run `course results`"
    readme = (layout.KIT_DIR / "README.md").read_text()
    assert tables.summary(RESULTS) in readme, "the README's results summary is stale: run `course results`"


PERCENT = re.compile(r"\d+\.\d\d(?= %)")  # a figure quoted as "NN.NN %"


def measured_figures() -> set[str]:
    """Every figure a committed run recorded (top-level fields of its JSON, lab 1's executed notebook), as 'NN.NN'."""
    figures = {f"{value:.2f}" for _, _, record in records() for value in record.values()
               if isinstance(value, (int, float)) and not isinstance(value, bool)}
    notebook = (RESULTS / "lab1" / "notebook-run.ipynb").read_text()
    return figures | set(PERCENT.findall(notebook))


def test_the_readme_prose_quotes_only_measured_figures():
    """Is every accuracy the README's "Measured so far" prose quotes one that a committed run recorded?"""
    readme = (layout.KIT_DIR / "README.md").read_text()
    prose = readme[readme.index("Measured so far"):readme.index("<!-- reference results")]
    quoted = set(PERCENT.findall(prose))
    assert len(quoted) > 10, "the README's measured-results prose quotes (almost) no figures"
    unrecorded = quoted - measured_figures()
    assert not unrecorded, f"figures no committed run recorded: {sorted(unrecorded)}"


@pytest.mark.parametrize("load, seconds, expected", [
    (1.0, [100, 110, 120], "17 min, 110 s/epoch median"),
    (5.5, [100, 110, 120], "17 min, 110 s/epoch median (shared: load up to 5.5)"),
    (1.0, [100, 110, 120, 3000], "17 min, 120 s/epoch median (1 epoch(s) paused or starved, 50 min or more each, "
                                 "counted in the total)"),
    (1.0, [100, 110, 120, 470], "17 min, 120 s/epoch median"),  # under 4x the median: a slow epoch, not a pause
], ids=["idle", "shared", "paused", "slow"])
def test_the_time_says_when_the_machine_was_shared_or_the_run_paused(load, seconds, expected):
    """Does a run's time cell name a shared machine and epochs that took 4x the median (a paused run)?"""
    record = {"training_seconds": 1000, "cores": 2, "max_load": load, "history": [{"seconds": s} for s in seconds]}
    assert tables.time_cell(record) == expected
