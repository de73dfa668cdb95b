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

HDBSCAN runs on the embeddings themselves by default: on benchmarks/group.py that grouped crops better
than clustering a 10-D UMAP reduction (adjusted Rand index 0.983 against 0.979 on 320 crops, 0.972
against 0.945 on 1404) and skips a second UMAP fit; UMAP 2-D is for the picture. `hdbscan.space: umap`
switches to the reduction.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ContextManager

import cv2
import numpy as np

from restoria.config import merge, read_yaml_mapping
from restoria.io import InputError, atomic_path, list_images, read_csv, read_image, resolve_inside, write_csv

COLUMNS = ["ID", "cluster", "is_outlier", "fold", "umap_x", "umap_y"]
EMBEDDERS = ("vlad", "clip")

GROUP_DEFAULTS: dict[str, Any] = {
    "embedder": "vlad",
    "image": "input",
    "seed": 0,
    "vlad": {"side": 256, "keypoints": 300, "words": 64, "whiten": 512, "codebook_images": 1000},
    "clip": {"model": "ViT-B-32", "pretrained": "laion2b_s34b_b79k", "weights": None, "batch_size": 32, "device": "cpu"},
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

Stage = Callable[[int, str], ContextManager[Callable[..., None]]]


class EmbedderUnavailable(Exception):
    """The chosen embedder cannot run here (a missing package or weights); the message says how to fix it."""


@contextlib.contextmanager
def _silent_stage(total: int, label: str) -> Iterator[Callable[..., None]]:
    yield lambda n=1: None


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


@dataclass
class Item:
    """One photo to group: its ID in the output CSVs, the file the embedder reads, whether it is a test
    photo (no fold), and the source photo it was cut from when the dataset says."""

    id: str
    path: Path
    test: bool
    source: str | None = None


def collect_items(data: str | Path, image: str = "input") -> list[Item]:
    """The photos of DATA: train, val and test rows of a competition-layout dataset (inputs, or colour
    ground truth where a row has one when `image` is "gt"), else every image of the folder."""
    root = Path(data)
    if not (root / "train.csv").exists():
        files = list_images([root])
        if not files:
            raise InputError(root, "no train.csv and no images found")
        return [Item(f.relative_to(root).as_posix(), f, False) for f in files]
    items = []
    for split in ("train", "val", "test"):
        csv_path = root / f"{split}.csv"
        if not csv_path.exists():
            continue
        for row in read_csv(csv_path, required=("ID", "input_image_path")):
            rid = row["ID"].strip()
            path = resolve_inside(root, row["input_image_path"], "input_image_path")
            if image == "gt":
                gt = root / f"{split}_gt" / f"{rid}.png"
                if row.get("gt_image_path"):
                    path = resolve_inside(root, row["gt_image_path"], "gt_image_path")
                elif gt.exists():
                    path = gt
            items.append(Item(rid, path, split == "test", row.get("source") or None))
    return items


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), so Euclidean distance ranks like cosine."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


class VladEmbedder:
    """RootSIFT keypoint descriptors -> VLAD over a k-means codebook of the photos' own descriptors
    (power- and intra-normalised) -> PCA whitening -> L2. Needs no download and no training data.

    Whitening is what lets a density clusterer separate thousands of photos (without it HDBSCAN chains
    them into a few large clusters); it keeps at most a quarter as many dimensions as there are photos,
    and is skipped when that leaves fewer than 32.
    """

    name = "vlad"

    def __init__(
        self,
        side: int = 256,
        keypoints: int = 300,
        words: int = 64,
        whiten: int = 512,
        codebook_images: int = 1000,
        seed: int = 0,
    ) -> None:
        self.side = side
        self.keypoints = keypoints
        self.words = words
        self.whiten = whiten
        self.codebook_images = codebook_images
        self.seed = seed
        self._sift = cv2.SIFT_create(nfeatures=keypoints)

    def descriptors(self, path: Path) -> np.ndarray:
        """SIFT descriptors (uint8, N x 128) of the photo in gray, its longer side brought down to `side`."""
        gray = read_image(path, "L")
        scale = self.side / max(gray.shape)
        if scale < 1:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        _, desc = self._sift.detectAndCompute(gray, None)
        if desc is None:
            return np.zeros((0, 128), np.uint8)
        return np.clip(np.round(desc), 0, 255).astype(np.uint8)

    @staticmethod
    def _root(desc: np.ndarray) -> np.ndarray:
        d = desc.astype(np.float32)
        return np.sqrt(d / np.maximum(d.sum(1, keepdims=True), 1e-7))

    def _vlad(self, desc: np.ndarray, centers: np.ndarray) -> np.ndarray:
        v = np.zeros_like(centers)
        if len(desc):
            d = self._root(desc)
            nearest = np.argmin(((d[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
            np.add.at(v, nearest, d - centers[nearest])
        v = np.sign(v) * np.sqrt(np.abs(v))
        return l2_normalise(v).ravel()

    def embed(self, paths: list[Path], stage: Stage = _silent_stage) -> tuple[np.ndarray, list[InputError]]:
        """One L2-normalised row per readable path; unreadable ones are returned as errors (no row)."""
        from sklearn.cluster import MiniBatchKMeans

        rng = np.random.default_rng(self.seed)
        keep_all = len(paths) <= self.codebook_images
        sample = range(len(paths)) if keep_all else sorted(rng.choice(len(paths), self.codebook_images, replace=False))
        cached: dict[int, np.ndarray] = {}
        errors: dict[int, InputError] = {}
        with stage(len(sample), "keypoints") as advance:
            for i in sample:
                try:
                    cached[i] = self.descriptors(paths[i])
                except InputError as exc:
                    errors[i] = exc
                advance()
        pool = np.concatenate([self._root(d) for d in cached.values()] + [np.zeros((0, 128), np.float32)])
        if len(pool) > 100_000:
            pool = pool[rng.choice(len(pool), 100_000, replace=False)]
        words = max(1, min(self.words, len(pool)))
        with stage(1, f"codebook ({words} words)") as advance:
            if len(pool):
                km = MiniBatchKMeans(words, random_state=self.seed, n_init=3, batch_size=4096).fit(pool)
                centers = km.cluster_centers_.astype(np.float32)
            else:
                centers = np.zeros((1, 128), np.float32)
            advance()
        rows: list[np.ndarray] = []
        with stage(len(paths), "vlad") as advance:
            for i, p in enumerate(paths):
                if i not in cached and i not in errors:
                    try:
                        cached[i] = self.descriptors(p)
                    except InputError as exc:
                        errors[i] = exc
                if i not in errors:
                    rows.append(self._vlad(cached.pop(i), centers))
                advance()
        x = np.stack(rows) if rows else np.zeros((0, centers.size), np.float32)
        dims = min(self.whiten, len(x) // 4, x.shape[1])
        if dims >= 32:
            from sklearn.decomposition import PCA

            with stage(1, f"whiten ({dims} dims)") as advance:
                x = PCA(dims, whiten=True, random_state=self.seed).fit_transform(x)
                advance()
        return l2_normalise(x), [errors[i] for i in sorted(errors)]


NO_OPEN_CLIP = "the clip embedder needs open_clip, which is not installed: pip install 'restoria[clip]' (open-clip-torch)"


def find_clip_weights(model: str, pretrained: str, weights: str | Path | None) -> Path:
    """The CLIP weights file to load, looked for on disk only: `weights` when given, else the open_clip
    or Hugging Face cache entry of `model`/`pretrained`. Raises EmbedderUnavailable saying how to get it."""
    if weights:
        p = Path(weights).expanduser()
        if not p.is_file():
            raise EmbedderUnavailable(f"CLIP weights {p} not found: pass an existing open_clip checkpoint file")
        return p
    try:
        import open_clip
    except ImportError:
        raise EmbedderUnavailable(NO_OPEN_CLIP) from None
    cfg = open_clip.get_pretrained_cfg(model, pretrained)
    if not cfg:
        raise EmbedderUnavailable(f"open_clip knows no weights {pretrained!r} for {model!r} (see open_clip.list_pretrained())")
    candidates: list[Path] = []
    if cfg.get("file"):
        candidates.append(Path(cfg["file"]))
    if cfg.get("url"):
        candidates.append(Path(os.path.expanduser("~/.cache/clip")) / os.path.basename(cfg["url"]))
    if cfg.get("hf_hub"):
        from huggingface_hub import try_to_load_from_cache

        repo, name = os.path.split(cfg["hf_hub"])  # "org/model/" names the repo's default file, as in open_clip
        names = [name] if name else ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        for n in names:
            hit = try_to_load_from_cache(repo, n)  # a cache look-up only: no request is made
            if isinstance(hit, str):
                candidates.append(Path(hit))
    for c in candidates:
        if c.is_file():
            return c
    hint = f"python -c \"import open_clip; open_clip.create_model_and_transforms('{model}', pretrained='{pretrained}')\""
    raise EmbedderUnavailable(
        f"CLIP weights {model}/{pretrained} are not on disk and nothing is downloaded here: fetch them once where there "
        f"is internet ({hint}) and copy the cache, or pass --weights FILE"
    )


class ClipEmbedder:
    """Image embeddings of an open_clip model loaded from a weights file on disk (see find_clip_weights)."""

    name = "clip"

    def __init__(
        self,
        model: str = "ViT-B-32",
        pretrained: str = "laion2b_s34b_b79k",
        weights: str | Path | None = None,
        batch_size: int = 32,
        device: str = "cpu",
    ) -> None:
        path = find_clip_weights(model, pretrained, weights)
        try:
            import open_clip
        except ImportError:
            raise EmbedderUnavailable(NO_OPEN_CLIP) from None
        try:
            net, _, preprocess = open_clip.create_model_and_transforms(model, pretrained=str(path), device=device)
        except RuntimeError as exc:
            raise EmbedderUnavailable(f"CLIP weights {path} do not fit model {model!r} ({str(exc).splitlines()[0]})") from None
        self.net, self.preprocess, self.batch_size, self.device = net.eval(), preprocess, batch_size, device

    def embed(self, paths: list[Path], stage: Stage = _silent_stage) -> tuple[np.ndarray, list[InputError]]:
        """One L2-normalised image embedding per readable path (gray photos are fed as RGB)."""
        import torch
        from PIL import Image

        rows: list[np.ndarray] = []
        errors: list[InputError] = []
        batch: list[torch.Tensor] = []

        def flush() -> None:
            if batch:
                with torch.inference_mode():
                    rows.append(self.net.encode_image(torch.stack(batch).to(self.device)).float().cpu().numpy())
                batch.clear()

        with stage(len(paths), "clip") as advance:
            for p in paths:
                try:
                    batch.append(self.preprocess(Image.fromarray(read_image(p, "RGB"))))
                except InputError as exc:
                    errors.append(exc)
                if len(batch) >= self.batch_size:
                    flush()
                advance()
            flush()
        x = np.concatenate(rows) if rows else np.zeros((0, 1), np.float32)
        return l2_normalise(x), errors


def make_embedder(cfg: dict[str, Any], weights: str | Path | None = None) -> VladEmbedder | ClipEmbedder:
    """The embedder `cfg["embedder"]` names; `weights` (CLIP only) overrides clip.weights."""
    if cfg["embedder"] == "clip":
        c = cfg["clip"]
        return ClipEmbedder(c["model"], c["pretrained"], weights or c["weights"], c["batch_size"], c["device"])
    if weights:
        raise ValueError("--weights is for the clip embedder; vlad needs none")
    v = cfg["vlad"]
    return VladEmbedder(v["side"], v["keypoints"], v["words"], v["whiten"], v["codebook_images"], cfg["seed"])


def umap_reduce(x: np.ndarray, dims: int, cfg: dict[str, Any], seed: int = 0) -> np.ndarray:
    """UMAP to `dims` dimensions (seeded, so reruns agree); too few photos for UMAP get their PCA."""
    n = len(x)
    if n <= dims + 1:
        out = np.zeros((n, dims), np.float32)
        if n > 1:
            from sklearn.decomposition import PCA

            k = min(dims, n - 1, x.shape[1])
            out[:, :k] = PCA(k, random_state=seed).fit_transform(x)
        return out
    import umap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seeded UMAP warns that it runs on one thread; small sets warn about eigh
        reducer = umap.UMAP(
            n_components=dims,
            n_neighbors=max(2, min(int(cfg["n_neighbors"]), n - 1)),
            min_dist=float(cfg["min_dist"]),
            metric=cfg["metric"],
            init="spectral" if n > dims + 3 else "random",
            random_state=seed,
        )
        return reducer.fit_transform(x).astype(np.float32)


def cluster(x: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    """HDBSCAN labels (-1 = noise, an outlier); too few photos to form a cluster are all outliers."""
    from sklearn.cluster import HDBSCAN

    mcs, ms = int(cfg["min_cluster_size"]), int(cfg["min_samples"])
    if len(x) < max(2, mcs, ms + 1):
        return np.full(len(x), -1, int)
    hdb = HDBSCAN(
        min_cluster_size=mcs,
        min_samples=ms,
        cluster_selection_epsilon=float(cfg["cluster_selection_epsilon"]),
        cluster_selection_method=cfg["cluster_selection_method"],
        copy=True,
    )
    return hdb.fit_predict(x).astype(int)


def connected_groups(clusters: np.ndarray, sources: list[str | None] | None = None) -> np.ndarray:
    """A group id per row: rows of one cluster, or cut from one source photo, share a group (the connected
    components of both links), so a photo split over two clusters still stays on one side of every fold.
    An outlier (cluster -1) without a source photo is a group of its own."""
    n = len(clusters)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, object], int] = {}
    for i in range(n):
        keys = [("cluster", int(clusters[i]))] if clusters[i] >= 0 else []
        if sources and sources[i]:
            keys.append(("source", sources[i]))
        for key in keys:
            j = first.setdefault(key, i)
            parent[find(i)] = find(j)
    return np.array([find(i) for i in range(n)])


def group_folds(clusters: np.ndarray, k: int, outliers: str = "group", sources: list[str | None] | None = None) -> np.ndarray:
    """Fold (0..k-1) of each row by GroupKFold over `connected_groups`, so neither a cluster nor a source
    photo spans two folds. Outliers (cluster -1) are each their own group (joined only to crops of their own
    photo), or with `outliers="drop"` get fold -1 (in no fold)."""
    from sklearn.model_selection import GroupKFold

    clusters = np.asarray(clusters, int)
    folds = np.full(len(clusters), -1, int)
    idx = np.arange(len(clusters)) if outliers == "group" else np.flatnonzero(clusters >= 0)
    groups = connected_groups(clusters[idx], [sources[i] for i in idx] if sources else None)
    n_groups = len(np.unique(groups))
    if n_groups < k:
        raise ValueError(f"{n_groups} group(s) cannot make {k} folds: lower folds.k (--folds) or group more photos")
    for f, (_, val) in enumerate(GroupKFold(n_splits=k).split(idx, groups=groups)):
        folds[idx[val]] = f
    return folds


@dataclass
class GroupRow:
    """One row of train_preproc.csv / test_preproc.csv."""

    id: str
    cluster: int
    is_outlier: bool
    fold: int
    umap_x: float
    umap_y: float


def write_group_csv(path: str | Path, rows: list[GroupRow]) -> None:
    """Write rows with the COLUMNS header (is_outlier as 0/1, coordinates to 5 decimals), atomically."""
    write_csv(
        path,
        [
            {
                "ID": r.id,
                "cluster": r.cluster,
                "is_outlier": int(r.is_outlier),
                "fold": r.fold,
                "umap_x": f"{r.umap_x:.5f}",
                "umap_y": f"{r.umap_y:.5f}",
            }
            for r in rows
        ],
        COLUMNS,
    )


def read_group_csv(path: str | Path) -> list[GroupRow]:
    """Rows of a train_preproc.csv / test_preproc.csv; a malformed file is an InputError naming it."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "file not found")
    import csv

    with open(p, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(p, f"missing column(s) {', '.join(missing)}: not a `restoria group` CSV")
        raw = list(reader)
    rows, seen = [], set()
    for i, r in enumerate(raw, start=2):
        try:
            outlier = r["is_outlier"].strip().lower() in ("1", "true")
            row = GroupRow(r["ID"], int(r["cluster"]), outlier, int(r["fold"]), float(r["umap_x"]), float(r["umap_y"]))
        except ValueError as exc:
            raise InputError(p, f"line {i}: {exc}") from None
        if row.id in seen:
            raise InputError(p, f"line {i}: duplicate ID {row.id}")
        seen.add(row.id)
        rows.append(row)
    return rows


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
