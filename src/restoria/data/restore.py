"""The restorer's datasets: fresh damage on every read for training, the fixed competition layout for validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from restoria.data.base import Row, SplitDataModule
from restoria.data.ageing import DamageModel
from restoria.imaging import scaled, to_gray, to_tensor
from restoria.io import InputError, read_image


BRIGHT = 220  # luma from which a pixel counts as bright picture (crop_origin)


def crop_origin(
    rgb: np.ndarray, c: int, rng: np.random.Generator, bright_share: float = 0.0, points: np.ndarray | None = None, points_share: float = 0.0
) -> tuple[int, int]:
    """Top-left corner of a random c x c crop; with probability `points_share`, one centred on a random
    one of `points` ((N, 2) rows of y, x) when there are any; else with probability `bright_share`, one
    centred on a random bright pixel (luma >= BRIGHT) when the photo has any."""
    h, w = rgb.shape[:2]
    if points is not None and len(points) and rng.random() < points_share:
        y, x = points[int(rng.integers(len(points)))]
        return int(np.clip(y - c // 2, 0, h - c)), int(np.clip(x - c // 2, 0, w - c))
    if bright_share > 0 and rng.random() < bright_share:
        ys, xs = np.nonzero(to_gray(rgb) >= BRIGHT)
        if len(ys):
            k = int(rng.integers(len(ys)))
            return int(np.clip(ys[k] - c // 2, 0, h - c)), int(np.clip(xs[k] - c // 2, 0, w - c))
    return int(rng.integers(0, h - c + 1)), int(rng.integers(0, w - c + 1))


class FreshDamageDataset(Dataset):
    """Colour photos -> (damaged gray, mask, gray target, colour target) with new damage each time."""

    def __init__(
        self,
        gt_paths: list[Path],
        crop: int,
        damage: DamageModel,
        flip: bool = True,
        bright_crops: float = 0.0,
        negatives: dict[str, list[list[int]]] | None = None,
        negatives_share: float = 0.0,
        shrink: tuple[float, float] | None = None,
    ) -> None:
        """`shrink` (lo, hi): each photo is shrunk by a factor drawn from that range before its crop is
        cut. A prepared dataset's photos were enlarged to its size (CBSD432's 481x321 to 512x512), which
        softens them; shrunk back, their edges are as crisp as the photos `restore` sees, so a segmenter
        cannot learn that every crisp thin line is damage. `bright_crops`: the share of crops centred
        on a bright pixel of the photo (a white collar, a cloud, a lit wall), so that a segmenter sees
        real bright picture, marked clean, as often as it sees the bright paper of tears and emulsion
        loss. `negatives`: photo file name -> points (y, x)
        where a trained segmenter took the clean photo for damage (`restoria mine`); `negatives_share`
        of the crops of a photo that has some are centred on one, so the next run learns them as clean."""
        self.paths = gt_paths
        self.crop = crop
        self.damage = damage
        self.flip = flip
        self.bright_crops = bright_crops
        self.negatives = {k: np.asarray(v, np.int64).reshape(-1, 2) for k, v in (negatives or {}).items()}
        self.negatives_share = negatives_share
        self.shrink = shrink
        self._cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def _image(self, i: int) -> np.ndarray:
        if i not in self._cache:
            self._cache[i] = read_image(self.paths[i], "RGB")
        return self._cache[i]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng(int(torch.randint(0, 2**62, ()).item()))
        rgb = self._image(i)
        points = self.negatives.get(self.paths[i].name)
        if self.shrink is not None:
            f = float(rng.uniform(*self.shrink))
            rgb = scaled(rgb, f)
            points = None if points is None else (points * f).astype(np.int64)
        h, w = rgb.shape[:2]
        c = min(self.crop, h, w)
        y, x = crop_origin(rgb, c, rng, self.bright_crops, points, self.negatives_share)
        rgb = rgb[y : y + c, x : x + c]
        if self.flip and rng.random() < 0.5:
            rgb = rgb[:, ::-1]
        rgb = np.ascontiguousarray(rgb)
        gray = to_gray(rgb)
        damaged, mask = self.damage.damage_gray(rgb, rng)
        return {"input": to_tensor(damaged), "mask": to_tensor(mask), "gray": to_tensor(gray), "rgb": to_tensor(rgb)}


class LayoutDataset(Dataset):
    """The fixed rows of a layout split, for validation and prediction."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, object]:
        row = self.rows[i]
        if row.input is None:
            raise InputError(row.id, "row has no input_image_path")
        item: dict[str, object] = {"id": row.id, "input": to_tensor(read_image(row.input, "L"))}
        if row.gt is not None:
            rgb = read_image(row.gt, "RGB")
            item["rgb"] = to_tensor(rgb)
            item["gray"] = to_tensor(to_gray(rgb))
        if row.mask is not None:
            item["mask"] = to_tensor((read_image(row.mask, "L") > 127).astype(np.uint8) * 255)
        return item


class RestoreDataModule(SplitDataModule):
    """Train on fresh damage over DATA's train ground truth; validate on DATA's fixed val split."""

    def __init__(
        self,
        data: str,
        crop: int = 256,
        damage: dict | None = None,
        **splits: Any,
    ) -> None:
        super().__init__(data, damage=damage, **{"val_batch_size": 4, **splits})
        self.crop = crop

    def setup(self, stage: str | None = None) -> None:
        train, val = self.layout_split()
        missing = [r.id for r in train if r.gt is None]
        if missing:
            raise InputError(Path(self.data) / "train.csv", f"rows without gt_image_path: {missing[:3]}")
        self.train_set = FreshDamageDataset([r.gt for r in train], self.crop, self.damage)
        self.val_set = LayoutDataset(self.trim_val(val))
