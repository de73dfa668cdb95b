"""The interfaces the restore pipeline needs from its networks, written down once per kind: the torch
models and their onnxruntime twins (`restoria.inference.onnx_backend.OnnxRestorer`, and
`OnnxSegmenter`, `OnnxClassifier`, `OnnxUpscaler`, `OnnxEnhancer` in `restoria.inference.onnx_nets`) both offer them,
so the pipeline cannot tell them apart."""

from __future__ import annotations

from typing import Any, Protocol

import torch

BACKENDS = ("torch", "onnx")  # what runs the networks: PyTorch, or onnxruntime on their exported graphs


class RestorerNet(Protocol):
    """Tensors are (B, C, H, W) floats in [0, 1] with H and W multiples of 32 (the tiler pads them)."""

    meta: dict[str, Any]  # the weights' metadata; meta["model"] is the model config
    samples_hue: bool  # the colour graph also takes a noise field (hue drawn from a distribution)
    refine_method: str | None  # the classical fill a refiner corrects, or None
    chroma_gain: float
    color_space: str  # "ycbcr": color() is chroma over the given luma; "rgb": the whole colour photo

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


class SegmenterNet(Protocol):
    """The damage segmenter's U-Net (`restoria.models.segmenter`)."""

    meta: dict[str, Any]  # the weights' metadata; meta["model"] is the model config

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, H, W) in [0, 1], H and W multiples of `side_multiple(meta["model"])` ->
        damage logits (B, 1, H, W)."""
        ...


class ClassifierNet(Protocol):
    """The damaged/clean classifier (`restoria.models.classifier`)."""

    meta: dict[str, Any]  # the weights' metadata; meta["config"] holds the training input size

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, S, S) in [0, 1] at the trained size S -> P(damaged) per image (B,)."""
        ...


class UpscalerNet(Protocol):
    """A super-resolution model (`restoria.models.srresnet.SRResNet`)."""

    meta: dict[str, Any]
    scale: int

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) in [0, 1] -> (B, C, h * scale, w * scale)."""
        ...


class EnhancerNet(Protocol):
    """The enhancer (`restoria.models.enhancer.Enhancer`)."""

    meta: dict[str, Any]

    def __call__(self, x: torch.Tensor, view: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, H, W) luma in [0, 1], H and W multiples of 32 -> the enhanced luma, same shape.
        `view`: the whole photo's levels view when the network has a levels path and `x` is a tile."""
        ...
