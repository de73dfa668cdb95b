"""How much of each global ageing kind a per-photo affine luma correction could undo: the headroom of
the enhance stage's easiest part, measured before blaming the network.

Each val crop (the enhance config's data) is aged with one global kind at a time (and with the config's
whole mixture), then the luma PSNR of the aged crop against the clean one is printed beside the PSNR of
the best affine map of the aged luma (a least-squares gain and offset fitted per photo against the
truth: an oracle, the most a global levels correction could give), beside a blind classical levels
stretch (the luma's 1st and 99th percentiles stretched to 2% and 98%, only on photos whose range is
under 70%: what an auto-levels button does) and each enhancer given with `--weights`.

    python benchmarks/enhance_headroom.py --data data/train512 --config configs/enhance.yaml --n 24
    python benchmarks/enhance_headroom.py --weights runs/enhance-levels/model.safetensors
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import yaml
from rich.console import Console
from rich.table import Table
from torchmetrics.functional.image import peak_signal_noise_ratio

from restoria.data.ageing import GLOBAL, AgeingConfig
from restoria.data.superres import SRDataModule
from restoria.metrics.superres import luma, quantise
from restoria.tasks.enhance import age_batch
from restoria.weights import load_model


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over photos of the luma PSNR (data range 1), as the enhance task's validation measures it."""
    return float(peak_signal_noise_ratio(a, b, data_range=1.0, reduction="none", dim=(1, 2, 3)).mean())


def oracle_affine(aged: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Each aged luma (B, 1, H, W) mapped by the gain and offset that best fit its clean luma."""
    out = []
    for a, t in zip(aged, clean):
        design = torch.stack([a.flatten(), torch.ones_like(a.flatten())], 1)
        solution = torch.linalg.lstsq(design, t.flatten()[:, None]).solution
        out.append((design @ solution).view_as(a))
    return torch.stack(out).clamp(0, 1)


def levels_stretch(aged: torch.Tensor, narrow: float = 0.7, lo: float = 0.02, hi: float = 0.98) -> torch.Tensor:
    """Each luma (B, 1, H, W) whose 1st-99th percentile range is under `narrow` stretched so they land
    on `lo` and `hi`; the others as they are. Blind: it sees only the aged photo."""
    out = []
    for a in aged:
        p1, p99 = torch.quantile(a.flatten(), torch.tensor([0.01, 0.99]))
        out.append(a if p99 - p1 >= narrow else (a - p1) / (p99 - p1).clamp_min(1e-3) * (hi - lo) + lo)
    return torch.stack(out).clamp(0, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="data/train512")
    ap.add_argument("--config", default="configs/enhance.yaml")
    ap.add_argument("--n", type=int, default=24, help="val crops")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--weights", nargs="*", default=[], help="enhancers to measure beside the oracle")
    args = ap.parse_args()
    nets = {w: load_model(w).eval() for w in args.weights}

    cfg = yaml.safe_load(open(args.config))
    dm = SRDataModule(data=args.data, **cfg["data"])
    dm.setup()
    clean = torch.stack([dm.val_set[i]["hr"] for i in range(min(args.n, len(dm.val_set)))])
    clean_y = luma(clean)
    fixed = {k: v for k, v in cfg["ageing"].items() if k not in ("ageing", "damage")}
    table = Table(title=f"global ageing on {len(clean)} val crops: luma PSNR against the clean crop")
    for col in ("ageing", "aged input dB", "oracle affine dB", "headroom dB", "levels stretch dB", *(f"{Path(w).parent.name} dB" for w in nets)):
        table.add_column(col)
    for kind in (*GLOBAL, "mixture"):
        ageing = cfg["ageing"]["ageing"] if kind == "mixture" else {kind: 1.0}
        ac = AgeingConfig.from_dict({**fixed, "ageing": ageing, "damage": {}, "min_global": 1})
        aged, _ = age_batch(clean, ac, [np.random.default_rng([args.seed, i]) for i in range(len(clean))])
        aged_y = luma(aged)
        before, after = psnr(aged_y, clean_y), psnr(oracle_affine(aged_y, clean_y), clean_y)
        with torch.inference_mode():
            enhanced = [psnr(quantise(net(aged_y)), clean_y) for net in nets.values()]
        cells = [f"{before:.2f}", f"{after:.2f}", f"{after - before:+.2f}", f"{psnr(levels_stretch(aged_y), clean_y):.2f}"]
        table.add_row(kind, *cells, *(f"{e:.2f}" for e in enhanced))
    Console().print(table)


if __name__ == "__main__":
    main()
