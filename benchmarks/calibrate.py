"""Calibrate the colorizer's chroma (a gain, a Cb/Cr bias and, for a chroma-bin head, the annealed
mean's temperature) for the competition score on a VAL split, and optionally ship the weights with it:
float16 safetensors carrying the calibration in their config.

Models trained with L1/MSE colour losses predict the mean of plausible colours, which is washed out and
whose hue histogram (40% of the score) is a narrow, badly placed peak. A global gain and shift of the
predicted chroma, like temperature scaling of a classifier, is chosen on validation photos only, never
on the test set, and reported beside the uncalibrated model.

    python benchmarks/calibrate.py --weights runs/restore/model.safetensors --data data/train512 \
        --split val --ship src/restoria/assets/restore.safetensors
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import track
from rich.table import Table

from restoria.data.base import layout_rows
from restoria.imaging import to_tensor, to_uint8
from restoria.inference.restorer import Restorer
from restoria.io import read_image
from restoria.metrics.score import CompetitionScore
from restoria.weights import ship


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--split", default="val")
    ap.add_argument("--gains", type=float, nargs="*", default=[1.0, 1.5, 2.0, 3.0])
    ap.add_argument("--biases", type=float, nargs="*", default=[-0.06, -0.03, 0.0, 0.03], help="values tried for Cb and for Cr")
    ap.add_argument("--temperatures", type=float, nargs="*", default=[0.2, 0.38, 0.6], help="for chroma-bin heads")
    ap.add_argument("--limit", type=int, default=30, help="use every k-th row so that about N rows are used")
    ap.add_argument("--ship", type=Path, help="write float16 weights with the best calibration here")
    args = ap.parse_args()

    rows = layout_rows(args.data, args.split)
    rows = rows[:: max(1, len(rows) // args.limit)] if args.limit else rows
    restorer = Restorer([args.weights])
    model = restorer.models[0]
    temps: list[float | None] = list(args.temperatures) if model.bins is not None else [None]
    biases = list(itertools.product(args.biases, args.biases))
    combos = [(t, g, b) for t in temps for g in args.gains for b in biases]
    scores = {c: CompetitionScore() for c in combos}
    for row in track(rows, description="calibrating"):
        gray, true, mask = read_image(row.input, "L"), read_image(row.gt, "RGB"), read_image(row.mask, "L")
        x = to_tensor(restorer(gray).inpainted)[None]
        with torch.inference_mode():
            if x.shape[-1] % 32 or x.shape[-2] % 32:
                raise SystemExit(f"{row.input}: calibration needs sides that are multiples of 32 (use `restoria prepare`)")
            raw = model.colorize_raw(x)  # val photos are small: one pass, no tiles
            for t in temps:
                color = model.chroma(raw, x.shape[-2:], t)
                for g, b in itertools.product(args.gains, biases):
                    pred = to_uint8(model.to_rgb(x, color, g, b)[0])
                    scores[(t, g, b)].update(true, pred, mask)
    results = {c: s.compute() for c, s in scores.items()}
    ranked = sorted(results, key=lambda c: -results[c]["score"])
    table = Table(title=f"chroma calibration on {args.data} ({args.split}, n={len(rows)}), best 8 and uncalibrated")
    for col in ("T", "gain", "bias (Cb, Cr)", "score", "ssim", "masked_ssim", "hist"):
        table.add_column(col)
    default_t = model.bins.temperature if model.bins is not None else None
    for c in ranked[:8] + [(default_t, 1.0, (0.0, 0.0))]:
        if c in results:
            r = results[c]
            t = "-" if c[0] is None else f"{c[0]:g}"
            table.add_row(
                t,
                f"{c[1]:g}",
                f"{c[2][0]:+.2f}, {c[2][1]:+.2f}",
                *(f"{r[k]:.4f}" for k in ("score", "ssim", "masked_ssim", "hist")),
            )
    Console().print(table)
    best = ranked[0]
    print(f"best: temperature {best[0]}, gain {best[1]:g}, bias {best[2]}: score {results[best]['score']:.4f}")
    if args.ship:
        overrides = {"chroma_gain": best[1], "chroma_bias": list(best[2])}
        if best[0] is not None:
            overrides["chroma_temperature"] = best[0]
        calibration = {"split": args.split, "n": len(rows), "temperature": best[0], "gain": best[1], "bias": list(best[2])}
        ship(args.weights, args.ship, overrides, calibration=calibration | {"score": results[best]})
        print(f"shipped {args.ship} ({args.ship.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
