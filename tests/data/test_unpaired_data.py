"""Unpaired data: the two training domains never share a source photo; validation pairs gray with colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from restoria.data.unpaired import UnpairedDataModule


def test_prepare_dataset_splits_sources(dataset: Path) -> None:
    dm = UnpairedDataModule(str(dataset), size=32, load_size=64)
    dm.setup("fit")
    a, b = dm.train_set.a, dm.train_set.b
    assert a and b and not set(a) & set(b)
    import csv

    source = {Path(r["gt_image_path"]).name: r["source"] for r in csv.DictReader(open(dataset / "train.csv"))}
    assert not {source[p.name] for p in a} & {source[p.name] for p in b}
    item = dm.train_set[0]
    assert item["a"].shape == item["b"].shape == (3, 32, 32)
    assert torch.equal(item["a"][0], item["a"][1]) and torch.equal(item["a"][1], item["a"][2])  # gray as RGB
    val = dm.val_set[0]
    assert dm.paired_val
    gray_of_b = (0.299 * val["b"][0] + 0.587 * val["b"][1] + 0.114 * val["b"][2])
    assert (val["a"][0] - gray_of_b).abs().mean() < 0.01  # the same photo, gray and colour


def test_train_a_train_b_folders(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    names = sorted(photos)
    for i, name in enumerate(names):
        folder = tmp_path / ("trainA" if i % 2 else "trainB")
        folder.mkdir(exist_ok=True)
        Image.fromarray(photos[name]).save(folder / f"{name}.png")
    dm = UnpairedDataModule(str(tmp_path), size=32, val_fraction=0.25)
    dm.setup("fit")
    assert not dm.paired_val
    assert len(dm.train_set.a) + len(dm.val_set.a) == len(names) // 2
    item = dm.train_set[1]
    assert item["a"].shape == (3, 32, 32) and not torch.equal(item["a"][0], item["a"][1])


def test_empty_domain_is_an_error(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    (tmp_path / "trainA").mkdir()
    (tmp_path / "trainB").mkdir()
    for name in ("astronaut", "coffee", "chelsea"):
        Image.fromarray(photos[name]).save(tmp_path / "trainA" / f"{name}.png")
    dm = UnpairedDataModule(str(tmp_path), size=32)
    with pytest.raises(ValueError, match="both domains"):
        dm.setup("fit")
