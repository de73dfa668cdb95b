"""Training data: new damage every time a photo is seen; folds never split a source photo."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from restoria.data.base import fold_rows, layout_rows
from restoria.data.damage import DamageConfig
from restoria.data.restore import FreshDamageDataset, LayoutDataset
from restoria.grouping.cluster import GroupRow, write_group_csv
from restoria.io import InputError


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


def test_folds_from_a_group_csv(tmp_path: Path, dataset: Path) -> None:
    """With a `restoria group` CSV the folds are its folds; outliers leave training when asked; rows it left
    out of every fold are used nowhere; a CSV that does not match the dataset is refused."""
    rows = layout_rows(dataset, "train") + layout_rows(dataset, "val")
    fold_of = {r.id: i % 2 for i, r in enumerate(rows)}
    fold_of[rows[-1].id] = -1
    outlier = rows[2].id  # fold 0
    groups = tmp_path / "train_preproc.csv"
    write_group_csv(groups, [GroupRow(r.id, -(r.id == outlier), r.id == outlier, fold_of[r.id], 0.0, 0.0) for r in rows])
    train, val = fold_rows(dataset, None, 1, groups)
    assert {r.id for r in val} == {i for i, f in fold_of.items() if f == 1}
    assert {r.id for r in train} == {i for i, f in fold_of.items() if f == 0}
    train, val = fold_rows(dataset, 2, 1, groups, drop_outliers=True)
    assert outlier not in {r.id for r in train} and {r.id for r in train} | {outlier} == {i for i, f in fold_of.items() if f == 0}
    assert outlier in {r.id for r in fold_rows(dataset, 2, 0, groups, drop_outliers=True)[1]}  # still validated
    with pytest.raises(ValueError, match="holds 2 folds, not 3"):
        fold_rows(dataset, 3, 0, groups)
    write_group_csv(groups, [GroupRow(r.id, 0, False, 0, 0.0, 0.0) for r in rows[1:]])
    with pytest.raises(InputError, match="run `restoria group`"):
        fold_rows(dataset, None, 0, groups)


def test_layout_dataset_reads_masks(dataset: Path) -> None:
    item = LayoutDataset(layout_rows(dataset, "val"))[0]
    assert item["mask"].shape == item["input"].shape and item["rgb"].shape[0] == 3


def test_bright_crops_centre_on_bright_picture() -> None:
    """`bright_crops` 1 puts a bright pixel in every crop of a photo that is bright in one corner; 0 keeps
    uniform crops, most of which miss it; a photo with no bright pixel falls back to a uniform crop."""
    import numpy as np
    from skimage import data

    from restoria.data.restore import BRIGHT, crop_origin
    from restoria.imaging import to_gray

    rgb = (data.astronaut().astype(np.float32) * 0.5).astype(np.uint8)  # nothing bright left...
    rgb[400:440, 420:470] = 250  # ...but a white patch
    rng = np.random.default_rng(0)

    def hits(share: float) -> float:
        found = []
        for _ in range(60):
            y, x = crop_origin(rgb, 128, rng, share)
            assert 0 <= y <= 512 - 128 and 0 <= x <= 512 - 128
            found.append((to_gray(rgb[y : y + 128, x : x + 128]) >= BRIGHT).any())
        return float(np.mean(found))

    assert hits(1.0) == 1.0
    assert hits(0.0) < 0.5
    dark = rgb.copy()
    dark[400:440, 420:470] = 100
    y, x = crop_origin(dark, 128, rng, 1.0)
    assert 0 <= y <= 384 and 0 <= x <= 384


def test_negatives_centre_crops_on_their_points() -> None:
    """With `points_share` 1 every crop holds one of the mined points (clamped inside the photo); with
    no points for a photo, crops fall back to the other rules."""
    import numpy as np
    from skimage import data

    from restoria.data.restore import crop_origin

    rgb = data.astronaut()
    points = np.array([[10, 500], [300, 40]])
    rng = np.random.default_rng(1)
    for _ in range(40):
        y, x = crop_origin(rgb, 128, rng, 0.0, points, 1.0)
        assert any(y <= py < y + 128 and x <= px < x + 128 for py, px in points)
    assert crop_origin(rgb, 128, np.random.default_rng(2), 0.0, np.zeros((0, 2), int), 1.0) == crop_origin(rgb, 128, np.random.default_rng(2))


def test_shrink_gives_crisp_crops_and_moves_the_mined_points(tmp_path: Path) -> None:
    """A photo enlarged to the dataset's size (as `restoria prepare` enlarges CBSD432) is soft; shrunk
    before the crop, its crops are as crisp as the original's, and mined points move with it."""
    import cv2
    import numpy as np
    from skimage import data

    from restoria.data.ageing import damage_model
    from restoria.data.restore import FreshDamageDataset
    from restoria.io import write_png

    small = data.astronaut()[::2, ::2]  # 256 px, crisp
    write_png(tmp_path / "p.png", cv2.resize(small, (512, 512), interpolation=cv2.INTER_CUBIC))
    none = damage_model({"model": "ageing", "damage": {}, "ageing": {}})

    def crispness(shrink: tuple[float, float] | None) -> float:
        ds = FreshDamageDataset([tmp_path / "p.png"], 128, none, flip=False, shrink=shrink)
        return float(np.mean([np.abs(cv2.Laplacian(ds[0]["gray"][0].numpy(), cv2.CV_32F)).mean() for _ in range(12)]))

    torch.manual_seed(0)
    assert crispness((0.5, 0.5)) > 1.4 * crispness(None)
    ds = FreshDamageDataset([tmp_path / "p.png"], 64, none, flip=False, negatives={"p.png": [[300, 300]]}, negatives_share=1.0, shrink=(0.5, 0.5))
    ds._cache[0] = ds._image(0).copy()
    ds._cache[0][290:310, 290:310] = [255, 0, 0]  # the mined place, red: it must be in every crop
    for _ in range(10):
        rgb = ds[0]["rgb"].numpy()
        assert ((rgb[0] > 0.8) & (rgb[1] < 0.2)).any()
