"""Photos per minute of `restoria restore`'s engines, in one run: local, and Ray Data with 1 and 2 actors.

Every engine restores the same N photos (the bundled test photos, resized to 512x512 and made gray,
as an archive of old prints is, so every stage runs; cycled up to N) with the shipped weights, and
the CPU threads are split so the total fits `--threads` cores: the local engine with all of them, Ray
with 1 actor x all of them and with 2 actors x half each (each Ray is started with `--threads` CPUs and
the engine gives each actor its share). Each engine's time is split in two:

- steady: the rate once every worker is working (local: the whole batch; Ray: the photos after the
  first one each actor returns, over the time from that moment to the last);
- start-up: the rest of the end-to-end time (local: loading the weights; Ray: starting Ray, its actors,
  and their weights).

The last column is how far each engine's photos are from the local engine's (0-255).

    python benchmarks/engine.py               # 12 photos, 2 cores
    python benchmarks/engine.py --n 48 --threads 8
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from rich.console import Console
from rich.table import Table

from restoria.commands.examples import bundled_photos
from restoria.commands.ray_engine import require_ray, restore_on_ray
from restoria.commands.restore import restorer_kwargs
from restoria.commands.restore import restore_files
from restoria.imaging import to_gray
from restoria.inference.restorer import Restorer


def write_photos(folder: Path, n: int, size: int) -> list[Path]:
    """`n` gray photos, size x size, from the bundled ones (cycled), as PNG in `folder`."""
    found = sorted(bundled_photos().items())
    files = []
    for i in range(n):
        name, rgb = found[i % len(found)]
        files.append(folder / f"{i:03d}_{name}.png")
        Image.fromarray(to_gray(cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA))).save(files[-1])
    return files


class Clock:
    """The time at which each result arrived (the engines' `progress` callback)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.arrivals: list[float] = []

    def __call__(self, n: int = 1) -> None:
        self.arrivals.extend([time.perf_counter() - self.start] * n)


def local(files: list[Path], out: Path, threads: int) -> tuple[float, float]:
    """(end-to-end seconds, steady seconds for all photos) of the local engine."""
    torch.set_num_threads(threads)
    clock = Clock()
    restorer = Restorer(**restorer_kwargs(None, 1024))
    loaded = time.perf_counter() - clock.start
    written, errors, _ = restore_files(files, out, restorer, progress=clock)
    assert len(written) == len(files) and not errors, errors
    total = time.perf_counter() - clock.start
    return total, total - loaded


def on_ray(files: list[Path], out: Path, threads: int, workers: int) -> tuple[float, float]:
    """(end-to-end seconds with Ray's start-up, steady seconds per photo x photos) of the Ray engine."""
    ray = require_ray()
    clock = Clock()
    ray.init(num_cpus=threads, include_dashboard=False, logging_level=logging.WARNING)
    try:
        written, errors, _ = restore_on_ray(files, out, restorer_kwargs(None, 1024), progress=clock, workers=workers)
    finally:
        ray.shutdown()
    assert len(written) == len(files) and not errors, errors
    total = time.perf_counter() - clock.start
    first = clock.arrivals[workers - 1]  # by then every actor has returned (about) one photo
    per_photo = (clock.arrivals[-1] - first) / (len(files) - workers)
    return total, per_photo * len(files)


def max_diff(a: Path, b: Path) -> int:
    """The largest pixel difference between two folders' PNGs of the same names."""
    return max(
        int(np.abs(np.asarray(Image.open(p)).astype(int) - np.asarray(Image.open(b / p.name)).astype(int)).max())
        for p in a.glob("*.png")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=12, help="photos")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2, help="cores for the engines, all together")
    args = ap.parse_args()
    if args.n < 3:
        ap.error("--n must be at least 3 (the steady rate of 2 workers needs photos after their first)")

    root = Path(tempfile.mkdtemp(prefix="engine-bench-"))
    (root / "in").mkdir()
    files = write_photos(root / "in", args.n, args.size)
    half = max(1, args.threads // 2)
    runs = {
        f"local, 1 process x {args.threads} threads": lambda out: local(files, out, args.threads),
        f"ray, 1 worker x {args.threads} threads": lambda out: on_ray(files, out, args.threads, 1),
        f"ray, 2 workers x {half} thread{'s' if half > 1 else ''}": lambda out: on_ray(files, out, args.threads, 2),
    }
    results = {}
    for i, (name, run) in enumerate(runs.items()):
        results[name] = (*run(root / f"out{i}"), root / f"out{i}")
    base_steady = next(iter(results.values()))[1]
    table = Table(title=f"restore, {args.n} gray photos {args.size}x{args.size}, shipped weights, {args.threads} cores")
    for col in ("engine", "start-up s", "steady photos/min", "end-to-end photos/min", "steady vs local", "max |diff| vs local"):
        table.add_column(col)
    local_out = results[next(iter(results))][2]
    for name, (total, steady, out) in results.items():
        table.add_row(
            name, f"{total - steady:.1f}", f"{60 * args.n / steady:.1f}", f"{60 * args.n / total:.1f}",
            f"{base_steady / steady:.2f}x", str(max_diff(out, local_out)),
        )
    Console().print(table)


if __name__ == "__main__":
    main()
