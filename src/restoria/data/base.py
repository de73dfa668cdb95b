"""Datasets and the LightningDataModule for restoration, and the DataModule plumbing every task shares.

Training reads the colour ground truth and draws NEW damage every time it sees a photo (random crop,
flip, polygons), so the model never sees the same lost region twice. Validation and prediction read the
fixed competition layout (`<split>.csv`, `<split>_input/`, `<split>_gt/`, `<split>_mask/`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from restoria.data.ageing import damage_model
from restoria.distributed import UnpaddedDistributedSampler, world_size
from restoria.io import InputError, read_csv, resolve_inside

T = TypeVar("T")


@dataclass
class Row:
    """One row of a layout CSV, with paths resolved inside the dataset folder."""

    id: str
    input: Path | None
    gt: Path | None
    mask: Path | None
    source: str


def layout_rows(data: str | Path, split: str) -> list[Row]:
    """Rows of DATA/<split>.csv. Ground truth and mask default to DATA/<split>_gt/<ID>.png and
    DATA/<split>_mask/<ID>.png when the CSV has no column for them and those files exist."""
    root = Path(data)
    rows = read_csv(root / f"{split}.csv", required=("ID",))
    out = []
    for r in rows:
        rid = r["ID"].strip()
        inp = resolve_inside(root, r["input_image_path"], "input_image_path") if r.get("input_image_path") else None
        gt = resolve_inside(root, r["gt_image_path"], "gt_image_path") if r.get("gt_image_path") else None
        gt_default, mask = root / f"{split}_gt" / f"{rid}.png", root / f"{split}_mask" / f"{rid}.png"
        if gt is None and gt_default.exists():
            gt = gt_default
        out.append(Row(rid, inp, gt, mask if mask.exists() else None, r.get("source") or rid))
    return out


def fold_rows(
    data: str | Path, folds: int | None, fold: int, groups: str | Path | None = None, drop_outliers: bool = False
) -> tuple[list[Row], list[Row]]:
    """K-fold over train+val rows, grouped so no group is on both sides: by source photo, or with `groups`
    (a `restoria group` train_preproc.csv) by its folds, which follow clusters of photos of one place.
    With `groups`, K may be left None (the CSV's), rows it left out of every fold (fold -1) are unused,
    and `drop_outliers` also keeps its outliers out of training (they are still validated)."""
    from sklearn.model_selection import GroupKFold

    root = Path(data)
    rows = layout_rows(root, "train") + (layout_rows(root, "val") if (root / "val.csv").exists() else [])
    if groups is not None:
        return _group_csv_folds(rows, Path(groups), folds, fold, drop_outliers)
    if not folds:
        raise ValueError("--folds K is needed for a K-fold split by source photo")
    if not 0 <= fold < folds:
        raise ValueError(f"--fold must be in 0..{folds - 1}, got {fold}")
    splitter = GroupKFold(n_splits=folds)
    groups_ = [r.source for r in rows]
    train_idx, val_idx = list(splitter.split(rows, groups=groups_))[fold]
    return [rows[i] for i in train_idx], [rows[i] for i in val_idx]


def _group_csv_folds(
    rows: list[Row], groups: Path, folds: int | None, fold: int, drop_outliers: bool
) -> tuple[list[Row], list[Row]]:
    from restoria.grouping.cluster import read_group_csv

    by_id = {g.id: g for g in read_group_csv(groups)}
    missing = [r.id for r in rows if r.id not in by_id]
    if missing:
        some = ", ".join(missing[:3])
        raise InputError(groups, f"no row for {len(missing)} train/val photo(s) ({some}): run `restoria group` on this dataset")
    k = 1 + max((g.fold for g in by_id.values()), default=-1)
    if folds is not None and folds != k:
        raise ValueError(f"{groups} holds {k} folds, not {folds}: leave out --folds or run `restoria group --folds {folds}`")
    if not 0 <= fold < k:
        raise ValueError(f"--fold must be in 0..{k - 1}, got {fold}")
    val = [r for r in rows if by_id[r.id].fold == fold]
    train = [r for r in rows if by_id[r.id].fold not in (fold, -1) and not (drop_outliers and by_id[r.id].is_outlier)]
    return train, val


def split_indices(
    n: int, val_fraction: float, folds: int | None, fold: int, seed: int, labels: list[int] | None = None
) -> tuple[list[int], list[int]]:
    """Train/val indices for a folder dataset without its own split: a shuffled hold-out of
    `val_fraction` (the source projects' 70/30), or fold `fold` of K (stratified when `labels` are given)."""
    if folds:
        from sklearn.model_selection import KFold, StratifiedKFold

        if not 0 <= fold < folds:
            raise ValueError(f"--fold must be in 0..{folds - 1}, got {fold}")
        if n < folds:
            raise ValueError(f"{n} samples cannot be split into {folds} folds")
        kfold = StratifiedKFold if labels else KFold
        splitter = kfold(folds, shuffle=True, random_state=seed)
        train_idx, val_idx = list(splitter.split(np.zeros(n), labels))[fold]
        return sorted(int(i) for i in train_idx), sorted(int(i) for i in val_idx)
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    if n < 2:
        raise ValueError(f"{n} sample(s): need at least 2 to hold one out for validation")
    order = np.random.default_rng(seed).permutation(n)
    n_val = min(n - 1, max(1, round(n * val_fraction)))
    if labels:  # keep both classes on both sides when the data allows
        from sklearn.model_selection import train_test_split

        try:
            train_idx, val_idx = train_test_split(np.arange(n), test_size=n_val, random_state=seed, stratify=labels)
            return sorted(int(i) for i in train_idx), sorted(int(i) for i in val_idx)
        except ValueError:
            pass
    return sorted(int(i) for i in order[n_val:]), sorted(int(i) for i in order[:n_val])


def check_channels(channels: int) -> None:
    """The detectors read gray or RGB only; say so when the DataModule is built, before any file is read."""
    if channels not in (1, 3):
        raise ValueError(f"data.channels must be 1 (gray) or 3 (RGB), got {channels}")


class SplitDataModule(L.LightningDataModule):
    """The plumbing every task's DataModule shares, so all split, trim and batch alike: the train/val rows
    of a `restoria prepare` layout (its CSVs, or a group K-fold), the split of a folder without one
    (`split_indices`), the `max_val` trim and the DataLoaders. Subclasses set `train_set` and `val_set`."""

    train_set: Dataset
    val_set: Dataset

    def __init__(
        self,
        data: str,
        batch_size: int = 8,
        val_batch_size: int = 8,
        num_workers: int = 0,
        damage: dict | None = None,
        folds: int | None = None,
        fold: int = 0,
        max_val: int | None = None,
        val_fraction: float = 0.3,
        split_seed: int = 0,
        groups: str | None = None,
        drop_outliers: bool = False,
    ) -> None:
        super().__init__()
        self.data = data
        self.batch_size = batch_size
        self.val_batch_size = val_batch_size
        self.num_workers = num_workers
        self.damage = damage_model(damage)
        self.folds = folds
        self.fold = fold
        self.max_val = max_val
        self.val_fraction = val_fraction
        self.split_seed = split_seed
        self.groups = groups
        self.drop_outliers = drop_outliers

    def layout_split(self) -> tuple[list[Row], list[Row]]:
        """Train and val rows of a layout: fold `fold` of a group K-fold over train+val (by source photo, or by
        the clusters of a `restoria group` CSV when `groups` names one), else its own CSVs."""
        if self.folds or self.groups:
            return fold_rows(self.data, self.folds, self.fold, self.groups, self.drop_outliers)
        return layout_rows(self.data, "train"), layout_rows(self.data, "val")

    def folder_split(self, items: list[T], labels: list[int] | None = None) -> tuple[list[T], list[T]]:
        """Train and val items of a folder without its own split: the seeded hold-out or K-fold of `split_indices`."""
        if self.groups:
            raise ValueError(f"data.groups (--groups) folds a `restoria prepare` dataset; {self.data} is a plain folder")
        train_idx, val_idx = split_indices(len(items), self.val_fraction, self.folds, self.fold, self.split_seed, labels)
        return [items[i] for i in train_idx], [items[i] for i in val_idx]

    def trim_val(self, items: list[T]) -> list[T]:
        """The first `max_val` validation items (all when unset), so a validation pass stays short."""
        return items[: self.max_val] if self.max_val else items

    def _loader(self, ds: Dataset, batch: int, shuffle: bool, sampler: Sampler | None = None) -> DataLoader:
        return DataLoader(
            ds,
            batch_size=batch,
            shuffle=shuffle,
            sampler=sampler,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            pin_memory=torch.cuda.is_available(),
            drop_last=shuffle and len(ds) >= batch,  # no lone last image: batch norm needs more than one
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, self.batch_size, True)

    def val_dataloader(self) -> DataLoader:
        """Under DDP each photo is validated once, on one rank (no padding repeats)."""
        sampler = UnpaddedDistributedSampler(self.val_set) if world_size() > 1 else None
        return self._loader(self.val_set, self.val_batch_size, False, sampler)
