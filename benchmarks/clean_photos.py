"""A clean photo stays clean: how much of each undamaged photo `restore`'s detect stage marks as damage.

The photos bundled with scikit-image, scikit-learn and matplotlib (never trained on), each at its own
size as `restore` sees it (not cut to 512 px: a 600 px portrait's black uniform is a larger region than
in a crop), and optionally the clean test split of a `restoria prepare` dataset. For each real-damage
segmenter given (`none`: the shipped detectors alone; `default`: the shipped one), prints the share of
pixels found per photo, their mean and worst, and writes OUT/clean_photos.png: every photo with what
was found in red, one block per segmenter. `--old-photos DIR` adds real scanned old photos to the
figure (damaged, for looking only: never for choosing), so a segmenter that finds nothing anywhere shows.

    python benchmarks/clean_photos.py --out runs/clean --real-segmenters none default runs/segment-real-negatives/last.safetensors
    python benchmarks/clean_photos.py --out runs/clean --real-segmenters default --threshold 0.7 --old-photos DIR
    python benchmarks/clean_photos.py --out runs/clean --real-segmenters W --data data/train512 --photos 24
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

from restoria.commands.examples import bundled_photos
from restoria.data.base import layout_rows
from restoria.imaging import to_gray
from restoria.inference.restorer import Restorer
from restoria.io import read_image, write_png

TILE_HEIGHT = 280


def clean_photos(data: Path | None, split: str, count: int) -> dict[str, np.ndarray]:
    """name -> uint8 gray: the bundled photos, then `count` clean ground truths of DATA's split."""
    photos = {name: to_gray(rgb) for name, rgb in bundled_photos().items()}
    if data is not None:
        for row in layout_rows(data, split)[:count]:
            photos[row.id] = to_gray(read_image(row.gt))
    return photos


def overlay(gray: np.ndarray, found: np.ndarray) -> np.ndarray:
    """RGB tile of TILE_HEIGHT rows: the photo with its found damage in red."""
    rgb = np.repeat(gray[..., None], 3, -1).astype(np.float32)
    rgb[found > 0] = 0.4 * rgb[found > 0] + 0.6 * np.array([255, 0, 0], np.float32)
    w = max(1, round(gray.shape[1] * TILE_HEIGHT / gray.shape[0]))
    return cv2.resize(rgb.clip(0, 255).astype(np.uint8), (w, TILE_HEIGHT), interpolation=cv2.INTER_AREA)


def grid(blocks: list[list[np.ndarray]], width: int = 1600) -> np.ndarray:
    """One block of tiles per segmenter, each wrapped into rows `width` px wide, a white gap between
    blocks."""
    lines: list[np.ndarray] = []
    for tiles in blocks:
        line: list[np.ndarray] = []
        for tile in tiles:
            if line and sum(t.shape[1] + 4 for t in line) + tile.shape[1] > width:
                lines.append(np.hstack(line))
                line = []
            line.append(np.pad(tile, ((0, 4), (0, 4), (0, 0)), constant_values=255))
        lines.append(np.hstack(line))
        lines.append(np.full((16, 1, 3), 255, np.uint8))
    wide = max(r.shape[1] for r in lines)
    return np.vstack([np.pad(r, ((0, 0), (0, wide - r.shape[1]), (0, 0)), constant_values=255) for r in lines])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--real-segmenters", nargs="+", default=["none", "default"], help="weights, `default` (shipped) or `none`")
    ap.add_argument("--data", type=Path, default=None, help="a `restoria prepare` dataset whose clean split photos are added")
    ap.add_argument("--split", default="test")
    ap.add_argument("--photos", type=int, default=24)
    ap.add_argument("--old-photos", type=Path, default=None, help="a folder of real scanned old photos, added to the figure")
    ap.add_argument("--threshold", type=float, default=None, help="the real-damage segmenter's damage probability that counts (default: its own)")
    ap.add_argument("--low-threshold", type=float, default=None, help="its hysteresis threshold: weaker pixels joined to one above the threshold count (0: none; default: its own)")
    ap.add_argument("--min-area", type=int, default=None, help="its smallest region, px at 512 (default: its own)")
    ap.add_argument("--views", type=int, default=None, help="the mirrored / rotated views its map is averaged over: 1, 2, 4 or 8 (default: its own)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    photos = clean_photos(args.data, args.split, args.photos)
    scans = {p.stem: to_gray(read_image(p)) for p in sorted(args.old_photos.glob("*")) if p.suffix.lower() in {".png", ".jpg", ".jpeg"}} if args.old_photos else {}
    table = Table(title="share of each clean photo found damaged (%), at its own size")
    table.add_column("photo")
    blocks: list[list[np.ndarray]] = []
    shares: dict[str, list[float]] = {}
    for weights in args.real_segmenters:
        restorer = Restorer(real_segmenter=None if weights == "none" else weights, enhancer=None, backend="onnx")
        real = restorer.real_segmenter
        if real is not None and args.views is not None:  # first: it sets the threshold that goes with it
            real.use_views(args.views)
        if real is not None and args.threshold is not None:
            real.threshold = args.threshold
        if real is not None and args.low_threshold is not None:
            real.low_threshold = args.low_threshold or None
        if real is not None and args.min_area is not None:
            real.min_area_at_reference = args.min_area
        table.add_column(Path(weights).parent.name if weights not in ("none", "default") else weights, justify="right")
        tiles: list[np.ndarray] = []
        found_shares = []
        for name, gray in track({**photos, **scans}.items(), description=f"detect ({weights})"):
            found, _ = restorer.detect(gray)
            if name in photos:
                found_shares.append(100 * float((found > 0).mean()))
            if name in photos and len(tiles) < 9 or name in scans:
                tiles.append(overlay(gray, found))
        shares[weights] = found_shares
        blocks.append(tiles)
    for i, name in enumerate(photos):
        table.add_row(name, *(f"{shares[w][i]:.2f}" for w in args.real_segmenters))
    table.add_row("mean", *(f"{np.mean(shares[w]):.2f}" for w in args.real_segmenters))
    table.add_row("worst", *(f"{np.max(shares[w]):.2f}" for w in args.real_segmenters))
    table.add_row("photos over 1%", *(str(int(np.sum(np.array(shares[w]) > 1))) for w in args.real_segmenters))
    Console().print(table)
    figure = grid(blocks)
    write_png(args.out / "clean_photos.png", figure)
    scans_note = "; each block ends with the damaged old scans" if scans else ""
    print(f"wrote {args.out / 'clean_photos.png'} (blocks: {', '.join(args.real_segmenters)}{scans_note})")


if __name__ == "__main__":
    main()
