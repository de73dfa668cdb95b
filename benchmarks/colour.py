"""How the colour looks, beside the competition score, on photos kept out of training.

Three cases, each from the same held-out photos (the bundled scikit-image / scikit-learn / matplotlib
photos by default, or a prepared split), for each weights file given (the shipped default when none):

1. gray photos with competition damage (the competition's case): the score and its hue term, plus
   what the score does not see: colourfulness (Hasler & Süsstrunk) of the output over the truth's,
   chroma bleed (chroma that changes where lightness does not) over the truth's, and the Fréchet
   distance between outputs and truths in ImageNet EfficientNet-Lite0 pooled features (an offline
   FID stand-in; biased upwards with few photos, so compare rows, not papers).
2. colour photos with the same damage painted in (the damaged region's flat gray pasted into the
   colour photo): PSNR outside the damage against the original (inf: untouched), the share of pixels
   changed more than 3 px away from it (the detect stage's false alarms), PSNR inside it, and
   how often the photo was judged to be in colour.
3. toned monochrome prints of the damaged gray (sepia, selenium, cyanotype, faded): the hue term of
   the output against the original colours, beside the toned print's own, and how often the photo
   was judged to be a monochrome print.

    python benchmarks/colour.py --out runs/colour
    python benchmarks/colour.py --data data/train512 --split val --out runs/colour-val
    python benchmarks/colour.py --data data/train512 --split val --limit 36 --cases toned --out runs/colour-val
    python benchmarks/colour.py --out runs/colour --weights old=runs/old-restore.safetensors new=src/restoria/assets/restore.safetensors
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
from quality import held_out_arguments, held_out_data  # the same held-out photos as benchmarks/quality.py
from rich.console import Console
from rich.progress import track
from rich.table import Table

from restoria.data.base import layout_rows
from restoria.data.damage import TONES, tone
from restoria.inference.colour_mode import colour_mode
from restoria.inference.restorer import Restorer
from restoria.io import read_image
from restoria.metrics.colour import chroma_bleed, colourfulness, frechet_distance
from restoria.metrics.score import CompetitionScore, hist_similarity
from restoria.models.pretrained import ImageNetFeatures
from restoria.weights import default_weights


EXTRA_CASES = ("colour", "toned")  # measured beside the gray case, which always is
AWAY = 3  # px: a colour photo's pixel changed farther than this from the painted damage is a false alarm


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)) if a.size else 0.0
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    held_out_arguments(ap)
    ap.add_argument("--limit", type=int, help="only the first N photos")
    ap.add_argument("--backend", default="onnx", choices=("onnx", "torch"), help="what runs the networks (the commands' default: onnx)")
    ap.add_argument("--cases", nargs="*", choices=EXTRA_CASES, default=list(EXTRA_CASES), help="the cases measured beside the gray one")
    ap.add_argument("--real-segmenter", default="default", help="the detect stage's real-damage segmenter: default (shipped), none, or a weights file")
    args = ap.parse_args()

    data, split = held_out_data(args)
    rows = layout_rows(data, split)[: args.limit]
    weights = dict(w.split("=", 1) for w in args.weights) or {"restoria": str(default_weights())}
    photos = [(read_image(r.input, "L"), read_image(r.gt, "RGB"), read_image(r.mask, "L") > 0) for r in rows]
    features = ImageNetFeatures()
    true_features = features(gt for _, gt, _ in photos)
    true_m = np.mean([colourfulness(gt) for _, gt, _ in photos])
    true_bleed = np.mean([chroma_bleed(gt) for _, gt, _ in photos])

    gray_table = Table(title=f"gray photos with competition damage: {data} ({split}, n={len(rows)})")
    for col in ("method", "score", "ssim", "masked_ssim", "hist", "colourfulness / truth", "chroma bleed / truth", "Fréchet distance"):
        gray_table.add_column(col)
    keep_table = Table(title="colour photos with the damage painted in (default --color auto)")
    for col in ("method", "PSNR outside the damage", f"changed > {AWAY} px from it (photos)", "PSNR inside", "judged colour"):
        keep_table.add_column(col)
    toned_table = Table(title="toned monochrome prints of the damaged gray: hue term against the original colours")
    for col in ("method", *(f"{t} (print itself)" for t in TONES), "judged monochrome"):
        toned_table.add_column(col)

    for name, path in weights.items():
        restorer = Restorer([path], backend=args.backend, real_segmenter=None if args.real_segmenter == "none" else args.real_segmenter)
        outs, score = [], CompetitionScore()
        for gray, gt, mask in track(photos, description=f"{name}: gray"):
            out = restorer(gray).restored
            outs.append(out)
            score.update(gt, out, mask)
        agg = score.compute()
        gray_table.add_row(
            name, *(f"{agg[k]:.4f}" for k in ("score", "ssim", "masked_ssim", "hist")),
            f"{np.mean([colourfulness(o) for o in outs]) / true_m:.3f}",
            f"{np.mean([chroma_bleed(o) for o in outs]) / true_bleed:.3f}",
            f"{frechet_distance(features(outs), true_features):.1f}",
        )

        if "colour" in args.cases:
            keep_table.add_row(name, *colour_kept(restorer, photos, name))
        if "toned" in args.cases:
            toned_table.add_row(name, *toned_hues(restorer, photos, name))
    Console().print(gray_table, *(t for case, t in zip(EXTRA_CASES, (keep_table, toned_table)) if case in args.cases))


Photos = list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # (damaged gray, true colour, damage mask)


def colour_kept(restorer: Restorer, photos: Photos, name: str) -> list[str]:
    """Colour photos with the damage painted in: PSNR outside the damage, the share of pixels changed more
    than AWAY px from it (and in how many photos), PSNR inside it, share judged colour."""
    outside, inside, judged, away = [], [], [], []
    for gray, gt, mask in track(photos, description=f"{name}: colour"):
        painted = np.where(mask[..., None], gray[..., None], gt)
        out = restorer(painted).restored
        outside.append(psnr(out[~mask], gt[~mask]))
        # pixels changed away from the painted damage: false alarms of the detect stage, not the rim of
        # a found region that reaches a pixel or two past the painted one
        near = cv2.dilate(mask.astype(np.uint8), np.ones((2 * AWAY + 1, 2 * AWAY + 1), np.uint8)) > 0
        away.append(float(((out != gt).any(-1) & ~near).mean()))
        inside.append(psnr(out[mask], gt[mask]))
        judged.append(colour_mode(painted) == "colour")
    finite = [p for p in outside if np.isfinite(p)]
    outside_text = "inf (untouched)" if not finite else f"{np.mean(finite):.2f} ({len(outside) - len(finite)} untouched)"
    changed = f"{np.mean(away):.2%} ({sum(a > 0 for a in away)} of {len(away)})"
    return [outside_text, changed, f"{np.mean(inside):.2f}", f"{np.mean(judged):.0%}"]


def toned_hues(restorer: Restorer, photos: Photos, name: str) -> list[str]:
    """Toned prints of the damaged gray: the output's hue term against the original colours, per toning
    (the print's own in brackets), and the share judged monochrome."""
    cells, mono = [], []
    for toning, (dark, light) in TONES.items():
        hist_out, hist_print = [], []
        for gray, gt, mask in track(photos, description=f"{name}: {toning}"):
            toned = tone(gray, dark, light)
            hist_out.append(hist_similarity(gt, restorer(toned).restored))
            hist_print.append(hist_similarity(gt, toned))
            mono.append(colour_mode(toned) != "colour")
        cells.append(f"{np.nanmean(hist_out):.3f} ({np.nanmean(hist_print):.3f})")
    return [*cells, f"{np.mean(mono):.0%}"]


if __name__ == "__main__":
    main()
