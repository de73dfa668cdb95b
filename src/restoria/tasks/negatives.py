"""Hard negatives: the places where a trained segmenter takes clean training photos for damage.

A segmenter of real damage learns scratches, cracks and tears drawn by the ageing model, and also takes
some real picture for them: a lit lattice tower for crazing, a black uniform for a torn-off corner.
Those places are in the clean photos it trained on; `mine_negatives` finds them, and a next run
(`data: {negatives: FILE}`) centres a share of its crops there, where the photo is marked clean.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from restoria.data.base import layout_rows
from restoria.io import InputError, atomic_path, read_image


def mine_negatives(
    weights: str | Path,
    data: str | Path,
    out: str | Path,
    split: str = "train",
    per_photo: int = 64,
    seed: int = 0,
    shrink: float = 1.0,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Run the segmenter over the clean photos (ground truth) of DATA's `split` and write OUT: a JSON
    object, photo file name -> up to `per_photo` points [y, x] drawn from what it found there (its own
    threshold and smallest region). `shrink` < 1 runs it on each photo shrunk by that factor, as crisp
    as a run with `data: {shrink: ...}` sees it; the points stay in the photo's own pixels. Returns the
    number of points per photo with any."""
    from restoria.imaging import scaled, to_gray, to_tensor
    from restoria.inference.detectors import Segmenter
    from restoria.inference.flat import drop_small_regions

    segmenter = Segmenter(weights)
    segmenter.use_views(1)  # training shows it one view at a time: mine the mistakes it makes there
    rows = [r for r in layout_rows(data, split) if r.gt is not None]
    if not rows:
        raise InputError(Path(data), f"no ground-truth photos in its {split} split")
    rng = np.random.default_rng(seed)
    points: dict[str, list[list[int]]] = {}
    for row in rows:
        gray = to_gray(read_image(row.gt, "RGB"))
        if shrink != 1.0:
            gray = scaled(gray, shrink)
        prob = segmenter(to_tensor(gray)[None])[0, 0].numpy()
        found = drop_small_regions(prob > segmenter.threshold, segmenter.min_area(gray.shape)) > 0
        ys, xs = np.nonzero(found)
        if len(ys):
            pick = rng.choice(len(ys), size=min(per_photo, len(ys)), replace=False)
            points[Path(row.gt).name] = [[int(ys[k] / shrink), int(xs[k] / shrink)] for k in pick]
        if progress:
            progress(1)
    with atomic_path(Path(out)) as tmp:
        Path(tmp).write_text(json.dumps(points))
    return {k: len(v) for k, v in points.items()}
