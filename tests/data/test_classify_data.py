"""Classification data: class folders, or a `restoria prepare` dataset read as clean vs damaged."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from restoria.data.base import layout_rows
from restoria.data.classify import ClassifyDataModule
from restoria.imaging import to_gray
from restoria.io import InputError, read_image


def test_layout_as_classes(dataset: Path) -> None:
    dm = ClassifyDataModule(str(dataset), size=64)
    dm.setup()
    rows = layout_rows(dataset, "val")
    assert len(dm.val_set) == 2 * len(rows) and dm.classes == ("clean", "damaged")
    clean, damaged = dm.val_set[0], dm.val_set[1]
    assert (float(clean["label"]), float(damaged["label"])) == (0.0, 1.0)
    assert clean["input"].shape == damaged["input"].shape == (1, 64, 64)
    # clean is the ground truth made gray like the damaged input was: the two differ only in the lost region
    gray = to_gray(read_image(rows[0].gt, "RGB"))
    want = cv2.resize(gray, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    assert np.abs(clean["input"][0].numpy() - want).max() < 2 / 255
    dm_fresh = ClassifyDataModule(str(dataset), size=64, fresh_damage=1.0)
    dm_fresh.setup()
    torch.manual_seed(0)
    a, b = dm_fresh.train_set[1]["input"], dm_fresh.train_set[1]["input"]
    assert not torch.equal(a, b)  # a new damage every time


def test_class_folders_split_stratified(class_folder: Path) -> None:
    dm = ClassifyDataModule(str(class_folder), size=64)
    dm.setup()
    for ds in (dm.train_set, dm.val_set):
        assert {label for _, label in ds.items} == {0, 1}
    assert len(dm.train_set) + len(dm.val_set) == 18 and len(dm.val_set) == 5
    item = dm.val_set[0]
    assert item["input"].shape == (1, 64, 64) and float(item["label"]) in (0.0, 1.0)


def test_class_folders_with_their_own_split(tmp_path: Path, class_folder: Path) -> None:
    for split in ("train", "val"):
        shutil.copytree(class_folder, tmp_path / split)
    shutil.rmtree(tmp_path / "val" / "damaged")
    with pytest.raises(InputError, match="damaged"):
        ClassifyDataModule(str(tmp_path)).setup()
    shutil.copytree(class_folder / "damaged", tmp_path / "val" / "damaged")
    dm = ClassifyDataModule(str(tmp_path), size=32, channels=3)
    dm.setup()
    assert len(dm.train_set) == len(dm.val_set) == 18 and dm.val_set[0]["input"].shape == (3, 32, 32)
