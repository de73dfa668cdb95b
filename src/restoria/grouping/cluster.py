"""Embeddings -> UMAP -> HDBSCAN clusters -> folds that keep one place (cluster, source photo) on one side; the group CSVs."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from restoria.io import InputError, write_csv

COLUMNS = ["ID", "cluster", "is_outlier", "fold", "umap_x", "umap_y"]


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
