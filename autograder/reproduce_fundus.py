"""`course reproduce lab4`: train ResNet18/50, pretrained or scratch, on fundus images and tabulate them."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from autograder import golden
from autograder.reproduce import (FundusSetting, ReproduceError, duration, kit_commit, paths, percent, pick_device,
                                  write_table)
from labkit import config, engine, fundus

KAGGLE_TRAIN_IMAGES = 28_000  # the handout's training split of the Kaggle retinopathy images (about 28k)


def data_folder(root: Path) -> Path:
    """`root` itself when it holds images/ and the CSVs, else root/fundus (the data root's layout)."""
    return root if (root / fundus.IMAGES).is_dir() else fundus.data_folder(root)


def weights_path(course: config.Course, lab_id: str, arch: str) -> Path:
    """Where course.toml puts `arch`'s ImageNet weights (the checkpoint folder)."""
    return course.checkpoint_root / course.lab(lab_id).weights.get(arch, fundus.weights_file(arch))


def start_model(course: config.Course, lab_id: str, setting: FundusSetting, seed: int = 0):
    """The reference `setting.arch` with 5 outputs, ImageNet weights in its body when pretrained."""
    torch.manual_seed(seed)
    model = getattr(golden.load_reference(lab_id), setting.arch)()
    if setting.pretrained:
        state = fundus.pretrained_state(setting.arch, weights_path(course, lab_id, setting.arch), course.data.download)
        fundus.load_pretrained(model, state)
    return model


def evaluation(reference, labels: np.ndarray, predictions: np.ndarray, train_labels) -> dict:
    """Accuracy, balanced accuracy, per-level recall, the confusion matrix and the majority baseline."""
    matrix = reference.confusion_matrix(labels, predictions)
    return {"test_accuracy": 100 * float((labels == predictions).mean()),
            "balanced_accuracy": 100 * reference.balanced_accuracy(labels, predictions),
            "recall": dict(zip(fundus.GRADES, (100 * np.diag(matrix)).round(2).tolist())),
            "confusion_matrix": matrix.round(4).tolist(),
            "majority_baseline": 100 * reference.majority_baseline(train_labels, labels)}


def run(course: config.Course, lab_id: str, name: str, setting: FundusSetting, epochs: int | None,
        image_size: int | None, data: Path | None, device: str, output: Path | None, echo=print) -> Path:
    """Train one lab 4 setting on the fundus data at `data`; write its JSON, weights and the lab's table."""
    if image_size is not None and image_size < 32:
        raise ReproduceError(f"--image-size must be at least 32, got {image_size}")
    epochs, size, where = epochs or setting.epochs, image_size or setting.image_size, pick_device(device)
    reference = golden.load_reference(lab_id)
    folder = data_folder(Path(data) if data is not None else course.data_root)
    train_set = reference.RetinopathyDataset(folder, "train", size)
    test_set = reference.RetinopathyDataset(folder, "test", size)
    model = start_model(course, lab_id, setting)
    workers = 2 if where.type == "cuda" else 0
    train_loader = DataLoader(train_set, batch_size=setting.batch_size, shuffle=True, num_workers=workers)
    test_loader = DataLoader(test_set, batch_size=2 * setting.batch_size, num_workers=workers)
    echo(f"{lab_id} setting {name}: {setting.title}; {epochs} epoch(s) at {size} x {size} on {where}; "
         f"{len(train_set):,} train / {len(test_set):,} test images from {folder}")
    started = datetime.now(timezone.utc)
    history = fundus.fit(model, train_loader, test_loader, epochs, where, setting.lr, setting.momentum,
                         setting.weight_decay)
    seconds = (datetime.now(timezone.utc) - started).total_seconds()
    labels, predictions = fundus.predict(model, test_loader, where)
    files = paths(course, lab_id, name, output)
    record = {
        "lab": lab_id, "setting": name, "title": setting.title, "description": setting.description,
        "parameters": sum(p.numel() for p in model.parameters()), "epochs": epochs, "image_size": size,
        "best_test_accuracy": max(row["test_accuracy"] for row in history),
        **evaluation(reference, labels, predictions, train_set.label),
        "training_seconds": seconds, "device": str(where), "hardware": engine.describe_hardware(where),
        "torch": torch.__version__, "commit": kit_commit(), "date": started.isoformat(timespec="seconds"),
        "data": {"path": str(folder.resolve()), "train_images": len(train_set), "test_images": len(test_set),
                 "train_levels": fundus.class_counts(train_set.label).tolist()},
        "handout_accuracy": setting.handout, "setting_fields": asdict(setting), "history": history,
    }
    files["json"].parent.mkdir(parents=True, exist_ok=True)
    engine.atomic_write_text(files["json"], json.dumps(record, indent=2))
    torch.save({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, files["weights"])
    write_table(lab_id, files["table"].parent, echo)
    echo(f"test accuracy {record['test_accuracy']:.2f} % (best epoch {record['best_test_accuracy']:.2f} %), balanced "
         f"accuracy {record['balanced_accuracy']:.2f} %, majority baseline {record['majority_baseline']:.2f} %")
    echo(f"results: {files['json']}\nweights: {files['weights']}\ntable:   {files['table']}")
    return files["json"]


def table(lab_id: str, records: list[dict]) -> str:
    """Lab 4's Markdown table: accuracy beside balanced accuracy, the majority baseline and the handout."""
    lines = [f"# {lab_id}: pretrained versus scratch, retrained with `course reproduce`", "",
             "Accuracy alone flatters a model on this data (about 73 % of the images are level 0): balanced "
             "accuracy and the majority-class baseline stand beside it.", ""]
    small = [r["setting"] for r in records if r["data"]["train_images"] < KAGGLE_TRAIN_IMAGES]
    if small:
        lines += [f"**Small data set:** {', '.join(small)} trained on fewer than {KAGGLE_TRAIN_IMAGES:,} images; their "
                  "figures say nothing about accuracy.", ""]
    lines += ["| setting | epochs | image size | best test accuracy (%) | final test accuracy (%) | balanced accuracy "
              "(%) | majority baseline (%) | handout (%) | time | hardware | training images |", "|" + " --- |" * 11]
    for r in records:
        lines.append(
            f"| {r['setting']} | {r['epochs']} | {r['image_size']} | {percent(r['best_test_accuracy'])} | "
            f"{percent(r['test_accuracy'])} | {percent(r['balanced_accuracy'])} | {percent(r['majority_baseline'])} | "
            f"{percent(r['handout_accuracy'])} | {duration(r['training_seconds'])} | {r['hardware']}, {r['device']} | "
            f"{r['data']['train_images']:,} |")
    lines += ["", "Handout: the best test accuracy per run of handout 004 (— where it gives none). The JSON of each "
              "setting beside this file holds its per-epoch history, confusion matrix and per-level recall."]
    return "\n".join(lines) + "\n"
