"""Figures of the README and the model card, made from the code and the shipped weights.

    python docs/figures.py                          # docs/before_after.png (default weights)
    python docs/figures.py --run runs/restore       # + docs/training_curve.png from a run's metrics.csv
    python docs/figures.py --old-weights runs/previous-restore-lite2.safetensors   # + docs/colour.png
    python docs/figures.py --old-photos DIR         # + docs/old_photos.png: real scans (not in the repo)
    python docs/figures.py --ageing                 # + docs/ageing.png: every kind of restoria.data.ageing
    python docs/figures.py --large-scans            # + docs/large_scans.png: colour read at 512 px vs full size
    python docs/figures.py --calibration --old-photos DIR   # + docs/calibration.png: --color-calibration 0 / 0.5 / 1

docs/colour.png compares the colour of an older default with today's (git show ee404e9~1:src/restoria/
assets/restore.safetensors > runs/previous-restore-lite2.safetensors gives the one before the global
view; git show 892e752:src/restoria/weights/restore.safetensors the one before the ImageNet colorizer).

The photos are the ones bundled with scikit-image / scikit-learn / matplotlib, never trained on.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import cv2
import numpy as np
from PIL import Image

from restoria.commands.examples import bundled_photos
from restoria.data.ageing import GLOBAL, LOOKALIKES, STRUCTURAL, AgeingConfig, age_photo
from restoria.data.damage import apply_damage
from restoria.imaging import to_gray
from restoria.inference.colour_mode import colour_mode
from restoria.inference.restorer import Restorer
from restoria.io import read_image
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


def fit(img: np.ndarray, side: int) -> np.ndarray:
    """`img` with its longer side brought to `side` (area-averaged), so faces and skies can be judged."""
    h, w = img.shape[:2]
    f = side / max(h, w)
    return cv2.resize(img, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)


def grid(out: Path, rows: list[list[np.ndarray]], cols: tuple[str, ...], labels: list[str], size: float = 4.0, dpi: int = 72) -> None:
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(size * len(cols), size * len(rows)), squeeze=False)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            ax = axes[r, c]
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255)
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(cols[c])
        axes[r, 0].set_ylabel(labels[r])
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    print(f"wrote {out}")


def colour_comparison(out: Path, names: list[str], old_weights: Path, weights: Path | None) -> None:
    """Damaged gray input, the older default's colour, today's, and the original, on whole photos."""
    photos = bundled_photos()
    old, new = Restorer([old_weights]), Restorer([weights] if weights else None)
    rows = []
    for r, name in enumerate(names):
        rgb = fit(photos[name], 512)
        damaged, _ = apply_damage(to_gray(rgb), np.random.default_rng(r))
        rows.append([damaged, old(damaged).restored, new(damaged).restored, rgb])
    grid(out, rows, ("damaged gray input", "older default", "default", "original"), names)


def old_photo_figure(out: Path, folder: Path, weights: Path | None) -> None:
    """Real scanned old prints: the scan, the damage the detect stage found, the enhance stage's output
    and the default restore (colour prints keep their colours, monochrome ones are colorized). Each is
    restored at its own size, as `restoria restore` would, and shown at 512 px."""
    restorer = Restorer([weights] if weights else None)
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in {".png", ".jpg", ".jpeg"})
    rows = []
    for f in files:
        rgb = read_image(f, "RGB")
        st = restorer(rgb)
        found = rgb.copy()
        found[st.mask > 0] = (255, 0, 0)
        rows.append([fit(x if x.ndim == 3 else np.repeat(x[..., None], 3, -1), 512) for x in (rgb, found, st.enhanced, st.restored)])
    grid(out, rows, ("scan", "damage found (red)", "enhanced", "restored (default)"), [f.stem for f in files])


def calibration_figure(out: Path, names: list[str], folder: Path | None, weights: Path | None, values: tuple[float, ...] = (0.0, 0.5, 1.0)) -> None:
    """The colorizer decoded with each `--color-calibration`: the monochrome real scans in `folder` (the
    colour prints keep their colours whatever the setting, so they are left out) and bundled photos
    made gray, beside the original where there is one."""
    restorers = [Restorer([weights] if weights else None, color_calibration=v) for v in values]
    inputs: list[tuple[str, np.ndarray, np.ndarray | None]] = []
    for f in sorted(folder.iterdir()) if folder else []:
        if f.suffix.lower() in {".png", ".jpg", ".jpeg"}:
            scan = read_image(f, "RGB")
            if colour_mode(scan) != "colour":
                inputs.append((f.stem, scan, None))
    photos = bundled_photos()
    inputs += [(name, to_gray(fit(photos[name], 512)), fit(photos[name], 512)) for name in names]
    rows = []
    for _, image, original in inputs:
        outs = [fit(r(image).restored, 512) for r in restorers]
        shown = fit(image if image.ndim == 3 else np.repeat(image[..., None], 3, -1), 512)
        rows.append([shown, *outs, original if original is not None else np.full_like(shown, 255)])
    cols = ("input", *(f"--color-calibration {v:g}" + (" (default)" if v == 0 else "") for v in values), "original")
    grid(out, rows, cols, [n for n, _, _ in inputs])


def large_scan_figure(out: Path, names: list[str], weights: Path | None, side: int = 2048) -> None:
    """Gray scans of about `side` px (the bundled photos enlarged, or as they are when larger): colour
    read at full size against colour read from a 512 px view (the default, `--colour-size`)."""
    photos = bundled_photos()
    full, view = Restorer([weights] if weights else None, colour_size=None), Restorer([weights] if weights else None)
    rows, labels = [], []
    for name in names:
        rgb = photos[name]
        if max(rgb.shape[:2]) < side:
            f = side / max(rgb.shape[:2])
            rgb = cv2.resize(rgb, (round(rgb.shape[1] * f), round(rgb.shape[0] * f)), interpolation=cv2.INTER_CUBIC)
        gray = to_gray(rgb)
        rows.append([fit(img, 512) for img in (gray, full.colorize(gray), view.colorize(gray), rgb)])
        labels.append(f"{name} ({rgb.shape[1]}x{rgb.shape[0]})")
    grid(out, rows, ("gray scan", "colour read at full size", "colour read at 512 px (default)", "original"), labels)


def ageing_figure(out: Path, names: list[str]) -> None:
    """restoria.data.ageing, one kind per row on the bundled photos: each structural kind beside the mask
    it goes into, each global kind and look-alike beside the untouched photo."""
    photos = bundled_photos()
    rows, labels = [], []
    for k, kind in enumerate((*STRUCTURAL, *GLOBAL, *LOOKALIKES)):
        row: list[np.ndarray] = []
        for s, name in enumerate(names):
            rgb = cv2.resize(photos[name], (384, 384), interpolation=cv2.INTER_AREA)
            structural = kind in STRUCTURAL
            if structural:
                cfg = AgeingConfig(damage={kind: 1.0}, min_damages=1, max_damages=1, ageing={}, reference_size=384)
            elif kind in LOOKALIKES:
                cfg = AgeingConfig(damage={}, ageing={}, lookalikes={kind: 1.0}, reference_size=384)
            else:
                cfg = AgeingConfig(damage={}, ageing={kind: 1.0}, reference_size=384)
            aged = age_photo(rgb, np.random.default_rng([k, s]), cfg)
            row += [aged.image, aged.mask if structural else rgb]
        rows.append(row)
        labels.append(kind)
    cols = tuple(c for n in names for c in (f"{n}: aged", "mask / original"))
    grid(out, rows, cols, labels, size=2.6, dpi=60)
    Image.open(out).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(out, optimize=True)  # a quarter of the bytes


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
    ap.add_argument("--old-weights", type=Path, help="an older restorer: docs/colour.png compares it with --weights")
    ap.add_argument("--old-photos", type=Path, help="a folder of real scanned old photos: docs/old_photos.png")
    ap.add_argument("--ageing", action="store_true", help="docs/ageing.png: every kind of the ageing model")
    ap.add_argument("--colour-photos", nargs="*", default=["astronaut", "grace_hopper", "china", "coffee", "chelsea", "motorcycle_left"])
    ap.add_argument("--large-scans", action="store_true", help="docs/large_scans.png: colour of large scans read at 512 px and at full size")
    ap.add_argument("--calibration", action="store_true", help="docs/calibration.png: --color-calibration 0, 0.5 and 1 (with --old-photos: on the monochrome scans too)")
    args = ap.parse_args()
    if args.calibration:
        calibration_figure(HERE / "calibration.png", ["grace_hopper", "coffee", "astronaut"], args.old_photos, args.weights)
    if args.large_scans:
        large_scan_figure(HERE / "large_scans.png", ["motorcycle_left", "astronaut", "grace_hopper"], args.weights)
    if args.ageing:
        ageing_figure(HERE / "ageing.png", ["astronaut", "coffee"])
    if args.old_weights:
        colour_comparison(HERE / "colour.png", args.colour_photos, args.old_weights, args.weights)
    if args.old_photos:
        old_photo_figure(HERE / "old_photos.png", args.old_photos, args.weights)
    before_after(HERE / "before_after.png", args.photos, args.weights)
    if args.run:
        training_curve(args.run, HERE / "training_curve.png")


if __name__ == "__main__":
    main()
