"""Each reference notebook runs top to bottom on a generated CIFAR-10 with a one-epoch budget."""

import contextlib
import functools
import hashlib
import http.server
import json
import shutil
import threading

import nbformat
import pytest
import torch
from nbclient import NotebookClient
from PIL import Image

from autograder.checks import golden
from autograder.core import layout
from autograder.core import process
from labkit import fixtures

pytestmark = pytest.mark.slow  # runs nbgrader, notebooks or training: not in the fast layer

EXPECTED_OUTPUT = {
    "lab1": ("Downloading resnet50-cpu.ckpt from http://127.0.0.1:", "Downloading resnet50-cpu.json from",
             "resnet50: fine-tuning from resnet50-cpu.ckpt", "Training from scratch instead",
             "Epoch [1/1]", "61.50 % (40 epochs)", "82.51 %", "no checkpoint"),
    "lab2": ("Setting #1: ResNet32", "Setting mine: ResNet44", "Table 6", "setting ",
             "Downloading example_photo.jpg from http://127.0.0.1:", "(your instructor's example"),
    "lab3": ("as written: milestones [32000, 48000]", "scaled: milestones", "epoch 1/1", "87.09"),
    "lab4": ("Downloading fundus-sample.zip from http://127.0.0.1:", "resnet18 pretrained: 1 epoch(s)", "resnet50 scratch: 1 epoch(s)", "78.31", "balanced accuracy",
             "recall per level: no DR", "most frequent level"),
}
EXPECTED_FILES = {
    "lab1": set(),
    "lab2": {"lab2_val_accuracy.png", "lab2_setting_1.json", "lab2_setting_mine.json", "lab2_photo.png"},
    "lab3": {"lab3_loss.png", "lab3_accuracy.png"},
    "lab4": {"lab4_resnet18_accuracy.png", "lab4_resnet50_accuracy.png", "lab4_confusion_matrix.png",
             "lab4_resnet18_pretrained.json", "lab4_resnet50_scratch.json"},
}


@contextlib.contextmanager
def web_server(folder):
    """The files of `folder` served over HTTP on 127.0.0.1: yields the base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def hosting_course(kit, folder, served, base_url):
    """A course folder whose course.toml lists every file of `served` under [files] at `base_url`, by hash."""
    folder.mkdir()
    listed = "".join(f'\n[files."{path.name}"]\nurl = "{base_url}/{path.name}"\n'
                     f'sha256 = "{hashlib.sha256(path.read_bytes()).hexdigest()}"\n' for path in sorted(served.iterdir()))
    (folder / "course.toml").write_text((kit.root / "course.toml").read_text() + listed)
    return folder


def run_notebook(path, cwd) -> tuple[str, list]:
    """Execute the notebook at `path` in `cwd`; return its text outputs and error outputs."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    data = lambda output, kind: "".join(output.get("data", {}).get(kind, ""))  # noqa: E731
    text = "\n".join(o.get("text", "") or data(o, "text/markdown") or data(o, "text/plain") for o in outputs)
    return text, [o for o in outputs if o.output_type == "error"]


@pytest.mark.parametrize("lab", sorted(EXPECTED_OUTPUT))
def test_reference_notebook_runs_top_to_bottom(kit, lab, cifar_batches, tmp_path, monkeypatch):
    """Does the lab's source notebook run without error and train, on the fixtures, for one epoch?"""
    checkpoints, served = tmp_path / "checkpoints", tmp_path / "served"
    checkpoints.mkdir()
    served.mkdir()  # what the instructor hosts for the lab, fetched by hash (as on Colab)
    host(lab, served)
    with web_server(served) as base_url:
        course_root = hosting_course(kit, tmp_path / "course", served, base_url)
        text, errors = run_lab(lab, course_root, checkpoints, cifar_batches, tmp_path, monkeypatch)
    assert not errors, errors
    for snippet in EXPECTED_OUTPUT[lab]:
        assert snippet in text
    assert "Autograding: training skipped" not in text
    results = tmp_path / "results"
    assert EXPECTED_FILES[lab] <= ({p.name for p in results.iterdir()} if results.is_dir() else set())
    if lab == "lab1":
        assert (checkpoints / "resnet50-cpu.ckpt").read_bytes() == (served / "resnet50-cpu.ckpt").read_bytes()


def host(lab, folder) -> None:
    """Write the files the instructor hosts for `lab` into `folder`: lab 1's checkpoint and its record, lab 2's
    example photo, lab 4's sample of fundus images (a zip of the fundus/ folder)."""
    if lab == "lab1":
        torch.save(golden.load_reference("lab1").ResNet50_layer4().state_dict(), folder / "resnet50-cpu.ckpt")
        (folder / "resnet50-cpu.json").write_text(json.dumps({"test_accuracy": 61.5, "epochs": 40}))  # as reproduce writes
    if lab == "lab2":
        Image.new("RGB", (48, 40), (200, 30, 30)).save(folder / "example_photo.jpg")
    if lab == "lab4":
        sample = folder / "sample"
        fixtures.write_fundus(sample, n_train=40, n_test=20, size=64)
        shutil.make_archive(str(folder / "fundus-sample"), "zip", sample, "fundus")
        shutil.rmtree(sample)


def run_lab(lab, course_root, checkpoints, cifar_batches, tmp_path, monkeypatch) -> tuple[str, list]:
    """Run the lab's source notebook on the fixtures with a one-epoch budget, course.toml read from `course_root`."""
    data = cifar_batches
    if lab == "lab4":  # the fundus sample comes from the instructor's host; stand-in ImageNet weights
        data = tmp_path / "data"
        for arch in ("resnet18", "resnet50"):
            fixtures.write_standin_weights(checkpoints, arch)
    for name, value in {"LABKIT_DATA": data, "LABKIT_CHECKPOINTS": checkpoints, "LABKIT_EPOCHS": "1",
                        "LABKIT_IMAGE_SIZE": "64", "COURSE_ROOT": course_root, "PATH": process.tool_env()["PATH"]}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    return run_notebook(layout.KIT_DIR / "solutions" / lab / f"{lab}.ipynb", tmp_path)
