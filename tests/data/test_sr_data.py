"""Super-resolution data: the bicubic degradation, HR crops, and which photos a prepared split gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from restoria.data.base import layout_rows
from restoria.data.superres import CenterCrops, HRCrops, SRDataModule, bicubic_down, bicubic_up, native_photos
from restoria.imaging import to_tensor


def test_bicubic_down_is_antialiased_and_8_bit(photos: dict[str, np.ndarray]) -> None:
    hr = to_tensor(photos["astronaut"][:256, :256])[None]
    lr = bicubic_down(hr, 4)
    assert lr.shape == (1, 3, 64, 64)
    assert torch.equal(lr, (lr * 255).round() / 255)  # what a saved photo holds
    # antialiasing: the LR photo agrees with Pillow's antialiased bicubic reduction, not with sampling
    pil = to_tensor(np.asarray(Image.fromarray(photos["astronaut"][:256, :256]).resize((64, 64), Image.BICUBIC)))[None]
    sampled = hr[..., 1::4, 1::4]
    assert (lr - pil).abs().mean() < 0.02 < (sampled - pil).abs().mean()
    with pytest.raises(ValueError, match="multiple of the scale"):
        bicubic_down(hr[..., :255, :], 2)
    assert bicubic_up(lr, 4).shape == hr.shape


def test_hr_crops_are_random_and_val_crops_fixed(photo_dir: Path) -> None:
    paths = sorted(photo_dir.iterdir())[:3]
    train = HRCrops(paths, 48)
    assert train[0]["hr"].shape == (3, 48, 48)
    assert not torch.equal(train[0]["hr"], train[0]["hr"])  # a new crop each time
    val = CenterCrops(paths, 64)
    assert torch.equal(val[1]["hr"], val[1]["hr"])
    tiny = photo_dir.parent / "tiny.png"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(tiny)
    assert HRCrops([tiny], 48)[0]["hr"].shape == (3, 48, 48)  # small photos are padded, not skipped


def test_native_photos_are_the_split_sources_once_each(dataset: Path, tmp_path: Path) -> None:
    rows = layout_rows(dataset, "train")
    found = native_photos(rows, dataset)
    sources = {Path(r.source).resolve() for r in rows}
    assert set(found) == sources and len(found) == len(sources) < len(rows)  # 2 crops per photo, one source each
    for r in rows:
        r.source = str(tmp_path / "moved" / Path(r.source).name)
    assert native_photos(rows, dataset) == [r.gt for r in rows]  # sources elsewhere: the crops


def test_datamodule_on_a_prepared_dataset_and_on_a_folder(dataset: Path, photo_dir: Path) -> None:
    dm = SRDataModule(str(dataset), crop=32, val_crop=64, batch_size=2, max_val=2)
    dm.setup()
    val_sources = {Path(r.source).resolve() for r in layout_rows(dataset, "val")}
    assert set(dm.val_set.paths) <= val_sources and not set(dm.train_set.paths) & val_sources
    assert next(iter(dm.train_dataloader()))["hr"].shape == (2, 3, 32, 32)
    crops = SRDataModule(str(dataset), hr="crops")
    crops.setup()
    assert crops.train_set.paths == [r.gt for r in layout_rows(dataset, "train")]
    folder = SRDataModule(str(photo_dir), val_fraction=0.25)
    folder.setup()
    assert len(folder.train_set) + len(folder.val_set) == len(list(photo_dir.iterdir()))
    with pytest.raises(ValueError, match="data.hr"):
        SRDataModule(str(dataset), hr="source")
