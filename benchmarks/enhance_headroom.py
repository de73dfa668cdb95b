"""How much of each global ageing kind a per-photo affine luma correction could undo: the headroom of
the enhance stage's easiest part, measured before blaming the network.

Each val crop (the enhance config's data) is aged with one global kind at a time (and with the config's
whole mixture), then the luma PSNR of the aged crop against the clean one is printed beside the PSNR of
the best affine map of the aged luma (a least-squares gain and offset fitted per photo against the
truth: an oracle, the most a global levels correction could give).

    python benchmarks/enhance_headroom.py --data data/train512 --config configs/enhance.yaml --n 24
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import yaml
from rich.console import Console
from rich.table import Table
from torchmetrics.functional.image import peak_signal_noise_ratio

from restoria.data.ageing import GLOBAL, AgeingConfig
from restoria.data.superres import SRDataModule
from restoria.metrics.superres import luma
from restoria.tasks.enhance import age_batch


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="data/train512")
    ap.add_argument("--config", default="configs/enhance.yaml")
    ap.add_argument("--n", type=int, default=24, help="val crops")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    cfg = yaml.safe_load(open(args.config))
    dm = SRDataModule(data=args.data, **cfg["data"])
    dm.setup()
    clean = torch.stack([dm.val_set[i]["hr"] for i in range(min(args.n, len(dm.val_set)))])
    clean_y = luma(clean)
    fixed = {k: v for k, v in cfg["ageing"].items() if k not in ("ageing", "damage")}
    table = Table(title=f"global ageing on {len(clean)} val crops: luma PSNR against the clean crop")
    for col in ("ageing", "aged input dB", "oracle affine dB", "headroom dB"):
        table.add_column(col)
    for kind in (*GLOBAL, "mixture"):
        ageing = cfg["ageing"]["ageing"] if kind == "mixture" else {kind: 1.0}
        ac = AgeingConfig.from_dict({**fixed, "ageing": ageing, "damage": {}, "min_global": 1})
        aged, _ = age_batch(clean, ac, [np.random.default_rng([args.seed, i]) for i in range(len(clean))])
        aged_y = luma(aged)
        before, after = psnr(aged_y, clean_y), psnr(oracle_affine(aged_y, clean_y), clean_y)
        table.add_row(kind, f"{before:.2f}", f"{after:.2f}", f"{after - before:+.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
