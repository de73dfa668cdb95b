"""The ONNX backend: export every network the pipeline runs to ONNX, cache the exports, and run a
restorer's graphs with onnxruntime.

`restoria export` writes, for a two-stage restorer, `<name>.fill.onnx` (gray -> fill + damage
probability) and `<name>.color.onnx` (gray -> chroma or RGB), and for a refining model
`<name>.refine.onnx` ((classical fill, hole) -> fill); for a damage segmenter, a damaged/clean
classifier, a super-resolution model or an enhancer one `<name>.onnx`. Every graph keeps batch, height and width
dynamic where the network is fully convolutional (the classifier keeps its trained input size) and
carries the weights' metadata (model config, training config and facts).
`OnnxRestorer` loads a restorer's graphs and offers the methods the pipeline calls on a torch model
(`fill_and_damage`, `color`, `to_rgb`), so `Restorer(..., backend="onnx")` is the same pipeline; the
other networks' twins are in `restoria.inference.onnx_nets`.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from restoria.io import InputError, atomic_path
from restoria.models.classifier import input_side
from restoria.models.enhancer.levels import VIEW
from restoria.models.segmenter import side_multiple
from restoria.models.two_stage.hue import noise_for
from restoria.models.two_stage.compose import compose_rgb
from restoria.weights import default_weights, load_model, read_metadata

STAGES = ("fill", "color")  # every restorer's; a refining one also has "refine"
OPSET = 17
# model config `name` -> the kind of network, which decides the graphs it exports
KINDS = {
    "two_stage": "restorer",
    "unet": "segmenter",
    "resnet_classifier": "classifier",
    "encoder_classifier": "classifier",
    "srresnet": "upscaler",
    "enhancer": "enhancer",
}
NHW = {0: "n", 2: "h", 3: "w"}


def model_kind(cfg: dict[str, Any], source: str | Path = "") -> str:
    """restorer, segmenter, classifier, upscaler or enhancer, from a model config; other networks do not export."""
    name = cfg.get("name", "two_stage")
    if name not in KINDS:
        raise InputError(source, f"a {name!r} model: only restorers, segmenters, classifiers, super-resolution models and enhancers export to ONNX")
    return KINDS[name]


def graph_suffixes(cfg: dict[str, Any]) -> tuple[str, ...]:
    """The graphs a model exports, as file-name suffixes: a restorer's stages, else one unnamed graph."""
    if model_kind(cfg) != "restorer":
        return ("",)
    return STAGES + (("refine",) if cfg.get("refine") else ())


def graph_path(prefix: str | Path, suffix: str) -> Path:
    """`<prefix>.<stage>.onnx` for a restorer's stage, `<prefix>.onnx` for a single-graph network."""
    return Path(f"{prefix}.{suffix}.onnx" if suffix else f"{prefix}.onnx")


class _Stage(nn.Module):
    """One method of a model as a module, for the exporter."""

    def __init__(self, model: nn.Module, method: str) -> None:
        super().__init__()
        self.model = model
        self.method = method

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        # a hue-drawing colorizer's color also takes its noise field; refine takes (classical fill, hole)
        return getattr(self.model, self.method)(*inputs)


@dataclass
class _Graph:
    method: str  # the model's method the graph runs
    inputs: dict[str, tuple[int, ...]]  # input name -> the example shape it is traced at
    output: str
    dynamic: dict[int, str]  # the dynamic axes of every input and the output
    fixed: tuple[str, ...] = ()  # inputs whose shape is fixed but for the batch


def _graphs(model: nn.Module) -> dict[str, _Graph]:
    """A model's graphs by file-name suffix (see `graph_suffixes`)."""
    cfg = model.meta["model"]
    kind = model_kind(cfg)
    channels = int(cfg.get("in_channels", 3 if kind == "upscaler" else 1))
    if kind == "segmenter":
        side = 2 * side_multiple(cfg)
        return {"": _Graph("__call__", {"image": (1, channels, side, side)}, "logits", NHW)}
    if kind == "classifier":
        side = input_side(model.meta)
        return {"": _Graph("predict_proba", {"image": (1, channels, side, side)}, "p_damaged", {0: "n"})}
    if kind == "upscaler":
        return {"": _Graph("__call__", {"image": (1, channels, 32, 32)}, "upscaled", NHW)}
    if kind == "enhancer":
        if cfg.get("levels"):
            inputs = {"image": (1, channels, 64, 64), "view": (1, 1, VIEW, VIEW)}
            return {"": _Graph("__call__", inputs, "enhanced", NHW, fixed=("view",))}
        return {"": _Graph("__call__", {"image": (1, channels, 64, 64)}, "enhanced", NHW)}
    gray = (1, 1, 64, 64)
    color = {"gray": gray, "noise": gray} if getattr(model, "samples_hue", False) else {"gray": gray}
    graphs = {"fill": _Graph("fill_and_damage", {"gray": gray}, "fill", NHW), "color": _Graph("color", color, "color", NHW)}
    if "refine" in graph_suffixes(cfg):
        graphs["refine"] = _Graph("refine", {"prefill": gray, "mask": gray}, "refine", NHW)
    return graphs


def export_onnx(weights: str | Path | None, out: str | Path, name: str | None = None, model_overrides: dict[str, Any] | None = None) -> list[Path]:
    """Write the ONNX graphs of a weights file (the shipped restorer when None) into `out`: a
    restorer's stage graphs, or the one graph of a segmenter, classifier, super-resolution model or
    enhancer; `model_overrides` as `restoria.weights.load_model` takes them, baked into the graphs."""
    weights = Path(weights) if weights else default_weights()
    model_kind(read_metadata(weights).get("model", {}), weights)
    model = load_model(weights, model_overrides=model_overrides)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    name = name or weights.stem
    meta = {k: json.dumps(v) for k, v in model.meta.items()} | {"source": weights.name}
    written = []
    for suffix, graph in _graphs(model).items():
        path = graph_path(out / name, suffix)
        with atomic_path(path) as tmp, warnings.catch_warnings():
            # the TorchScript exporter: it keeps height and width dynamic through the U-Net's skip
            # concatenations, where torch.export would specialise them
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Stage(model, graph.method),
                tuple(torch.rand(*shape) for shape in graph.inputs.values()),
                str(tmp),
                dynamo=False,
                opset_version=OPSET,
                input_names=list(graph.inputs),
                output_names=[graph.output],
                dynamic_axes={k: {0: "n"} if k in graph.fixed else graph.dynamic for k in (*graph.inputs, graph.output)},
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


def _graph_code() -> list[Path]:
    """The source files that decide what an exported graph computes: the networks and this exporter."""
    package = Path(__file__).resolve().parents[1]
    return [Path(__file__).resolve(), *sorted((package / "models").rglob("*.py"))]


def cached_export(weights: str | Path | None, model_overrides: dict[str, Any] | None = None) -> Path:
    """The ONNX graphs of a weights file, exported once into a cache keyed by the file's content, the
    `model_overrides` baked into them, and the code that shapes the graphs (a changed network or
    exporter exports again rather than running a stale graph): the prefix they share (`graph_path` names each)."""
    weights = Path(weights) if weights else default_weights()
    if not weights.exists():
        raise InputError(weights, "weights file not found")
    h = hashlib.sha1(weights.read_bytes())
    h.update(json.dumps(model_overrides or {}, sort_keys=True).encode())
    for source in _graph_code():
        h.update(source.read_bytes())
    h.update(f"torch {torch.__version__}".encode())
    digest = h.hexdigest()[:16]
    root = Path(os.environ.get("RESTORIA_CACHE", Path.home() / ".cache" / "restoria")) / "onnx" / digest
    if not all(graph_path(root / "model", s).exists() for s in graph_suffixes(read_metadata(weights).get("model", {}))):
        try:
            export_onnx(weights, root, "model", model_overrides)
        except OSError as exc:
            raise InputError(root, f"cannot write the ONNX export cache ({exc.strerror}): set RESTORIA_CACHE to a writable folder, or use --backend torch") from None
    return root / "model"


def open_session(path: Path, threads: int | None = None, missing: str = "ONNX file not found (write it with `restoria export`)") -> Any:
    """An onnxruntime CPU session on one exported graph, fully optimised, on the torch thread count."""
    import onnxruntime as ort

    if not path.exists():
        raise InputError(path, missing)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = threads or torch.get_num_threads()
    # no busy-waiting for the next run: between runs the pipeline's own torch and OpenCV work needs the
    # cores, and a spinning worker slowed it several-fold
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run_session(session: Any, **feed: torch.Tensor) -> torch.Tensor:
    """Run a session on tensors: float32 arrays in, its first output back as a tensor on the inputs' device."""
    device = next(iter(feed.values())).device
    arrays = {k: np.ascontiguousarray(v.detach().cpu().numpy(), dtype=np.float32) for k, v in feed.items()}
    return torch.from_numpy(session.run(None, arrays)[0]).to(device)


class OnnxRestorer:
    """A two-stage restorer running on onnxruntime, with the torch model's pipeline interface."""

    def __init__(self, prefix: str | Path, threads: int | None = None) -> None:
        self.sessions = {stage: open_session(graph_path(prefix, stage), threads) for stage in STAGES}
        cfg: dict[str, Any] = json.loads(self.sessions["color"].get_modelmeta().custom_metadata_map["model"])
        self.refine_method = cfg.get("refine")
        if self.refine_method:
            missing = "ONNX file not found: this model refines a classical fill (write it with `restoria export`)"
            self.sessions["refine"] = open_session(graph_path(prefix, "refine"), threads, missing)
        self.meta = {"model": cfg}
        self.color_space = cfg.get("color_space", "rgb")
        self.chroma_gain = float(cfg.get("chroma_gain", 1.0))
        self.chroma_bias = tuple(cfg.get("chroma_bias", (0.0, 0.0)))
        self.samples_hue = len(self.sessions["color"].get_inputs()) == 2

    def _run(self, stage: str, **feed: torch.Tensor) -> torch.Tensor:
        return run_session(self.sessions[stage], **feed)

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
