"""The handout's training loop (main.py): Adam, step decay, checkpoints, test accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from labkit import progress


class CheckpointMissing(FileNotFoundError):
    """An instructor checkpoint named in course.toml is not on disk."""


def train_epoch(model: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer,
                device: torch.device, description: str = "train") -> tuple[float, float]:
    """One pass over `loader` (images (N, 3, H, W), labels (N,)); returns (mean loss, accuracy in %)."""
    model.train()
    criterion = nn.CrossEntropyLoss()
    total, steps, correct, seen = 0.0, 0, 0, 0
    bar = progress.bar(loader, desc=description, leave=False)
    for images, labels in bar:
        images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        logits = model(images)
        loss = criterion(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total, steps = total + loss.item(), steps + 1
        correct, seen = correct + (logits.argmax(dim=1) == labels).sum().item(), seen + labels.numel()
        bar.set_postfix(loss=f"{total / steps:.4f}")
    return total / max(steps, 1), 100.0 * correct / max(seen, 1)


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, device: torch.device) -> float:
    """Accuracy in percent of `model` on `loader`."""
    model.eval()
    correct = total = 0
    for images, labels in progress.bar(loader, desc="test", leave=False):
        predicted = model(images.to(device)).argmax(dim=1)
        correct += (predicted == labels.to(device)).sum().item()
        total += labels.numel()
    return 100.0 * correct / max(total, 1)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate (main.py's update_lr)."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def fit(model: nn.Module, train_loader: DataLoader, test_loader: DataLoader, epochs: int,
        device: torch.device, lr: float = 1e-3, decay_every: int = 20, decay_factor: float = 3.0,
        checkpoint_prefix: Path | None = None) -> list[dict]:
    """main.py: Adam(lr), lr /= decay_factor every `decay_every` epochs; per-epoch history."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in progress.bar(range(1, epochs + 1), desc="epochs"):
        loss, _ = train_epoch(model, train_loader, optimizer, device, f"epoch {epoch}/{epochs}")
        accuracy = evaluate(model, test_loader, device)
        history.append({"epoch": epoch, "loss": loss, "test_accuracy": accuracy,
                        "lr": optimizer.param_groups[0]["lr"]})
        print(f"Epoch [{epoch}/{epochs}] loss {loss:.4f}, test accuracy {accuracy:.2f} %")
        if epoch % decay_every == 0:
            set_lr(optimizer, optimizer.param_groups[0]["lr"] / decay_factor)
            if checkpoint_prefix is not None:
                torch.save(model.state_dict(), f"{checkpoint_prefix}_epoch{epoch}.ckpt")
    return history


def load_checkpoint(model: nn.Module, path: Path, device: torch.device) -> nn.Module:
    """Load the state dict at `path` into `model`; a clear error when it is missing or does not fit."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointMissing(
            f"instructor checkpoint {path} not found. Ask your instructor for {path.name} and put it in "
            f"{path.parent} (or set LABKIT_CHECKPOINTS to the folder that has it); instructors make it with "
            f"`course reproduce` and name it in course.toml.")
    state = torch.load(path, map_location=device, weights_only=True)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise RuntimeError(f"{path} does not fit this model: {error}. It must be a state dict saved from "
                           f"the same architecture (course reproduce writes such checkpoints).") from None
    return model.to(device)


def checkpoint_record(path: Path | str) -> dict | None:
    """What made an instructor checkpoint: the JSON `course reproduce` writes beside it (None without one)."""
    about = Path(path).with_suffix(".json")
    try:
        return json.loads(about.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
