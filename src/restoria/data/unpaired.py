"""Unpaired two-domain data for CycleGAN: photos of domain A and of domain B that never show one scene.

Two layouts:
- CycleGAN's own: DATA/trainA, DATA/trainB (and testA, testB for validation, else a held-out share of
  each train folder): any two image domains, read as RGB.
- gray <-> colour from a `restoria prepare` dataset: its train ground truth split by source photo into
  two halves, one shown gray (A, three equal channels) and the other in colour (B), so no photo is
  seen in both domains. Validation pairs each val photo's gray with its colour, so the colorizer
  (A -> B) is scored against the truth even though training never saw a pair.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from restoria.data.base import SplitDataModule
from restoria.data.transforms import sample_rng
from restoria.imaging import to_tensor
from restoria.io import list_images, read_image


def load(path: Path, gray: bool, short_side: int | None) -> np.ndarray:
    """RGB uint8, gray as three equal channels when asked, scaled so its short side is `short_side`."""
    rgb = read_image(path, "RGB")
    if gray:
        rgb = np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    if short_side:
        h, w = rgb.shape[:2]
        s = short_side / min(h, w)
        rgb = cv2.resize(rgb, (max(short_side, round(w * s)), max(short_side, round(h * s))), interpolation=cv2.INTER_AREA)
    return rgb


def crop(rgb: np.ndarray, size: int, rng: np.random.Generator | None) -> np.ndarray:
    """A random (rng) or centre (None) size x size crop; smaller photos are scaled up to fit first."""
    h, w = rgb.shape[:2]
    if min(h, w) < size:
        s = size / min(h, w)
        rgb = cv2.resize(rgb, (max(size, round(w * s)), max(size, round(h * s))), interpolation=cv2.INTER_CUBIC)
        h, w = rgb.shape[:2]
    y, x = ((rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)) if rng is not None else ((h - size) // 2, (w - size) // 2))
    out = rgb[y : y + size, x : x + size]
    if rng is not None and rng.random() < 0.5:
        out = out[:, ::-1]
    return out


class UnpairedDataset(Dataset):
    """Item i: a random crop of A[i mod |A|] and of a random B photo (training), or of A[i] and B[i]
    centred (validation; paired when both lists show the same photos)."""

    def __init__(self, a: list[Path], b: list[Path], size: int, gray_a: bool, load_size: int | None, train: bool) -> None:
        if not a or not b:
            raise ValueError(f"CycleGAN needs photos in both domains, got {len(a)} in A and {len(b)} in B")
        self.a, self.b, self.size, self.gray_a, self.load_size, self.train = a, b, size, gray_a, load_size, train

    def __len__(self) -> int:
        return max(len(self.a), len(self.b)) if self.train else min(len(self.a), len(self.b))

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rng = sample_rng() if self.train else None
        b_path = self.b[int(rng.integers(len(self.b)))] if rng is not None else self.b[i]
        a = crop(load(self.a[i % len(self.a)], self.gray_a, self.load_size), self.size, rng)
        b = crop(load(b_path, False, self.load_size), self.size, rng)
        return {"a": to_tensor(a), "b": to_tensor(b)}


class UnpairedDataModule(SplitDataModule):
    """DATA as trainA/trainB folders or a `restoria prepare` dataset (gray <-> colour); see the module doc."""

    def __init__(
        self,
        data: str,
        size: int = 128,
        load_size: int | None = None,
        **splits: Any,
    ) -> None:
        super().__init__(data, **{"batch_size": 1, "val_batch_size": 4, "max_val": 16, "val_fraction": 0.1, **splits})
        self.size, self.load_size = size, load_size
        self.paired_val = False

    def setup(self, stage: str | None = None) -> None:
        root = Path(self.data)
        if (root / "trainA").is_dir() and (root / "trainB").is_dir():
            a, b = list_images([root / "trainA"]), list_images([root / "trainB"])
            if not a or not b:
                raise ValueError(f"CycleGAN needs photos in both domains: {len(a)} in {root / 'trainA'}, {len(b)} in {root / 'trainB'}")
            if (root / "testA").is_dir() and (root / "testB").is_dir():
                val_a, val_b = list_images([root / "testA"]), list_images([root / "testB"])
            else:
                a, val_a = self.folder_split(a)
                b, val_b = self.folder_split(b)
            gray_a = False
        else:
            train, val = self.layout_split()
            sources = sorted({r.source for r in train})
            half_a = set(sources[0::2])
            a = [r.gt for r in train if r.source in half_a and r.gt]
            b = [r.gt for r in train if r.source not in half_a and r.gt]
            val_a = val_b = [r.gt for r in val if r.gt]
            gray_a, self.paired_val = True, True
        self.train_set = UnpairedDataset(a, b, self.size, gray_a, self.load_size, train=True)
        self.val_set = UnpairedDataset(self.trim_val(val_a), self.trim_val(val_b), self.size, gray_a, self.load_size, train=False)
