"""The learned detectors at inference: the damage segmenter (tiled, any size) and the damaged/clean classifier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch


class Segmenter:
    """A trained damage segmenter (`restoria train --config configs/segment.yaml`) over photos of any
    size: tiled like the restorer, so memory stays bounded."""

    def __init__(self, weights: str | Path, device: str = "cpu") -> None:
        from restoria.weights import load_model

        self.net = load_model(weights, device)
        self.in_channels = int(self.net.meta["model"].get("in_channels", 1))
        self.device = device

    @torch.inference_mode()
    def __call__(self, gray: torch.Tensor, tile: int | None = 1024) -> torch.Tensor:
        """(1, 1, H, W) gray in [0, 1] -> damage probability (1, 1, H, W)."""
        from restoria.inference.tiling import run_tiled
        from restoria.models.segmenter import segment_logits

        x = gray.expand(-1, self.in_channels, -1, -1)
        return run_tiled(lambda t: torch.sigmoid(segment_logits(self.net, t)), x, tile)


class DamageClassifier:
    """A trained damaged/clean classifier (`restoria train --config configs/classify.yaml`): the whole
    photo, resized as in training, -> probability that it is damaged."""

    def __init__(self, weights: str | Path, device: str = "cpu") -> None:
        from restoria.weights import load_model

        self.net = load_model(weights, device)
        cfg = self.net.meta.get("config", {})
        self.size = int(cfg.get("data", {}).get("size", 160))
        self.in_channels = int(self.net.meta["model"].get("in_channels", 1))
        self.device = device

    @torch.inference_mode()
    def __call__(self, gray: np.ndarray) -> float:
        """uint8 gray (H, W) -> P(damaged)."""
        from restoria.data.transforms import resize
        from restoria.imaging import to_tensor

        x = resize(to_tensor(gray), self.size, self.size)[None].to(self.device)
        return float(self.net.predict_proba(x.expand(-1, self.in_channels, -1, -1))[0])
