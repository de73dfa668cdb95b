"""Datasets and the LightningDataModule for binary segmentation: the damage mask, or any image+mask folder.

DATA is either
- a `restoria prepare` dataset (train.csv present): the damaged inputs with their true masks, and, each
  epoch, the train ground truth damaged afresh (data.FreshDamageDataset) so the segmenter never sees
  the same lost region twice; validation reads the fixed val split (or a group K-fold of train+val);
- an image+mask folder: DATA/images/ and DATA/masks/ whose files pair up by stem (`cat.jpg` with
  `cat.png`); masks are binarised (divided by their max, > 0.5); a 70/30 split or a K-fold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from torch.utils.data import ConcatDataset, DataLoader, Dataset

from restoria.data.base import SplitDataModule, check_channels, layout_rows
from restoria.data.ageing import DamageModel
from restoria.data.restore import FreshDamageDataset
from restoria.data.transforms import binarize, fit, sample_rng, to_channels
from restoria.imaging import to_tensor
from restoria.io import IMAGE_SUFFIXES, InputError, read_image


def detect_layout(data: str | Path) -> str:
    """"layout" for a `restoria prepare` dataset, "folder" for images/ + masks/."""
    root = Path(data)
    if (root / "train.csv").exists():
        return "layout"
    if (root / "images").is_dir() and (root / "masks").is_dir():
        return "folder"
    raise InputError(root, "neither a `restoria prepare` dataset (train.csv) nor an image+mask folder (images/ and masks/)")


def folder_pairs(data: str | Path) -> list[tuple[str, Path, Path]]:
    """(stem, image, mask) for every image in DATA/images/ with a mask of the same stem in DATA/masks/."""
    root = Path(data)
    masks = {p.stem: p for p in sorted((root / "masks").iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
    images = [p for p in sorted((root / "images").iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    missing = [p.name for p in images if p.stem not in masks]
    if missing:
        raise InputError(root / "masks", f"no mask for {len(missing)} image(s), e.g. {', '.join(missing[:3])}")
    if not images:
        raise InputError(root / "images", "no images found")
    return [(p.stem, p, masks[p.stem]) for p in images]


@dataclass(eq=False)
class MaskPairDataset(Dataset):
    """Fixed (image, mask) files -> {"id", "input" (C, S, S), "mask" (1, S, S) in {0, 1}}."""

    pairs: list[tuple[str, Path, Path]]
    size: int
    fit_mode: str
    channels: int
    train: bool
    flip: bool = True

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> dict[str, object]:
        rid, image_path, mask_path = self.pairs[i]
        image = to_tensor(read_image(image_path, "L" if self.channels == 1 else "RGB"))
        mask = binarize(to_tensor(read_image(mask_path, "L")))
        if mask.shape[-2:] != image.shape[-2:]:
            raise InputError(mask_path, f"mask is {mask.shape[-1]}x{mask.shape[-2]}, its image {image.shape[-1]}x{image.shape[-2]}")
        mode = self.fit_mode if self.train or self.fit_mode == "resize" else "full"
        image, mask = fit(image, mask, self.size, mode, sample_rng() if self.train else None, self.flip)
        return {"id": rid, "input": image, "mask": mask}


class FreshDamageMasks(Dataset):
    """The train ground truth damaged afresh each time (FreshDamageDataset), as {"id", "input", "mask"}."""

    def __init__(self, gt_paths: list[Path], size: int, fit_mode: str, channels: int, damage: DamageModel, flip: bool = True, **focus: Any) -> None:
        # crop mode: FreshDamageDataset cuts the crop itself; resize mode: it damages the whole photo,
        # which is then squashed like a prepared input would be. `focus`: where crops are centred
        # (FreshDamageDataset's bright_crops, negatives, negatives_share).
        self.fresh = FreshDamageDataset(gt_paths, size if fit_mode == "crop" else 1 << 30, damage, flip, **focus)
        self.size = size
        self.channels = channels

    def __len__(self) -> int:
        return len(self.fresh)

    def __getitem__(self, i: int) -> dict[str, object]:
        item = self.fresh[i]
        image, mask = fit(item["input"], item["mask"], self.size, "resize", None)
        return {"id": self.fresh.paths[i].stem, "input": to_channels(image, self.channels), "mask": mask}


def same_size(paths: list[Path]) -> bool:
    """Whether all images have one size (read from the headers only)."""
    sizes = set()
    for p in paths:
        with Image.open(p) as im:
            sizes.add(im.size)
    return len(sizes) <= 1


class SegmentDataModule(SplitDataModule):
    """Binary segmentation data for `restoria train` (task: segment); see the module docstring.

    `fit`: "crop" (random crops of `size` at the photo's own scale; validation on whole images) or
    "resize" (everything squashed to `size` x `size`, the source project's way); None picks crop for a
    `restoria prepare` dataset and resize for an image+mask folder. `fresh_damage`: how many freshly
    damaged copies of each train photo an epoch adds to the fixed damaged inputs (layout only).
    `bright_crops`: the share of those fresh crops centred on bright picture (`crop_origin`). `negatives`:
    a JSON file of the places a trained segmenter took the clean train photos for damage (`restoria
    mine`), `negatives_share` of their crops centred on one (hard negatives). `shrink` [lo, hi]: each
    photo shrunk by a random factor in that range before its fresh crop, as crisp as the photos
    `restore` sees (FreshDamageDataset).
    """

    def __init__(
        self,
        data: str,
        size: int = 224,
        fit: str | None = None,
        channels: int = 1,
        fresh_damage: int = 1,
        fixed_inputs: bool = True,
        damage: dict | None = None,
        flip: bool = True,
        bright_crops: float = 0.0,
        negatives: str | None = None,
        negatives_share: float = 0.33,
        shrink: tuple[float, float] | None = None,
        **splits: Any,
    ) -> None:
        check_channels(channels)
        super().__init__(data, damage=damage, **splits)
        self.size = size
        self.fit_mode = fit
        self.channels = channels
        self.fresh_damage = fresh_damage
        self.fixed_inputs = fixed_inputs
        self.flip = flip
        self.bright_crops = bright_crops
        self.negatives = negatives
        self.negatives_share = negatives_share
        self.shrink = None if shrink is None else (float(shrink[0]), float(shrink[1]))

    def setup(self, stage: str | None = None) -> None:
        self.layout = detect_layout(self.data)
        mode = self._mode()
        if self.layout == "layout":
            train_rows, val_rows = self.layout_split()
            parts: list[Dataset] = []
            if self.fixed_inputs:
                parts.append(MaskPairDataset(self._pairs(train_rows), self.size, mode, self.channels, True, self.flip))
            gts = [r.gt for r in train_rows if r.gt is not None]
            parts += [FreshDamageMasks(gts, self.size, mode, self.channels, self.damage, self.flip, **self._focus())] * (self.fresh_damage if gts else 0)
            if not parts:
                raise InputError(self.data, "nothing to train on: no fixed inputs (fixed_inputs false) and no ground truth for fresh damage")
            self.train_set = ConcatDataset(parts)
            val_pairs = self._pairs(val_rows)
        else:
            train_pairs, val_pairs = self.folder_split(folder_pairs(self.data))
            self.train_set = MaskPairDataset(train_pairs, self.size, mode, self.channels, True, self.flip)
        val_pairs = self.trim_val(val_pairs)
        self.val_set = MaskPairDataset(val_pairs, self.size, mode, self.channels, False)
        self._val_batch = self.val_batch_size if mode == "resize" or same_size([p for _, p, _ in val_pairs]) else 1

    def _focus(self) -> dict[str, Any]:
        negatives = None
        if self.negatives:
            path = Path(self.negatives)
            if not path.exists():
                raise InputError(path, "negatives file not found (write one with `restoria mine`)")
            negatives = json.loads(path.read_text())
        return {"bright_crops": self.bright_crops, "negatives": negatives, "negatives_share": self.negatives_share, "shrink": self.shrink}

    def _mode(self) -> str:
        return self.fit_mode or ("crop" if self.layout == "layout" else "resize")

    @staticmethod
    def _pairs(rows: list) -> list[tuple[str, Path, Path]]:
        missing = [r.id for r in rows if r.input is None or r.mask is None]
        if missing:
            raise InputError(missing[0], f"{len(missing)} row(s) without a damaged input or a mask file, e.g. {', '.join(missing[:3])}")
        return [(r.id, r.input, r.mask) for r in rows]

    def eval_set(self, split: str) -> Dataset:
        """Fixed, un-augmented samples of a split, for `restoria show`: a layout's train/val/test CSV, or
        a folder's train/val side of the split."""
        if not hasattr(self, "val_set"):
            self.setup()
        if self.layout == "layout":
            pairs = self._pairs(layout_rows(self.data, split))
        elif split == "val":
            return self.val_set
        elif split == "train":
            pairs = self.train_set.pairs  # type: ignore[attr-defined]
        else:
            raise ValueError(f"an image+mask folder has train and val splits, not {split!r}")
        return MaskPairDataset(pairs, self.size, self._mode(), self.channels, False)

    def val_dataloader(self) -> DataLoader:
        # crop mode validates on whole images, which batch together only when they share one size
        return self._loader(self.val_set, self._val_batch, False)
