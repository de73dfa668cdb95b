"""Group photos of the same place, so K-fold validation never sees a place it trained on.

embeddings (L2-normalised) -> HDBSCAN clusters (noise = outliers) -> group K-fold by cluster, plus a
UMAP 2-D map and a contact sheet to look at the grouping. Writes DIR/train_preproc.csv (train and val
rows of a `restoria prepare` dataset, or every photo of a plain folder) and DIR/test_preproc.csv with
the columns ID,cluster,is_outlier,fold,umap_x,umap_y. Folds keep every cluster, and every source photo
the dataset's `source` column names, on one side.

Embedders: `vlad` (the offline default) pools RootSIFT descriptors into a VLAD vector over a codebook
fitted on the photos themselves, then PCA-whitens it; crops of one photo share their keypoints, so they
land next to each other even when damaged, gray, shifted or zoomed (benchmarks/group.py measures it).
`clip` runs an open_clip model whose weights are on disk; nothing is ever downloaded here.

HDBSCAN runs on the embeddings themselves by default: benchmarks/group.py found that it grouped crops
better than clustering a 10-D UMAP reduction (the README has its figures), and it skips a second UMAP
fit; UMAP 2-D is for the picture. `hdbscan.space: umap`
switches to the reduction.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from restoria.config import merge, read_yaml_mapping
from restoria.grouping.cluster import GroupRow, cluster, group_folds, umap_reduce, write_group_csv
from restoria.grouping.embed import EMBEDDERS, Item, Stage, _silent_stage, collect_items, make_embedder
from restoria.io import InputError, atomic_path, read_image

GROUP_DEFAULTS: dict[str, Any] = {
    "embedder": "vlad",
    "image": "input",
    "seed": 0,
    "vlad": {"side": 256, "keypoints": 300, "words": 64, "whiten": 512, "codebook_images": 1000},
    "clip": {"model": "ViT-B-32", "pretrained": "laion2b_s34b_b79k", "weights": None, "batch_size": 32, "device": "cpu"},
    "imagenet": {"model": "tf_efficientnet_lite0", "size": 224, "batch_size": 16},
    "umap": {"n_neighbors": 15, "min_dist": 0.1, "metric": "cosine"},
    "hdbscan": {
        "space": "embedding",
        "umap_dims": 10,
        "min_cluster_size": 2,
        "min_samples": 1,
        "cluster_selection_epsilon": 0.0,
        "cluster_selection_method": "eom",
    },
    "folds": {"k": 5, "outliers": "group", "by_source": True},
    "plots": {"clusters": 12, "per_cluster": 6, "thumb": 96},
}


def load_group_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """GROUP_DEFAULTS, then the YAML file (configs/group.yaml is a commented copy), then `overrides`."""
    cfg = copy.deepcopy(GROUP_DEFAULTS)
    if path is not None:
        p = Path(path)
        loaded = read_yaml_mapping(p, "embedder, vlad, clip, umap, hdbscan, folds, plots")
        unknown = sorted(set(loaded) - set(GROUP_DEFAULTS))
        if unknown:
            raise InputError(p, f"unknown key(s) {', '.join(unknown)}; known: {', '.join(GROUP_DEFAULTS)}")
        cfg = merge(cfg, loaded)
    cfg = merge(cfg, overrides or {})
    if cfg["embedder"] not in EMBEDDERS:
        raise ValueError(f"embedder must be one of {', '.join(EMBEDDERS)}, got {cfg['embedder']!r}")
    if cfg["image"] not in ("input", "gt"):
        raise ValueError(f"image must be input or gt, got {cfg['image']!r}")
    if cfg["hdbscan"]["space"] not in ("embedding", "umap"):
        raise ValueError(f"hdbscan.space must be embedding or umap, got {cfg['hdbscan']['space']!r}")
    if cfg["folds"]["outliers"] not in ("group", "drop"):
        raise ValueError(f"folds.outliers must be group or drop, got {cfg['folds']['outliers']!r}")
    if int(cfg["folds"]["k"]) < 2:
        raise ValueError(f"folds.k must be at least 2, got {cfg['folds']['k']}")
    return cfg


def plot_map(path: Path, xy: np.ndarray, clusters: np.ndarray, test: np.ndarray) -> None:
    """The UMAP 2-D scatter, coloured by cluster (outliers gray crosses, test photos as triangles)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 8), dpi=100)
    cmap = plt.get_cmap("tab20")
    noise = clusters < 0
    for marker, sel in (("o", ~test), ("^", test)):
        ax.scatter(xy[sel & noise, 0], xy[sel & noise, 1], c="0.6", marker="x", s=14, linewidths=0.8)
        pick = sel & ~noise
        ax.scatter(xy[pick, 0], xy[pick, 1], c=[cmap(c % 20) for c in clusters[pick]], marker=marker, s=18, edgecolors="none")
    n_clusters = len(set(clusters[~noise].tolist()))
    ax.set_title(f"{len(xy)} photos, {n_clusters} clusters, {int(noise.sum())} outliers (x); test photos as triangles")
    ax.set_xlabel("umap_x")
    ax.set_ylabel("umap_y")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    plt.close(fig)


def contact_sheet(path: Path, items: list[Item], clusters: np.ndarray, cfg: dict[str, Any]) -> None:
    """A few photos of each of the largest clusters (one row each), and a row of outliers, to check by eye."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per, side = int(cfg["per_cluster"]), int(cfg["thumb"])
    sizes = Counter(c for c in clusters.tolist() if c >= 0)
    shown = [c for c, _ in sizes.most_common(int(cfg["clusters"]))] + ([-1] if (clusters < 0).any() else [])
    if not shown:
        return
    fig, axes = plt.subplots(len(shown), per, figsize=(per * 1.3, len(shown) * 1.35), dpi=100, squeeze=False)
    for r, c in enumerate(shown):
        members = np.flatnonzero(clusters == c)[:per]
        for j in range(per):
            ax = axes[r, j]
            ax.axis("off")
            if j < len(members):
                try:
                    img = read_image(items[members[j]].path, "RGB")
                except InputError:
                    continue
                scale = side / max(img.shape[:2])
                ax.imshow(cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
        label = "outliers" if c < 0 else f"cluster {c} ({sizes[c]})"
        axes[r, 0].text(-0.08, 0.5, label, transform=axes[r, 0].transAxes, ha="right", va="center", fontsize=8)
    fig.subplots_adjust(left=0.2, wspace=0.05, hspace=0.08)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    plt.close(fig)


def _embedding_key(cfg: dict[str, Any], weights: str | Path | None, items: list[Item]) -> str:
    """What the embeddings depend on: the embedder settings and every photo's ID, file, size and time."""

    def stamp(p: Path) -> list[int]:
        try:
            st = p.stat()
        except OSError:
            return [-1, -1]
        return [st.st_size, st.st_mtime_ns]

    name = cfg["embedder"]
    what = {"embedder": name, name: cfg[name], "image": cfg["image"], "seed": cfg["seed"], "weights": str(weights or "")}
    what["photos"] = [[it.id, str(it.path), *stamp(it.path)] for it in items]
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class GroupReport:
    """What `group` wrote and found."""

    written: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[InputError] = field(default_factory=list)
    reused_embeddings: bool = False


def group(
    data: str | Path,
    out: str | Path,
    cfg: dict[str, Any] | None = None,
    weights: str | Path | None = None,
    stage: Stage = _silent_stage,
) -> GroupReport:
    """Embed, cluster, fold and draw DATA's photos into OUT (see the module docstring). Embeddings are kept
    in OUT/embeddings.npz and reused when the photos and the embedder settings are the same, so trying other
    HDBSCAN or fold settings is quick. Unreadable photos are reported in the result and left out."""
    cfg = cfg or load_group_config()
    out = Path(out)
    items = collect_items(data, cfg["image"])
    report = GroupReport()
    key = _embedding_key(cfg, weights, items)
    cache = out / "embeddings.npz"
    z = np.load(cache) if cache.exists() else None
    if z is not None and str(z["key"]) == key:
        x, keep = z["x"], set(z["ids"].tolist())
        report.reused_embeddings = True
        unread = "unreadable in the run that computed the kept embeddings"
        report.errors = [InputError(it.path, unread) for it in items if it.id not in keep]
    else:
        embedder = make_embedder(cfg, weights)
        x, report.errors = embedder.embed([it.path for it in items], stage)
        bad = {e.path for e in report.errors}
        keep = {it.id for it in items if str(it.path) not in bad}
        out.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, x=x, ids=np.array([it.id for it in items if it.id in keep]), key=np.array(key))
    items = [it for it in items if it.id in keep]
    if not items:
        raise InputError(data, "no readable photos to group")
    seed = int(cfg["seed"])
    with stage(1, "umap 2-D") as advance:
        xy = umap_reduce(x, 2, cfg["umap"], seed)
        advance()
    h = cfg["hdbscan"]
    with stage(1, "hdbscan" + (f" on umap {h['umap_dims']}-D" if h["space"] == "umap" else "")) as advance:
        space = umap_reduce(x, int(h["umap_dims"]), dict(cfg["umap"], min_dist=0.0), seed) if h["space"] == "umap" else x
        labels = cluster(space, h)
        advance()
    test = np.array([it.test for it in items], bool)
    folds = np.full(len(items), -1, int)
    fcfg = cfg["folds"]
    train_sources = [it.source for it in items if not it.test] if fcfg["by_source"] else None
    folds[~test] = group_folds(labels[~test], int(fcfg["k"]), fcfg["outliers"], train_sources)
    rows = [
        GroupRow(it.id, int(c), bool(c < 0), int(k), float(u), float(v)) for it, c, k, (u, v) in zip(items, labels, folds, xy)
    ]
    for name, sel in (("train_preproc.csv", ~test), ("test_preproc.csv", test)):
        write_group_csv(out / name, [r for r, s in zip(rows, sel) if s])
        report.written.append(out / name)
    with stage(2, "plots") as advance:
        plot_map(out / "umap.png", xy, labels, test)
        advance()
        contact_sheet(out / "clusters.png", items, labels, cfg["plots"])
        advance()
    report.written += [p for p in (out / "umap.png", out / "clusters.png") if p.exists()]
    report.counts = {
        "photos": len(items),
        "test": int(test.sum()),
        "clusters": len(set(labels[labels >= 0].tolist())),
        "outliers": int((labels < 0).sum()),
    }
    return report
