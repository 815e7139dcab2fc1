"""Classify one image file: resize to 32x32, normalise, and report the top-k classes."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import torch
from PIL import Image
from torch import nn
from torchvision.transforms import functional as TF

from labkit.cifar10 import CLASSES


def load_image(path: Path | str, size: int = 32) -> Image.Image:
    """The RGB image at `path`, resized to size x size; a clear error when it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no image at {path}: put a photo there (JPEG or PNG) or change PHOTO")
    try:
        with Image.open(path) as image:
            return image.convert("RGB").resize((size, size), Image.BICUBIC)
    except OSError as error:
        raise ValueError(f"{path} is not an image PIL can read ({error})") from None


@torch.no_grad()
def top_k(model: nn.Module, image: Image.Image, mean, std, k: int = 3,
          device: torch.device | str = "cpu") -> list[tuple[str, float]]:
    """The k most probable CIFAR-10 classes of `image` with their softmax probabilities."""
    x = TF.normalize(TF.to_tensor(image), mean, std).unsqueeze(0).to(device)  # (1, 3, 32, 32)
    probabilities = model.eval().to(device)(x).float().softmax(dim=1)[0]
    values, indices = probabilities.topk(k)
    return [(CLASSES[i], p) for i, p in zip(indices.tolist(), values.tolist())]


def show_prediction(image: Image.Image, predictions: list[tuple[str, float]], path: Path | str | None = None):
    """Show the image with its top classes as the title; save it to `path` when given."""
    figure, axis = plt.subplots(figsize=(3, 3.4))
    axis.imshow(image)
    axis.set_axis_off()
    axis.set_title("\n".join(f"{name}: {p:.1%}" for name, p in predictions), fontsize=9)
    if path is not None:
        figure.savefig(path, bbox_inches="tight", dpi=120)
    return figure
