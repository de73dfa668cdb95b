"""The generative models on scikit-learn's handwritten digits, judged by a classifier of the real digits.

A support-vector classifier is fitted on 70% of the real 8x8 digits (its held-out accuracy is printed,
also after the 8 -> 16 -> 8 pixel round trip the generated samples take). Then, for each trained model:
- cGAN: 100 samples per requested digit; the share the classifier labels with the requested digit
  (bar: >= 80%) and the worst digit's share;
- GAN / WGAN-GP / VAE: 1000 samples; the entropy of the classifier's predicted classes in bits (bar:
  >= 3.0; 10 equally used classes give log2(10) = 3.32; a collapsed generator gives far less) and
  the number of digits among the predictions;
and for all, the classifier's mean confidence (max class probability) beside the real digits' own, and
the within-class diversity: the mean pairwise distance between samples given (cGAN) or predicted (the
others) the same digit, over the same figure for the real digits of that digit (1.0: as varied as the
data; near 0: one image per digit, a collapse the class-level figures cannot see).

    python benchmarks/generative.py --gan runs/gan_digits/model.safetensors --cgan runs/cgan_digits/model.safetensors \\
        --wgan-gp runs/wgan_gp_digits/model.safetensors --vae runs/vae_digits/model.safetensors
    python benchmarks/generative.py --train runs/generative     # trains the missing ones with configs/*_digits.yaml first
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from restoria.data.generative import digits
from restoria.tasks.sample import load_generative

MODELS = {"gan": "gan_digits", "wgan_gp": "wgan_gp_digits", "cgan": "cgan_digits", "vae": "vae_digits"}
CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def fit_classifier(seed: int) -> tuple[CalibratedClassifierCV, dict[str, float]]:
    """An RBF SVC on 70% of the real digits (pixels in [0, 1]), its scores calibrated to probabilities
    (the predicted class is their argmax, so class and confidence agree); its accuracy on the other
    30%, as is and after the up- and down-sampling the samples go through."""
    bunch = load_digits()
    x, y = bunch.data / 16.0, bunch.target
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=0.3, random_state=seed, stratify=y)
    clf = CalibratedClassifierCV(SVC(C=10.0), ensemble=False).fit(x[idx_train], y[idx_train])
    up, _ = digits(16)
    round_trip = to_features(up[idx_test])
    return clf, {
        "held-out accuracy": float((clf.predict(x[idx_test]) == y[idx_test]).mean()),
        "after 16x16 round trip": float((clf.predict(round_trip) == y[idx_test]).mean()),
        "confidence": float(clf.predict_proba(x[idx_test]).max(1).mean()),
    }


def to_features(images: torch.Tensor) -> np.ndarray:
    """(N, 1, S, S) in [0, 1] -> (N, 64): area-averaged to the digits' native 8x8."""
    return F.interpolate(images.float(), size=(8, 8), mode="area").flatten(1).clamp(0, 1).numpy()


def spread(features: np.ndarray) -> float:
    """Mean pairwise Euclidean distance between the rows of `features` (0 for fewer than two)."""
    if len(features) < 2:
        return 0.0
    d = np.sqrt(((features[:, None] - features[None]) ** 2).sum(-1))
    return float(d.sum() / (len(features) * (len(features) - 1)))


def diversity(features: np.ndarray, groups: np.ndarray, real: np.ndarray, real_labels: np.ndarray) -> float:
    """Within-class spread of samples over that of the real digits, averaged over the digits present."""
    ratios = [spread(features[groups == d]) / spread(real[real_labels == d]) for d in np.unique(groups) if (groups == d).sum() > 1]
    return float(np.mean(ratios)) if ratios else 0.0


def entropy_bits(pred: np.ndarray, classes: int = 10) -> float:
    p = np.bincount(pred, minlength=classes) / len(pred)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


@torch.no_grad()
def judge(weights: Path, clf: CalibratedClassifierCV, n: int, seed: int, real: tuple[np.ndarray, np.ndarray]) -> dict[str, object]:
    model = load_generative(weights)
    g = torch.Generator().manual_seed(seed)
    if model.num_classes:
        per = math.ceil(n / model.num_classes)
        labels = torch.arange(model.num_classes).repeat_interleave(per)
        images = model.generate(torch.randn(len(labels), model.latent_dim, generator=g), labels)
    else:
        labels = None
        images = model.generate(torch.randn(n, model.latent_dim, generator=g))
    feats = to_features(images)
    proba = clf.predict_proba(feats)
    pred = clf.classes_[proba.argmax(1)]
    row: dict[str, object] = {"samples": len(pred), "confidence": float(proba.max(1).mean()), "entropy": entropy_bits(pred)}
    row["digits"] = len(np.unique(pred))
    row["counts"] = np.bincount(pred, minlength=10).tolist()
    row["diversity"] = diversity(feats, pred if labels is None else labels.numpy(), *real)
    if labels is not None:
        hits = pred == labels.numpy()
        row["label accuracy"] = float(hits.mean())
        row["worst digit"] = float(min(hits[labels.numpy() == d].mean() for d in range(model.num_classes)))
    return row


def train_missing(root: Path, given: dict[str, Path | None]) -> dict[str, Path | None]:
    """Train with configs/<name>.yaml what was not given (and is not already trained under `root`)."""
    from restoria.tasks.train import train

    out = dict(given)
    for key, name in MODELS.items():
        if out.get(key) is not None:
            continue
        run = root / name
        if not (run / "model.safetensors").exists():
            start = time.time()
            train(CONFIGS / f"{name}.yaml", "digits", run)
            print(f"trained {name} in {time.time() - start:.0f} s")
        out[key] = run / "model.safetensors"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for key in MODELS:
        ap.add_argument(f"--{key.replace('_', '-')}", type=Path, default=None, help=f"{key} weights (RUN/model.safetensors)")
    ap.add_argument("--train", type=Path, default=None, help="train the models not given into this folder first")
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    weights = {key: getattr(args, key) for key in MODELS}
    if args.train is not None:
        weights = train_missing(args.train, weights)

    clf, real = fit_classifier(args.seed)
    bunch = load_digits()
    real_digits = (bunch.data / 16.0, bunch.target)
    console = Console(width=120)
    console.print(
        f"digits classifier (SVC, real digits): held-out accuracy {real['held-out accuracy']:.3f}, "
        f"{real['after 16x16 round trip']:.3f} after the 16x16 round trip, confidence {real['confidence']:.3f}"
    )
    table = Table(
        title=f"Generative models on digits ({args.samples} samples each)",
        caption="bars: cGAN label accuracy >= 0.80; class entropy >= 3.0 bits (log2 10 = 3.32)",
    )
    for col in ("model", "label accuracy", "worst digit", "class entropy (bits)", "digits seen", "confidence", "within-class diversity"):
        table.add_column(col, justify="right" if col != "model" else "left")
    results: dict[str, object] = {"classifier": real}
    for key, path in weights.items():
        if path is None:
            continue
        row = judge(path, clf, args.samples, args.seed, real_digits)
        results[key] = row
        acc = f"{row['label accuracy']:.3f}" if "label accuracy" in row else "-"
        worst = f"{row['worst digit']:.3f}" if "worst digit" in row else "-"
        table.add_row(key, acc, worst, f"{row['entropy']:.3f}", str(row["digits"]), f"{row['confidence']:.3f}", f"{row['diversity']:.2f}")
    console.print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
