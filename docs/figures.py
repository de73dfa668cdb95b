"""Figures of the README and the model card, made from the code and the shipped weights.

    python docs/figures.py                          # docs/before_after.png (default weights)
    python docs/figures.py --run runs/restore       # + docs/training_curve.png from a run's metrics.csv

The photos are the ones bundled with scikit-image / scikit-learn / matplotlib, never trained on.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from restoria.commands.examples import bundled_photos
from restoria.data.damage import apply_damage
from restoria.imaging import to_gray
from restoria.inference.restorer import Restorer
from restoria.metrics.score import image_scores

HERE = Path(__file__).parent


def before_after(out: Path, names: list[str], weights: Path | None) -> None:
    photos = bundled_photos()
    restorer = Restorer([weights] if weights else None)
    cols = ("damaged input", "detected damage", "restored gray", "restored colour", "original")
    fig, axes = plt.subplots(len(names), len(cols), figsize=(3 * len(cols), 3 * len(names)))
    for r, name in enumerate(names):
        rgb = photos[name]
        damaged, mask = apply_damage(to_gray(rgb), np.random.default_rng(r))
        st = restorer(damaged)
        s = image_scores(rgb, st.restored, mask)
        for c, (img, title) in enumerate(zip((damaged, st.mask, st.inpainted, st.restored, rgb), cols)):
            ax = axes[r, c]
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255)
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(title)
        axes[r, 3].set_xlabel(f"score {s['score']:.3f}")
        axes[r, 0].set_ylabel(name)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    print(f"wrote {out}")


def training_curve(run: Path, out: Path) -> None:
    with open(run / "logs" / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    train = [(int(r["step"]), float(r["train/loss"])) for r in rows if r.get("train/loss")]
    val = {k: [(int(r["step"]), float(r[k])) for r in rows if r.get(k)] for k in ("val/score", "val/ssim", "val/masked_ssim", "val/hist")}
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.plot(*zip(*train), lw=0.8)
    a.set(xlabel="step", ylabel="training loss", title="training loss", yscale="log")
    for k, pts in val.items():
        if pts:
            b.plot(*zip(*pts), marker="o", label=k.split("/")[1])
    b.set(xlabel="step", title="validation (competition metric)")
    b.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, help="weights file (default: the shipped one)")
    ap.add_argument("--run", type=Path, help="a run folder of `restoria train`, for the training curve")
    ap.add_argument("--photos", nargs="*", default=["astronaut", "coffee", "china", "grace_hopper"])
    args = ap.parse_args()
    before_after(HERE / "before_after.png", args.photos, args.weights)
    if args.run:
        training_curve(args.run, HERE / "training_curve.png")


if __name__ == "__main__":
    main()
