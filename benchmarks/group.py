"""Does `restoria group` put crops of the same photo together, and keep them on one side of every fold?

Makes (once) a dataset with `restoria prepare` where every source photo gives several different crops
(damaged gray inputs, as the competition's), groups it with the offline default embedder, and prints
- the adjusted Rand index of the HDBSCAN clusters against the source-photo labels (each outlier counted
  as a cluster of its own), for HDBSCAN on the embeddings (the default) and on a 10-D UMAP reduction;
- the number of clusters and outliers against the number of source photos;
- the same ARI for a classic global descriptor (gray-level histogram + multi-scale LBP texture histograms),
  the kind of offline embedder VLAD was chosen over;
- the leak check: source photos with crops on both the train and the val side of some fold (must be 0),
  in the folds `restoria group` writes (clusters joined with the dataset's source column) with outliers
  grouped and dropped, and, to show what the source links add, in folds made from the clusters alone.

    python benchmarks/group.py                                   # 80 CBSD432 photos x 4 crops of 256 px
    python benchmarks/group.py --data data/train512 --out runs/group-bench/train512   # an existing dataset
    python benchmarks/group.py --embedders vlad imagenet         # the ImageNet embedder beside the default
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.metrics import adjusted_rand_score

from restoria.cli import progress_bar
from restoria.commands.prepare import prepare
from restoria.grouping.cluster import cluster, group_folds, read_group_csv
from restoria.grouping.embed import collect_items, l2_normalise
from restoria.grouping.report import group, load_group_config
from restoria.io import list_images, read_csv, read_image

ROOT = Path(__file__).resolve().parents[1]


def sources(data: Path) -> dict[str, str]:
    """ID -> source photo, over every split the dataset has."""
    out = {}
    for split in ("train", "val", "test"):
        if (data / f"{split}.csv").exists():
            out.update({r["ID"]: r["source"] for r in read_csv(data / f"{split}.csv", required=("ID", "source"))})
    return out


def leaks(fold_of: dict[str, int], source_of: dict[str, str]) -> int:
    """Source photos whose crops sit on the train side and the val side of the same fold."""
    folds_by_source: dict[str, set[int]] = defaultdict(set)
    for rid, f in fold_of.items():
        if f >= 0:
            folds_by_source[source_of[rid]].add(f)
    return sum(len(fs) > 1 for fs in folds_by_source.values())  # in two folds = train and val of each


def singletons(labels: np.ndarray) -> np.ndarray:
    """Cluster labels with each outlier (-1) made a cluster of its own, as ARI should count them."""
    out = labels.copy()
    noise = np.flatnonzero(out < 0)
    out[noise] = out.max(initial=-1) + 1 + np.arange(len(noise))
    return out


def histograms(path: Path) -> np.ndarray:
    """The baseline: a 32-bin gray histogram and uniform LBP histograms at 3 scales (Hellinger-normalised)."""
    import cv2
    from skimage.feature import local_binary_pattern

    gray = read_image(path, "L")
    parts = [np.histogram(gray, 32, (0, 256))[0]]
    for scale in (1, 2, 4):
        g = cv2.resize(gray, None, fx=1 / scale, fy=1 / scale, interpolation=cv2.INTER_AREA) if scale > 1 else gray
        parts.append(np.histogram(local_binary_pattern(g, 8, 1, "uniform"), 10, (0, 10))[0])
    return np.concatenate([np.sqrt(p / max(p.sum(), 1)) for p in parts])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "datasets" / "CBSD432", help="colour photos")
    ap.add_argument("--n-photos", type=int, default=80, help="photos taken, evenly spaced over the sorted folder")
    ap.add_argument("--crops", type=int, default=4, help="crops per photo")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--data", type=Path, help="an existing `restoria prepare` dataset (with its source column) instead")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "group-bench")
    ap.add_argument("--config", type=Path, help="group config (default: the built-in defaults = configs/group.yaml)")
    ap.add_argument("--image", choices=("input", "gt"), default="input")
    ap.add_argument("--embedders", nargs="+", default=["vlad"], help="vlad (the default), imagenet (pooled Lite0 features)")
    args = ap.parse_args()
    console = Console()

    data = args.data or args.out / "data"
    if args.data is None and not (data / "train.csv").exists():
        photos = list_images([args.photos])
        spaced = np.linspace(0, len(photos) - 1, min(args.n_photos, len(photos))).round().astype(int)
        pick = [photos[i] for i in np.unique(spaced)]
        with progress_bar(len(pick), "prepare") as advance:
            prepare(pick, data, args.size, 0.0, 0.0, args.crops, seed=0, progress=advance)
    source_of = sources(data)
    n_sources = len(set(source_of.values()))

    table = Table(title=f"{len(source_of)} crops of {n_sources} photos ({data})", width=150)
    leak_col = "photos leaking: written folds (outliers grouped / dropped)"
    for col in ("embedder: HDBSCAN on", "ARI", "clusters", "outliers", leak_col, "seconds"):
        table.add_column(col)
    results = {}
    for embedder, space in [(e, s) for e in args.embedders for s in ("embedding", "umap")]:
        cfg = load_group_config(args.config, {"embedder": embedder, "image": args.image, "hdbscan": {"space": space}})
        out = args.out / f"groups-{embedder}-{args.image}"
        t = time.time()
        report = group(data, out, cfg, stage=progress_bar)
        seconds = time.time() - t
        rows = read_group_csv(out / "train_preproc.csv") + read_group_csv(out / "test_preproc.csv")
        labels = np.array([r.cluster for r in rows])
        ari = adjusted_rand_score([source_of[r.id] for r in rows], singletons(labels))
        train = read_group_csv(out / "train_preproc.csv")
        train_labels, train_sources = np.array([r.cluster for r in train]), [source_of[r.id] for r in train]
        k = cfg["folds"]["k"]
        written = leaks({r.id: r.fold for r in train}, source_of)
        dropped = leaks(dict(zip([r.id for r in train], group_folds(train_labels, k, "drop", train_sources))), source_of)
        alone = leaks(dict(zip([r.id for r in train], group_folds(train_labels, k, "group"))), source_of)
        results[embedder, space] = (ari, written + dropped)
        table.add_row(
            f"{embedder}: " + (f"embeddings{' (default)' if embedder == 'vlad' else ''}" if space == "embedding" else f"umap {cfg['hdbscan']['umap_dims']}-D"),
            f"{ari:.3f}",
            f"{report.counts['clusters']} (photos: {n_sources})",
            str(report.counts["outliers"]),
            f"{written} / {dropped} ({alone} by clusters alone)",
            f"{seconds:.0f}" + (" (embeddings reused)" if report.reused_embeddings else ""),
        )
    items = collect_items(data, args.image)
    t = time.time()
    x = l2_normalise(np.stack([histograms(it.path) for it in items]))
    base = cluster(x, load_group_config(args.config)["hdbscan"])
    base_ari = adjusted_rand_score([source_of[it.id] for it in items], singletons(base))
    n_clusters, n_noise = len(set(base[base >= 0].tolist())), int((base < 0).sum())
    table.add_row("histograms: embeddings", f"{base_ari:.3f}", f"{n_clusters}", str(n_noise), "-", f"{time.time() - t:.0f}")
    console.print(table)
    ok = True
    for embedder in args.embedders:
        ari, leaked = results[embedder, "embedding"]
        ok &= ari >= 0.8 and leaked == 0
        verdict = "PASS" if ari >= 0.8 and leaked == 0 else "FAIL"
        console.print(f"{embedder}, HDBSCAN on the embeddings: ARI {ari:.3f} (goal >= 0.8), photos leaking {leaked} (goal 0): {verdict}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
