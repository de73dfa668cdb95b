"""Super-resolution data: high-resolution crops of real photos, and the bicubic degradation that makes
their low-resolution inputs.

The DataModule delivers HR crops only; the task makes the LR input with `bicubic_down` on the batch, so
the scale lives in one place (the model) and training, validation and the benchmark degrade alike:
antialiased bicubic downsampling (what Pillow/MATLAB `imresize` do, and what most real photos went
through), rounded to 8-bit levels as a saved photo would be.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from restoria.data.base import Row, SplitDataModule
from restoria.imaging import to_tensor
from restoria.io import InputError, list_images, read_image


def bicubic_down(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """(B, C, H, W) in [0, 1] -> (B, C, H/scale, W/scale): antialiased bicubic, quantised to 1/255."""
    h, w = hr.shape[-2:]
    if h % scale or w % scale:
        raise ValueError(f"HR size {h}x{w} is not a multiple of the scale {scale}")
    lr = F.interpolate(hr, size=(h // scale, w // scale), mode="bicubic", align_corners=False, antialias=True)
    return lr.clamp(0, 1).mul(255).round().div(255)


def bicubic_up(lr: torch.Tensor, scale: int) -> torch.Tensor:
    """The baseline every SR model has to beat: plain bicubic upsampling, clamped to [0, 1]."""
    return F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False).clamp(0, 1)


def fit_crop(rgb: np.ndarray, crop: int) -> np.ndarray:
    """A photo smaller than the crop on a side is reflect-padded up to it (rare: tiny photos)."""
    h, w = rgb.shape[:2]
    if h >= crop and w >= crop:
        return rgb
    return cv2.copyMakeBorder(rgb, 0, max(0, crop - h), 0, max(0, crop - w), cv2.BORDER_REFLECT_101)


def native_photos(rows: list[Row], root: Path) -> list[Path]:
    """The photos a prepared split was cut from, at their own resolution, once each (its `source`
    column: absolute, or relative to the working directory or the dataset), falling back to a row's
    ground-truth crop where the source is not on this machine.

    Why: `restoria prepare` scales every photo's short side to its crop size, so a 481x321 photo becomes
    a bicubic enlargement whose fine detail is interpolated; an SR model trained on it learns that blur.
    The split is the prepared one (by source photo), so nothing crosses into val or test."""
    found: dict[Path, None] = {}
    for r in rows:
        candidates = [Path(r.source), root / r.source]
        src = next((c.resolve() for c in candidates if r.source and c.is_file()), None)
        found[src or r.gt] = None
    return list(found)


class HRCrops(Dataset):
    """Random `crop` x `crop` RGB crops of photos, with a random flip/rotation (the 8 symmetries of the
    square, which SR has no reason to prefer one of). Decoded photos are kept in memory."""

    def __init__(self, paths: list[Path], crop: int, augment: bool = True) -> None:
        self.paths = paths
        self.crop = crop
        self.augment = augment
        self._cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def _image(self, i: int) -> np.ndarray:
        if i not in self._cache:
            self._cache[i] = fit_crop(read_image(self.paths[i], "RGB"), self.crop)
        return self._cache[i]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng(int(torch.randint(0, 2**62, ()).item()))
        rgb = self._image(i)
        h, w = rgb.shape[:2]
        y, x = int(rng.integers(0, h - self.crop + 1)), int(rng.integers(0, w - self.crop + 1))
        rgb = rgb[y : y + self.crop, x : x + self.crop]
        if self.augment:
            rgb = np.rot90(rgb, int(rng.integers(0, 4)))
            if rng.random() < 0.5:
                rgb = rgb[:, ::-1]
        return {"hr": to_tensor(np.ascontiguousarray(rgb))}


class CenterCrops(Dataset):
    """The centre `crop` x `crop` of each photo: fixed, so validation scores compare across steps."""

    def __init__(self, paths: list[Path], crop: int) -> None:
        self.paths = paths
        self.crop = crop

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rgb = fit_crop(read_image(self.paths[i], "RGB"), self.crop)
        h, w = rgb.shape[:2]
        y, x = (h - self.crop) // 2, (w - self.crop) // 2
        return {"hr": to_tensor(rgb[y : y + self.crop, x : x + self.crop])}


class SRDataModule(SplitDataModule):
    """HR crops from a `restoria prepare` dataset's ground-truth photos (its train/val splits, or a K-fold
    by source photo) or from any folder of photos (a seeded hold-out of `val_fraction`).

    `crop` and `val_crop` must be multiples of the model's scale (the task checks); 96 px at x4 is
    SRGAN's 24 px LR patch. `hr: native` (default) reads a prepared split's source photos at their own
    resolution where they exist (`native_photos`); `hr: crops` its ground-truth crops as they are.
    """

    def __init__(
        self,
        data: str,
        crop: int = 96,
        val_crop: int = 192,
        hr: str = "native",
        **splits: Any,
    ) -> None:
        super().__init__(data, **{"batch_size": 16, "val_fraction": 0.1, **splits})
        if hr not in ("native", "crops"):
            raise ValueError(f"data.hr must be native or crops, got {hr!r}")
        self.crop = crop
        self.val_crop = val_crop
        self.hr = hr

    def setup(self, stage: str | None = None) -> None:
        root = Path(self.data)
        if (root / "train.csv").exists():
            train_rows, val_rows = self.layout_split()
            missing = [r.id for r in train_rows + val_rows if r.gt is None]
            if missing:
                raise InputError(root / "train.csv", f"rows without ground truth: {missing[:3]}")
            if self.hr == "native":
                train, val = native_photos(train_rows, root), native_photos(val_rows, root)
            else:
                train, val = [r.gt for r in train_rows], [r.gt for r in val_rows]
        else:
            photos = list_images([root])
            if not photos:
                raise InputError(root, "no photos found (expected a `restoria prepare` dataset or a folder of photos)")
            train, val = self.folder_split(photos)
        self.train_set = HRCrops(train, self.crop)
        self.val_set = CenterCrops(self.trim_val(val), self.val_crop)
