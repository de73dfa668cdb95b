"""Figures a person looks at instead of reading numbers: segmentation predictions and confusion matrices.

`show_predictions` is the source project's view (input / true mask / predicted mask, one sample per
row); training writes one after every validation into RUN/figures/, and `restoria show` draws it for
any weights and dataset. Figures are drawn without pyplot (no global state, safe in any thread).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from restoria.io import InputError, atomic_path

CELL = 256  # pixels per grid cell


def _save(fig: Figure, path: str | Path, dpi: int) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return path


def _label(ax, text: str) -> None:
    ax.text(0.02, 0.98, text, transform=ax.transAxes, va="top", ha="left", fontsize=6, color="white",
            bbox={"facecolor": "black", "alpha": 0.6, "pad": 1.5, "linewidth": 0})


def _image(t: torch.Tensor) -> np.ndarray:
    a = t.detach().float().cpu().clamp(0, 1).numpy()
    return a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)


def iou(prob: torch.Tensor, mask: torch.Tensor) -> float:
    """IoU of the mask predicted at p > 0.5 with the true mask (1.0 when both are empty)."""
    pred, true = prob > 0.5, mask > 0.5
    union = (pred | true).sum().item()
    return (pred & true).sum().item() / union if union else 1.0


def prediction_grid(
    inputs: Sequence[torch.Tensor],
    masks: Sequence[torch.Tensor],
    probs: Sequence[torch.Tensor],
    path: str | Path,
    ids: Sequence[str] | None = None,
    cell: int = CELL,
) -> Path:
    """A PNG of `len(inputs)` rows x 3 columns (input, true mask, predicted probability with its IoU),
    `cell` pixels per cell, so the file is exactly (3 * cell) x (rows * cell) pixels."""
    rows = len(inputs)
    if not rows or not len(masks) == len(probs) == rows:
        raise ValueError("prediction_grid needs as many inputs, masks and predictions, at least one")
    fig = Figure(figsize=(3, rows), dpi=cell, facecolor="black")
    for r, (x, m, p) in enumerate(zip(inputs, masks, probs)):
        name = f"{ids[r]}" if ids else f"#{r}"
        panels = ((x, f"input {name}"), (m, "true mask"), (p, f"predicted  IoU {iou(p, m):.2f}"))
        for c, (img, text) in enumerate(panels):
            ax = fig.add_axes((c / 3, 1 - (r + 1) / rows, 1 / 3, 1 / rows))
            ax.imshow(_image(img), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_axis_off()
            _label(ax, text)
    return _save(fig, path, cell)


def confusion_figure(matrix: np.ndarray | torch.Tensor, class_names: Sequence[str], path: str | Path, title: str = "") -> Path:
    """A PNG of a confusion matrix (rows = true class, columns = predicted), counts and row shares."""
    m = np.asarray(matrix.cpu() if isinstance(matrix, torch.Tensor) else matrix, dtype=np.int64)
    shares = m / np.maximum(m.sum(1, keepdims=True), 1)
    fig = Figure(figsize=(4, 3.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, f"{m[i, j]}\n{shares[i, j]:.0%}", ha="center", va="center", color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(class_names)), class_names)
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or f"{m.sum()} images, accuracy {np.trace(m) / max(m.sum(), 1):.3f}", fontsize=9)
    return _save(fig, path, 100)


def show_predictions(weights: str | Path, data: str | Path, out: str | Path, split: str = "val", n: int = 4) -> Path:
    """Draw `n` samples of DATA's `split` with the segmenter in `weights`, prepared as in its training
    (the data section of the config its metadata carries), into the PNG `out`."""
    from restoria.data.segment import SegmentDataModule
    from restoria.models.segmenter import segment_logits
    from restoria.weights import load_model, read_metadata

    meta = read_metadata(weights)
    name = meta.get("model", {}).get("name")
    if name != "unet":
        raise InputError(weights, f"not segmentation weights (model {name!r}); `restoria show` draws a segmenter's masks")
    net = load_model(weights)
    data_cfg = dict(meta.get("config", {}).get("data", {}))
    data_cfg.setdefault("channels", meta["model"].get("in_channels", 1))
    ds = SegmentDataModule(str(data), **data_cfg).eval_set(split)
    if not len(ds):
        raise InputError(data, f"split {split!r} is empty")
    items = [ds[i] for i in range(min(n, len(ds)))]
    with torch.inference_mode():
        probs = [torch.sigmoid(segment_logits(net, it["input"][None]))[0] for it in items]
    return prediction_grid([it["input"] for it in items], [it["mask"] for it in items], probs, out, [it["id"] for it in items])
