"""Real damage, found and repaired: every measure of restoria.data.ageing's damage on held-out photos.

    python benchmarks/damage.py --out runs/damage-bench
    python benchmarks/damage.py --out runs/damage-bench --old-assets runs/old-assets   # + the old defaults
    python benchmarks/damage.py --out runs/damage-area --only detect clean --min-areas 300 60 20 8
    python benchmarks/damage.py --out runs/damage-real --segmenter runs/segment-real/model.safetensors --enhancer none

Held-out photos: the bundled ones (scikit-image, scikit-learn, matplotlib) and the test split of a
`restoria prepare` dataset (`--data`, default data/train512; its photos are never trained on), cut to
512x512 and aged with seeds from 10,000 on, which no training run uses (training draws fresh seeds).

1. detect, per damage kind (each photo aged with that one kind, plus the usual global ageing), for the
   mixture of all kinds, for the mixture issue 19's bar names (`BAR_MIXTURE`), and for the competition's polygons: tolerance-aware F1 at 2 px, precision,
   recall, IoU (restoria.metrics.damage) of the detect stage as `restore` runs it (classifier gate,
   segmenter, flat-fill detection);
2. clean photos: the share of pixels found damaged, on untouched photos and on photos with global ageing
   only (grain, fading, ... are not damage); and damaged or clean as `restoria classify` answers, for
   clean, globally aged, mixture-aged and competition-damaged photos (`--only classify`);
3. fills, per kind, given the TRUE mask: luma PSNR/SSIM inside the damage against the clean photo, for
   FSR, Navier-Stokes, Telea and the restorer's U-Net #1;
4. enhance: luma PSNR/SSIM and an LPIPS-style feature distance (restoria.models.pretrained.
   FeatureDistance) of photos with global ageing only, as aged, after the classical baseline (OpenCV
   non-local means + CLAHE), and after the enhancer; what the enhancer does to clean photos; and its
   pass-through gate swept (clean photos left bit-exact against the gain on faded and other photos);
5. the whole restore: luma PSNR of the restored photo against the clean one, over the photo and inside
   the damage, beside the aged input's, on both mixtures, for the new defaults and (with --old-assets: a folder holding
   the previous segment.safetensors and classify.safetensors) the old ones, without an enhancer or a
   real-damage segmenter.
`--min-areas`, `--thresholds`, `--low-thresholds`, `--grows` and `--views` sweep the real-damage segmenter's settings (the segmenter's
when there is none) for detect, clean and restore.
Writes OUT/damage.csv (one row per measure) and OUT/detections.png (aged / true / found / restored).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import cv2
import numpy as np
import torch
from rich.console import Console
from rich.progress import track
from rich.table import Table

from restoria.commands.examples import bundled_photos
from restoria.data.ageing import STRUCTURAL, AgeingConfig, age_photo
from restoria.data.base import layout_rows
from restoria.data.damage import apply_damage
from restoria.fill import METHODS, classical_fill_image
from restoria.imaging import to_gray
from restoria.inference.flat import REAL_DAMAGE_SHARE
from restoria.inference.restorer import Restorer
from restoria.io import read_image, write_csv
from restoria.metrics.damage import luma_scores, tolerant_f1
from restoria.models.pretrained import FeatureDistance

SEED = 10_000
console = Console()


def held_out(data: Path, limit: int) -> list[np.ndarray]:
    """512x512 RGB crops: the bundled photos, then the test split's ground truth."""
    photos = [cv2.resize(p, (512, 512), interpolation=cv2.INTER_AREA) for p in bundled_photos().values() if p.ndim == 3]
    if (data / "test.csv").exists():
        photos += [read_image(r.gt, "RGB") for r in layout_rows(data, "test") if r.gt is not None]
    return photos[:limit]


def mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


# What issue 19's bar names: "aged with scratches, cracks, dust, torn corners, fading, grain, blur and
# JPEG". The mixture above has every kind (polygons, stains, folds, ... and yellowing, halftone) too.
BAR_MIXTURE = AgeingConfig(
    damage={"scratch": 1.0, "crack": 1.0, "dust": 1.0, "tear": 1.0}, ageing={"fade": 0.5, "grain": 0.6, "blur": 0.4, "jpeg": 0.5}
)
MIXTURES = {"mixture": AgeingConfig(), "bar mixture": BAR_MIXTURE}


def detection(restorer: Restorer, photos: list[np.ndarray]) -> list[dict[str, object]]:
    cases: dict[str, AgeingConfig | None] = {k: AgeingConfig(damage={k: 1.0}, min_damages=1, max_damages=1) for k in STRUCTURAL}
    cases["mixture"] = MIXTURES["mixture"]
    cases["competition"] = None
    cases["bar mixture"] = BAR_MIXTURE  # last: each case's seeds follow its place, so the others' draws stay as they were
    rows = []
    for name, cfg in track(cases.items(), description="detect", console=console):
        scores = []
        for i, rgb in enumerate(photos):
            rng = np.random.default_rng([SEED, i, len(rows)])
            if cfg is None:
                image, mask = apply_damage(to_gray(rgb), rng)
            else:
                aged = age_photo(rgb, rng, cfg)
                image, mask = aged.image, aged.mask
            found, _ = restorer.detect(restorer.colour_mode(image)[0])
            scores.append(tolerant_f1(found, mask, 2.0))
        rows.append({"measure": "detect", "case": name, **mean(scores)})
    return rows


def clean_area(restorer: Restorer, photos: list[np.ndarray]) -> list[dict[str, object]]:
    rows = []
    for name, cfg in (("clean", None), ("global ageing only", AgeingConfig(damage={}, min_global=1))):
        area = []
        for i, rgb in enumerate(photos):
            image = rgb if cfg is None else age_photo(rgb, np.random.default_rng([SEED, 1, i]), cfg).image
            found, _ = restorer.detect(restorer.colour_mode(image)[0])
            area.append((found > 0).mean())
        rows.append({"measure": "clean area", "case": name, "found_area": float(np.mean(area)), "photos_with_any": float(np.mean([a > 0 for a in area]))})
    return rows


def classification(restorer: Restorer, photos: list[np.ndarray]) -> list[dict[str, object]]:
    """Damaged or clean, as `restoria classify` answers (the classifier's P(damaged) >= 0.5, or the
    real-damage segmenter finding at least REAL_DAMAGE_SHARE of the photo), and each half alone: the
    share of photos called damaged, per case (on clean and globally aged photos that is the false alarm
    rate; on damaged ones the detection rate)."""
    cases: dict[str, AgeingConfig | None] = {
        "clean": AgeingConfig(damage={}, ageing={}), "global ageing only": AgeingConfig(damage={}, min_global=1),
        "mixture": AgeingConfig(), "competition": None,
    }
    rows = []
    for name, cfg in track(cases.items(), description="classify", console=console):
        votes = []
        for i, rgb in enumerate(photos):
            rng = np.random.default_rng([SEED, 5, i])
            gray = apply_damage(to_gray(rgb), rng)[0] if cfg is None else to_gray(age_photo(rgb, rng, cfg).image)
            by_classifier = restorer.classifier is not None and restorer.classifier(gray) >= restorer.threshold
            by_segmenter = restorer.real_segmenter is not None and restorer.real_segmenter.regions(gray).mean() >= REAL_DAMAGE_SHARE
            votes.append({"classifier": float(by_classifier), "real_segmenter": float(by_segmenter), "either": float(by_classifier or by_segmenter)})
        rows.append({"measure": "called damaged", "case": name, **mean(votes)})
    return rows


def fills(photos: list[np.ndarray]) -> list[dict[str, object]]:
    restorer = Restorer(fill="model", segmenter=None, classifier=None, enhancer=None)  # U-Net #1's own fill
    rows = []
    for kind in track(STRUCTURAL, description="fills", console=console):
        cfg = AgeingConfig(damage={kind: 1.0}, min_damages=1, max_damages=1, ageing={})
        per: dict[str, list[dict[str, float]]] = {}
        for i, rgb in enumerate(photos):
            aged = age_photo(rgb, np.random.default_rng([SEED, 2, i]), cfg)
            gray, clean, mask = to_gray(aged.image), to_gray(rgb), aged.mask
            for method in METHODS:
                per.setdefault(method, []).append(luma_scores(classical_fill_image(gray, mask, method), clean, mask))
            per.setdefault("unet", []).append(luma_scores(restorer.fill(gray, mask > 0, restorer.unet(gray)[1]), clean, mask))
        rows += [{"measure": "fill", "case": f"{kind} / {m}", **mean(v)} for m, v in per.items()]
    return rows


def nlm_clahe(gray: np.ndarray) -> np.ndarray:
    """The classical baseline: OpenCV non-local means, then CLAHE for the lost contrast."""
    den = cv2.fastNlMeansDenoising(gray, None, h=10, templateWindowSize=7, searchWindowSize=21)
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(den)


def enhance(restorer: Restorer, photos: list[np.ndarray]) -> list[dict[str, object]]:
    if restorer.enhancer is None:
        return []
    cfg = AgeingConfig(damage={}, min_global=1)
    dist = FeatureDistance()
    per: dict[str, list[dict[str, float]]] = {}
    for i, rgb in enumerate(track(photos, description="enhance", console=console)):
        gray = to_gray(age_photo(rgb, np.random.default_rng([SEED, 3, i]), cfg).image)
        clean = to_gray(rgb)
        outs = (("aged input", gray), ("nlm + clahe", nlm_clahe(gray)), ("enhancer", restorer.enhancer(gray)), ("enhancer on the clean photo", restorer.enhancer(clean)))
        for name, out in outs:
            per.setdefault(name, []).append(luma_scores(out, clean) | {"feature_dist": dist(out, clean)})
    return [{"measure": "enhance", "case": k, **mean(v)} for k, v in per.items()]


def enhance_gate(restorer: Restorer, photos: list[np.ndarray], gates: tuple[float, ...] = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0)) -> list[dict[str, object]]:
    """The enhance stage's pass-through gate (`PhotoEnhancer.min_change`): for each mean change below
    which a photo is left as it is, the share of clean photos left bit-exact and the mean luma PSNR
    gain on faded photos and on grainy, JPEG-compressed or blurred ones (0 where the gate holds)."""
    if restorer.enhancer is None:
        return []
    enhancer, kept = restorer.enhancer, restorer.enhancer.min_change
    enhancer.min_change = 0.0
    clean, faded, other = [], [], []
    for i, rgb in enumerate(track(photos, description="enhance gate", console=console)):
        gray = to_gray(rgb)
        enhancer(gray)
        clean.append(enhancer.last_change)
        for kind in ("fade", "grain", "jpeg", "blur"):
            aged = to_gray(age_photo(rgb, np.random.default_rng([SEED, 9, i]), AgeingConfig(damage={}, ageing={kind: 1.0})).image)
            gain = luma_scores(enhancer(aged), gray)["psnr"] - luma_scores(aged, gray)["psnr"]
            (faded if kind == "fade" else other).append((enhancer.last_change, gain))
    enhancer.min_change = kept
    f, o = np.array(faded), np.array(other)
    return [
        {
            "measure": "enhance gate", "case": f"min change {t:g}", "clean_passed": float(np.mean(np.array(clean) < t)),
            "fade_gain": float(np.mean(np.where(f[:, 0] >= t, f[:, 1], 0))), "other_gain": float(np.mean(np.where(o[:, 0] >= t, o[:, 1], 0))),
        }
        for t in gates
    ]


def pipeline(restorers: dict[str, Restorer], photos: list[np.ndarray], out: Path) -> list[dict[str, object]]:
    per: dict[str, list[dict[str, float]]] = {}
    shown = []
    for mixture, cfg in MIXTURES.items():
        suffix = "" if mixture == "mixture" else f" ({mixture})"  # the mixture's rows keep their names
        for i, rgb in enumerate(track(photos, description=f"restore, {mixture}", console=console)):
            aged = age_photo(rgb, np.random.default_rng([SEED, 4, i]), cfg)
            per.setdefault("aged input" + suffix, []).append(luma_scores(aged.image, rgb, aged.mask))
            row = [aged.image, np.repeat(aged.mask[..., None], 3, -1)]
            for name, restorer in restorers.items():
                result = restorer(aged.image)
                per.setdefault(name + suffix, []).append(luma_scores(result.restored, rgb, aged.mask))
                row += [np.repeat(result.mask[..., None], 3, -1), result.restored]
            if i < 6 and not suffix:
                shown.append(np.concatenate([r if r.ndim == 3 else np.repeat(r[..., None], 3, -1) for r in row + [rgb]], 1))
    if shown:
        from restoria.io import write_png

        write_png(out / "detections.png", np.concatenate(shown, 0)[::2, ::2])
        console.print(f"wrote {out / 'detections.png'}: aged | true mask | " + " | ".join(f"{n} mask | {n} restored" for n in restorers) + " | clean")
    return [{"measure": "restore", "case": k, **mean(v)} for k, v in per.items()]


class MemoNet:
    """A network whose answers are remembered by input, so a sweep of thresholds and smallest regions
    runs the segmenter once per photo (the aged photos are the same for every setting: seeded)."""

    def __init__(self, net: object) -> None:
        self.net, self.meta, self.seen = net, getattr(net, "meta", {}), {}

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        key = hashlib.sha1(x.numpy().tobytes()).hexdigest() + str(tuple(x.shape))
        if key not in self.seen:
            self.seen[key] = self.net(x)
        return self.seen[key]


def weights_arg(value: str) -> str | None:
    """A weights option: "default" (the shipped file), "none", or a path."""
    return None if value == "none" else value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("runs/damage-bench"))
    ap.add_argument("--data", type=Path, default=Path("data/train512"))
    ap.add_argument("--photos", type=int, default=40)
    ap.add_argument("--old-assets", type=Path, help="folder with the previous segment.safetensors and classify.safetensors")
    ap.add_argument("--only", nargs="*", choices=("detect", "clean", "classify", "fills", "enhance", "restore"))
    ap.add_argument("--classifier", default="default", help="the detect stage's classifier gate: default (shipped), none, or a weights file")
    ap.add_argument("--segmenter", default="default", help="the detect stage's segmenter of the competition's damage: default (shipped), none, or a weights file")
    ap.add_argument("--real-segmenter", default="default", help="the detect stage's segmenter of real damage: default (shipped), none, or a weights file")
    ap.add_argument("--enhancer", default="default", help="the enhance stage: default (shipped, if any), none, or a weights file")
    ap.add_argument("--grain-sigma", type=float, help="the enhance stage's fine-grain gate in gray levels (0: no grain taken out at all, fine or clumped; default: restoria.inference.grain.GRAIN_SIGMA)")
    ap.add_argument("--min-areas", nargs="*", type=int, help="detect and clean with each smallest region of the real-damage segmenter (else the segmenter; px at 512; default: its own)")
    ap.add_argument("--thresholds", nargs="*", type=float, help="detect and clean with each damage probability that segmenter's map must reach (default: its own)")
    ap.add_argument("--low-thresholds", nargs="*", type=float, help="with each hysteresis threshold: weaker pixels joined to one above the threshold count (0: none; default: its own)")
    ap.add_argument("--backend", default="onnx", choices=("onnx", "torch"), help="what runs the networks (the commands' default: onnx)")
    ap.add_argument("--views", nargs="*", type=int, help="with that segmenter's map averaged over each number of mirrored / rotated views (1, 2, 4, 8; default: its own)")
    ap.add_argument("--grows", nargs="*", type=float, help="detect, clean and restore with that segmenter's regions grown by each of these px at 512 (default: its own)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    photos = held_out(args.data, args.photos)
    console.print(f"{len(photos)} held-out photos at 512x512")
    new = Restorer(
        classifier=weights_arg(args.classifier), segmenter=weights_arg(args.segmenter), enhancer=weights_arg(args.enhancer),
        real_segmenter=weights_arg(args.real_segmenter), backend=args.backend,
    )
    if args.grain_sigma is not None and new.enhancer is not None:
        new.enhancer.grain_sigma = args.grain_sigma or None
    only = set(args.only or ("detect", "clean", "classify", "fills", "enhance", "restore"))
    rows: list[dict[str, object]] = []
    settings = [
        (a, t, lo, g, v) for a in args.min_areas or [None] for t in args.thresholds or [None] for lo in args.low_thresholds or [None]
        for g in args.grows or [None] for v in args.views or [None]
    ]
    swept = new.real_segmenter or new.segmenter
    if len(settings) > 1 and swept is not None:
        swept.net = MemoNet(swept.net)
    for area, threshold, low, grow, views in settings:
        tag: dict[str, float] = {}
        if views is not None and swept is not None:  # first: it sets the threshold that goes with it
            swept.use_views(views)
            tag["views"] = float(views)
        if grow is not None and swept is not None:
            swept.grow_at_reference, tag["grow"] = grow, grow
        if area is not None and swept is not None:
            swept.min_area_at_reference, tag["min_area"] = area, float(area)
        if threshold is not None and swept is not None:
            swept.threshold, tag["threshold"] = threshold, threshold
        if low is not None and swept is not None:
            swept.low_threshold, tag["low_threshold"] = (low or None), low
        if "detect" in only:
            rows += [r | tag for r in detection(new, photos)]
        if "clean" in only:
            rows += [r | tag for r in clean_area(new, photos)]
        if "restore" in only:
            restorers = {"new": new}
            if args.old_assets:
                old = args.old_assets
                restorers["old"] = Restorer(segmenter=old / "segment.safetensors", classifier=old / "classify.safetensors", enhancer=None, real_segmenter=None)
            rows += [r | tag for r in pipeline(restorers, photos, args.out)]
    if "classify" in only:
        rows += classification(new, photos)
    if "fills" in only:
        rows += fills(photos)
    if "enhance" in only:
        rows += enhance(new, photos) + enhance_gate(new, photos)
    columns = ["measure", "case"] + sorted({k for r in rows for k in r} - {"measure", "case"})
    write_csv(args.out / "damage.csv", rows, columns)
    for measure in dict.fromkeys(r["measure"] for r in rows):
        sub = [r for r in rows if r["measure"] == measure]
        keys = [c for c in columns[2:] if c in sub[0]]
        table = Table(title=str(measure))
        for c in ["case", *keys]:
            table.add_column(c)
        for r in sub:
            table.add_row(str(r["case"]), *(f"{r[k]:.3f}" for k in keys))
        console.print(table)
    console.print(f"wrote {args.out / 'damage.csv'}")


if __name__ == "__main__":
    main()
