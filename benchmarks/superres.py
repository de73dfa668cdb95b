"""Super-resolution on real photos never trained on: bicubic vs SRResNet vs SRGAN, x2 (and x4).

HR = each photo bundled with scikit-image / scikit-learn / matplotlib (its centre, at most `--max-side`
px, trimmed to a multiple of 4); LR = its antialiased bicubic reduction, rounded to 8 bits (exactly what
the models were trained on, `restoria.data.superres.bicubic_down`). Every method upsamples the same LR; the
scores (`restoria.metrics.superres`) are PSNR and SSIM on Y with `scale` px shaved at the borders, PSNR on RGB,
and the sharpness ratio (mean Sobel gradient of the output / of HR: bicubic is blurry, < 1), averaged
over the photos. Prints one table and draws a before/after crop figure.

    python benchmarks/superres.py --srgan-x2 runs/srgan_x2/model.safetensors --figure docs/superres.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image

from restoria.commands.examples import bundled_photos
from restoria.data.superres import bicubic_down, bicubic_up
from restoria.imaging import to_tensor, to_uint8
from restoria.inference.upscaler import Upscaler
from restoria.metrics.superres import sr_scores
from restoria.weights import default_weights

COLUMNS = ("psnr", "ssim", "psnr_rgb", "hf_ratio")


def centre(rgb: np.ndarray, max_side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    ch, cw = min(h, max_side) // 4 * 4, min(w, max_side) // 4 * 4
    y, x = (h - ch) // 2, (w - cw) // 2
    return rgb[y : y + ch, x : x + cw].copy()


def lanczos(lr: np.ndarray, scale: int) -> np.ndarray:
    h, w = lr.shape[:2]
    return np.asarray(Image.fromarray(lr).resize((w * scale, h * scale), Image.LANCZOS))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--x2", type=Path, default=default_weights("sr_x2.safetensors"), help="SRResNet x2 weights")
    ap.add_argument("--x4", type=Path, default=default_weights("sr_x4.safetensors"), help="SRResNet x4 weights (skipped if absent)")
    ap.add_argument("--srgan-x2", type=Path, default=None, help="SRGAN x2 weights (a `configs/srgan_x2.yaml` run)")
    ap.add_argument("--srgan-x4", type=Path, default=None, help="SRGAN x4 weights")
    ap.add_argument("--max-side", type=int, default=768, help="HR = the photo's centre, at most this many px a side")
    ap.add_argument("--figure", type=Path, default=None, help="write a before/after crop figure (PNG)")
    args = ap.parse_args()
    torch.set_grad_enabled(False)

    photos = {n: centre(p, args.max_side) for n, p in sorted(bundled_photos().items())}
    results: dict[tuple[int, str], list[dict[str, float]]] = {}
    examples: dict[int, dict[str, np.ndarray]] = {}
    for scale in (2, 4):
        methods = {"SRResNet": args.x2 if scale == 2 else args.x4, "SRGAN": args.srgan_x2 if scale == 2 else args.srgan_x4}
        models = {name: Upscaler(scale, w) for name, w in methods.items() if w is not None and Path(w).exists()}
        if not models:
            continue
        for name, rgb in photos.items():
            hr = to_tensor(rgb)[None]
            lr = bicubic_down(hr, scale)
            lr8 = to_uint8(lr[0])
            outs = {"bicubic": bicubic_up(lr, scale), "Lanczos (Pillow)": to_tensor(lanczos(lr8, scale))[None]}
            outs |= {m: to_tensor(up(lr8))[None] for m, up in models.items()}
            for method, out in outs.items():
                scores = sr_scores(out, hr, border=scale)
                results.setdefault((scale, method), []).append({k: float(v) for k, v in scores.items()})
            if name == "chelsea":
                examples[scale] = {"LR (nearest)": np.kron(lr8, np.ones((scale, scale, 1), np.uint8))} | {m: to_uint8(o[0]) for m, o in outs.items()} | {"HR": rgb}
        print(f"x{scale}: {len(photos)} photos ({', '.join(photos)})")

    print("\n| scale | method | PSNR-Y (dB) | SSIM-Y | PSNR-RGB (dB) | sharpness (grad ratio, HR = 1) |")
    print("|---|---|---|---|---|---|")
    for (scale, method), rows in results.items():
        m = {k: float(np.mean([r[k] for r in rows])) for k in COLUMNS}
        gain = m["psnr"] - float(np.mean([r["psnr"] for r in results[(scale, "bicubic")]]))
        extra = f" ({gain:+.2f})" if method != "bicubic" else ""
        print(f"| x{scale} | {method} | {m['psnr']:.2f}{extra} | {m['ssim']:.4f} | {m['psnr_rgb']:.2f} | {m['hf_ratio']:.3f} |")

    if args.figure and examples:
        draw(examples, args.figure)
        print(f"\nwrote {args.figure}")


def draw(examples: dict[int, dict[str, np.ndarray]], path: Path) -> None:
    """One row per scale: the same 96x96 HR window (fur beside the cat's eye in `chelsea`) from every method."""
    cols = max(len(e) for e in examples.values())
    fig, axes = plt.subplots(len(examples), cols, figsize=(2.2 * cols, 2.4 * len(examples)), squeeze=False)
    for row, (scale, images) in enumerate(sorted(examples.items())):
        for col, ax in enumerate(axes[row]):
            ax.axis("off")
            if col >= len(images):
                continue
            title, img = list(images.items())[col]
            ax.imshow(img[96:192, 200:296], interpolation="nearest")
            ax.set_title(f"x{scale} {title}" if col == 0 else title, fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
