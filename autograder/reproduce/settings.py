"""`course reproduce`'s settings, as data: SETTINGS[lab][name] is one `Setting` (lab 4: `FundusSetting`).

Adding a lab or a setting is one entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from autograder.core.errors import ReproduceError
from labkit import cifar10, engine, labs
from labkit.labs import CIFAR10_MEAN, CIFAR10_STD, HE_2016, PAPER_ACCURACY, PAPER_PARAMETERS, lab1, lab2, lab3, lab4


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
    val_fraction: float = lab2.VAL_FRACTION     # training images held out to validate (seeded split)
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
        milestones = labs.scaled_milestones(epochs, self.milestones)
        return engine.TrainConfig(epochs=epochs, milestones=milestones, **self.train)


_HE_CIFAR, _DECAY = lab2.HE_CIFAR, lab2.DECAY  # He et al. (2016), section 4.2, as lab 2's report reads it

# Handout 001's main.py: Adam lr 1e-3, batch 100, lr ÷3 every 20 epochs, crop + flip, its normalisation,
# trained on all 50,000 training images and tested after the last epoch.


def _lab1(model: str, key: str, epochs: int, for_gpu: bool, why: str) -> Setting:
    """A lab 1 setting: main.py's recipe for `model`, whose weights become checkpoint `key` of course.toml."""
    return Setting(f"{key}, main.py, {epochs} epochs", f"lab 1: {model} with main.py's recipe (Adam 1e-3, batch "
                   f"100, lr ÷3 every 20 epochs, crop + flip), {epochs} epochs: {why}", model=model, epochs=epochs,
                   train=dict(lab1.MAIN_PY), decay_every=lab1.DECAY_EVERY, val_fraction=0.0,
                   mean=cifar10.HANDOUT_MEAN, std=cifar10.HANDOUT_STD, handout=lab1.HANDOUT_ACCURACY[key], paper=None,
                   paper_parameters=None,
                   for_gpu=for_gpu, instructor_checkpoint=key)


# `quick` and its peer: one-cycle SGD for a fixed wall-clock budget (about 30 min on a 2-core CPU).
_QUICK = dict(batch_size=128, optimizer="sgd", lr=0.2, momentum=0.9, nesterov=True, weight_decay=5e-4,
              schedule="onecycle", label_smoothing=0.1, augment=True, tta=True)
QUICK_EPOCHS = 45  # at 1,690 img/s (a 2-core AVX-512 BF16 EPYC, benchmarks/README.md) about 23 min
QUICK_HANDOUT_EPOCHS = 28  # the handout loop's 30 min on the EPYC (796 img/s, benchmarks/README.md)

SETTINGS: dict[str, dict[str, Setting]] = {
    "lab1": {
        "resnet50-cpu": _lab1("ResNet50_layer4", "resnet50", 40, False, "a CPU-sized run"),
        "vgg16-cpu": _lab1("vgg16", "vgg16", 20, False, "a CPU-sized run"),
        "resnet50-full": _lab1("ResNet50_layer4", "resnet50", lab1.HANDOUT_CHECKPOINT_EPOCHS["resnet50"], True,
                               "the length of the handout's resnet50_epoch285.ckpt, for a GPU"),
        "vgg16-full": _lab1("vgg16", "vgg16", lab1.HANDOUT_CHECKPOINT_EPOCHS["vgg16"], True,
                            "the length of the handout's vgg16_epoch250.ckpt, for a GPU"),
    },
    "lab2": {
        "1": Setting("ResNet32, no lr decay", "lab 2 setting #1: ResNet32, constant lr 0.1, 200 epochs",
                     model="resnet", args=(32,), epochs=lab2.EPOCHS, train=dict(_HE_CIFAR, schedule="none"),
                     paper=PAPER_ACCURACY[32], paper_parameters=PAPER_PARAMETERS[32]),
        "2": Setting("ResNet32, lr ÷10 at 50/75 %", "lab 2 setting #2: ResNet32, lr ÷10 at 50 % and 75 % "
                     "of the epochs (the paper's schedule), 200 epochs",
                     model="resnet", args=(32,), epochs=lab2.EPOCHS, train=dict(_HE_CIFAR, **_DECAY),
                     milestones=lab2.MILESTONES, paper=PAPER_ACCURACY[32], paper_parameters=PAPER_PARAMETERS[32]),
        "3": Setting("ResNet20, lr ÷10 at 50/75 %", "lab 2 setting #3: ResNet20, as setting 2",
                     model="resnet", args=(20,), epochs=lab2.EPOCHS, train=dict(_HE_CIFAR, **_DECAY),
                     milestones=lab2.MILESTONES, paper=PAPER_ACCURACY[20], paper_parameters=PAPER_PARAMETERS[20]),
        "quick": Setting(
            "ResNet20, one-cycle, all 50k, flip TTA", "ResNet20 tuned for wall-clock time on a 2-core CPU: "
            f"{QUICK_EPOCHS} epochs on all 50,000 training images (a fixed schedule needs no held-out split) with a "
            "one-cycle schedule (warm-up to a peak lr of 0.2, then cosine annealing to ~0, momentum cycled "
            "0.95-0.85), batch 128, Nesterov momentum, weight decay 5e-4, label smoothing 0.1, and test-time "
            "flip augmentation (reported beside the plain accuracy); the engine's data path (uint8 tensors, "
            "batch augmentation, channels_last, bf16 where the CPU has it)",
            model="resnet", args=(20,), epochs=QUICK_EPOCHS, train=_QUICK, val_fraction=0.0,
            paper=PAPER_ACCURACY[20], paper_parameters=PAPER_PARAMETERS[20]),
        "quick-handout": Setting(
            "ResNet20, one-cycle, handout loop (peer)", "the peer of `quick`: the same model, optimizer, schedule "
            "and TTA through the handouts' data path (PIL transforms per image in a DataLoader, fp32, NCHW), "
            f"for the {QUICK_HANDOUT_EPOCHS} epochs that fit in the time `quick` takes",
            model="resnet", args=(20,), epochs=QUICK_HANDOUT_EPOCHS,
            train=dict(_QUICK, pipeline="handout", precision="fp32", channels_last=False), val_fraction=0.0,
            paper=PAPER_ACCURACY[20], paper_parameters=PAPER_PARAMETERS[20]),
    },
    # Handout 003: ResNet44 with conv shortcuts, SGD lr 0.1 / momentum 0.9 / weight decay 1e-4, batch 128,
    # 50 epochs, 10 % validation, and its augmentation: flip, rotation 10°, shear 10° + scale 0.8-1.2,
    # colour jitter 0.2 (labkit.augment, on whole batches; no crop).
    "lab3": {
        "as-written": Setting(
            "ResNet44, MultiStepLR([32000, 48000]) per iteration", "lab 3 as written: the handout's augmentation "
            "(flip, rotation, shear + scale, colour jitter); 50 epochs of ~352 iterations never reach the "
            "milestones, so the lr stays 0.1",
            model="resnet44", epochs=lab3.EPOCHS,
            train=dict(_HE_CIFAR, augmentation="rotate_affine_jitter", schedule="multistep_iterations",
                       milestones=lab3.ITERATION_MILESTONES, gamma=0.1),
            handout=lab3.HANDOUT_ACCURACY, paper=PAPER_ACCURACY[44], paper_parameters=PAPER_PARAMETERS[44]),
        "scaled": Setting(
            "ResNet44, lr ÷10 at 50/75 %", "lab 3 with the handout's augmentation and the paper's milestones "
            "scaled to the run: lr ÷10 at 50 % and 75 % of the epochs",
            model="resnet44", epochs=lab3.EPOCHS, train=dict(_HE_CIFAR, augmentation="rotate_affine_jitter", **_DECAY),
            milestones=lab2.MILESTONES,
            handout=lab3.HANDOUT_ACCURACY, paper=PAPER_ACCURACY[44], paper_parameters=PAPER_PARAMETERS[44]),
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
    image_size: int = lab4.IMAGE_SIZE           # the handout's 512 x 512 (--image-size overrides)
    batch_size: int = lab4.BATCH_SIZE
    lr: float = lab4.LR                         # SGD, the handout's
    momentum: float = lab4.MOMENTUM
    weight_decay: float = lab4.WEIGHT_DECAY
    handout: float | None = None                # the handout's best test accuracy (%), None: not reported


# Handout 004: SGD lr 1e-3, momentum 0.9, weight decay 5e-4; ResNet18 10 epochs, ResNet50 5; 512 x 512.
SETTINGS["lab4"] = {
    f"{arch}-{start}": FundusSetting(
        f"{arch}, {start}", f"lab 4: {arch} from {'ImageNet weights with a new 5-way fc' if start == 'pretrained' else 'random weights'}, "
        f"{epochs} epochs at 512 x 512", arch=arch, pretrained=start == "pretrained", epochs=epochs, handout=handout)
    for (arch, start), handout in lab4.HANDOUT_ACCURACY.items() for epochs in [lab4.EPOCHS[arch]]
}


def lookup_lab(lab_id: str) -> dict[str, Setting | FundusSetting]:
    """SETTINGS[lab_id]; a clear error lists the labs that have settings."""
    if lab_id not in SETTINGS:
        raise ReproduceError(f"no reference settings for {lab_id} yet; labs with settings: {', '.join(SETTINGS)} "
                             f"(add them to SETTINGS in autograder/reproduce/settings.py)")
    return SETTINGS[lab_id]


def lookup(lab_id: str, name: str) -> Setting | FundusSetting:
    """SETTINGS[lab_id][name]; a clear error lists the settings (or labs) that exist."""
    lookup_lab(lab_id)
    if name not in SETTINGS[lab_id]:
        known = ", ".join(f"{key} ({s.title})" for key, s in SETTINGS[lab_id].items())
        raise ReproduceError(f"{lab_id} has no setting {name!r}; known settings: {known}")
    return SETTINGS[lab_id][name]


def default_settings(lab_id: str, on_gpu: bool, echo=print) -> list[str]:
    """The settings `course reproduce LAB` runs without --setting: all, but GPU-length ones only on a GPU."""
    names = []
    for name, setting in lookup_lab(lab_id).items():
        if getattr(setting, "for_gpu", False) and not on_gpu:
            echo(f"skipping {name} ({setting.epochs} epochs, for a GPU): name it with --setting to run it here")
        else:
            names.append(name)
    return names


def run_name(name: str, epochs: int, default_epochs: int) -> str:
    """A run's file stem: the setting's name, with "-<N>ep" when it trains other than its own length."""
    return name if epochs == default_epochs else f"{name}-{epochs}ep"
