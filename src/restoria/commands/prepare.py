"""Colour photos -> a dataset in the competition layout, split by source photo.

For each split S in train/val/test: S.csv, S_input/ (damaged gray), S_gt/ (colour), S_mask/ (255 = lost).
Each photo gives `crops_per_photo` square crops: the first sees the whole short side, the others zoom in
at random scales (large photos give many different crops). Everything follows from `seed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from restoria.data.ageing import DamageModel
from restoria.data.damage import DamageConfig
from restoria.io import InputError, list_images, read_image, write_csv, write_png

SPLITS = ("train", "val", "test")


@dataclass
class PrepareReport:
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[InputError] = field(default_factory=list)


def split_sources(n: int, val_fraction: float, test_fraction: float, rng: np.random.Generator) -> list[str]:
    """Assign each of n photos to a split; val/test get at least one photo when asked for and n >= 3."""
    def count(f: float) -> int:
        return 0 if f <= 0 else max(1 if n >= 3 else 0, int(round(n * f)))

    n_val, n_test = count(val_fraction), count(test_fraction)
    if n_val + n_test > n:
        raise ValueError(f"{n} photos cannot give {n_val} val and {n_test} test photos")
    order = rng.permutation(n)
    split = np.array(["train"] * n, dtype=object)
    split[order[:n_val]] = "val"
    split[order[n_val : n_val + n_test]] = "test"
    return list(split)


def random_crops(rgb: np.ndarray, size: int, k: int, rng: np.random.Generator) -> list[np.ndarray]:
    """k square crops of `size`: crop 0 after scaling the short side to `size`, others zoomed in."""
    h, w = rgb.shape[:2]
    short = min(h, w)
    crops = []
    for i in range(k):
        target = size if i == 0 or short <= size else float(np.exp(rng.uniform(np.log(size), np.log(short))))
        scale = target / short
        nh, nw = max(size, int(round(h * scale))), max(size, int(round(w * scale)))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        scaled = cv2.resize(rgb, (nw, nh), interpolation=interp)
        y, x = int(rng.integers(0, nh - size + 1)), int(rng.integers(0, nw - size + 1))
        crops.append(np.ascontiguousarray(scaled[y : y + size, x : x + size]))
    return crops


def prepare(
    sources: list[str | Path],
    out: str | Path,
    size: int = 512,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    crops_per_photo: int = 1,
    seed: int = 0,
    damage: DamageModel | None = None,
    progress: Callable[[int], None] | None = None,
) -> PrepareReport:
    """Write the dataset; unreadable photos are reported in the result and skipped."""
    out = Path(out)
    damage = damage or DamageConfig()
    photos = list_images(sources)
    report = PrepareReport(counts={s: 0 for s in SPLITS})
    if not photos:
        report.errors.append(InputError(", ".join(map(str, sources)), "no images found"))
        return report
    splits = split_sources(len(photos), val_fraction, test_fraction, np.random.default_rng(seed))
    rows: dict[str, list[dict[str, object]]] = {s: [] for s in SPLITS}
    prefix = {"train": "TRAIN", "val": "VAL", "test": "TEST"}
    for idx, (photo, split) in enumerate(zip(photos, splits)):
        rng = np.random.default_rng([seed, idx])
        try:
            rgb = read_image(photo, "RGB")
        except InputError as err:
            report.errors.append(err)
            if progress:
                progress(1)
            continue
        for crop in random_crops(rgb, size, crops_per_photo, rng):
            rid = f"{prefix[split]}_{len(rows[split]):05d}"
            damaged, mask = damage.damage_gray(crop, rng)
            write_png(out / f"{split}_input" / f"{rid}.png", damaged)
            write_png(out / f"{split}_gt" / f"{rid}.png", crop)
            write_png(out / f"{split}_mask" / f"{rid}.png", mask)
            row: dict[str, object] = {"ID": rid, "input_image_path": f"./{split}_input/{rid}.png"}
            if split != "test":
                row["gt_image_path"] = f"./{split}_gt/{rid}.png"
            row["source"] = str(photo)
            rows[split].append(row)
        if progress:
            progress(1)
    for split in SPLITS:
        cols = ["ID", "input_image_path"] + (["gt_image_path"] if split != "test" else []) + ["source"]
        write_csv(out / f"{split}.csv", rows[split], cols)
        report.counts[split] = len(rows[split])
    return report
