"""Peak memory and time of `restore` against photo size, on the CPU, with the shipped weights.

Each size runs in its own process (peak RSS is a per-process high-water mark), restoring a real photo
(scikit-image's astronaut) resized to that size, with the default tiling. Prints one table and writes
a PNG of memory and time against megapixels; the 4000x3000 row is the "< 3 GB" goal. The astronaut is
undamaged, so the classifier gate may skip the fill; `--damage SEED` first damages it with the
competition's polygons (scaled to the size), so the fill of the damage is measured too, by `--fill`
(the default's, or e.g. `ns` for the fast one).

    python benchmarks/memory.py --out runs/memory            # 256 ... 4096 px, and 4000x3000
    python benchmarks/memory.py --out runs/memory --backends torch onnx --damage 0   # both backends, damaged
    python benchmarks/memory.py --out runs/memory --sizes 512 4000x3000 --tile 512
    python benchmarks/memory.py --out runs/memory-damaged --sizes 4000x3000 --threads 1 --damage 0
    python benchmarks/memory.py --out runs/memory-damaged-ns --sizes 4000x3000 --threads 1 --damage 0 --fill ns
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from restoria.inference.net import BACKENDS
from restoria.inference.restorer import FILLS

CHILD = r"""
import json, resource, sys, time
import cv2
import numpy as np
import torch
from restoria.data.damage import apply_damage
from restoria.imaging import to_gray
from restoria.commands.examples import bundled_photos
from restoria.inference.restorer import Restorer

w, h, tile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
torch.set_num_threads(int(sys.argv[4]))
gray = to_gray(cv2.resize(bundled_photos()["astronaut"], (w, h), interpolation=cv2.INTER_CUBIC))
if sys.argv[5] != "none":
    gray = apply_damage(gray, np.random.default_rng(int(sys.argv[5])))[0]
restorer = Restorer(tile=None if tile == "none" else int(tile), fill=sys.argv[6], backend=sys.argv[7])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
out = restorer(gray)
seconds = time.perf_counter() - start
assert out.restored.shape == (h, w, 3)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "before_mb": base / 1024}))
"""


def parse_size(s: str) -> tuple[int, int]:
    w, _, h = s.partition("x")
    return int(w), int(h or w)


def measure(w: int, h: int, tile: str, threads: int, damage: int | None = None, fill: str = "auto", backend: str = "torch") -> dict[str, float]:
    argv = [str(w), str(h), tile, str(threads), "none" if damage is None else str(damage), fill, backend]
    res = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{w}x{h} failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def plot(rows: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for backend in dict.fromkeys(r["backend"] for r in rows):
        mine = sorted((r for r in rows if r["backend"] == backend), key=lambda r: r["megapixels"])
        mp = [r["megapixels"] for r in mine]
        axes[0].plot(mp, [r["peak_mb"] / 1024 for r in mine], "o-", label=f"peak RSS, {backend}")
        axes[1].plot(mp, [r["seconds"] for r in mine], "o-", label=backend)
    axes[0].axhline(3.0, color="r", ls="--", label="3 GB goal")
    axes[0].set(xlabel="megapixels", ylabel="GB", title="peak memory of restore")
    axes[0].legend()
    axes[1].set(xlabel="megapixels", ylabel="seconds", title="restore time (CPU)")
    axes[1].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--sizes", nargs="*", default=["256", "512", "1024", "2048", "4000x3000", "4096"])
    ap.add_argument("--tile", default="1024", help="tile side, or 'none' for one pass over the whole photo")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--damage", type=int, help="damage the photo first, with this seed")
    ap.add_argument("--fill", default="auto", choices=FILLS, help="the damage's fill (restore's --fill)")
    ap.add_argument("--backends", nargs="*", default=["torch"], choices=BACKENDS, help="torch and/or onnx")
    args = ap.parse_args()

    rows = []
    damaged = "" if args.damage is None else f", damaged (seed {args.damage}), fill {args.fill}"
    table = Table(title=f"restore on the CPU, tile {args.tile}, {args.threads} threads{damaged}")
    for col in ("backend", "size", "megapixels", "peak GB", "seconds", "s / MP"):
        table.add_column(col)
    for backend, s in itertools.product(args.backends, args.sizes):
        w, h = parse_size(s)
        r = measure(w, h, args.tile, args.threads, args.damage, args.fill, backend) | {"size": f"{w}x{h}", "megapixels": w * h / 1e6, "backend": backend}
        rows.append(r)
        table.add_row(
            backend, r["size"], f"{r['megapixels']:.2f}", f"{r['peak_mb'] / 1024:.2f}", f"{r['seconds']:.1f}", f"{r['seconds'] / r['megapixels']:.1f}"
        )
    Console().print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "memory.json").write_text(json.dumps(rows, indent=1))
    plot(rows, args.out / "memory.png")
    print(f"wrote {args.out / 'memory.png'}")


if __name__ == "__main__":
    main()
