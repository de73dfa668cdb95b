"""How well the damage detectors do on photos kept out of training: mask IoU and classifier accuracy.

On a competition-style test set (default: the one benchmarks/quality.py builds from the photos bundled
with scikit-image / scikit-learn / matplotlib), prints
- the IoU of the predicted lost region against the true mask, pooled over all pixels of the split and
  averaged per image, for the segmenter (at its own threshold and smallest region), the flat-fill
  detector, their plain union and `restore`'s detect stage (the classifier's gate, then the two
  combined: `Restorer.detect`), with and without the real-damage segmenter beside them;
- the classifier's accuracy, precision, recall and ROC-AUC on every damaged input and its clean gray
  original (half the photos damaged, half not).

    python benchmarks/detectors.py --segmenter runs/segment/model.safetensors --classifier runs/classify/model.safetensors
    python benchmarks/detectors.py --data data/train512 --split val        # the training sources' val split
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import track
from rich.table import Table
from torchmetrics.classification import BinaryAccuracy, BinaryAUROC, BinaryPrecision, BinaryRecall

from restoria.data.base import layout_rows
from restoria.imaging import to_gray, to_tensor
from restoria.inference.flat import drop_small_regions, flat_regions
from restoria.inference.restorer import Restorer
from restoria.io import read_image
from restoria.weights import default_weights


def iou(pred: np.ndarray, true: np.ndarray) -> tuple[int, int]:
    return int((pred & true).sum()), int((pred | true).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("runs/quality/data"), help="dataset (default: benchmarks/quality.py's)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--segmenter", type=Path, default=default_weights("segment.safetensors"))
    ap.add_argument("--classifier", type=Path, default=default_weights("classify.safetensors"))
    ap.add_argument("--real-segmenter", type=Path, default=default_weights("segment_real.safetensors"), help="the real-damage segmenter restore adds")
    args = ap.parse_args()

    rows = layout_rows(args.data, args.split)
    # restore's detect stage (the classifier's gate, then the segmenter and flat fills combined); its
    # segmenter and classifier are also measured alone
    seg, cls = (p if p.exists() else None for p in (args.segmenter, args.classifier))
    restorer = Restorer(segmenter=seg, classifier=cls, enhancer=None, real_segmenter=None)
    segmenter, classifier = restorer.segmenter, restorer.classifier
    methods = ["flat fills"] + (["segmenter", "segmenter | flat (plain union)", "combined (restore's detection)"] if segmenter else [])
    with_real = None
    if segmenter and args.real_segmenter.exists():
        with_real = Restorer(segmenter=seg, classifier=cls, enhancer=None, real_segmenter=args.real_segmenter)
        methods = methods[:-1] + ["combined, competition segmenter only", "combined + real-damage segmenter (restore's detection)"]
    pooled = {m: [0, 0] for m in methods}
    per_image: dict[str, list[float]] = {m: [] for m in methods}
    probs, labels = [], []
    for row in track(rows, description="detecting"):
        gray, true = read_image(row.input, "L"), read_image(row.mask, "L") > 0
        found = {"flat fills": flat_regions(gray) > 0}
        if segmenter:
            prob = segmenter(to_tensor(gray)[None])[0, 0].numpy()
            found["segmenter"] = drop_small_regions(prob > segmenter.threshold, segmenter.min_area(gray.shape)) > 0
            found["segmenter | flat (plain union)"] = found["segmenter"] | found["flat fills"]
            combined = restorer.detect(gray)[0] > 0
            if with_real is None:
                found["combined (restore's detection)"] = combined
            else:
                found["combined, competition segmenter only"] = combined
                found["combined + real-damage segmenter (restore's detection)"] = with_real.detect(gray)[0] > 0
        for m, pred in found.items():
            inter, union = iou(pred, true)
            pooled[m][0] += inter
            pooled[m][1] += union
            per_image[m].append(inter / union if union else 1.0)
        if classifier:
            probs += [classifier(gray), classifier(to_gray(read_image(row.gt, "RGB")))]
            labels += [1, 0]

    console = Console()
    table = Table(title=f"damage masks on {args.data} ({args.split}, n={len(rows)})")
    for col in ("detector", "IoU (pooled)", "IoU (mean per image)"):
        table.add_column(col)
    for m in methods:
        table.add_row(m, f"{pooled[m][0] / max(1, pooled[m][1]):.4f}", f"{np.mean(per_image[m]):.4f}")
    console.print(table)
    if classifier:
        p, t = torch.tensor(probs), torch.tensor(labels)
        metrics = {
            "accuracy": BinaryAccuracy(), "precision": BinaryPrecision(), "recall": BinaryRecall(), "ROC-AUC": BinaryAUROC(),
        }
        table = Table(title=f"classifier on {len(rows)} damaged inputs + their {len(rows)} clean originals")
        for name in metrics:
            table.add_column(name)
        table.add_row(*(f"{float(m(p, t)):.4f}" for m in metrics.values()))
        console.print(table)


if __name__ == "__main__":
    main()
