"""The generative models' data: scikit-learn's digits and image folders (with class subfolders as labels)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from restoria.data.generative import GenerativeDataModule, folder_items
from restoria.io import InputError


def test_digits_are_real_upsampled_and_split_by_class() -> None:
    dm = GenerativeDataModule("digits", image_size=16, val_fraction=0.1)
    dm.setup()
    assert dm.num_classes == 10
    assert len(dm.train_set) + len(dm.val_set) == 1797
    assert len(dm.val_set) == 180
    val_labels = torch.stack([dm.val_set[i]["label"] for i in range(len(dm.val_set))])
    assert torch.bincount(val_labels).min() >= 17  # stratified: every digit in validation
    image = dm.train_set[0]["image"]
    assert image.shape == (1, 16, 16) and 0 <= image.min() and image.max() <= 1
    assert image.max() > 0.5  # strokes are bright


def test_folder_with_class_subfolders_gives_labels(tmp_path: Path, photo_dir: Path) -> None:
    photos = sorted(photo_dir.iterdir())
    for i, p in enumerate(photos):
        (tmp_path / ("a" if i % 2 else "b")).mkdir(exist_ok=True)
        shutil.copy(p, tmp_path / ("a" if i % 2 else "b") / p.name)
    files, labels, names = folder_items(tmp_path)
    assert names == ["a", "b"]
    assert all(labels[i] == (0 if f.parent.name == "a" else 1) for i, f in enumerate(files))
    dm = GenerativeDataModule(str(tmp_path), image_size=32, channels=3, val_fraction=0.3)
    dm.setup()
    assert dm.num_classes == 2
    item = dm.val_set[0]
    assert item["image"].shape == (3, 32, 32)


def test_flat_folder_is_one_class_and_a_missing_one_is_named(tmp_path: Path, photo_dir: Path) -> None:
    _, labels, names = folder_items(photo_dir)
    assert set(labels) == {0} and len(names) == 1
    with pytest.raises(InputError, match="nowhere"):
        GenerativeDataModule(str(tmp_path / "nowhere")).setup()
