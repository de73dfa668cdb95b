"""Segmentation data: a `restoria prepare` dataset (fixed + fresh damage) or any image+mask folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from restoria.data.base import layout_rows
from restoria.data.segment import SegmentDataModule, detect_layout
from restoria.io import InputError


def test_folder_split_70_30(mask_folder: Path) -> None:
    dm = SegmentDataModule(str(mask_folder), size=64)
    dm.setup()
    train, val = dm.train_set.pairs, dm.val_set.pairs
    assert len(val) == 3 and len(train) == 6  # 9 photos, 30% held out
    assert not {p[0] for p in train} & {p[0] for p in val}
    item = dm.train_set[0]
    assert item["input"].shape == (1, 64, 64) and item["mask"].shape == (1, 64, 64)
    assert set(item["mask"].unique().tolist()) <= {0.0, 1.0}
    # the brighter half: resizing keeps the mask where the image is
    agree = (item["mask"] == (item["input"] > item["input"].median()).float()).float().mean()
    assert float(agree) > 0.85
    batch = next(iter(dm.val_dataloader()))
    assert batch["input"].shape == (3, 1, 64, 64)


def test_folder_folds_and_rgb(mask_folder: Path) -> None:
    seen: list[str] = []
    for k in range(3):
        dm = SegmentDataModule(str(mask_folder), size=64, channels=3, folds=3, fold=k)
        dm.setup()
        assert not {p[0] for p in dm.train_set.pairs} & {p[0] for p in dm.val_set.pairs}
        seen += [p[0] for p in dm.val_set.pairs]
    assert sorted(seen) == sorted(p.stem for p in (mask_folder / "images").iterdir())
    assert dm.val_set[0]["input"].shape == (3, 64, 64)


def test_folder_without_a_mask_is_refused(tmp_path: Path, mask_folder: Path) -> None:
    data = tmp_path / "d"
    shutil.copytree(mask_folder, data)
    (data / "masks" / "coffee.png").unlink()
    with pytest.raises(InputError, match="coffee"):
        SegmentDataModule(str(data)).setup()
    with pytest.raises(InputError, match="neither"):
        detect_layout(tmp_path)


def test_layout_trains_on_fixed_and_fresh_damage(dataset: Path) -> None:
    dm = SegmentDataModule(str(dataset), size=64, fresh_damage=2, damage={"max_bbox": 100})
    dm.setup()
    n = len(layout_rows(dataset, "train"))
    assert len(dm.train_set) == 3 * n  # the fixed damaged inputs + two fresh copies
    torch.manual_seed(0)
    fresh_a, fresh_b = dm.train_set[n], dm.train_set[n]
    assert not torch.equal(fresh_a["mask"], fresh_b["mask"])  # new damage each time
    lost = fresh_a["input"][fresh_a["mask"] > 0.5]
    assert lost.numel() > 0 and torch.unique(lost).numel() == 1  # one flat fill, as the competition's
    val = dm.val_set[0]
    assert val["input"].shape == (1, 128, 128)  # crop mode validates on whole images
    row = layout_rows(dataset, "val")[0]
    assert val["id"] == row.id and float(val["mask"].sum()) > 0
