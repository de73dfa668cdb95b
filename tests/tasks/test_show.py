"""Figures: the prediction grid has the promised size and content; the confusion matrix is drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from restoria.imaging import to_gray, to_tensor
from restoria.tasks.show import confusion_figure, prediction_grid


def test_prediction_grid_size_and_panels(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    inputs = [to_tensor(to_gray(photos[n]))[:, :96, :128] for n in ("astronaut", "coffee", "rocket")]
    masks = [(x > 0.5).float() for x in inputs]
    probs = [m * 0.9 + 0.05 for m in masks]
    path = prediction_grid(inputs, masks, probs, tmp_path / "grid.png", ["a", "b", "c"], cell=64)
    grid = np.asarray(Image.open(path).convert("L"))
    assert grid.shape == (3 * 64, 3 * 64)
    # a true-mask cell shows white where the mask is (away from the label box)
    row0 = grid[:64]
    assert row0[40:60, 64 + 4 : 128 - 4].std() > 20
    with pytest.raises(ValueError):
        prediction_grid(inputs, masks[:2], probs, tmp_path / "bad.png")


def test_confusion_figure(tmp_path: Path) -> None:
    path = confusion_figure(torch.tensor([[5, 1], [2, 7]]), ("clean", "damaged"), tmp_path / "cm.png")
    with Image.open(path) as im:
        assert im.size == (400, 360)
