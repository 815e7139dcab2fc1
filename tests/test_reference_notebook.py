"""The reference notebook runs top to bottom on a generated CIFAR-10 with a one-epoch budget."""

import nbformat
import torch
from nbclient import NotebookClient

from autograder import build, golden


def test_reference_notebook_runs_top_to_bottom(kit, cifar_batches, tmp_path, monkeypatch):
    """Does lab 1's source notebook run without error, fine-tuning from a checkpoint where there is one?"""
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    torch.save(golden.load_reference("lab1").ResNet50_layer4().state_dict(), checkpoints / "resnet50_epoch285.ckpt")
    for name, value in {"LABKIT_DATA": cifar_batches, "LABKIT_CHECKPOINTS": checkpoints, "LABKIT_EPOCHS": "1",
                        "PATH": build.tool_env()["PATH"]}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    notebook = nbformat.read(build.source_notebook(kit, "lab1"), as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(kit.root)}}).execute()
    text = "\n".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert "resnet50: fine-tuning from resnet50_epoch285.ckpt" in text
    assert "vgg16: instructor checkpoint" in text and "Training from scratch instead" in text
    assert "Epoch [1/1]" in text and "82.51 %" in text
