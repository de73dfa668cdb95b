"""onnxruntime twins of the networks the pipeline runs besides the restorer: the damage segmenter, the
damaged/clean classifier, the super-resolution model and the enhancer. Each offers what the pipeline calls on the
torch model (the protocols in `restoria.inference.net`), so `Segmenter`, `DamageClassifier` and
`Upscaler` run either backend the same way; `load_net` picks one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from restoria.inference.net import BACKENDS
from restoria.inference.onnx_backend import cached_export, graph_path, model_kind, open_session, run_session
from restoria.io import InputError
from restoria.weights import load_model, read_metadata


class OnnxNet:
    """One exported graph on onnxruntime, with the metadata of the weights it was exported from.

    `source` is an exported `NAME.onnx`, or a weights file exported on first use (cached)."""

    kind = ""  # the kind of network the graph must be (see `onnx_backend.KINDS`)

    def __init__(self, source: str | Path, threads: int | None = None) -> None:
        source = Path(source)
        if source.suffix != ".onnx":
            self._check(read_metadata(source).get("model", {}), source)  # before exporting the wrong network
            source = graph_path(cached_export(source), "")
        self.session = open_session(source, threads)
        raw = self.session.get_modelmeta().custom_metadata_map
        self.meta: dict[str, Any] = {k: json.loads(v) for k, v in raw.items() if k != "source"}
        self._check(self.meta.get("model", {}), source)
        self.input = self.session.get_inputs()[0].name

    def _check(self, cfg: dict[str, Any], source: Path) -> None:
        found = model_kind(cfg, source)
        if found != self.kind:
            raise InputError(source, f"{found} weights, not {self.kind} weights")

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        return run_session(self.session, **{self.input: x})


class OnnxSegmenter(OnnxNet):
    """The damage segmenter's U-Net on onnxruntime: image -> damage logits."""

    kind = "segmenter"

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x)


class OnnxClassifier(OnnxNet):
    """The damaged/clean classifier on onnxruntime, at its trained input size."""

    kind = "classifier"

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x)


class OnnxUpscaler(OnnxNet):
    """A super-resolution model on onnxruntime."""

    kind = "upscaler"

    def __init__(self, source: str | Path, threads: int | None = None) -> None:
        super().__init__(source, threads)
        self.scale = int(self.meta["model"]["scale"])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x)


class OnnxEnhancer(OnnxNet):
    """The enhancer on onnxruntime: luma (and, with the levels path, the whole photo's view) -> enhanced luma."""

    kind = "enhancer"

    def __call__(self, x: torch.Tensor, view: torch.Tensor | None = None) -> torch.Tensor:
        if view is None:
            return self._run(x)
        return run_session(self.session, **{self.input: x, "view": view})


def load_net(weights: str | Path, backend: str, device: str, twin: type[OnnxNet]) -> Any:
    """The torch model of a weights file, or its onnxruntime `twin` (from the weights, exported once
    and cached, or from an exported `.onnx` file)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "onnx":
        return twin(weights)
    return load_model(weights, device)
