"""Competition score of a hue-head restorer over hue strengths, chroma gains and hue temperatures,
on a val split, through the full `restore` pipeline (the grid that chose the shipped gain 0.5,
strength 1 and temperature).

    python benchmarks/hue_strength.py --weights runs/huehead/model.safetensors --data data/train512 \\
        --strengths 0.5 0.75 1 --gains 0.25 0.35 0.5 1
    python benchmarks/hue_strength.py --weights src/restoria/assets/restore.safetensors --data data/train512 \\
        --gains 1 --temperatures 1 1.5 2 3 --limit 141
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from rich.progress import track

from restoria.data.base import layout_rows
from restoria.inference.restorer import Restorer
from restoria.io import read_image
from restoria.metrics.score import CompetitionScore


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int, default=48)
    ap.add_argument("--strengths", type=float, nargs="+", default=[1.0])
    ap.add_argument("--gains", type=float, nargs="+", default=[0.5, 1.0])
    ap.add_argument("--temperatures", type=float, nargs="+", default=[1.0])
    args = ap.parse_args()
    rows = list(layout_rows(args.data, args.split))[: args.limit]
    photos = [(read_image(r.input, "L"), read_image(r.gt, "RGB"), read_image(r.mask, "L") > 0) for r in rows]
    restorer = Restorer([args.weights])
    model = restorer.models[0]
    for strength, gain, temperature in itertools.product(args.strengths, args.gains, args.temperatures):
        model.hue_strength, restorer.color_strength, model.hue_temperature = strength, gain, temperature
        name = f"strength {strength:g} gain {gain:g} temperature {temperature:g}"
        score = CompetitionScore()
        for gray, gt, mask in track(photos, name):
            score.update(gt, restorer(gray).restored, mask)
        agg = score.compute()
        print(f"{name}: " + ", ".join(f"{k} {agg[k]:.4f}" for k in ("score", "ssim", "masked_ssim", "hist")), flush=True)


if __name__ == "__main__":
    main()
