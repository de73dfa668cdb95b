"""Training data: new damage every time a photo is seen; folds never split a source photo."""

from __future__ import annotations

from pathlib import Path

import torch

from restoria.damage import DamageConfig
from restoria.data import FreshDamageDataset, LayoutDataset, fold_rows, layout_rows


def test_fresh_damage_each_time(dataset: Path) -> None:
    rows = layout_rows(dataset, "train")
    ds = FreshDamageDataset([rows[0].gt], crop=96, damage=DamageConfig())
    torch.manual_seed(0)
    a, b = ds[0], ds[0]
    assert not torch.equal(a["mask"], b["mask"])
    for item in (a, b):
        assert item["input"].shape == (1, 96, 96) and item["rgb"].shape == (3, 96, 96)
        lost = item["input"][item["mask"] > 0.5]
        assert lost.numel() > 0 and torch.unique(lost).numel() == 1
        kept = item["mask"] < 0.5
        torch.testing.assert_close(item["input"][kept], item["gray"][kept])


def test_folds_group_by_source(dataset: Path) -> None:
    every = {r.id for r in layout_rows(dataset, "train") + layout_rows(dataset, "val")}
    seen: set[str] = set()
    for k in range(3):
        train, val = fold_rows(dataset, 3, k)
        assert not ({r.source for r in train} & {r.source for r in val})
        assert {r.id for r in train} | {r.id for r in val} == every
        seen |= {r.id for r in val}
    assert seen == every  # every row is validated exactly once over the folds


def test_layout_dataset_reads_masks(dataset: Path) -> None:
    item = LayoutDataset(layout_rows(dataset, "val"))[0]
    assert item["mask"].shape == item["input"].shape and item["rgb"].shape[0] == 3
