"""Classical fills of the known damage, alone: the score's masked SSIM of each, left gray, and its time.

Why: the default restore fills the detected damage with a classical method before colorizing, and the
masked SSIM (40% of the score) is mostly the fill's. This isolates the fill from detection and colour:
each method gets the TRUE mask and its gray result is scored against the colour original, so the
figures are comparable across methods but lower than the full pipeline's (which adds colour).

    python benchmarks/fills.py --data data/train512 --split val
    python benchmarks/fills.py --data runs/quality/data --split test --methods ns fsr
    python benchmarks/fills.py --data data/train512 --split val --limit 12 --methods ns fsr fsr_best shiftmap

Besides the fills `restore` offers (`restoria.fill.METHODS`), opencv-contrib's slower FSR profile
(`fsr_best`) and its shift-map inpainting (`shiftmap`) can be compared; they are not offered because
they did not win here.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

from restoria.data.base import layout_rows
from restoria.fill import METHODS, classical_fill_image, xphoto_fill
from restoria.io import read_image
from restoria.metrics.score import masked_ssim_score

NOT_OFFERED = {"fsr_best": "INPAINT_FSR_BEST", "shiftmap": "INPAINT_SHIFTMAP"}


def fill(gray: np.ndarray, mask: np.ndarray, method: str) -> np.ndarray:
    if method in NOT_OFFERED:
        return xphoto_fill(gray, mask, NOT_OFFERED[method])
    return classical_fill_image(gray, mask, method)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="dataset from `restoria prepare` (with <split>_mask)")
    ap.add_argument("--split", default="val")
    ap.add_argument("--methods", nargs="*", default=list(METHODS), choices=[*METHODS, *NOT_OFFERED])
    ap.add_argument("--limit", type=int, help="the first N rows only")
    args = ap.parse_args()

    rows = layout_rows(args.data, args.split)[: args.limit]
    scores: dict[str, list[float]] = {m: [] for m in args.methods}
    seconds = dict.fromkeys(args.methods, 0.0)
    for row in track(rows, description="filling"):
        gray, mask, true = read_image(row.input, "L"), read_image(row.mask, "L"), read_image(row.gt, "RGB")
        for m in args.methods:
            start = time.perf_counter()
            filled = fill(gray, mask, m)
            seconds[m] += time.perf_counter() - start
            scores[m].append(masked_ssim_score(true, np.repeat(filled[..., None], 3, -1), mask))
    table = Table(title=f"fills of the true mask, left gray: {args.data} ({args.split}, n={len(rows)})")
    for col in ("fill", "masked_ssim", "s / photo"):
        table.add_column(col)
    for m in args.methods:
        table.add_row(m, f"{np.mean(scores[m]):.4f}", f"{seconds[m] / len(rows):.3f}")
    Console().print(table)


if __name__ == "__main__":
    main()
