"""What every reference run shares: the device, the kit's commit, its files, and refusing a foreign checkpoint."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict
from pathlib import Path

import torch

from autograder.core import layout
from autograder.core.errors import ReproduceError
from labkit import config, device, engine

def pick_device(name: str) -> torch.device:
    """labkit's choice for "auto", the named device otherwise; a CUDA request without a GPU fails clearly."""
    try:
        return device.pick_device(name)
    except device.DeviceUnavailable as error:
        raise ReproduceError(f"--device: {error}") from None


def kit_commit() -> str:
    """The kit's git commit (short hash), or "unknown" outside a git checkout."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=layout.KIT_DIR, capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"


def check_resumable(checkpoint: Path, meta_path: Path, data: dict, train_config: engine.TrainConfig) -> None:
    """Refuse to resume a checkpoint of another run: other settings (--epochs) or other data."""
    if not checkpoint.is_file():
        return
    fix = "add --fresh to start over (the checkpoint is then overwritten)"
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True).get("config", {})
    wanted = asdict(train_config)
    changed = [f"{key} {saved.get(key)!r}, not {wanted[key]!r}" for key in engine.config_changes(saved, train_config)]
    if changed:
        hint = f"rerun with --epochs {saved['epochs']} to resume it, or " if "epochs" in saved else ""
        raise ReproduceError(f"{checkpoint} is from a run with other settings ({'; '.join(changed)}): {hint}{fix}")
    if meta_path.is_file():
        before = json.loads(meta_path.read_text())
        same = ("train_images", "test_images", "fingerprint")  # the path may differ: the data moved
        if any(before.get(key) != data[key] for key in same):
            raise ReproduceError(f"{checkpoint} was trained on other data ({before.get('path')}, "
                                 f"{before.get('train_images', 0):,} training images): {fix}")


def paths(course: config.Course, lab_id: str, name: str, output: Path | None) -> dict[str, Path]:
    """The files of run `name` (see run_name) under `output` (default <course>/results)/<lab>/."""
    folder = (output or course.root / "results") / lab_id
    return {"json": folder / f"{name}.json", "checkpoint": folder / f"{name}.ckpt",
            "data": folder / f"{name}.ckpt.json", "weights": folder / f"{name}.pt",
            "table": folder / "README.md"}
