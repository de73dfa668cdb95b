"""Competition score of Restoria against simple baselines, on photos kept out of training.

Builds (or reuses) a competition-style test set, runs every method into its own prediction folder and
prints one table: score, SSIM, masked SSIM, hue-histogram similarity, and the mean HSV saturation of
the predictions (how vivid they are, which the score does not measure) beside the originals'.

    python benchmarks/quality.py --out runs/quality                       # bundled photos (other sources)
    python benchmarks/quality.py --data data/train512 --split val --out runs/quality-val
    python benchmarks/quality.py --out runs/quality --weights seed=runs/seed/model.safetensors
    python benchmarks/quality.py --out runs/quality --backends torch onnx

Methods: the damaged gray input as it is; OpenCV Telea inpainting of the KNOWN mask, left gray; and
each weights file given (the shipped default when none), through the same code as `restoria predict`.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from restoria.commands.evaluate import evaluate
from restoria.commands.examples import bundled_photos
from restoria.commands.prepare import prepare
from restoria.data.base import layout_rows
from restoria.fill import classical_fill_image
from restoria.inference.restorer import Restorer
from restoria.io import read_image, write_png
from restoria.metrics.score import mean_saturation
from restoria.weights import default_weights


def bundled_test_set(out: Path, crops: int, seed: int) -> Path:
    """A 512x512 test set from the photos bundled with scikit-image / scikit-learn / matplotlib."""
    if (out / "test.csv").exists():
        return out
    with tempfile.TemporaryDirectory() as tmp:
        for name, rgb in bundled_photos().items():
            write_png(Path(tmp) / f"{name}.png", rgb)
        prepare([tmp], out, size=512, val_fraction=0, test_fraction=1.0, crops_per_photo=crops, seed=seed)
    return out


def run_method(name: str, data: Path, split: str, out: Path, restorer: Restorer | None) -> tuple[Path, float]:
    """Write the method's prediction for every row; returns the folder and their mean saturation."""
    pred = out / name
    saturation = []
    for row in layout_rows(data, split):
        gray = read_image(row.input, "L")
        if restorer is not None:
            rgb = restorer(gray).restored
        elif name == "telea":
            mask = read_image(row.mask, "L")
            rgb = np.repeat(classical_fill_image(gray, mask, "telea")[..., None], 3, -1)
        else:
            rgb = np.repeat(gray[..., None], 3, -1)
        write_png(pred / f"{row.id}.png", rgb)
        saturation.append(mean_saturation(rgb))
    return pred, float(np.mean(saturation))


def held_out_arguments(ap: argparse.ArgumentParser) -> None:
    """The options every quality benchmark shares: which held-out photos, where to write, which weights."""
    ap.add_argument("--data", type=Path, help="dataset from `restoria prepare` (default: build one from the bundled photos)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--weights", nargs="*", default=[], help="NAME=PATH entries (default: restoria=<shipped>)")
    ap.add_argument("--crops", type=int, default=4, help="crops per bundled photo")
    ap.add_argument("--seed", type=int, default=1)


def held_out_data(args: argparse.Namespace) -> tuple[Path, str]:
    """(dataset, split) the options name: a prepared split, or the bundled photos' test set."""
    if args.data:
        return args.data, args.split
    return bundled_test_set(args.out / "data", args.crops, args.seed), "test"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    held_out_arguments(ap)
    ap.add_argument("--detectors", nargs="*", default=["both"], help="damage detection(s) to compare: model, flat, both")
    ap.add_argument("--backends", nargs="*", default=["torch"], help="torch and/or onnx (onnxruntime)")
    ap.add_argument("--fills", nargs="*", default=["auto"], help="the damage's fill(s) to compare: auto, model, ns, telea")
    args = ap.parse_args()

    data, split = held_out_data(args)
    weights = dict(w.split("=", 1) for w in args.weights) or {"restoria": str(default_weights())}
    methods: dict[str, Restorer | None] = {"gray input": None, "telea": None}
    for n, p in weights.items():
        for d, b, f in itertools.product(args.detectors, args.backends, args.fills):
            tags = [t for t, opts in ((d, args.detectors), (b, args.backends), (f"fill {f}", args.fills)) if len(opts) > 1]
            methods[f"{n} ({', '.join(tags)})" if tags else n] = Restorer([p], detector=d, backend=b, fill=f)
    rows = layout_rows(data, split)
    true_saturation = np.mean([mean_saturation(read_image(row.gt, "RGB")) for row in rows])
    table = Table(title=f"competition score on {data} ({split}, n={len(rows)}; saturation of the originals {true_saturation:.3f})")
    for col in ("method", "score", "ssim", "masked_ssim", "hist", "saturation"):
        table.add_column(col)
    for name, restorer in methods.items():
        pred, saturation = run_method("".join(c if c.isalnum() else "_" for c in name), data, split, args.out / "pred", restorer)
        r, errors = evaluate(data, pred, split)
        assert not errors, errors
        table.add_row(name, *(f"{r[k]:.4f}" for k in ("score", "ssim", "masked_ssim", "hist")), f"{saturation:.3f}")
    Console().print(table)


if __name__ == "__main__":
    main()
