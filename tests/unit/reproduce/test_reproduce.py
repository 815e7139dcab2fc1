"""`course reproduce`: retrain a reference setting on a generated CIFAR-10, write its JSON and table, resume."""

import _thread
import json
import shutil
import threading
from dataclasses import asdict

import pytest
import torch

from autograder import cli
from autograder.checks import golden
from autograder.core import layout
from autograder.reproduce import common
from autograder.reproduce import settings
from labkit import fixtures

RESULT_KEYS = {"test_accuracy", "test_accuracy_tta", "best_epoch", "best_val_accuracy", "epochs_run",
               "training_seconds", "device", "precision", "torch", "hardware", "commit", "date", "data", "history"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    fixtures.write_cifar10_batches(root, n_train=200, n_test=100)
    return root


@pytest.fixture
def course(kit, tmp_path):
    shutil.copy(kit.root / "course.toml", tmp_path)
    return tmp_path


def reproduce_cli(course, data, *more) -> int:
    return cli.main(["--root", str(course), "reproduce", "lab2", "--setting", "2", "--data", str(data),
                     "--device", "cpu", *more])


def test_writes_the_json_and_the_table_row(course, data, capsys):
    """Does one epoch of setting 2 write the JSON with every field and a table row beside the paper's 92.49 %?"""
    assert reproduce_cli(course, data, "--epochs", "1") == 0
    out = capsys.readouterr().out
    record = json.loads((course / "results" / "lab2" / "2-1ep.json").read_text())
    assert RESULT_KEYS <= set(record)
    assert record["epochs_run"] == 1 and len(record["history"]) == 1 and record["best_epoch"] == 1
    assert 0 <= record["test_accuracy"] <= 100 and record["test_accuracy_tta"] is None
    assert record["device"] == "cpu" and record["torch"] == torch.__version__ and record["date"][:2] == "20"
    assert record["data"]["train_images"] == 200 and record["data"]["path"] == str(data.resolve())
    assert record["config"]["milestones"] == [1, 1] and record["parameters"] == 464_154
    assert len(record["commit"]) >= 7 or record["commit"] == "unknown"
    table = (course / "results" / "lab2" / "README.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| 2-1ep |")]
    assert len(rows) == 1 and "| 92.49 |" in rows[0] and "1/1 (scaled from 200)" in rows[0]
    header = table.split("| setting |")[0]
    assert "small data set" in header and "say nothing about accuracy" in header
    assert "epoch   1/1" in out and str(course / "results" / "lab2" / "2-1ep.json") in out
    assert (course / "results" / "lab2" / "2-1ep.png").read_bytes()[:4] == b"\x89PNG"


def test_unknown_setting_lists_the_known_ones(course, data, capsys):
    """Does an unknown setting stop with exit code 2 and name every setting of the lab?"""
    assert cli.main(["--root", str(course), "reproduce", "lab2", "--setting", "4", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert "no setting '4'" in err
    assert all(f"{name} (" in err for name in ("1", "2", "3", "quick"))


def test_missing_data_says_so(course, tmp_path, capsys):
    """Does a folder without CIFAR-10 stop with labkit's DataMissing message, exit code 2 and nothing written?"""
    assert reproduce_cli(course, tmp_path / "empty", "--epochs", "1") == 2
    assert "CIFAR-10 not found in" in capsys.readouterr().err
    assert not (course / "results").exists()


def test_finished_run_is_not_trained_again(course, data, capsys):
    """Does the same command after a finished run resume its checkpoint and train no new epoch?"""
    assert reproduce_cli(course, data, "--epochs", "1") == 0
    first = json.loads((course / "results" / "lab2" / "2-1ep.json").read_text())
    capsys.readouterr()
    assert reproduce_cli(course, data, "--epochs", "1") == 0
    out = capsys.readouterr().out
    second = json.loads((course / "results" / "lab2" / "2-1ep.json").read_text())
    assert "after epoch 1" in out and "epoch   1/1" not in out
    assert second["history"] == first["history"]  # timings included: the epoch was not run again
    assert second["test_accuracy"] == first["test_accuracy"]


@pytest.mark.slow
def test_interrupted_run_continues(course, data, capsys):
    """Does a run stopped by Ctrl-C after its first checkpoint continue from there when run again?"""
    checkpoint = course / "results" / "lab2" / "2-4ep.ckpt"

    stop = threading.Event()

    def press_ctrl_c_after_a_checkpoint():
        while not checkpoint.is_file():
            if stop.wait(0.005):
                return
        _thread.interrupt_main()  # what Ctrl-C does: KeyboardInterrupt in the main thread

    threading.Thread(target=press_ctrl_c_after_a_checkpoint, daemon=True).start()
    try:
        assert reproduce_cli(course, data, "--epochs", "4") == 130  # the shell's code for Ctrl-C
    finally:
        stop.set()
    stopped = capsys.readouterr()
    assert "the same command continues" in stopped.out and "reproduce stopped by Ctrl-C" in stopped.err
    done = torch.load(checkpoint, weights_only=True)["history"]
    assert 1 <= len(done) < 4 and not (course / "results" / "lab2" / "2-4ep.json").exists()
    assert reproduce_cli(course, data, "--epochs", "4") == 0
    out = capsys.readouterr().out
    record = json.loads((course / "results" / "lab2" / "2-4ep.json").read_text())
    assert f"after epoch {len(done)}" in out
    assert [row["epoch"] for row in record["history"]] == [1, 2, 3, 4]
    assert record["history"][:len(done)] == done
    assert f"epoch   {len(done) + 1}/4" in out and f"epoch   {len(done)}/4" not in out


def test_every_setting_builds_its_config():
    """Does every registered setting give a valid TrainConfig whose milestones scale with --epochs?"""
    for lab_id, lab_settings in settings.SETTINGS.items():
        for name, setting in lab_settings.items():
            if isinstance(setting, settings.Setting):
                assert setting.config().epochs == setting.epochs, (lab_id, name)
    assert settings.SETTINGS["lab2"]["2"].config(200).milestones == (100, 150)
    assert settings.SETTINGS["lab2"]["2"].config(20).milestones == (10, 15)
    quick = settings.SETTINGS["lab2"]["quick"].config()
    assert quick.schedule == "onecycle" and quick.tta and settings.SETTINGS["lab2"]["quick"].val_fraction == 0
    peer = settings.SETTINGS["lab2"]["quick-handout"].config()
    engine_path = {"pipeline": "engine", "precision": "auto", "channels_last": True, "epochs": quick.epochs}
    assert peer.pipeline == "handout" and {**asdict(peer), **engine_path} == asdict(quick)


def test_commit_is_unknown_outside_git(tmp_path, monkeypatch):
    """Does the recorded commit read "unknown" when the kit is not a git checkout, and a hash when it is?"""
    assert common.kit_commit() != "unknown" or not (layout.KIT_DIR / ".git").exists()
    monkeypatch.setattr(layout, "KIT_DIR", tmp_path)
    assert common.kit_commit() == "unknown"


@pytest.mark.slow
def test_lab3_runs_as_written_and_scaled(course, data):
    """Does lab 3 keep the handout's iteration milestones as written, scale them otherwise, and train ResNet44?"""
    as_written = settings.SETTINGS["lab3"]["as-written"].config()
    scaled = settings.SETTINGS["lab3"]["scaled"].config()
    assert as_written.schedule == "multistep_iterations" and as_written.milestones == (32000, 48000)
    assert scaled.schedule == "multistep" and scaled.milestones == (25, 37)
    assert as_written.augmentation == scaled.augmentation == "rotate_affine_jitter"  # the handout's, not crop + flip
    assert cli.main(["--root", str(course), "reproduce", "lab3", "--setting", "as-written", "--epochs", "1",
                     "--data", str(data), "--device", "cpu"]) == 0
    record = json.loads((course / "results" / "lab3" / "as-written-1ep.json").read_text())
    assert record["parameters"] == 681_818 and record["handout_accuracy"] == 87.09 and record["history"][0]["lr"] == 0.1


@pytest.fixture(scope="module")
def fundus_data(tmp_path_factory):
    return fixtures.write_fundus(tmp_path_factory.mktemp("fundus"), n_train=20, n_test=10, size=32)


@pytest.mark.slow
def test_lab4_trains_the_four_configurations(course, fundus_data, capsys):
    """Does `course reproduce lab4` train pretrained and scratch ResNet18/50 and tabulate them beside the handout?"""
    for arch in ("resnet18", "resnet50"):
        fixtures.write_standin_weights(course / "checkpoints", arch)
    assert cli.main(["--root", str(course), "reproduce", "lab4", "--data", str(fundus_data), "--epochs", "1",
                     "--image-size", "32", "--device", "cpu"]) == 0
    folder = course / "results" / "lab4"
    records = {name: json.loads((folder / f"{name}-1ep-32px.json").read_text()) for name in settings.SETTINGS["lab4"]}
    assert set(records) == {"resnet18-pretrained", "resnet18-scratch", "resnet50-pretrained", "resnet50-scratch"}
    test_levels = [int(line.split(",")[1]) for line in (fundus_data / "test.csv").read_text().split()[1:]]
    for record in records.values():
        assert record["epochs"] == 1 and len(record["history"]) == 1 and record["image_size"] == 32
        assert record["majority_baseline"] == pytest.approx(100 * test_levels.count(0) / len(test_levels))
        assert len(record["confusion_matrix"]) == 5 and 0 <= record["balanced_accuracy"] <= 100
    assert records["resnet18-scratch"]["parameters"] == 11_179_077
    assert records["resnet50-pretrained"]["parameters"] == 23_518_277
    table = (folder / "README.md").read_text()
    assert "| resnet18-pretrained-1ep-32px | 1 | 32 |" in table and "| 78.31 |" in table and "| 73.36 |" in table
    assert "majority baseline" in table and "Small data set" in table
    assert (folder / "resnet18-scratch-1ep-32px.png").is_file()


def test_lab4_without_weights_says_where_to_put_them(course, fundus_data, capsys):
    """Does a pretrained run without weights (and downloads off) stop with exit code 2, naming the file and URL?"""
    text = (course / "course.toml").read_text().replace("download = true", "download = false")
    (course / "course.toml").write_text(text)
    assert cli.main(["--root", str(course), "reproduce", "lab4", "--setting", "resnet18-pretrained", "--data",
                     str(fundus_data), "--epochs", "1", "--image-size", "32", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert str(course / "checkpoints" / "resnet18-f37072fd.pth") in err
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in err and "downloads are off" in err


@pytest.mark.slow
def test_lab1_writes_both_instructor_checkpoints(course, data, capsys):
    """Do lab 1's CPU settings (the default on a CPU) write checkpoints that load into the reference models, with JSON?"""
    from labkit import train

    assert cli.main(["--root", str(course), "reproduce", "lab1", "--epochs", "1", "--data", str(data),
                     "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "skipping resnet50-full (285 epochs, for a GPU)" in out and "skipping vgg16-full" in out
    reference = golden.load_reference("lab1")
    for stem, factory in (("resnet50-cpu-1ep", reference.ResNet50_layer4), ("vgg16-cpu-1ep", reference.vgg16)):
        checkpoint = course / "checkpoints" / f"{stem}.ckpt"
        train.load_checkpoint(factory(), checkpoint, torch.device("cpu"))
        about = json.loads(checkpoint.with_suffix(".json").read_text())
        record = json.loads((course / "results" / "lab1" / f"{stem}.json").read_text())
        assert about["epochs"] == 1 and about["test_accuracy"] == record["test_accuracy"]
        assert record["instructor_checkpoint"] == str(checkpoint) and record["data"]["val"] == 0
        assert record["config"]["optimizer"] == "adam" and record["config"]["batch_size"] == 100
        assert f'checkpoints.{stem.split("-")[0]} = "{stem}.ckpt"' in out
    table = (course / "results" / "lab1" / "README.md").read_text()
    assert "| resnet50-cpu-1ep |" in table and "| 82.51 |" in table and "| 86.43 |" in table


def test_lab1_decays_every_20_epochs_at_any_length():
    """Does main.py's lr ÷3 every 20 epochs hold at the full length and at a CPU length?"""
    full = settings.SETTINGS["lab1"]["resnet50-full"].config()
    assert full.milestones == tuple(range(20, 285, 20)) and abs(full.gamma - 1 / 3) < 1e-12 and full.lr == 1e-3
    assert settings.SETTINGS["lab1"]["vgg16-cpu"].config(45).milestones == (20, 40)


@pytest.mark.slow
def test_lab4_run_resumes_from_its_epoch_checkpoint(course, fundus_data, capsys):
    """Does a lab 4 run checkpoint every epoch, and does the same command continue it instead of training again?"""
    command = ["--root", str(course), "reproduce", "lab4", "--setting", "resnet18-scratch", "--data", str(fundus_data),
               "--epochs", "2", "--image-size", "32", "--device", "cpu"]
    assert cli.main(command) == 0
    checkpoint = course / "results" / "lab4" / "resnet18-scratch-2ep-32px.ckpt"
    assert len(torch.load(checkpoint, weights_only=True)["history"]) == 2
    first = json.loads(checkpoint.with_suffix(".json").read_text())
    assert "epoch 2/2: loss" in capsys.readouterr().out
    assert cli.main(command) == 0
    out = capsys.readouterr().out
    assert f"resuming {checkpoint}" in out and "epoch 1/2: loss" not in out
    assert json.loads(checkpoint.with_suffix(".json").read_text())["history"] == first["history"]
