"""The fast training engine: batch augmentation, normalisation, schedules, early stopping, resume."""

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from labkit import cifar10, engine, fixtures
from labkit.cifar10 import Split

MEAN, STD = (0.5, 0.4, 0.3), (0.25, 0.2, 0.3)
CPU = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_net(seed: int = 0) -> nn.Module:
    """Two convolutions with batch norm, global pooling and a linear classifier."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


class Interrupted(Exception):
    """Raised by Interruptible to stand in for a run killed halfway."""


class Interruptible(nn.Module):
    """tiny_net that raises Interrupted on training forward pass number `after` + 1."""

    def __init__(self, seed: int = 0, after: float = math.inf):
        super().__init__()
        self.net, self.after, self.calls = tiny_net(seed), after, 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls > self.after:
                raise Interrupted
        return self.net(x)


class Recorder(nn.Module):
    """Records its inputs and answers with equal logits (plus a bias, so that SGD has a parameter)."""

    def __init__(self):
        super().__init__()
        self.inputs, self.bias = [], nn.Parameter(torch.zeros(10))

    def forward(self, x):
        self.inputs.append(x.clone())
        return torch.zeros(len(x), 10) + self.bias


def splits(n: int = 300, seed: int = 0) -> tuple[Split, Split, Split]:
    """Train / val / test parts (60/20/20 %) of one fixture, so they share its palette."""
    images, labels = fixtures.make_images(n, seed)
    a, b = int(0.6 * n), int(0.8 * n)
    return Split(images[:a], labels[:a]), Split(images[a:b], labels[a:b]), Split(images[b:], labels[b:])


def without_seconds(history: list[dict]) -> list[dict]:
    """History rows without their timings, which differ from run to run."""
    return [{k: v for k, v in row.items() if k not in ("seconds", "load")} for row in history]


def config(**overrides) -> engine.TrainConfig:
    """A fast fp32 CPU configuration for tests."""
    settings = dict(epochs=3, batch_size=32, lr=0.05, precision="fp32", verbose=False)
    return engine.TrainConfig(**{**settings, **overrides})


def test_device_split_is_nchw_uint8():
    """Does a Split (N, 32, 32, 3) become images (N, 3, 32, 32) uint8 and labels (N,) int64?"""
    train, _, _ = splits(50)
    data = engine.to_device(train, CPU)
    assert data.images.shape == (30, 3, 32, 32) and data.images.dtype == torch.uint8
    assert data.labels.shape == (30,) and data.labels.dtype == torch.int64
    assert torch.equal(data.images[7], torch.from_numpy(train.images[7]).permute(2, 0, 1))


def test_augmentation_keeps_shape_and_dtype():
    """Does random crop + flip return (B, 3, 32, 32) uint8 on the input's device?"""
    images = engine.to_device(splits(50)[0], CPU).images
    out = engine.random_crop_flip(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.dtype == torch.uint8 and out.device == images.device


def test_crop_translates_each_image_by_its_own_offset():
    """Does image i move by (4 - dy[i], 4 - dx[i]) pixels, and mirror where flip[i]?"""
    images = torch.zeros(4, 3, 32, 32, dtype=torch.uint8)
    images[:, :, 10, 20] = 255
    dy, dx = torch.tensor([0, 4, 8, 2]), torch.tensor([8, 4, 0, 7])
    flip = torch.tensor([False, False, False, True])
    out = engine.crop_flip(images, dy, dx, flip, padding=4)
    for i in range(4):
        row, col = 10 + 4 - dy[i].item(), 20 + 4 - dx[i].item()
        col = 31 - col if flip[i] else col
        assert out[i, :, row, col].tolist() == [255] * 3, f"image {i}"
        assert out[i].sum().item() == 3 * 255, f"image {i}: the pixel was duplicated or lost"


def test_random_crops_are_per_image_and_within_padding():
    """Does each image get its own shift, every shift in -4..4 occurring and none beyond?"""
    images = torch.full((400, 3, 32, 32), 255, dtype=torch.uint8)
    out = engine.random_crop_flip(images, torch.Generator().manual_seed(1))
    lit_rows = (out[:, 0] > 0).any(dim=2)                         # (B, 32): rows still inside the image
    lit_cols = (out[:, 0] > 0).any(dim=1)
    shifts = set()
    for rows, cols in zip(lit_rows, lit_cols):
        top, bottom = rows.int().argmax().item(), rows.flip(0).int().argmax().item()
        left, right = cols.int().argmax().item(), cols.flip(0).int().argmax().item()
        assert max(top, bottom, left, right) <= 4 and min(top, bottom) == 0 and min(left, right) == 0
        assert rows.sum() == 32 - top - bottom and cols.sum() == 32 - left - right
        shifts.add((top - bottom, left - right))
    assert {dy for dy, _ in shifts} == set(range(-4, 5)) and {dx for _, dx in shifts} == set(range(-4, 5))
    assert len(shifts) > 60, f"only {len(shifts)} distinct (dy, dx) shifts in 400 images"


def test_flips_happen_about_half_the_time():
    """Are about half of the images mirrored (4000 images: 50 % +- 5)?"""
    images = torch.zeros(4000, 3, 32, 32, dtype=torch.uint8)
    images[..., :16] = 255                                        # bright left half
    out = engine.random_crop_flip(images, torch.Generator().manual_seed(2), padding=0)
    mirrored = (out[:, 0, 0, 0] == 0).float().mean().item()
    assert 0.45 < mirrored < 0.55, f"{mirrored:.3f} of the images were flipped"


def test_normalisation_matches_totensor_normalize():
    """Is normalize(uint8) equal to the handout's ToTensor + Normalize, channel by channel?"""
    image = fixtures.make_images(1, 3)[0][0]
    expected = cifar10.handout_transform(train=False, mean=MEAN, std=STD)(Image.fromarray(image))
    got = engine.normalize(torch.from_numpy(image).permute(2, 0, 1)[None], MEAN, STD)[0]
    assert torch.allclose(got, expected, atol=1e-6)
    white = engine.normalize(torch.full((1, 3, 2, 2), 255, dtype=torch.uint8), MEAN, STD)
    assert torch.allclose(white[0, :, 0, 0], torch.tensor([2.0, 3.0, 7 / 3]))


def test_evaluation_sees_unaugmented_images():
    """Does evaluate feed the model exactly the normalised images, in order, in batches?"""
    data = engine.to_device(splits(100)[0], CPU)
    model = Recorder()
    engine.evaluate(model, data, MEAN, STD, batch_size=25)
    assert [len(x) for x in model.inputs] == [25, 25, 10]
    assert torch.equal(torch.cat(model.inputs), engine.normalize(data.images, MEAN, STD))


def test_training_without_augment_sees_the_originals():
    """With augment=False, are training batches the normalised images themselves (some order)?"""
    train, _, _ = splits(50)
    model = Recorder()
    engine.train(model, train, None, None, config(epochs=1, augment=False, batch_size=30), MEAN, STD, CPU)
    expected = engine.normalize(engine.to_device(train, CPU).images, MEAN, STD)
    (got,) = model.inputs
    distance = (got[:, None] - expected[None]).abs().amax(dim=(2, 3, 4))   # (30 seen, 30 originals)
    assert distance.min(dim=1).values.max().item() == 0, "a training image differs from every original"
    assert sorted(distance.argmin(dim=1).tolist()) == list(range(30)), "not each original exactly once"


def test_multistep_iterations_schedule_steps_per_iteration():
    """With milestones (3, 5) in steps, is the lr 0.1 for steps 0-2, 0.01 for 3-4, then 0.001?"""
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    cfg = config(schedule="multistep_iterations", milestones=(3, 5), lr=0.1)
    scheduler = engine.build_scheduler(optimizer, cfg, steps=2)
    lrs = []
    for _ in range(7):
        lrs.append(engine.current_lr(optimizer))
        optimizer.step()
        scheduler.step()
    assert lrs == pytest.approx([0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_training_records_lr_of_each_epoch_under_iteration_milestones():
    """Training 2 steps per epoch with milestones (3, 5): do epochs start at 0.1, 0.1, 0.01, 0.001?"""
    train, _, _ = splits(100)                                    # 60 images, batch 30: 2 steps
    cfg = config(epochs=4, batch_size=30, schedule="multistep_iterations", milestones=(3, 5), lr=0.1)
    result = engine.train(tiny_net(), train, None, None, cfg, MEAN, STD, CPU)
    assert [row["lr"] for row in result.history] == pytest.approx([0.1, 0.1, 0.01, 0.001])


@pytest.mark.parametrize("schedule, optimizer, expected", [
    ("none", "sgd", [0.1, 0.1, 0.1]),
    ("multistep", "sgd", [0.1, 0.01, 0.01]),                   # milestone (1,) in epochs
    ("cosine", "adam", [0.1, 0.075, 0.025]),                    # 2 steps per epoch, 6 in all
    ("onecycle", "sgd", [0.004, None, None]),                   # starts at lr / 25
])
def test_schedules_and_optimizers(schedule, optimizer, expected):
    """Does each schedule give its lr at the start of every epoch, with SGD and Adam?"""
    train, _, _ = splits(100)                                    # 60 images, batch 30: 2 steps
    cfg = config(schedule=schedule, optimizer=optimizer, milestones=(1,), lr=0.1, batch_size=30)
    result = engine.train(tiny_net(), train, None, None, cfg, MEAN, STD, CPU)
    lrs = [row["lr"] for row in result.history]
    assert [lr if e is not None else None for lr, e in zip(lrs, expected)] == pytest.approx(expected)
    assert all(math.isfinite(row["train_loss"]) for row in result.history)


def test_scaled_milestones():
    """Do the paper's 32k/48k of 64k iterations scale to the same fractions of a shorter run?"""
    assert engine.scaled_milestones([32000, 48000], 64000, 17600) == [8800, 13200]
    assert engine.scaled_milestones([32000, 48000], 64000, 64000) == [32000, 48000]


def test_steps_per_epoch_counts_partial_batches():
    """Is an epoch ceil(N / batch) steps (352 for 45k at 128), capped, with a lone last image dropped?"""
    assert engine.steps_per_epoch(45000, 128) == 352
    assert engine.steps_per_epoch(45000, 128, max_steps=10) == 10
    assert engine.steps_per_epoch(65, 32) == 2 == len(engine.batch_order(65, 32, torch.Generator()))


def test_early_stopping_stops_and_restores_best():
    """When val accuracy only falls, does training stop `patience` epochs after the best and keep its weights?"""
    train, _, _ = splits(300)
    val = Split(train.images, (train.labels + 1) % 10)           # learning the task makes val worse
    cfg = config(epochs=10, early_stopping_patience=2)
    model = tiny_net()
    result = engine.train(model, train, val, None, cfg, MEAN, STD, CPU)
    val_accuracies = [row["val_accuracy"] for row in result.history]
    assert result.stopped_early and len(result.history) == result.best_epoch + 2 < 10
    assert result.best_epoch == 1 + int(np.argmax(val_accuracies))
    assert result.best_val_accuracy == max(val_accuracies) > val_accuracies[-1]
    restored = engine.evaluate(model, engine.to_device(val, CPU), MEAN, STD)
    assert restored["accuracy"] == result.best_val_accuracy


def test_resume_after_interruption_gives_the_straight_history(tmp_path):
    """Does a run killed in epoch 3 and resumed from its checkpoint end with the same history and weights?"""
    train, val, _ = splits(200)
    cfg = config(epochs=4, schedule="cosine", weight_decay=5e-4, nesterov=True, early_stopping_patience=3)
    straight_model = Interruptible()
    straight = engine.train(straight_model, train, val, None, cfg, MEAN, STD, CPU, tmp_path / "a.pt")
    with pytest.raises(Interrupted):
        engine.train(Interruptible(after=9), train, val, None, cfg, MEAN, STD, CPU, tmp_path / "b.pt")
    assert torch.load(tmp_path / "b.pt", weights_only=True)["epoch"] == 2
    resumed_model = Interruptible(seed=1)              # other initial weights: the checkpoint must win
    resumed = engine.train(resumed_model, train, val, None, cfg, MEAN, STD, CPU, tmp_path / "b.pt",
                           resume=True)
    assert without_seconds(resumed.history) == without_seconds(straight.history)
    for name, value in straight_model.state_dict().items():
        assert torch.equal(value, resumed_model.state_dict()[name]), name
    assert not list(tmp_path.glob("*.tmp"))


def test_resume_refuses_other_settings(tmp_path):
    """Does resuming a checkpoint under a different config fail and name the changed setting?"""
    train, _, _ = splits(100)
    engine.train(tiny_net(), train, None, None, config(epochs=1), MEAN, STD, CPU, tmp_path / "c.pt")
    with pytest.raises(ValueError, match="lr"):
        engine.train(tiny_net(), train, None, None, config(epochs=1, lr=0.2), MEAN, STD, CPU,
                     tmp_path / "c.pt", resume=True)


def test_history_json_and_curves_png(tmp_path):
    """Are the result saved as JSON (history rows with every field) and the curves as a PNG?"""
    train, val, test = splits(100)
    result = engine.train(tiny_net(), train, val, test, config(epochs=2), MEAN, STD, CPU,
                          history_path=tmp_path / "run" / "history.json")
    saved = json.loads((tmp_path / "run" / "history.json").read_text())
    assert saved["history"] == result.history and saved["test_accuracy"] == result.test_accuracy
    assert set(saved["history"][0]) == {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                                        "lr", "seconds", "load"}
    assert saved["precision"] == "fp32" and saved["device"] == "cpu" and saved["seconds"] > 0
    png = engine.save_curves(result.history, tmp_path / "curves.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_engine_learns_the_fixture(cifar_batches):
    """After 4 epochs on 160 fixture images, is validation accuracy far above chance (10 %)?"""
    split = cifar10.load(cifar_batches, train=True)
    train, val = Split(split.images[:160], split.labels[:160]), Split(split.images[160:], split.labels[160:])
    result = engine.train(tiny_net(), train, val, None, config(epochs=4, batch_size=16), MEAN, STD, CPU)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.best_val_accuracy >= 60, result.history


def test_tta_is_reported_beside_plain_accuracy():
    """Is flip-TTA accuracy computed from averaged logits and reported separately from plain accuracy?"""
    _, _, test = splits(500)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))
    scores = engine.evaluate(model, engine.to_device(test, CPU), MEAN, STD, tta=True, batch_size=40)
    x, labels = engine.normalize(engine.to_device(test, CPU).images, MEAN, STD), torch.from_numpy(test.labels)
    with torch.no_grad():
        plain = 100 * (model(x).argmax(1) == labels).float().mean().item()
        tta = 100 * ((model(x) + model(x.flip(3))).argmax(1) == labels).float().mean().item()
    assert scores["accuracy"] == pytest.approx(plain) and scores["accuracy_tta"] == pytest.approx(tta)
    assert plain != tta, "this check needs a model whose TTA and plain accuracies differ"
    assert engine.evaluate(model, engine.to_device(test, CPU), MEAN, STD)["accuracy_tta"] is None


def test_train_reports_tta_only_when_asked():
    """Does Result carry test_accuracy_tta with tta=True and None without?"""
    train, _, test = splits(100)
    with_tta = engine.train(tiny_net(), train, None, test, config(epochs=1, tta=True), MEAN, STD, CPU)
    without = engine.train(tiny_net(), train, None, test, config(epochs=1), MEAN, STD, CPU)
    assert isinstance(with_tta.test_accuracy_tta, float) and without.test_accuracy_tta is None
    assert with_tta.test_accuracy == without.test_accuracy


@pytest.mark.parametrize("fast_bf16", [True, False])
def test_precision_auto_and_bad_settings(monkeypatch, fast_bf16):
    """Does "auto" give bf16 on a CPU with native bf16 and fp32 on one without, and do bad names fail with their field?"""
    monkeypatch.setattr(engine, "cpu_has_fast_bf16", lambda: fast_bf16)
    assert engine.resolve_precision("auto", CPU) == ("bf16" if fast_bf16 else "fp32")
    assert engine.resolve_precision("fp16", CPU) == "fp16"
    with pytest.raises(ValueError, match="schedule"):
        engine.TrainConfig(schedule="step")
    with pytest.raises(ValueError, match="precision"):
        engine.resolve_precision("fp8", CPU)


def test_bf16_autocast_trains_on_the_cpu():
    """Does a bf16 run on the CPU train (finite loss) and evaluate in bf16?"""
    train, val, _ = splits(100)
    cfg = config(epochs=1, precision="bf16", max_steps_per_epoch=2)
    result = engine.train(tiny_net(), train, val, None, cfg, MEAN, STD, CPU)
    assert result.precision == "bf16" and math.isfinite(result.history[0]["train_loss"])
    assert result.history[0]["val_accuracy"] is not None


@pytest.mark.parametrize("capability, isa, capped", [("AVX512", None, False), ("AVX512", "AVX512_CORE_BF16", False),
                                                     ("AVX512", "AVX2", True), ("AVX2", None, True)])
def test_kernels_capped_below_avx512_turn_auto_bf16_off(monkeypatch, capability, isa, capped):
    """Do ATEN_CPU_CAPABILITY=avx2 or ONEDNN_MAX_CPU_ISA=AVX2 count as a CPU without fast bf16?"""
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    if isa is None:
        monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    else:
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", isa)
    assert engine.kernels_capped_below_avx512() is capped
    if capped:
        assert not engine.cpu_has_fast_bf16()


@pytest.mark.parametrize("amx, avx512_bf16, label", [(True, True, "AVX512 + AMX"), (False, True, "AVX512 + AVX-512 BF16"),
                                                     (False, False, "AVX512")])
def test_hardware_label_names_the_native_bf16_unit(monkeypatch, amx, avx512_bf16, label):
    """Does a CPU's hardware label tell AMX from AVX-512 BF16 from neither, which the capability alone does not?"""
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    for name in engine.KERNEL_CAP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert engine.describe_hardware(CPU).endswith(f"torch threads, {label}")
    assert (engine.native_bf16_unit() is None) is (label == "AVX512")


@pytest.mark.parametrize("capability, caps, label", [
    ("AVX2", {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
     "AVX2 (AMX unused), kernels capped by ATEN_CPU_CAPABILITY=avx2, ONEDNN_MAX_CPU_ISA=AVX2"),
    ("AVX512", {"ONEDNN_MAX_CPU_ISA": "AVX2"}, "AVX512 (AMX unused), kernels capped by ONEDNN_MAX_CPU_ISA=AVX2"),
    ("AVX512", {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX"},
     "AVX512 + AMX, kernels capped by ONEDNN_MAX_CPU_ISA=AVX512_CORE_AMX"),
    ("AVX512", {"ONEDNN_MAX_CPU_ISA": "ALL"}, "AVX512 + AMX"),
], ids=["both-capped", "onednn-capped", "capped-above-amx", "all-is-no-cap"])
def test_hardware_label_names_a_kernel_cap(monkeypatch, capability, caps, label):
    """Does a run on an AMX CPU with its kernels capped at AVX2 say so, rather than pass for an AVX2-only CPU?"""
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    for name in engine.KERNEL_CAP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in caps.items():
        monkeypatch.setenv(name, value)
    assert engine.describe_hardware(CPU).endswith(f"torch threads, {label}")


def test_resumed_run_keeps_the_precision_it_started_with(tmp_path, monkeypatch, capsys):
    """Does a run started in bf16 ("auto" on a bf16 CPU) resume in bf16 where "auto" would pick fp32, and say so?"""
    train, val, _ = splits(100)
    checkpoint = tmp_path / "run.ckpt"
    monkeypatch.setattr(engine, "cpu_has_fast_bf16", lambda: True)
    first = engine.train(tiny_net(), train, val, None, config(epochs=2, precision="auto", max_steps_per_epoch=2),
                         MEAN, STD, CPU, checkpoint_path=checkpoint)
    assert first.precision == "bf16" and engine.saved_precision(checkpoint) == "bf16"
    monkeypatch.setattr(engine, "cpu_has_fast_bf16", lambda: False)
    resumed = engine.train(tiny_net(), train, val, None, config(epochs=2, precision="auto", max_steps_per_epoch=2,
                                                                verbose=True),
                           MEAN, STD, CPU, checkpoint_path=checkpoint, resume=True)
    assert resumed.precision == "bf16" and "resuming in bf16" in capsys.readouterr().out
    fresh = engine.train(tiny_net(), train, val, None, config(epochs=1, precision="auto", max_steps_per_epoch=2),
                         MEAN, STD, CPU, checkpoint_path=tmp_path / "other.ckpt")
    assert fresh.precision == "fp32"


def test_handout_003_augmentation_trains_and_bad_names_fail():
    """Does augmentation="rotate_affine_jitter" train on the engine, and does an unknown augmentation name fail?"""
    train, val, _ = splits(100)
    cfg = config(epochs=1, augmentation="rotate_affine_jitter", max_steps_per_epoch=2)
    result = engine.train(tiny_net(), train, val, None, cfg, MEAN, STD, CPU)
    assert math.isfinite(result.history[0]["train_loss"]) and result.config["augmentation"] == "rotate_affine_jitter"
    batch = engine.to_device(train, CPU).images[:8]
    assert not torch.equal(engine.augment_batch(batch, cfg, torch.Generator().manual_seed(0)), batch)
    with pytest.raises(ValueError, match="augmentation"):
        engine.TrainConfig(augmentation="autoaugment")


def test_handout_pipeline_feeds_the_same_batches_through_pil():
    """Does pipeline="handout" (PIL per sample, DataLoader) give the model the engine's batches, within float rounding?"""
    train, _, _ = splits(50)
    engine_model, handout_model = Recorder(), Recorder()
    common = dict(epochs=1, augment=False, batch_size=20, channels_last=False)
    engine.train(engine_model, train, None, None, config(**common), MEAN, STD, CPU)
    engine.train(handout_model, train, None, None, config(**common, pipeline="handout"), MEAN, STD, CPU)
    assert [len(x) for x in handout_model.inputs] == [len(x) for x in engine_model.inputs] == [20, 10]
    for ours, theirs in zip(engine_model.inputs, handout_model.inputs):
        assert torch.allclose(ours, theirs, atol=1e-5)
    with pytest.raises(ValueError, match="handouts' loop"):
        engine.TrainConfig(pipeline="handout", precision="bf16", channels_last=False)
