"""`course reproduce`: retrain a lab's reference setting with labkit.engine and tabulate the results.

Settings are data: SETTINGS[lab][name] is one `Setting`. Adding a lab or a setting is one entry.
"""

from __future__ import annotations

import json
import subprocess
import zlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import torch

from autograder import golden
from labkit import cifar10, config, engine

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)  # CIFAR-10 training set, per channel (as in lab 2)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR10_TRAIN_IMAGES = 50_000
HE_2016 = "He et al. 2016, *Deep Residual Learning for Image Recognition* (CVPR), Table 6"
KIT_DIR = Path(__file__).resolve().parents[1]


class ReproduceError(ValueError):
    """An unknown setting, an unusable device, or a checkpoint from another run."""


@dataclass(frozen=True)
class Setting:
    """One reference configuration of a lab: model, training, and the published figures."""

    title: str                                  # one line for the table, e.g. "ResNet32, lr ÷10 at 50/75 %"
    description: str                            # what it is and why these choices
    model: str                                  # factory in the lab's reference parts (golden.load_reference)
    args: tuple = ()                            # its positional arguments, e.g. (32,) for resnet(32)
    epochs: int = 200                           # default epochs (--epochs overrides)
    train: Mapping[str, Any] = field(default_factory=dict)  # TrainConfig fields but epochs and milestones
    milestones: tuple[float, ...] = ()          # lr drops as fractions of the epochs ("multistep")
    val_fraction: float = 0.1                   # training images held out to validate (seeded split)
    mean: tuple[float, ...] = CIFAR10_MEAN
    std: tuple[float, ...] = CIFAR10_STD
    handout: float | None = None                # the handout's test accuracy (%), None: it gives none
    paper: float | None = None                  # the paper's test accuracy (%)
    paper_parameters: float | None = None       # the paper's parameter count (millions)
    paper_source: str = HE_2016                 # where `paper` comes from (shown under the table)
    decay_every: int | None = None              # lr × gamma every this many epochs (main.py's 20); overrides milestones
    for_gpu: bool = False                       # too long for a CPU: run only when named (--setting) or on a GPU
    instructor_checkpoint: str | None = None    # course.toml checkpoint key its weights become (lab 1)

    def config(self, epochs: int | None = None) -> engine.TrainConfig:
        """The TrainConfig for `epochs` (default self.epochs); milestones scale with the epochs."""
        epochs = epochs or self.epochs
        if self.decay_every:
            return engine.TrainConfig(epochs=epochs, milestones=range(self.decay_every, epochs, self.decay_every),
                                      **self.train)
        if "milestones" in self.train:  # absolute milestones (e.g. iterations, "as written")
            return engine.TrainConfig(epochs=epochs, **self.train)
        milestones = tuple(max(1, int(epochs * f)) for f in self.milestones)
        return engine.TrainConfig(epochs=epochs, milestones=milestones, **self.train)


# He et al. (2016), section 4.2, as lab 2's report reads it: batch 128, SGD momentum 0.9, lr 0.1,
# weight decay 1e-4, pad-4 crop + flip; the paper's 32k/48k of 64k iterations are 50 %/75 %.
_HE_CIFAR = dict(batch_size=128, optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=1e-4, augment=True)
_DECAY = dict(schedule="multistep", gamma=0.1)

# Handout 001's main.py: Adam lr 1e-3, batch 100, lr ÷3 every 20 epochs, crop + flip, its normalisation,
# trained on all 50,000 training images and tested after the last epoch.
_MAIN_PY = dict(batch_size=100, optimizer="adam", lr=1e-3, weight_decay=0.0, augment=True, schedule="multistep",
                gamma=1 / 3)


def _lab1(model: str, key: str, epochs: int, handout: float, for_gpu: bool, why: str) -> Setting:
    """A lab 1 setting: main.py's recipe for `model`, whose weights become checkpoint `key` of course.toml."""
    return Setting(f"{key}, main.py, {epochs} epochs", f"lab 1: {model} with main.py's recipe (Adam 1e-3, batch "
                   f"100, lr ÷3 every 20 epochs, crop + flip), {epochs} epochs: {why}", model=model, epochs=epochs,
                   train=_MAIN_PY, decay_every=20, val_fraction=0.0,
                   mean=cifar10.HANDOUT_MEAN, std=cifar10.HANDOUT_STD, handout=handout, paper=None,
                   paper_parameters=None,
                   for_gpu=for_gpu, instructor_checkpoint=key)


# `quick` and its peer: one-cycle SGD for a fixed wall-clock budget (about 30 min on a 2-core CPU).
_QUICK = dict(batch_size=128, optimizer="sgd", lr=0.2, momentum=0.9, nesterov=True, weight_decay=5e-4,
              schedule="onecycle", label_smoothing=0.1, augment=True, tta=True)
QUICK_EPOCHS = 45  # at 1,690 img/s (a 2-core AVX-512 BF16 EPYC, benchmarks/README.md) about 23 min
QUICK_HANDOUT_EPOCHS = 28  # the handout loop's 30 min on the EPYC (796 img/s, benchmarks/README.md)

SETTINGS: dict[str, dict[str, Setting]] = {
    "lab1": {
        "resnet50-cpu": _lab1("ResNet50_layer4", "resnet50", 40, 82.51, False, "a CPU-sized run"),
        "vgg16-cpu": _lab1("vgg16", "vgg16", 20, 86.43, False, "a CPU-sized run"),
        "resnet50-full": _lab1("ResNet50_layer4", "resnet50", 285, 82.51, True,
                               "the length of the handout's resnet50_epoch285.ckpt, for a GPU"),
        "vgg16-full": _lab1("vgg16", "vgg16", 250, 86.43, True,
                            "the length of the handout's vgg16_epoch250.ckpt, for a GPU"),
    },
    "lab2": {
        "1": Setting("ResNet32, no lr decay", "lab 2 setting #1: ResNet32, constant lr 0.1, 200 epochs",
                     model="resnet", args=(32,), epochs=200, train=dict(_HE_CIFAR, schedule="none"),
                     paper=92.49, paper_parameters=0.46),
        "2": Setting("ResNet32, lr ÷10 at 50/75 %", "lab 2 setting #2: ResNet32, lr ÷10 at 50 % and 75 % "
                     "of the epochs (the paper's schedule), 200 epochs",
                     model="resnet", args=(32,), epochs=200, train=dict(_HE_CIFAR, **_DECAY),
                     milestones=(0.5, 0.75), paper=92.49, paper_parameters=0.46),
        "3": Setting("ResNet20, lr ÷10 at 50/75 %", "lab 2 setting #3: ResNet20, as setting 2",
                     model="resnet", args=(20,), epochs=200, train=dict(_HE_CIFAR, **_DECAY),
                     milestones=(0.5, 0.75), paper=91.25, paper_parameters=0.27),
        "quick": Setting(
            "ResNet20, one-cycle, all 50k, flip TTA", "ResNet20 tuned for wall-clock time on a 2-core CPU: "
            f"{QUICK_EPOCHS} epochs on all 50,000 training images (a fixed schedule needs no held-out split) with a "
            "one-cycle schedule (warm-up to a peak lr of 0.2, then cosine annealing to ~0, momentum cycled "
            "0.95-0.85), batch 128, Nesterov momentum, weight decay 5e-4, label smoothing 0.1, and test-time "
            "flip augmentation (reported beside the plain accuracy); the engine's data path (uint8 tensors, "
            "batch augmentation, channels_last, bf16 where the CPU has it)",
            model="resnet", args=(20,), epochs=QUICK_EPOCHS, train=_QUICK, val_fraction=0.0,
            paper=91.25, paper_parameters=0.27),
        "quick-handout": Setting(
            "ResNet20, one-cycle, handout loop (peer)", "the peer of `quick`: the same model, optimizer, schedule "
            "and TTA through the handouts' data path (PIL transforms per image in a DataLoader, fp32, NCHW), "
            f"for the {QUICK_HANDOUT_EPOCHS} epochs that fit in the time `quick` takes",
            model="resnet", args=(20,), epochs=QUICK_HANDOUT_EPOCHS,
            train=dict(_QUICK, pipeline="handout", precision="fp32", channels_last=False), val_fraction=0.0,
            paper=91.25, paper_parameters=0.27),
    },
    # Handout 003: ResNet44 with conv shortcuts, SGD lr 0.1 / momentum 0.9 / weight decay 1e-4, batch 128,
    # 50 epochs, 10 % validation, and its augmentation: flip, rotation 10°, shear 10° + scale 0.8-1.2,
    # colour jitter 0.2 (labkit.augment, on whole batches; no crop).
    "lab3": {
        "as-written": Setting(
            "ResNet44, MultiStepLR([32000, 48000]) per iteration", "lab 3 as written: the handout's augmentation "
            "(flip, rotation, shear + scale, colour jitter); 50 epochs of ~352 iterations never reach the "
            "milestones, so the lr stays 0.1",
            model="resnet44", epochs=50,
            train=dict(_HE_CIFAR, augmentation="rotate_affine_jitter", schedule="multistep_iterations",
                       milestones=(32000, 48000), gamma=0.1),
            handout=87.09, paper=92.83, paper_parameters=0.66),
        "scaled": Setting(
            "ResNet44, lr ÷10 at 50/75 %", "lab 3 with the handout's augmentation and the paper's milestones "
            "scaled to the run: lr ÷10 at 50 % and 75 % of the epochs",
            model="resnet44", epochs=50, train=dict(_HE_CIFAR, augmentation="rotate_affine_jitter", **_DECAY),
            milestones=(0.5, 0.75),
            handout=87.09, paper=92.83, paper_parameters=0.66),
    },
}


@dataclass(frozen=True)
class FundusSetting:
    """One lab 4 configuration: ResNet18/50, pretrained or scratch, the handout's training."""

    title: str
    description: str
    arch: str                                   # "resnet18" or "resnet50" (the reference factories)
    pretrained: bool                            # ImageNet weights in the body, or random initialisation
    epochs: int
    image_size: int = 512                       # the handout's 512 x 512 (--image-size overrides)
    batch_size: int = 8
    lr: float = 1e-3                            # SGD, the handout's
    momentum: float = 0.9
    weight_decay: float = 5e-4
    handout: float | None = None                # the handout's best test accuracy (%), None: not reported


# Handout 004: SGD lr 1e-3, momentum 0.9, weight decay 5e-4; ResNet18 10 epochs, ResNet50 5; 512 x 512.
SETTINGS["lab4"] = {
    f"{arch}-{start}": FundusSetting(
        f"{arch}, {start}", f"lab 4: {arch} from {'ImageNet weights with a new 5-way fc' if start == 'pretrained' else 'random weights'}, "
        f"{epochs} epochs at 512 x 512", arch=arch, pretrained=start == "pretrained", epochs=epochs, handout=handout)
    for (arch, start, epochs, handout) in (("resnet18", "pretrained", 10, 78.31), ("resnet18", "scratch", 10, 73.36),
                                           ("resnet50", "pretrained", 5, 78.21), ("resnet50", "scratch", 5, None))
}


def lookup_lab(lab_id: str) -> dict[str, Setting | FundusSetting]:
    """SETTINGS[lab_id]; a clear error lists the labs that have settings."""
    if lab_id not in SETTINGS:
        raise ReproduceError(f"no reference settings for {lab_id} yet; labs with settings: {', '.join(SETTINGS)} "
                             f"(add them to SETTINGS in {Path(__file__).name})")
    return SETTINGS[lab_id]


def lookup(lab_id: str, name: str) -> Setting | FundusSetting:
    """SETTINGS[lab_id][name]; a clear error lists the settings (or labs) that exist."""
    lookup_lab(lab_id)
    if name not in SETTINGS[lab_id]:
        known = ", ".join(f"{key} ({s.title})" for key, s in SETTINGS[lab_id].items())
        raise ReproduceError(f"{lab_id} has no setting {name!r}; known settings: {known}")
    return SETTINGS[lab_id][name]


# ---------------------------------------------------------------------------------------------
# Set-up


def pick_device(name: str) -> torch.device:
    """"auto": CUDA when present, else the CPU; "cuda" fails clearly without a GPU."""
    if name == "auto":
        return engine.default_device()
    if name == "cuda" and not torch.cuda.is_available():
        raise ReproduceError("--device cuda: no CUDA GPU is available (use --device auto or cpu)")
    return torch.device(name)


def train_val_split(split: cifar10.Split, val_fraction: float = 0.1,
                    seed: int = 0) -> tuple[cifar10.Split, cifar10.Split | None]:
    """A seeded split into train and validation parts (lab 2's, image for image); no validation part at 0."""
    if val_fraction == 0:
        return split, None
    order = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed)).numpy()
    n_val = int(len(split) * val_fraction)
    part = lambda index: cifar10.Split(split.images[index], split.labels[index])  # noqa: E731
    return part(order[n_val:]), part(order[:n_val])


def kit_commit() -> str:
    """The kit's git commit (short hash), or "unknown" outside a git checkout."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=KIT_DIR, capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"


def data_identity(root: Path, train: cifar10.Split, test: cifar10.Split) -> dict:
    """Where the data came from, its size, and a fingerprint that changes with its content."""
    fingerprint = zlib.crc32(train.labels.tobytes(), zlib.crc32(train.images[:512].tobytes()))
    return {"source": cifar10.describe(root), "path": str(root), "train_images": len(train),
            "test_images": len(test), "fingerprint": f"{fingerprint:08x}"}


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


# ---------------------------------------------------------------------------------------------
# The run


def run_name(name: str, epochs: int, default_epochs: int) -> str:
    """A run's file stem: the setting's name, with "-<N>ep" when it trains other than its own length."""
    return name if epochs == default_epochs else f"{name}-{epochs}ep"


def paths(course: config.Course, lab_id: str, name: str, output: Path | None) -> dict[str, Path]:
    """The files of run `name` (see run_name) under `output` (default <course>/results)/<lab>/."""
    folder = (output or course.root / "results") / lab_id
    return {"json": folder / f"{name}.json", "checkpoint": folder / f"{name}.ckpt",
            "data": folder / f"{name}.ckpt.json", "weights": folder / f"{name}.pt",
            "table": folder / "README.md"}


def run(course: config.Course, lab_id: str, name: str, epochs: int | None = None, data: Path | None = None,
        device: str = "auto", output: Path | None = None, fresh: bool = False, echo=print,
        image_size: int | None = None) -> Path:
    """Retrain setting `name` of `lab_id`, write its JSON, weights and the lab's table; return the JSON path.

    Resumes from results/<lab>/<name>.ckpt when it exists, unless `fresh`.
    """
    setting = lookup(lab_id, name)
    if epochs is not None and epochs < 1:
        raise ReproduceError(f"--epochs must be at least 1, got {epochs}")
    if isinstance(setting, FundusSetting):
        from autograder import reproduce_fundus

        return reproduce_fundus.run(course, lab_id, name, setting, epochs, image_size, data, device, output, echo,
                                    fresh)
    if image_size is not None:
        raise ReproduceError(f"--image-size applies to lab 4's fundus images; {lab_id} trains on 32 x 32 CIFAR-10")
    train_config = setting.config(epochs)
    where = pick_device(device)
    root = Path(data) if data is not None else course.data_root
    try:
        full_train = cifar10.load(root, train=True, allow_download=False)
        test_split = cifar10.load(root, train=False, allow_download=False)
    except cifar10.DataMissing as missing:
        raise cifar10.DataMissing(f"{missing} (`course reproduce` never downloads: give --data DIR)") from None
    train_split, val_split = train_val_split(full_train, setting.val_fraction, train_config.seed)
    stem = run_name(name, train_config.epochs, setting.epochs)
    files = paths(course, lab_id, stem, output)
    identity = data_identity(root.resolve(), full_train, test_split)
    if fresh and files["checkpoint"].is_file():
        echo(f"--fresh: starting over; {files['checkpoint']} is overwritten after the first epoch")
    elif not fresh:
        check_resumable(files["checkpoint"], files["data"], identity, train_config)
    engine.atomic_write_text(files["data"], json.dumps(identity, indent=2))

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
    engine.atomic_write_text(files["json"], json.dumps(record, indent=2))
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    torch.save(weights, files["weights"])
    if setting.instructor_checkpoint:
        record["instructor_checkpoint"] = str(write_instructor_checkpoint(course, stem, weights, record, echo))
        engine.atomic_write_text(files["json"], json.dumps(record, indent=2))
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
    engine.atomic_write_text(path.with_suffix(".json"), json.dumps(about, indent=2))
    key = SETTINGS[record["lab"]][record["setting"]].instructor_checkpoint
    echo(f"instructor checkpoint: {path} (course.toml: [labs.{record['lab']}] checkpoints.{key} = \"{path.name}\")")
    return path


def default_settings(lab_id: str, device: str, echo=print) -> list[str]:
    """The settings `course reproduce LAB` runs without --setting: all, but GPU-length ones only on a GPU."""
    on_gpu = pick_device(device).type == "cuda"
    names = []
    for name, setting in lookup_lab(lab_id).items():
        if getattr(setting, "for_gpu", False) and not on_gpu:
            echo(f"skipping {name} ({setting.epochs} epochs, for a GPU): name it with --setting to run it here")
        else:
            names.append(name)
    return names


# ---------------------------------------------------------------------------------------------
# The table


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


def time_cell(record: dict) -> str:
    """The run's training time and its median epoch, marked "shared" when the load showed other work on its cores."""
    cores = record.get("cores") or 1
    load = record.get("max_load")
    shared = load is not None and load > cores + 0.5
    epochs = sorted(row["seconds"] for row in record.get("history", []) if row.get("seconds") is not None)
    median = f", {epochs[len(epochs) // 2]:.0f} s/epoch median" if epochs else ""
    return duration(record["training_seconds"]) + median + (f" (shared: load up to {load:.1f})" if shared else "")


def epochs_cell(record: dict) -> str:
    """Epochs run / planned, with the setting's own length when the run was scaled."""
    own = record.get("setting_epochs")
    scaled = f" (scaled from {own})" if own and own != record["epochs"] else ""
    run = record.get("epochs_run", len(record.get("history", [])))  # lab 4's records have no early stopping
    return f"{run}/{record['epochs']}{scaled}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def table(lab_id: str, records: list[dict]) -> str:
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
    engine.atomic_write_text(readme, before + summary(results) + after)
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
        from autograder import reproduce_fundus

        return reproduce_fundus.table
    return table


def write_table(lab_id: str, folder: Path, echo=print) -> Path:
    """Rewrite folder/README.md (and each run's curves) from the JSON of every registered setting in `folder`."""
    path = folder / "README.md"
    records = read_records(lab_id, folder, echo)
    for record in records:
        write_curves(record, folder)
    engine.atomic_write_text(path, renderer(lab_id)(lab_id, records))
    readme = folder.parent.parent / "README.md"  # the course's README, when folder is <course>/results/<lab>
    if folder.parent.name == "results" and refresh_readme(readme, folder.parent):
        echo(f"summary: {readme}")
    return path
