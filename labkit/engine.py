"""Fast CIFAR training: data on the device as uint8, batch augmentation, autocast, resumable runs."""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from labkit import augment, cifar10, progress
from labkit.cifar10 import Split
from labkit.device import default_device
from labkit.files import write_atomic


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one run, each with its unit."""

    epochs: int = 30                            # passes over the training split
    batch_size: int = 128                       # images per optimizer step
    optimizer: str = "sgd"                      # "sgd" | "adam"
    lr: float = 0.1                             # learning rate per optimizer step ("onecycle": the peak)
    momentum: float = 0.9                       # SGD momentum (unused by Adam)
    weight_decay: float = 1e-4                  # L2 coefficient added to the gradient (torch's)
    nesterov: bool = False                      # Nesterov momentum (SGD only)
    schedule: str = "none"                      # one of SCHEDULES (below)
    milestones: tuple[int, ...] = ()            # lr drops, in epochs ("multistep") or steps ("multistep_iterations")
    gamma: float = 0.1                          # lr factor at each milestone
    label_smoothing: float = 0.0                # probability mass spread uniformly over the classes
    augment: bool = True                        # augment training batches, drawn per image (below)
    augmentation: str = "crop_flip"             # one of AUGMENTATIONS: pad-and-crop + flip, or handout 003's
    padding: int = 4                            # pixels of zero padding for the random crop ("crop_flip")
    eval_batch_size: int = 1000                 # images per evaluation batch
    tta: bool = False                           # also report test accuracy with horizontal-flip TTA
    early_stopping_patience: int | None = None  # epochs without a better val accuracy before stopping; None: never
    restore_best: bool = True                   # end with the weights of the best val-accuracy epoch
    precision: str = "auto"                     # "auto" | "fp32" | "bf16" | "fp16"
    channels_last: bool = True                  # NHWC memory format for the model and its inputs
    seed: int = 0                               # seeds shuffling, augmentation and torch's global RNG
    max_steps_per_epoch: int | None = None      # optimizer steps per epoch at most (smoke runs); None: all
    pipeline: str = "engine"                    # "engine": uint8 tensors on the device; "handout": the handouts'
                                                # PIL transforms per sample in a DataLoader (fp32, NCHW; a peer)
    verbose: bool = True                        # print one line per epoch

    def __post_init__(self) -> None:
        choices = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES, "precision": PRECISIONS,
                   "augmentation": AUGMENTATIONS, "pipeline": PIPELINES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"TrainConfig.{name} = {getattr(self, name)!r}; expected one of {allowed}")
        object.__setattr__(self, "milestones", tuple(int(m) for m in self.milestones))
        if self.pipeline == "handout" and (self.precision != "fp32" or self.channels_last
                                           or self.augmentation != "crop_flip"):
            raise ValueError("TrainConfig.pipeline = 'handout' is the handouts' loop: fp32, channels_last=False, "
                             "crop_flip augmentation")


OPTIMIZERS = ("sgd", "adam")
PIPELINES = ("engine", "handout")
AUGMENTATIONS = ("crop_flip", "rotate_affine_jitter")  # the latter: flip, rotation, shear + scale, colour jitter
SCHEDULES = ("none", "multistep", "multistep_iterations", "cosine", "onecycle")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
PER_ITERATION_SCHEDULES = ("multistep_iterations", "cosine", "onecycle")


@dataclass
class Result:
    """What a run produced: per-epoch history, best epoch, test accuracy (%), time and set-up."""

    history: list[dict]
    best_epoch: int | None
    best_val_accuracy: float | None
    test_accuracy: float | None
    test_accuracy_tta: float | None
    seconds: float
    device: str
    precision: str
    stopped_early: bool = False
    config: dict = field(default_factory=dict)

    def save(self, path: Path | str) -> None:
        """Write the result as JSON to `path` (atomically)."""
        write_atomic(Path(path), json.dumps(asdict(self), indent=2))


# ---------------------------------------------------------------------------------------------
# Data on the device


@dataclass(frozen=True)
class DeviceSplit:
    """A split on the training device: images (N, 3, 32, 32) uint8, labels (N,) int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


def to_device(split: Split, device: torch.device | str) -> DeviceSplit:
    """Split (images (N, 32, 32, 3) uint8 numpy) -> DeviceSplit (images (N, 3, 32, 32) uint8) on `device`."""
    images = torch.from_numpy(np.ascontiguousarray(split.images)).permute(0, 3, 1, 2).contiguous()
    labels = torch.as_tensor(np.asarray(split.labels), dtype=torch.int64)
    return DeviceSplit(images.to(device), labels.to(device))


def crop_flip(images: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, flip: torch.Tensor,
              padding: int = 4) -> torch.Tensor:
    """Zero-pad, crop image i at rows dy[i]:, cols dx[i]: and mirror it where flip[i].

    images: (B, C, H, W) uint8; dy, dx: (B,) int64 in [0, 2 * padding]; flip: (B,) bool.
    Returns (B, C, H, W) uint8; dy = dx = padding and no flip gives the image back.
    """
    b, c, h, w = images.shape
    device = images.device
    padded = F.pad(images, (padding, padding, padding, padding))
    rows = dy[:, None] + torch.arange(h, device=device)                       # (B, H)
    cols = torch.arange(w, device=device).expand(b, w)
    cols = torch.where(flip[:, None], w - 1 - cols, cols) + dx[:, None]        # (B, W)
    batch = torch.arange(b, device=device)[:, None, None, None]
    channel = torch.arange(c, device=device)[None, :, None, None]
    return padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]


def random_crop_flip(images: torch.Tensor, generator: torch.Generator, padding: int = 4) -> torch.Tensor:
    """RandomCrop(padding) + RandomHorizontalFlip with one offset and coin per image: (B, C, H, W) uint8."""
    b = len(images)
    offsets = torch.randint(0, 2 * padding + 1, (2, b), generator=generator)
    flip = torch.rand(b, generator=generator) < 0.5
    dy, dx, flip = (t.to(images.device, non_blocking=True) for t in (offsets[0], offsets[1], flip))
    return crop_flip(images, dy, dx, flip, padding)


def augment_batch(images: torch.Tensor, config: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """config.augmentation on a (B, C, H, W) uint8 batch, drawn per image: (B, C, H, W) uint8."""
    if config.augmentation == "rotate_affine_jitter":
        return augment.rotate_affine_jitter(images, generator)
    return random_crop_flip(images, generator, config.padding)


def normalize(images: torch.Tensor, mean: Sequence[float], std: Sequence[float],
              channels_last: bool = True) -> torch.Tensor:
    """(B, 3, H, W) uint8 -> (B, 3, H, W) float32 (x / 255 - mean) / std, as ToTensor + Normalize."""
    mean_t = torch.as_tensor(mean, dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
    x = images.float().div_(255).sub_(mean_t).div_(std_t)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def batch_order(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """A shuffled epoch as index batches (CPU int64); a final batch of one is dropped (BatchNorm)."""
    batches = list(torch.randperm(n, generator=generator).split(batch_size))
    if len(batches) > 1 and len(batches[-1]) == 1:
        batches.pop()
    return batches


def steps_per_epoch(n: int, batch_size: int, max_steps: int | None = None) -> int:
    """Optimizer steps in one epoch of `n` images, as batch_order gives them, capped at `max_steps`."""
    steps = math.ceil(n / batch_size) - (1 if n > batch_size and n % batch_size == 1 else 0)
    return steps if max_steps is None else min(steps, max_steps)


# ---------------------------------------------------------------------------------------------
# Precision


KERNEL_CAP_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")


def kernel_caps() -> str:
    """The environment settings that cap torch's or oneDNN's kernels, "NAME=value, ..." ("" when none)."""
    settings = {name: os.environ.get(name, "") for name in KERNEL_CAP_VARIABLES}
    return ", ".join(f"{name}={value}" for name, value in settings.items() if value and value.upper() != "ALL")


def kernels_capped_below_avx512() -> bool:
    """True when torch's or oneDNN's kernels are limited to less than AVX-512 (ATEN_CPU_CAPABILITY,
    ONEDNN_MAX_CPU_ISA), so bf16 would run emulated however capable the CPU is."""
    if torch.backends.cpu.get_cpu_capability() not in ("AVX512", "AMX"):
        return True
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", os.environ.get("DNNL_MAX_CPU_ISA", "ALL")).upper()
    return isa != "ALL" and not any(native in isa for native in ("BF16", "AMX", "AVX10"))


def native_bf16_unit() -> str | None:
    """The unit this CPU runs bf16 on natively: "AMX", "AVX-512 BF16", "bf16" where torch cannot tell, or None."""
    try:
        if torch.cpu._is_amx_tile_supported():
            return "AMX"
        return "AVX-512 BF16" if torch.cpu._is_avx512_bf16_supported() else None
    except AttributeError:
        return "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else None


def cpu_has_fast_bf16() -> bool:
    """True when this CPU runs bf16 natively (AVX-512 BF16 or AMX), torch may use it, and CPU autocast works."""
    if native_bf16_unit() is None or kernels_capped_below_avx512():
        return False
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = F.conv2d(torch.ones(1, 3, 4, 4), torch.ones(2, 3, 3, 3))
        return out.dtype == torch.bfloat16
    except (RuntimeError, TypeError):
        return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """"auto" -> "bf16" on GPUs and CPUs that support it, "fp16" on older GPUs, else "fp32"."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}; expected one of {PRECISIONS}")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu" and cpu_has_fast_bf16():
        return "bf16"
    return "fp32"


def run_precision(config: TrainConfig, device: torch.device, checkpoint_path: Path | str | None = None) -> str:
    """The precision of a run: the one its checkpoint started with, else config.precision resolved here.

    A run resumed on another machine keeps its precision (bf16 stays bf16 where auto would pick fp32).
    """
    if checkpoint_path is not None and Path(checkpoint_path).is_file():
        saved = saved_precision(checkpoint_path)
        if saved is not None:
            here = resolve_precision(config.precision, device)
            if saved != here and config.verbose:
                print(f"resuming in {saved}, the precision this run started with ({config.precision!r} "
                      f"would pick {here} here)")
            return saved
    return resolve_precision(config.precision, device)


def machine_load() -> float | None:
    """The 1-minute load average (runnable processes), None where the OS does not give one."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The autocast context for a resolved precision ("fp32" turns it off)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=AUTOCAST_DTYPES[precision])


def describe_hardware(device: torch.device) -> str:
    """The GPU's name, or the CPU's model, cores, torch threads, vector extension, native bf16 unit and any
    kernel cap (a run with its kernels capped at AVX2 stands in for an AVX2-only CPU and says so)."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (GPU)"
    name = platform.processor() or platform.machine() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    unit, caps = native_bf16_unit(), kernel_caps()
    vector = torch.backends.cpu.get_cpu_capability()
    if unit:
        vector += f" ({unit} unused)" if kernels_capped_below_avx512() else f" + {unit}"
    if caps:
        vector += f", kernels capped by {caps}"
    return f"{name}, {cpu_cores()} cores, {torch.get_num_threads()} torch threads, {vector}"


def cpu_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# ---------------------------------------------------------------------------------------------
# Optimizer and schedule


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """SGD (momentum, weight decay, nesterov) or Adam (weight decay) over the model's parameters."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay, nesterov=config.nesterov)
    return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def build_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig,
                    steps: int) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The lr schedule; `steps` is optimizer steps per epoch. Per-iteration ones step every batch."""
    total = max(1, config.epochs * steps)
    if config.schedule in ("multistep", "multistep_iterations"):  # milestones in epochs or in steps
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, list(config.milestones), config.gamma)
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total)
    return None


def steps_per_iteration(config: TrainConfig) -> bool:
    """Whether the schedule steps once per optimizer step (else once per epoch)."""
    return config.schedule in PER_ITERATION_SCHEDULES


def scaled_milestones(milestones_in_iterations: Sequence[int], paper_total_iterations: int,
                      run_total_iterations: int) -> list[int]:
    """Milestones at the same fractions of a run of `run_total_iterations` (e.g. 32k, 48k of 64k)."""
    scale = run_total_iterations / paper_total_iterations
    return [max(1, round(m * scale)) for m in milestones_in_iterations]


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    """The first parameter group's learning rate."""
    return float(optimizer.param_groups[0]["lr"])


# ---------------------------------------------------------------------------------------------
# Training and evaluation


@dataclass
class Run:
    """The mutable state of one run: everything a checkpoint holds."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    scaler: torch.amp.GradScaler
    generator: torch.Generator
    history: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    best_val_accuracy: float | None = None
    best_state: dict | None = None
    stopped_early: bool = False


def tensor_batches(run: Run, data: DeviceSplit, batches: list[torch.Tensor], config: TrainConfig,
                   mean: Sequence[float], std: Sequence[float],
                   device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The engine's data path: (x (B, 3, H, W) normalised float, labels (B,)) per index batch, augmented as tensors."""
    for index in batches:
        index = index.to(data.images.device, non_blocking=True)
        images = data.images[index].to(device, non_blocking=True)  # no copy where the data lives on `device`
        labels = data.labels[index].to(device, non_blocking=True)
        if config.augment:
            images = augment_batch(images, config, run.generator)
        yield normalize(images, mean, std, config.channels_last), labels


def handout_batches(split: Split, batches: list[torch.Tensor], config: TrainConfig, mean: Sequence[float],
                    std: Sequence[float], device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The handouts' data path, same batches: PIL images through per-sample transforms in a DataLoader."""
    from torch.utils.data import DataLoader

    dataset = cifar10.CIFAR10(split, cifar10.handout_transform(config.augment, mean, std))
    loader = DataLoader(dataset, batch_sampler=[index.tolist() for index in batches], num_workers=0)
    for x, labels in loader:
        yield x.to(device, non_blocking=True), labels.to(device, non_blocking=True)


def train_epoch(run: Run, data: DeviceSplit | Split, config: TrainConfig, mean: Sequence[float],
                std: Sequence[float], device: torch.device, precision: str,
                description: str = "train") -> tuple[float, float]:
    """One pass over `data` (a DeviceSplit; a Split for the "handout" pipeline); returns mean loss and accuracy (%)."""
    run.model.train()
    criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    batches = batch_order(len(data), config.batch_size, run.generator)[:config.max_steps_per_epoch]
    if config.pipeline == "handout":
        stream = handout_batches(data, batches, config, mean, std, device)
    else:
        stream = tensor_batches(run, data, batches, config, mean, std, device)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    seen = 0
    bar = progress.bar(stream, desc=description, leave=False, total=len(batches))
    for step, (x, labels) in enumerate(bar):
        with autocast(device, precision):
            logits = run.model(x)
            loss = criterion(logits, labels)
        run.optimizer.zero_grad(set_to_none=True)
        run.scaler.scale(loss).backward()
        run.scaler.step(run.optimizer)
        run.scaler.update()
        if run.scheduler is not None and steps_per_iteration(config):
            run.scheduler.step()
        loss_sum += loss.detach() * len(labels)
        correct += (logits.argmax(1) == labels).sum()
        seen += len(labels)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    return loss_sum.item() / max(seen, 1), 100.0 * correct.item() / max(seen, 1)


@torch.no_grad()
def evaluate(model: nn.Module, data: DeviceSplit, mean: Sequence[float], std: Sequence[float],
             device: torch.device | None = None, precision: str = "fp32", batch_size: int = 1000,
             tta: bool = False, channels_last: bool = True) -> dict:
    """Loss and accuracy (%) of `model` on `data` (images (N, 3, 32, 32) uint8), no augmentation.

    With tta, also "accuracy_tta": logits averaged over the image and its mirror image.
    """
    device = device or data.images.device
    model.eval()
    loss_sum, correct, correct_tta = 0.0, 0, 0
    for start in range(0, len(data), batch_size):
        images = data.images[start:start + batch_size].to(device, non_blocking=True)
        labels = data.labels[start:start + batch_size].to(device, non_blocking=True)
        x = normalize(images, mean, std, channels_last)
        with autocast(device, precision):
            logits = model(x).float()
            if tta:
                flipped = model(x.flip(3)).float()
        loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
        correct += (logits.argmax(1) == labels).sum().item()
        if tta:
            correct_tta += ((logits + flipped).argmax(1) == labels).sum().item()
    n = max(len(data), 1)
    result = {"loss": loss_sum / n, "accuracy": 100.0 * correct / n}
    result["accuracy_tta"] = 100.0 * correct_tta / n if tta else None
    return result


@torch.no_grad()
def predict(model: nn.Module, data: DeviceSplit, mean: Sequence[float], std: Sequence[float],
            device: torch.device, precision: str = "fp32", batch_size: int = 1000,
            channels_last: bool = True) -> torch.Tensor:
    """The class `model` predicts for each image of `data` (images (N, 3, H, W) uint8): (N,) int64 on the CPU."""
    model.eval()
    predicted = []
    for start in range(0, len(data), batch_size):
        x = normalize(data.images[start:start + batch_size].to(device), mean, std, channels_last)
        with autocast(device, precision):
            predicted.append(model(x).argmax(1).cpu())
    return torch.cat(predicted) if predicted else torch.zeros(0, dtype=torch.int64)


def update_best(run: Run, epoch: int, val_accuracy: float | None) -> None:
    """Remember the epoch and weights with the highest validation accuracy so far."""
    if val_accuracy is None:
        return
    if run.best_val_accuracy is None or val_accuracy > run.best_val_accuracy:
        run.best_epoch, run.best_val_accuracy = epoch, val_accuracy
        run.best_state = {k: v.detach().clone() for k, v in run.model.state_dict().items()}


def should_stop(run: Run, epoch: int, patience: int | None) -> bool:
    """True after `patience` epochs without a better validation accuracy."""
    return patience is not None and run.best_epoch is not None and epoch - run.best_epoch >= patience


def epoch_line(row: dict, epochs: int) -> str:
    """One printed line per epoch: epoch, train loss/accuracy, val accuracy, lr, seconds."""
    val = "   n/a" if row["val_accuracy"] is None else f"{row['val_accuracy']:6.2f}"
    return (f"epoch {row['epoch']:3d}/{epochs}  train loss {row['train_loss']:.4f}  "
            f"train acc {row['train_accuracy']:6.2f} %  val acc {val} %  "
            f"lr {row['lr']:.4g}  {row['seconds']:.1f} s")


# ---------------------------------------------------------------------------------------------
# Checkpoints


def save_checkpoint(run: Run, config: TrainConfig, path: Path | str, precision: str) -> None:
    """Everything needed to resume, with the run's resolved precision, written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict() if run.scheduler is not None else None,
        "scaler": run.scaler.state_dict(),
        "epoch": len(run.history),
        "history": run.history,
        "generator": run.generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "best_epoch": run.best_epoch,
        "best_val_accuracy": run.best_val_accuracy,
        "best_state": run.best_state,
        "stopped_early": run.stopped_early,
        "config": asdict(config),
        "precision": precision,
    }
    temporary = path.with_name(path.name + ".tmp")
    torch.save(state, temporary)
    os.replace(temporary, path)


def config_changes(saved: dict, config: TrainConfig) -> list[str]:
    """The fields where `config` differs from a checkpoint's saved config (a field it lacks had its default)."""
    defaults = asdict(TrainConfig())
    return [key for key, value in asdict(config).items()
            if key != "verbose" and saved.get(key, defaults[key]) != value]


def saved_precision(path: Path | str) -> str | None:
    """The resolved precision a checkpoint's run started with (None: a checkpoint that does not say)."""
    return torch.load(path, map_location="cpu", weights_only=True).get("precision")


def load_checkpoint(run: Run, config: TrainConfig, path: Path | str, device: torch.device) -> None:
    """Restore `run` from a checkpoint written by save_checkpoint with the same config."""
    state = torch.load(path, map_location=device, weights_only=True)
    changed = config_changes(state["config"], config)
    if changed:
        raise ValueError(f"{path} was written with other settings ({', '.join(changed)}); "
                         f"resume with the same TrainConfig or start afresh (resume=False)")
    run.model.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    if run.scheduler is not None:
        run.scheduler.load_state_dict(state["scheduler"])
    run.scaler.load_state_dict(state["scaler"])
    run.generator.set_state(state["generator"].cpu())
    torch.set_rng_state(state["torch_rng"].cpu())
    if state["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
    run.history = list(state["history"])
    run.best_epoch, run.best_val_accuracy = state["best_epoch"], state["best_val_accuracy"]
    run.best_state, run.stopped_early = state["best_state"], state["stopped_early"]


# ---------------------------------------------------------------------------------------------
# The run


def start_run(model: nn.Module, config: TrainConfig, device: torch.device, steps: int,
              precision: str) -> Run:
    """Move the model to `device` (channels_last if asked) and build optimizer, schedule, scaler."""
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    model.to(device=device, memory_format=memory_format)
    optimizer = build_optimizer(model, config)
    scheduler = build_scheduler(optimizer, config, steps)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    return Run(model, optimizer, scheduler, scaler, generator)


def epochs_to_run(run: Run, config: TrainConfig) -> Iterator[int]:
    """The epochs (1-based) still to train: none once the run finished or stopped early."""
    if run.stopped_early:
        return iter(())
    return iter(range(len(run.history) + 1, config.epochs + 1))


def train(model: nn.Module, train_split: Split, val_split: Split | None, test_split: Split | None,
          config: TrainConfig, mean: Sequence[float], std: Sequence[float],
          device: torch.device | str | None = None, checkpoint_path: Path | str | None = None,
          resume: bool = False, history_path: Path | str | None = None,
          data_device: torch.device | str | None = None,
          on_epoch: Callable[[dict], None] | None = None) -> Result:
    """Train `model` on `train_split` (images (N, 32, 32, 3) uint8), validate every epoch, test once.

    mean, std: per-channel normalisation in [0, 1] units. With checkpoint_path, the run is saved
    every epoch; with resume=True it continues from that checkpoint when it exists. data_device
    (default: `device`) is where the uint8 images stay; batches move to `device` as they are used.
    on_epoch(row) is called with each epoch's history row once it is recorded.
    """
    device = torch.device(device) if device is not None else default_device()
    data_device = torch.device(data_device) if data_device is not None else device
    precision = run_precision(config, device, checkpoint_path if resume else None)
    data = train_split if config.pipeline == "handout" else to_device(train_split, data_device)
    val = to_device(val_split, data_device) if val_split is not None else None
    steps = steps_per_epoch(len(data), config.batch_size, config.max_steps_per_epoch)
    run = start_run(model, config, device, steps, precision)
    if resume and checkpoint_path is not None and Path(checkpoint_path).is_file():
        load_checkpoint(run, config, checkpoint_path, device)
        if config.verbose:
            print(f"resuming {checkpoint_path} after epoch {len(run.history)}")
    eval_args = dict(device=device, precision=precision, batch_size=config.eval_batch_size,
                     channels_last=config.channels_last)
    for epoch in epochs_to_run(run, config):
        start, lr = time.perf_counter(), current_lr(run.optimizer)
        loss, accuracy = train_epoch(run, data, config, mean, std, device, precision,
                                     f"epoch {epoch}/{config.epochs}")
        if run.scheduler is not None and not steps_per_iteration(config):
            run.scheduler.step()
        scores = evaluate(run.model, val, mean, std, **eval_args) if val is not None else {}
        row = {"epoch": epoch, "train_loss": loss, "train_accuracy": accuracy,
               "val_loss": scores.get("loss"), "val_accuracy": scores.get("accuracy"),
               "lr": lr, "seconds": time.perf_counter() - start, "load": machine_load()}
        run.history.append(row)
        update_best(run, epoch, row["val_accuracy"])
        run.stopped_early = should_stop(run, epoch, config.early_stopping_patience)
        if config.verbose:
            print(epoch_line(row, config.epochs) + ("  (early stop)" if run.stopped_early else ""))
        if on_epoch is not None:
            on_epoch(row)
        if checkpoint_path is not None:
            save_checkpoint(run, config, checkpoint_path, precision)
        if run.stopped_early:
            break
    if config.restore_best and run.best_state is not None:
        run.model.load_state_dict(run.best_state)
    result = finish(run, test_split, config, mean, std, device, precision, eval_args, data_device)
    if history_path is not None:
        result.save(history_path)
    return result


def finish(run: Run, test_split: Split | None, config: TrainConfig, mean: Sequence[float],
           std: Sequence[float], device: torch.device, precision: str, eval_args: dict,
           data_device: torch.device | None = None) -> Result:
    """Test the final (or best) weights and assemble the Result."""
    start = time.perf_counter()
    scores = None
    if test_split is not None:
        test = to_device(test_split, data_device or device)
        scores = evaluate(run.model, test, mean, std, tta=config.tta, **eval_args)
    seconds = sum(row["seconds"] for row in run.history) + time.perf_counter() - start
    return Result(history=copy.deepcopy(run.history), best_epoch=run.best_epoch,
                  best_val_accuracy=run.best_val_accuracy,
                  test_accuracy=scores["accuracy"] if scores else None,
                  test_accuracy_tta=scores["accuracy_tta"] if scores else None,
                  seconds=seconds, device=str(device), precision=precision,
                  stopped_early=run.stopped_early, config=asdict(config))


# ---------------------------------------------------------------------------------------------
# Curves


def save_curves(history: list[dict], path: Path | str, val_label: str = "validation") -> Path:
    """Write a PNG with loss (train, val) and accuracy (train, val) per epoch; return its path."""
    from matplotlib.figure import Figure  # no pyplot: works under Agg and without a display

    epochs = [row["epoch"] for row in history]
    figure = Figure(figsize=(10, 4))
    loss_ax, acc_ax = figure.subplots(1, 2)
    for ax, key, label in ((loss_ax, "loss", "loss"), (acc_ax, "accuracy", "accuracy (%)")):
        ax.plot(epochs, [row[f"train_{key}"] for row in history], label="train")
        val = [row.get(f"val_{key}") for row in history]
        if any(v is not None for v in val):
            ax.plot(epochs, [np.nan if v is None else v for v in val], label=val_label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.legend()
        ax.grid(alpha=0.3)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path
