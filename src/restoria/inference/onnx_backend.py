"""The ONNX backend: export a trained restorer's two stages to ONNX and run them with onnxruntime.

`restoria export` writes `<name>.fill.onnx` (gray -> fill + damage probability) and `<name>.color.onnx`
(gray -> chroma or RGB), and for a refining model `<name>.refine.onnx` ((classical fill, hole) -> fill),
each with dynamic height and width and the model's config in its metadata.
`OnnxRestorer` loads such a pair and offers the methods the pipeline calls on a torch model
(`fill_and_damage`, `color`, `to_rgb`), so `Restorer(..., backend="onnx")` is the same pipeline.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from restoria.io import InputError, atomic_path
from restoria.models.two_stage.hue import noise_for
from restoria.models.two_stage.model import compose_rgb
from restoria.weights import default_weights, load_model, read_metadata

STAGES = ("fill", "color")  # every restorer's; a refining one also has "refine"
OPSET = 17


class _Stage(nn.Module):
    """One method of a model as a module, for the exporter."""

    def __init__(self, model: nn.Module, method: str) -> None:
        super().__init__()
        self.model = model
        self.method = method

    def forward(self, gray: torch.Tensor, *extra: torch.Tensor) -> torch.Tensor:
        if self.method == "fill":
            return self.model.fill_and_damage(gray)
        if self.method == "refine":
            return self.model.refine(gray, *extra)  # the classical fill and its hole
        return self.model.color(gray, *extra)  # a hue-drawing colorizer also takes its noise field


def _stages(model: nn.Module) -> dict[str, list[str]]:
    """The graphs a model exports, each with its input names."""
    stages = {"fill": ["gray"], "color": ["gray", "noise"] if getattr(model, "samples_hue", False) else ["gray"]}
    if getattr(model, "refine_method", None):
        stages["refine"] = ["prefill", "mask"]
    return stages


def export_onnx(weights: str | Path | None, out: str | Path, name: str | None = None) -> list[Path]:
    """Write the two ONNX graphs of a weights file (the shipped default when None) into `out`."""
    weights = Path(weights) if weights else default_weights()
    model = load_model(weights)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    name = name or weights.stem
    meta = {"model": json.dumps(model.meta["model"]), "source": weights.name}
    written = []
    for stage, inputs in _stages(model).items():
        path = out / f"{name}.{stage}.onnx"
        with atomic_path(path) as tmp, warnings.catch_warnings():
            # the TorchScript exporter: it keeps height and width dynamic through the U-Net's skip
            # concatenations, where torch.export would specialise them
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Stage(model, stage),
                tuple(torch.rand(1, 1, 64, 64) for _ in inputs),
                str(tmp),
                dynamo=False,
                opset_version=OPSET,
                input_names=inputs,
                output_names=[stage],
                dynamic_axes={**{i: {0: "n", 2: "h", 3: "w"} for i in inputs}, stage: {0: "n", 2: "h", 3: "w"}},
            )
            _add_metadata(Path(tmp), meta)
        written.append(path)
    return written


def _add_metadata(path: Path, meta: dict[str, str]) -> None:
    import onnx

    proto = onnx.load(str(path))
    for k, v in meta.items():
        proto.metadata_props.add(key=k, value=v)
    onnx.save(proto, str(path))


def cached_export(weights: str | Path | None) -> Path:
    """The ONNX pair of a weights file, exported once into a cache keyed by the file's content."""
    weights = Path(weights) if weights else default_weights()
    if not weights.exists():
        raise InputError(weights, "weights file not found")
    digest = hashlib.sha1(weights.read_bytes()).hexdigest()[:16]
    root = Path(os.environ.get("RESTORIA_CACHE", Path.home() / ".cache" / "restoria")) / "onnx" / digest
    stages = STAGES + (("refine",) if read_metadata(weights).get("model", {}).get("refine") else ())
    if not all((root / f"model.{s}.onnx").exists() for s in stages):
        export_onnx(weights, root, "model")
    return root / "model"


class OnnxRestorer:
    """A two-stage restorer running on onnxruntime, with the torch model's pipeline interface."""

    def __init__(self, prefix: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        self.sessions = {}
        for stage in STAGES:
            path = Path(f"{prefix}.{stage}.onnx")
            if not path.exists():
                raise InputError(path, "ONNX file not found (write it with `restoria export`)")
            self.sessions[stage] = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        cfg: dict[str, Any] = json.loads(self.sessions["color"].get_modelmeta().custom_metadata_map["model"])
        self.refine_method = cfg.get("refine")
        if self.refine_method:
            path = Path(f"{prefix}.refine.onnx")
            if not path.exists():
                raise InputError(path, "ONNX file not found: this model refines a classical fill (write it with `restoria export`)")
            self.sessions["refine"] = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.meta = {"model": cfg}
        self.color_space = cfg.get("color_space", "rgb")
        self.chroma_gain = float(cfg.get("chroma_gain", 1.0))
        self.chroma_bias = tuple(cfg.get("chroma_bias", (0.0, 0.0)))
        self.samples_hue = len(self.sessions["color"].get_inputs()) == 2

    def _run(self, stage: str, **feed: torch.Tensor) -> torch.Tensor:
        device = next(iter(feed.values())).device
        arrays = {k: np.ascontiguousarray(v.detach().cpu().numpy(), dtype=np.float32) for k, v in feed.items()}
        return torch.from_numpy(self.sessions[stage].run(None, arrays)[0]).to(device)

    def fill_and_damage(self, gray: torch.Tensor) -> torch.Tensor:
        return self._run("fill", gray=gray)

    def refine(self, prefill: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self._run("refine", prefill=prefill, mask=mask)

    def color(self, gray: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        if not self.samples_hue:
            return self._run("color", gray=gray)
        return self._run("color", gray=gray, noise=noise_for(gray) if noise is None else noise)

    def to_rgb(self, gray: torch.Tensor, color: torch.Tensor, chroma_gain: float | None = None) -> torch.Tensor:
        gain = self.chroma_gain if chroma_gain is None else chroma_gain
        return compose_rgb(gray, color, self.color_space, gain, self.chroma_bias)
