"""The learned detectors at inference: the damage segmenter (tiled, any size) and the damaged/clean
classifier, each on torch or on its onnxruntime twin (`backend`)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from skimage.filters import apply_hysteresis_threshold

from restoria.imaging import to_tensor
from restoria.inference.flat import (
    MIN_LEARNED_AREA_AT_REFERENCE,
    REAL_DAMAGE_GROW_AT_REFERENCE,
    REAL_DAMAGE_LOW_THRESHOLD,
    REAL_DAMAGE_MIN_AREA_AT_REFERENCE,
    REAL_DAMAGE_SMALL_AREA_AT_REFERENCE,
    REAL_DAMAGE_SMALL_PEAK,
    REAL_DAMAGE_THRESHOLD,
    REAL_DAMAGE_VIEWS,
    REAL_DAMAGE_VIEWS_THRESHOLD,
    REFERENCE_SIZE,
    min_region_area,
    unflat_regions,
)
from restoria.inference.net import ClassifierNet, SegmenterNet


class Segmenter:
    """A trained damage segmenter (`restoria train --config configs/segment.yaml`) over photos of any
    size: tiled like the restorer, so memory stays bounded."""

    def __init__(self, weights: str | Path, device: str = "cpu", backend: str = "torch") -> None:
        """`backend` "onnx" runs the U-Net on onnxruntime (`weights` may then be an exported `.onnx`)."""
        from restoria.inference.onnx_nets import OnnxSegmenter, load_net
        from restoria.models.segmenter import side_multiple

        self.net: SegmenterNet = load_net(weights, backend, device, OnnxSegmenter)
        self.in_channels = int(self.net.meta["model"].get("in_channels", 1))
        self.multiple = side_multiple(self.net.meta["model"])
        self.device = device
        data = self.net.meta.get("config", {}).get("data", {})
        # trained on restoria.data.ageing (scratches, dust, tears, ...), not only the competition's polygons
        self.real_damage = (data.get("damage") or {}).get("model") == "ageing"
        self.min_area_at_reference = REAL_DAMAGE_MIN_AREA_AT_REFERENCE if self.real_damage else MIN_LEARNED_AREA_AT_REFERENCE
        # regions under `small_area_at_reference` px count only where the map reaches `small_peak` (None: all)
        self.small_area_at_reference = REAL_DAMAGE_SMALL_AREA_AT_REFERENCE
        self.small_peak: float | None = REAL_DAMAGE_SMALL_PEAK if self.real_damage else None
        # the damage probability that counts and the growth, as chosen for these weights by a benchmark
        # when their file says (`ship(..., threshold=, grow=)`), else the defaults for their kind
        meta = self.net.meta
        self.single_view_threshold = float(meta.get("threshold", REAL_DAMAGE_THRESHOLD if self.real_damage else 0.5))
        # a map averaged over views is surer where the damage is and fainter elsewhere, so it has its own
        self.averaged_threshold = float(meta.get("views_threshold", REAL_DAMAGE_VIEWS_THRESHOLD if self.real_damage else self.single_view_threshold))
        self.grow_at_reference = float(meta.get("grow", REAL_DAMAGE_GROW_AT_REFERENCE if self.real_damage else 0.0))
        # hysteresis: pixels down to this probability count where they join one above `threshold`
        self.low_threshold: float | None = meta.get("low_threshold", REAL_DAMAGE_LOW_THRESHOLD if self.real_damage else None)
        self.use_views(int(meta.get("views", REAL_DAMAGE_VIEWS if self.real_damage else 1)))

    def use_views(self, views: int) -> None:
        """Average its map over `views` (1, 2, 4 or 8) mirrored and rotated copies of the photo
        (restoria.inference.tiling.dihedral_tta), with the threshold that goes with one view or many."""
        from restoria.inference.tiling import check_views

        self.views = check_views(views)
        self.threshold = self.averaged_threshold if views > 1 else self.single_view_threshold

    def found(self, prob: np.ndarray) -> np.ndarray:
        """Its damage map (H, W) -> the damaged pixels (bool): above `threshold`, and with a
        `low_threshold` every pixel above that one connected to such a pixel (hysteresis, as Canny's
        edges): a crack the network is sure of in places is taken whole, a faint look-alike alone is not.
        A region smaller than `small_area_at_reference` px counts only where the map reaches `small_peak`."""
        if self.low_threshold is None or self.low_threshold >= self.threshold:
            found = prob > self.threshold
        else:
            found = apply_hysteresis_threshold(prob, self.low_threshold, self.threshold)
        if self.small_peak is None or self.small_peak <= self.threshold or not found.any():
            return found
        n, labels, stats, _ = cv2.connectedComponentsWithStats(found.astype(np.uint8), connectivity=8)
        peak = np.zeros(n, prob.dtype)
        np.maximum.at(peak, labels[found], prob[found])
        weak = (stats[:, cv2.CC_STAT_AREA] < min_region_area(prob.shape, self.small_area_at_reference)) & (peak < self.small_peak)
        weak[0] = False  # the background
        return found & ~weak[labels]

    def regions(self, gray: np.ndarray, tile: int | None = 1024) -> np.ndarray:
        """What it finds on a uint8 gray photo on its own (bool): its damage outside flat fills, in regions
        of at least `min_area`, grown; what `restore` fills where no other detector speaks."""
        found = self.found(self(to_tensor(gray)[None].to(self.device), tile)[0, 0].cpu().numpy())
        return self.grow(unflat_regions(gray, found, self.min_area(gray.shape)))

    def min_area(self, shape: tuple[int, int]) -> int:
        """The smallest region of its map worth keeping on a photo of this shape, in pixels."""
        return min_region_area(shape, self.min_area_at_reference)

    def grow(self, found: np.ndarray) -> np.ndarray:
        """Its found regions (bool) grown by `grow_at_reference` px at 512 (scaled to the photo): a thin
        crack's soft rim, which its map leaves out, filled too."""
        r = self.grow_at_reference * min(found.shape) / REFERENCE_SIZE
        if r < 0.5:
            return found
        k = 2 * round(r) + 1
        return cv2.dilate(found.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0

    @torch.inference_mode()
    def __call__(self, gray: torch.Tensor, tile: int | None = 1024) -> torch.Tensor:
        """(1, 1, H, W) gray in [0, 1] -> damage probability (1, 1, H, W)."""
        from restoria.inference.tiling import dihedral_tta, run_tiled
        from restoria.models.segmenter import run_padded

        x = gray.expand(-1, self.in_channels, -1, -1)
        return run_tiled(dihedral_tta(lambda t: torch.sigmoid(run_padded(self.net, t, self.multiple)), self.views), x, tile)


class DamageClassifier:
    """A trained damaged/clean classifier (`restoria train --config configs/classify.yaml`): the whole
    photo, resized as in training, -> probability that it is damaged."""

    def __init__(self, weights: str | Path, device: str = "cpu", backend: str = "torch") -> None:
        """`backend` "onnx" runs the network on onnxruntime (`weights` may then be an exported `.onnx`)."""
        from restoria.inference.onnx_nets import OnnxClassifier, load_net
        from restoria.models.classifier import input_side

        self.net: ClassifierNet = load_net(weights, backend, device, OnnxClassifier)
        self.size = input_side(self.net.meta)
        self.in_channels = int(self.net.meta["model"].get("in_channels", 1))
        self.device = device

    @torch.inference_mode()
    def __call__(self, gray: np.ndarray) -> float:
        """uint8 gray (H, W) -> P(damaged)."""
        from restoria.data.transforms import resize

        x = resize(to_tensor(gray), self.size, self.size)[None].to(self.device)
        return float(self.net.predict_proba(x.expand(-1, self.in_channels, -1, -1))[0])
