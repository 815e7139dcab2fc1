"""`course reproduce lab4`: train ResNet18/50, pretrained or scratch, on fundus images and tabulate them."""

from __future__ import annotations

import dataclasses
import json
import zlib
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from autograder.checks import golden
from autograder.core import process
from autograder.core.errors import ReproduceError
from autograder.reproduce.common import check_resumable, kit_commit, paths, pick_device
from autograder.reproduce.settings import FundusSetting, run_name
from autograder.reproduce.tables import max_load, write_table
from labkit import config, engine, fundus

def data_folder(root: Path) -> Path:
    """`root` itself when it holds images/ and the CSVs, else root/fundus (the data root's layout)."""
    return root if (root / fundus.IMAGES).is_dir() else fundus.data_folder(root)


def weights_path(course: config.Course, lab_id: str, arch: str) -> Path:
    """Where course.toml puts `arch`'s ImageNet weights (the checkpoint folder)."""
    return course.checkpoint_root / course.lab(lab_id).weights.get(arch, fundus.weights_file(arch))


def start_model(course: config.Course, lab_id: str, setting: FundusSetting, seed: int = 0):
    """The reference `setting.arch` with 5 outputs, ImageNet weights in its body when pretrained."""
    return fundus.start_model(getattr(golden.load_reference(lab_id), setting.arch), setting.arch, setting.pretrained,
                              weights_path(course, lab_id, setting.arch), course.data.download, seed)


def evaluation(reference, labels: np.ndarray, predictions: np.ndarray, train_labels) -> dict:
    """Accuracy, balanced accuracy, per-level recall, the confusion matrix and the majority baseline."""
    matrix = reference.confusion_matrix(labels, predictions)
    return {"test_accuracy": 100 * float((labels == predictions).mean()),
            "balanced_accuracy": 100 * reference.balanced_accuracy(labels, predictions),
            "recall": dict(zip(fundus.GRADES, (100 * np.diag(matrix)).round(2).tolist())),
            "confusion_matrix": matrix.round(4).tolist(),
            "majority_baseline": 100 * reference.majority_baseline(train_labels, labels)}


def run(course: config.Course, lab_id: str, name: str, setting: FundusSetting, epochs: int | None,
        image_size: int | None, data: Path | None, device: str, output: Path | None, echo=print,
        fresh: bool = False) -> Path:
    """Train one lab 4 setting on the fundus data at `data` (checkpointed per epoch, resumable); write its JSON,
    weights and the lab's table."""
    if image_size is not None and image_size < 32:
        raise ReproduceError(f"--image-size must be at least 32, got {image_size}")
    epochs, size, where = epochs or setting.epochs, image_size or setting.image_size, pick_device(device)
    stem = run_name(name, epochs, setting.epochs) + ("" if size == setting.image_size else f"-{size}px")
    files = paths(course, lab_id, stem, output)
    reference = golden.load_reference(lab_id)
    folder = data_folder(Path(data) if data is not None else course.data_root)
    train_set = reference.RetinopathyDataset(folder, "train", size)
    test_set = reference.RetinopathyDataset(folder, "test", size)
    model = start_model(course, lab_id, setting)
    config = fundus.train_config(epochs, setting.lr, setting.momentum, setting.weight_decay, setting.batch_size)
    echo(f"{lab_id} setting {name}: {setting.title}; {epochs} epoch(s) at {size} x {size} on {where}; "
         f"{len(train_set):,} train / {len(test_set):,} test images from {folder}")
    identity = fundus_identity(folder, train_set, test_set)
    if fresh and files["checkpoint"].is_file():
        echo(f"--fresh: starting over; {files['checkpoint']} is overwritten after the first epoch")
    elif files["checkpoint"].is_file():
        check_resumable(files["checkpoint"], files["data"], identity, config)
        echo(f"resuming {files['checkpoint']} (the epochs it holds are not trained again)")
    process.write_atomic(files["data"], json.dumps(identity, indent=2))
    started = datetime.now(timezone.utc)
    train_data, test_data = fundus.in_memory(train_set), fundus.in_memory(test_set)
    try:
        result = engine.train(model, train_data, test_data, None, config, fundus.UNIT_MEAN, fundus.UNIT_STD, where,
                              checkpoint_path=files["checkpoint"], resume=not fresh, data_device="cpu",
                              on_epoch=fundus.epoch_report(epochs))
    except KeyboardInterrupt:
        echo(f"interrupted: {files['checkpoint']} holds the last finished epoch; the same command continues")
        raise
    labels, predictions = fundus.predict(model, test_data, where, result.precision)
    history = [fundus.handout_row(row) for row in result.history]
    record = {
        "lab": lab_id, "setting": name, "run": stem, "title": setting.title, "description": setting.description,
        "parameters": sum(p.numel() for p in model.parameters()), "epochs": epochs, "setting_epochs": setting.epochs,
        "image_size": size, "best_test_accuracy": max(row["test_accuracy"] for row in history),
        **evaluation(reference, labels, predictions, train_set.label),
        "training_seconds": result.seconds, "device": str(where), "precision": result.precision,
        "max_load": max_load(result.history), "cores": engine.cpu_cores(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(), "hardware": engine.describe_hardware(where),
        "torch": torch.__version__, "commit": kit_commit(), "date": started.isoformat(timespec="seconds"),
        "data": {**identity,
                 "train_levels": fundus.class_counts(train_set.label).tolist(),
                 "test_levels": fundus.class_counts(test_set.label).tolist()},
        "handout_accuracy": setting.handout, "setting_fields": dataclasses.asdict(setting),
        "config": dataclasses.asdict(config), "history": history,
    }
    process.write_atomic(files["json"], json.dumps(record, indent=2))
    torch.save({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, files["weights"])
    write_table(lab_id, files["table"].parent, echo)
    echo(f"test accuracy {record['test_accuracy']:.2f} % (best epoch {record['best_test_accuracy']:.2f} %), balanced "
         f"accuracy {record['balanced_accuracy']:.2f} %, majority baseline {record['majority_baseline']:.2f} %")
    echo(f"results: {files['json']}\nweights: {files['weights']}\ntable:   {files['table']}")
    return files["json"]


def fundus_identity(folder: Path, train_set, test_set) -> dict:
    """Where the fundus images came from, how many, and a fingerprint of the split's names and levels."""
    names = "\n".join(f"{n},{level}" for n, level in zip(train_set.img_name + test_set.img_name,
                                                         train_set.label + test_set.label))
    return {"source": "fundus photographs (CSV + JPEG folder)", "path": str(folder.resolve()),
            "train_images": len(train_set), "test_images": len(test_set),
            "fingerprint": f"{zlib.crc32(names.encode()):08x}"}
