"""The interface the restore pipeline needs from a two-stage restorer, written down once: the torch
model (`restoria.models.two_stage.TwoStageRestorer`) and its onnxruntime twin
(`restoria.inference.onnx_backend.OnnxRestorer`) both offer it, so the pipeline cannot tell them apart."""

from __future__ import annotations

from typing import Any, Protocol

import torch


class RestorerNet(Protocol):
    """Tensors are (B, C, H, W) floats in [0, 1] with H and W multiples of 32 (the tiler pads them)."""

    meta: dict[str, Any]  # the weights' metadata; meta["model"] is the model config
    samples_hue: bool  # the colour graph also takes a noise field (hue drawn from a distribution)
    refine_method: str | None  # the classical fill a refiner corrects, or None
    chroma_gain: float

    def fill_and_damage(self, gray: torch.Tensor) -> torch.Tensor:
        """U-Net #1: gray -> (fill, damage probability) as 2 channels."""
        ...

    def refine(self, prefill: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The refiner: (classical fill, hole) -> fill."""
        ...

    def color(self, gray: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """U-Net #2: restored gray (and its noise field) -> chroma or RGB, as the model predicts it."""
        ...

    def to_rgb(self, gray: torch.Tensor, color: torch.Tensor, chroma_gain: float | None = None) -> torch.Tensor:
        """The colour network's output over the gray -> RGB."""
        ...
