"""How much a restorer's hue head knows beyond its prior: the score's hue term (histogram correlation)
of histograms that need no rendering, on the true gray of each photo.

    python benchmarks/hue_headroom.py --train data/train512 \\
        --sets val=data/train512:val:48 other=runs/quality/data:test

Rows: the head's prior (one histogram for every photo); the head's expected histogram (the sum of its
per-cell distributions) at a few softmax temperatures; the constant histogram that maximises the mean
correlation on the train crops (fitted by Adam on its logits through `restoria.losses.pearson_correlation`). The
score of a rendered photo (`benchmarks/hue_strength.py`) also depends on the drawing and rounding.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import track
from rich.table import Table

from restoria.data.base import layout_rows
from restoria.imaging import to_gray
from restoria.io import read_image
from restoria.losses import pearson_correlation
from restoria.metrics.score import histogram_correlation, hue_histogram
from restoria.weights import load_model

TEMPERATURES = (1.0, 1.5, 2.0)


def fit_constant(hists: torch.Tensor, steps: int = 1500) -> np.ndarray:
    """The one histogram with the highest mean correlation to `hists` (N, 180)."""
    z = torch.log(hists.sum(0) / hists.sum() + 1e-8).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=0.05)
    for _ in range(steps):
        loss = -pearson_correlation(torch.softmax(z, 0), hists).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return torch.softmax(z, 0).detach().numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, default=None, help="a hue-head restorer (the shipped one by default)")
    ap.add_argument("--train", type=Path, required=True, help="the dataset whose train split fits the constant")
    ap.add_argument("--sets", nargs="+", required=True, help="NAME=DATA:SPLIT[:LIMIT]")
    args = ap.parse_args()
    model = load_model(args.weights).eval()
    if getattr(model, "hue_head", None) is None:
        raise SystemExit(f"{args.weights or 'the shipped restorer'}: no hue head")
    train = [hue_histogram(read_image(r.gt, "RGB")) for r in track(layout_rows(args.train, "train"), "train histograms")]
    methods = {"prior (one histogram for all)": model.hue_prior.numpy()}
    methods["constant fitted on the train crops"] = fit_constant(torch.tensor(np.array(train)))
    table = Table(title="hue-histogram correlation, no rendering")
    table.add_column("histogram")
    results: dict[str, list[str]] = {}
    for spec in args.sets:
        name, where = spec.split("=", 1)
        data, split, *limit = where.split(":")
        rows = layout_rows(data, split)[: int(limit[0])] if limit else layout_rows(data, split)
        scores: dict[str, list[float]] = {}
        for r in track(rows, name):
            rgb = read_image(r.gt, "RGB")
            truth = hue_histogram(rgb)
            gray = torch.from_numpy(to_gray(rgb) / 255.0).float()[None, None]
            with torch.no_grad():
                logits = model.colorize_heads(gray)[1]
            for t in TEMPERATURES:
                expected = torch.softmax(logits / t, 1).sum((0, 2, 3)).numpy()
                scores.setdefault(f"hue head's expected histogram, temperature {t:g}", []).append(histogram_correlation(truth, expected))
            for label, hist in methods.items():
                scores.setdefault(label, []).append(histogram_correlation(truth, hist))
        for label, values in scores.items():
            results.setdefault(label, []).append(f"{np.mean(values):.4f}")
        table.add_column(f"{name} ({len(rows)})", justify="right")
    for label, cells in results.items():
        table.add_row(label, *cells)
    Console().print(table)


if __name__ == "__main__":
    main()
