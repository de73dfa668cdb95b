"""Classical fills of the known damage, alone: the score's masked SSIM of each, left gray, and its time.

Why: the default restore fills the detected damage with a classical method before colorizing, and the
masked SSIM (40% of the score) is mostly the fill's. This isolates the fill from detection and colour:
each method gets the TRUE mask and its gray result is scored against the colour original, so the
figures are comparable across methods but lower than the full pipeline's (which adds colour).

    python benchmarks/fills.py --data data/train512 --split val
    python benchmarks/fills.py --data runs/quality/data --split test --methods ns fsr
    python benchmarks/fills.py --data data/train512 --split val --limit 12 --methods ns fsr fsr_best shiftmap
    python benchmarks/fills.py --timing

`--timing` needs no data: it times each offered fill on the whole photo and in windows around the damage
(`restoria.fill.fill_in_windows`, what `restore` runs) on competition damage (one polygon at 512x512) of
the bundled photos, checks both give the same fill, and prints windowed FSR's cost over Telea's.

Besides the fills `restore` offers (`restoria.fill.METHODS`), opencv-contrib's own FSR (`fsr_opencv`,
the one-block-at-a-time original of `restoria.fsr`), its slower FSR profile (`fsr_best`) and its
shift-map inpainting (`shiftmap`) can be compared; they are not offered because they did not win here.

    python benchmarks/fills.py --timing --methods telea fsr fsr_opencv
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

from restoria.commands.examples import bundled_photos
from restoria.data.base import layout_rows
from restoria.data.damage import apply_damage
from restoria.fill import METHODS, classical_fill_image, xphoto_fill
from restoria.imaging import to_gray
from restoria.io import read_image
from restoria.metrics.score import masked_ssim_score

NOT_OFFERED = {"fsr_opencv": "INPAINT_FSR_FAST", "fsr_best": "INPAINT_FSR_BEST", "shiftmap": "INPAINT_SHIFTMAP"}


def fill(gray: np.ndarray, mask: np.ndarray, method: str) -> np.ndarray:
    if method in NOT_OFFERED:
        return xphoto_fill(gray, mask, NOT_OFFERED[method])
    return classical_fill_image(gray, mask, method)


def timing(methods: list[str], seeds: int, repeats: int) -> None:
    """Seconds per photo of each fill, whole-image and windowed, on competition damage of the bundled
    photos at 512x512 gray; each case timed `repeats` times and its fastest kept, as the CPU may be
    shared. Also the largest difference between the two fills inside the damage."""
    cases = []
    for i, photo in enumerate(bundled_photos().values()):
        gray = cv2.resize(to_gray(photo), (512, 512), interpolation=cv2.INTER_AREA)
        cases += [apply_damage(gray, np.random.default_rng(i * seeds + seed)) for seed in range(seeds)]
    seconds: dict[tuple[str, bool], float] = {}
    worst = dict.fromkeys(methods, 0)
    for m in methods:
        for windowed in (False, True) if m in METHODS else (False,):
            total = 0.0
            for damaged, mask in track(cases, description=f"{m} {'windowed' if windowed else 'whole'}"):
                best = float("inf")
                for _ in range(repeats):
                    start = time.perf_counter()
                    filled = classical_fill_image(damaged, mask, m, windowed=windowed) if m in METHODS else fill(damaged, mask, m)
                    best = min(best, time.perf_counter() - start)
                total += best
                if windowed:
                    whole = classical_fill_image(damaged, mask, m, windowed=False)
                    worst[m] = max(worst[m], int(np.abs(filled.astype(int) - whole).max()))
            seconds[m, windowed] = total / len(cases)
    damage = np.mean([(mask > 0).mean() for _, mask in cases])
    table = Table(title=f"fill time on competition damage, 512x512 gray (n={len(cases)}, damage {damage:.1%} of a photo)")
    for col in ("fill", "whole s / photo", "windowed s / photo", "speed-up", "max |windowed - whole|"):
        table.add_column(col)
    for m in methods:
        whole, win = seconds[m, False], seconds.get((m, True))
        if win is None:
            table.add_row(m, f"{whole:.4f}", "-", "-", "-")
        else:
            table.add_row(m, f"{whole:.4f}", f"{win:.4f}", f"{whole / win:.2f}x", str(worst[m]))
    Console().print(table)
    if {"fsr", "fsr_opencv"} <= set(methods):
        print(f"opencv's fsr / restoria.fsr (both whole-image): {seconds['fsr_opencv', False] / seconds['fsr', False]:.1f}x")
    if {"fsr", "telea"} <= set(methods):
        fsr, telea = seconds["fsr", True], seconds["telea", True]
        print(
            f"windowed fsr / windowed telea: {fsr / telea:.1f}x   windowed fsr / whole telea: {fsr / seconds['telea', False]:.1f}x"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="dataset from `restoria prepare` (with <split>_mask)")
    ap.add_argument("--split", default="val")
    ap.add_argument("--methods", nargs="*", default=list(METHODS), choices=[*METHODS, *NOT_OFFERED])
    ap.add_argument("--limit", type=int, help="the first N rows only")
    ap.add_argument("--timing", action="store_true", help="whole-image vs windowed time on bundled photos (no --data)")
    ap.add_argument("--seeds", type=int, default=3, help="--timing: damages per photo")
    ap.add_argument("--repeats", type=int, default=3, help="--timing: runs per case, the fastest kept")
    args = ap.parse_args()
    if args.timing:
        timing(args.methods, args.seeds, args.repeats)
        return
    if args.data is None:
        ap.error("--data is required (or --timing)")

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
