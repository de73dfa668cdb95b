"""Datasets and the LightningDataModule for the binary photo classifier (damaged / clean by default).

DATA is either
- a class-per-folder dataset: DATA/<negative>/ and DATA/<positive>/ (default `clean/`, `damaged/`),
  split 70/30 (stratified) or K-fold; or with its own split, DATA/train/<class>/ and DATA/val/<class>/;
- a `restoria prepare` dataset (train.csv present), read as classes directly: each photo is once clean
  (its ground truth turned gray exactly as the damaged input was made, so colour cannot give the answer)
  and once damaged (its fixed damaged input, or during training with probability `fresh_damage` a
  new damage drawn on the gray ground truth). Splits come from its CSVs (or group K-fold by source).
Every image is squashed to `size` x `size` (Keras `flow_from_directory`'s target size): the classifier
judges the whole photo, and a crop could cut the damage out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from restoria.data.base import Row, SplitDataModule, check_channels
from restoria.data.ageing import DamageModel
from restoria.data.transforms import fit, sample_rng
from restoria.imaging import to_tensor
from restoria.io import IMAGE_SUFFIXES, InputError, read_image


def class_files(root: Path, classes: tuple[str, str]) -> list[tuple[Path, int]]:
    """(image, label) for the images under root/<class>/ (recursively), label = index in `classes`."""
    items: list[tuple[Path, int]] = []
    for label, name in enumerate(classes):
        folder = root / name
        if not folder.is_dir():
            raise InputError(folder, f"class folder not found (classes: {', '.join(classes)})")
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise InputError(folder, "no images in this class folder")
        items += [(p, label) for p in files]
    return items


@dataclass(eq=False)
class ClassFolderDataset(Dataset):
    """(image file, label) -> {"id", "input" (C, S, S), "label" float}."""

    items: list[tuple[Path, int]]
    size: int
    channels: int
    train: bool
    flip: bool = True

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, object]:
        path, label = self.items[i]
        image = to_tensor(read_image(path, "L" if self.channels == 1 else "RGB"))
        image, _ = fit(image, None, self.size, "resize", sample_rng() if self.train else None, self.flip)
        return {"id": path.stem, "input": image, "label": torch.tensor(float(label))}


@dataclass(eq=False)
class LayoutClassDataset(Dataset):
    """A `restoria prepare` split as two classes: item 2k is photo k clean (label 0), 2k+1 damaged (1)."""

    rows: list[Row]
    size: int
    train: bool
    damage: DamageModel
    fresh_damage: float = 0.5
    flip: bool = True

    def __post_init__(self) -> None:
        missing = [r.id for r in self.rows if r.gt is None or (r.input is None and not self.train)]
        if missing:
            raise InputError(missing[0], f"{len(missing)} row(s) without ground truth (or damaged input), e.g. {', '.join(missing[:3])}")

    def __len__(self) -> int:
        return 2 * len(self.rows)

    def __getitem__(self, i: int) -> dict[str, object]:
        row, damaged = self.rows[i // 2], i % 2
        rng = sample_rng() if self.train else None
        if damaged and (row.input is None or (rng is not None and rng.random() < self.fresh_damage)):
            gray, _ = self.damage.damage_gray(read_image(row.gt, "RGB"), rng if rng is not None else sample_rng())
        elif damaged:
            gray = read_image(row.input, "L")
        else:
            gray = self.damage.clean_gray(read_image(row.gt, "RGB"), rng if rng is not None else np.random.default_rng(i))
        image, _ = fit(to_tensor(gray), None, self.size, "resize", rng, self.flip)
        return {"id": f"{row.id}_{'damaged' if damaged else 'clean'}", "input": image, "label": torch.tensor(float(damaged))}


class ClassifyDataModule(SplitDataModule):
    """Binary classification data for `restoria train` (task: classify); see the module docstring.

    `classes`: [negative, positive] folder names. A `restoria prepare` dataset is gray, so it needs
    `channels: 1`; class folders may be read as RGB with `channels: 3` (and model.in_channels: 3).
    """

    def __init__(
        self,
        data: str,
        size: int = 224,
        channels: int = 1,
        classes: tuple[str, str] | list[str] = ("clean", "damaged"),
        fresh_damage: float = 0.5,
        damage: dict | None = None,
        flip: bool = True,
        **splits: Any,
    ) -> None:
        check_channels(channels)
        if len(classes) != 2:
            raise ValueError(f"data.classes must name two folders [negative, positive], got {classes}")
        super().__init__(data, damage=damage, **splits)
        self.size = size
        self.channels = channels
        self.classes = (str(classes[0]), str(classes[1]))
        self.fresh_damage = fresh_damage
        self.flip = flip

    def setup(self, stage: str | None = None) -> None:
        root = Path(self.data)
        if (root / "train.csv").exists():
            if self.channels != 1:
                raise ValueError("a `restoria prepare` dataset is gray: use data.channels 1 (and model.in_channels 1)")
            self.classes = ("clean", "damaged")
            train_rows, val_rows = self.layout_split()
            self.train_set = LayoutClassDataset(train_rows, self.size, True, self.damage, self.fresh_damage, self.flip)
            self.val_set = LayoutClassDataset(self.trim_val(val_rows), self.size, False, self.damage)
            return
        if (root / "train").is_dir() and (root / "val").is_dir():
            train, val = class_files(root / "train", self.classes), class_files(root / "val", self.classes)
        else:
            items = class_files(root, self.classes)
            train, val = self.folder_split(items, [lab for _, lab in items])
        self.train_set = ClassFolderDataset(train, self.size, self.channels, True, self.flip)
        self.val_set = ClassFolderDataset(self.trim_val(val), self.size, self.channels, False)
