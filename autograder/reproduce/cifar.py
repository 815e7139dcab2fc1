"""Reference runs of the CIFAR-10 labs (1-3) on labkit.engine, and lab 1's instructor checkpoints."""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import torch

from autograder.checks import golden
from autograder.core import process
from autograder.reproduce.common import check_resumable, kit_commit, paths, pick_device
from autograder.reproduce.settings import SETTINGS, Setting, run_name
from autograder.reproduce.tables import max_load, write_table
from labkit import cifar10, config, engine


def data_identity(root: Path, train: cifar10.Split, test: cifar10.Split) -> dict:
    """Where the data came from, its size, and a fingerprint that changes with its content."""
    fingerprint = zlib.crc32(train.labels.tobytes(), zlib.crc32(train.images[:512].tobytes()))
    return {"source": cifar10.describe(root), "path": str(root), "train_images": len(train),
            "test_images": len(test), "fingerprint": f"{fingerprint:08x}"}


def run(course: config.Course, lab_id: str, name: str, setting: Setting, epochs: int | None = None,
        data: Path | None = None, device: str = "auto", output: Path | None = None, fresh: bool = False,
        echo=print) -> Path:
    """Retrain CIFAR setting `name` of `lab_id`, write its JSON, weights and the lab's table; return the JSON path.

    Resumes from results/<lab>/<name>.ckpt when it exists, unless `fresh`.
    """
    train_config = setting.config(epochs)
    where = pick_device(device)
    root = Path(data) if data is not None else course.data_root
    try:
        full_train = cifar10.load(root, train=True, allow_download=False)
        test_split = cifar10.load(root, train=False, allow_download=False)
    except cifar10.DataMissing as missing:
        raise cifar10.DataMissing(f"{missing} (`course reproduce` never downloads: give --data DIR)") from None
    train_split, val_split = cifar10.train_val_split(full_train, setting.val_fraction, train_config.seed)
    stem = run_name(name, train_config.epochs, setting.epochs)
    files = paths(course, lab_id, stem, output)
    identity = data_identity(root.resolve(), full_train, test_split)
    if fresh and files["checkpoint"].is_file():
        echo(f"--fresh: starting over; {files['checkpoint']} is overwritten after the first epoch")
    elif not fresh:
        check_resumable(files["checkpoint"], files["data"], identity, train_config)
    process.write_atomic(files["data"], json.dumps(identity, indent=2))

    torch.manual_seed(train_config.seed)  # the same initial weights on every fresh run
    model = getattr(golden.load_reference(lab_id), setting.model)(*setting.args)
    parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_val = len(val_split) if val_split is not None else 0
    echo(f"{lab_id} setting {name}: {setting.title}; {train_config.epochs} epoch(s) on {where}; "
         f"{len(train_split):,} train / {n_val:,} val / {len(test_split):,} test images from {root}")
    try:
        result = engine.train(model, train_split, val_split, test_split, train_config, setting.mean,
                              setting.std, device=where, checkpoint_path=files["checkpoint"], resume=not fresh)
    except KeyboardInterrupt:
        echo(f"interrupted: {files['checkpoint']} holds the last finished epoch; the same command continues")
        raise

    record = {
        "lab": lab_id, "setting": name, "run": stem, "title": setting.title, "description": setting.description,
        "setting_epochs": setting.epochs, "model": f"{setting.model}({', '.join(map(repr, setting.args))})",
        "parameters": parameters,
        "test_accuracy": result.test_accuracy, "test_accuracy_tta": result.test_accuracy_tta,
        "best_epoch": result.best_epoch, "best_val_accuracy": result.best_val_accuracy,
        "epochs": train_config.epochs, "epochs_run": len(result.history), "stopped_early": result.stopped_early,
        "training_seconds": result.seconds, "device": result.device, "precision": result.precision,
        "max_load": max_load(result.history), "cores": engine.cpu_cores(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(), "hardware": engine.describe_hardware(where),
        "torch": torch.__version__, "commit": kit_commit(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": {**identity, "train": len(train_split), "val": n_val},
        "handout_accuracy": setting.handout, "paper_accuracy": setting.paper,
        "paper_parameters_millions": setting.paper_parameters, "paper_source": setting.paper_source,
        "config": asdict(train_config), "history": result.history,
    }
    process.write_atomic(files["json"], json.dumps(record, indent=2))
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    torch.save(weights, files["weights"])
    if setting.instructor_checkpoint:
        record["instructor_checkpoint"] = str(write_instructor_checkpoint(course, stem, weights, record, echo))
        process.write_atomic(files["json"], json.dumps(record, indent=2))
    write_table(lab_id, files["table"].parent, echo)
    tta = f" ({result.test_accuracy_tta:.2f} % with flip TTA)" if result.test_accuracy_tta is not None else ""
    best = f", best epoch {result.best_epoch}" if result.best_epoch is not None else " (no validation split)"
    echo(f"test accuracy {result.test_accuracy:.2f} %{tta}{best}")
    echo(f"results: {files['json']}\nweights: {files['weights']}\ntable:   {files['table']}")
    return files["json"]


def write_instructor_checkpoint(course: config.Course, stem: str, weights: dict, record: dict, echo=print) -> Path:
    """<checkpoints>/<stem>.ckpt (the state dict a lab notebook loads) and <stem>.json beside it (what made it)."""
    folder = course.checkpoint_root
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.ckpt"
    temporary = path.with_name(path.name + ".tmp")
    torch.save(weights, temporary)
    temporary.replace(path)
    about = {key: record[key] for key in ("lab", "setting", "title", "model", "parameters", "epochs", "test_accuracy",
                                          "precision", "hardware", "torch", "commit", "date", "data")}
    process.write_atomic(path.with_suffix(".json"), json.dumps(about, indent=2))
    key = SETTINGS[record["lab"]][record["setting"]].instructor_checkpoint
    echo(f"instructor checkpoint: {path} (course.toml: [labs.{record['lab']}] checkpoints.{key} = \"{path.name}\")")
    return path
