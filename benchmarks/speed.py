"""Throughput of the restorer's networks at 512x512: eager PyTorch against onnxruntime, in one run.

Both backends run the same two stages (fill + damage, colour) of the same weights on the same real
photos (the bundled test photos, resized to 512x512), alternating, after a warm-up; the table gives images
per second, the ONNX/torch ratio and how far the outputs are apart. The competition score of the two
backends is measured by benchmarks/quality.py (`--backends torch onnx`).

    python benchmarks/speed.py                       # shipped weights, 2 threads
    python benchmarks/speed.py --weights runs/seed/model.safetensors --threads 2 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from restoria.commands.examples import bundled_photos
from restoria.imaging import to_gray, to_tensor
from restoria.inference.restorer import load_backend_model


def photos_512() -> list[torch.Tensor]:
    """Every bundled photo, resized to 512x512 gray."""
    return [to_tensor(to_gray(cv2.resize(rgb, (512, 512), interpolation=cv2.INTER_AREA)))[None] for rgb in bundled_photos().values()]


def run(model: object, xs: list[torch.Tensor]) -> tuple[float, list[torch.Tensor]]:
    """Seconds for the two stages over all images, and the RGB outputs."""
    outs = []
    start = time.perf_counter()
    with torch.inference_mode():
        for x in xs:
            fill = model.fill_and_damage(x)
            gray = fill[:, 1:2] * fill[:, :1] + (1 - fill[:, 1:2]) * x
            outs.append(model.to_rgb(gray, model.color(gray)))
    return time.perf_counter() - start, outs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, help="weights file (default: the shipped restorer)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    os.environ.setdefault("RESTORIA_CACHE", tempfile.mkdtemp())
    xs = photos_512()
    models = {
        "torch (eager)": load_backend_model(args.weights, "torch", "cpu"),
        "onnxruntime": load_backend_model(args.weights, "onnx", "cpu"),
    }
    for m in models.values():
        run(m, xs[:1])  # warm-up
    seconds = {k: 0.0 for k in models}
    outs: dict[str, list[torch.Tensor]] = {}
    for _ in range(args.rounds):
        for name, m in models.items():
            s, outs[name] = run(m, xs)
            seconds[name] += s
    n = args.rounds * len(xs)
    base = seconds["torch (eager)"]
    diff = np.concatenate([(a - b).abs().flatten().numpy() for a, b in zip(outs["onnxruntime"], outs["torch (eager)"])]) * 255
    table = Table(title=f"two stages at 512x512, {len(xs)} real photos x {args.rounds} rounds, {args.threads} threads")
    for col in ("backend", "images/s", "ratio", "max |diff| (0-255)", "mean |diff|"):
        table.add_column(col)
    for name, s in seconds.items():
        same = name.startswith("torch")
        table.add_row(
            name, f"{n / s:.2f}", f"{base / s:.2f}x", "-" if same else f"{diff.max():.2f}", "-" if same else f"{diff.mean():.4f}"
        )
    Console().print(table)


if __name__ == "__main__":
    main()
