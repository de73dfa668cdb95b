"""Restore = (is it damaged?) -> find the damage -> fill it -> colorize (-> upscale), as plain
composition of stages. The fill is a classical inpainting of the found damage (restoria.prefill: FSR by
default), which a refining model's third U-Net corrects, or U-Net #1's own.

Works on any size: the networks run on reflect-padded tiles with overlap, blended with smooth weights,
so memory stays bounded on large photos. Several weights files make an ensemble (outputs averaged), and
`tta` also averages each network over the photo and its mirror image.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from restoria.data import to_tensor, to_uint8
from restoria.detect import DamageClassifier, Segmenter, combine_detections, drop_small_regions
from restoria.hue import noise_for, to_uint8_keep_hue
from restoria.io import InputError
from restoria.prefill import METHODS, classical_fill
from restoria.weights import default_weights, load_model

DETECTORS = ("model", "flat", "both")
BACKENDS = ("torch", "onnx")
# auto: a refining model's refiner, else opencv-contrib's FSR fill (restoria.prefill; on the 141 val crops
# the full pipeline scored 0.5232 with it, 0.5118 with Navier-Stokes, whose masked SSIM of 0.443 on 48
# crops had beaten U-Net #1's own fill's 0.368); model: each model's own; ns/telea/fsr: that method alone
FILLS = ("auto", "model", *METHODS)
AUTO_FILL = "fsr"

MULTIPLE = 32  # U-Net encoders downsample 5 times


@dataclass
class Stages:
    """Every stage's output for one photo (uint8)."""

    mask: np.ndarray  # (H, W), 255 = damaged
    inpainted: np.ndarray  # (H, W) restored gray
    colorized: np.ndarray  # (H, W, 3) colour of the restored gray
    restored: np.ndarray  # (H, W, 3) final result at the input's size
    p_damaged: float | None = None  # the classifier's answer, when one was asked
    upscaled: np.ndarray | None = None  # (H*s, W*s, 3) the restored photo super-resolved, when asked


def _pad(x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
    h, w = x.shape[-2:]
    ph, pw = (-h) % MULTIPLE, (-w) % MULTIPLE
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


def _blend_window(h: int, w: int, overlap: int) -> torch.Tensor:
    """Weights that fall linearly to ~0 over `overlap` pixels at each tile edge."""

    def ramp(n: int) -> torch.Tensor:
        r = torch.ones(n)
        k = min(overlap, n // 2)
        if k > 0:
            edge = torch.linspace(1.0 / (k + 1), 1.0, k)
            r[:k], r[n - k :] = edge, edge.flip(0)
        return r

    return ramp(h)[:, None] * ramp(w)[None, :]


def run_tiled(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, tile: int | None, overlap: int = 64, scale: int = 1
) -> torch.Tensor:
    """Apply a network `fn` to (1, C, H, W) `x`, on tiles when the image exceeds `tile`. `fn` keeps the
    size, or multiplies it by `scale` (super-resolution): tiles are placed and blended at the output scale."""
    h, w = x.shape[-2:]
    if tile is None or (h <= tile and w <= tile):
        padded, (h0, w0) = _pad(x)
        return fn(padded)[..., : h0 * scale, : w0 * scale]
    tile = max(tile, 2 * overlap + MULTIPLE)
    step = tile - overlap
    ys = list(range(0, max(h - tile, 0) + 1, step)) or [0]
    xs = list(range(0, max(w - tile, 0) + 1, step)) or [0]
    if ys[-1] + tile < h:
        ys.append(h - tile)
    if xs[-1] + tile < w:
        xs.append(w - tile)
    s = scale
    out: torch.Tensor | None = None
    weight = torch.zeros(1, 1, h * s, w * s, device=x.device)
    for y in ys:
        for xx in xs:
            patch = x[..., y : y + tile, xx : xx + tile]
            padded, (ph, pw) = _pad(patch)
            res = fn(padded)[..., : ph * s, : pw * s]
            win = _blend_window(ph * s, pw * s, overlap * s).to(x.device)[None, None]
            if out is None:
                out = torch.zeros(1, res.shape[1], h * s, w * s, device=x.device, dtype=res.dtype)
            out[..., y * s : (y + ph) * s, xx * s : (xx + pw) * s] += res * win
            weight[..., y * s : (y + ph) * s, xx * s : (xx + pw) * s] += win
    assert out is not None
    return out / weight


def flip_tta(fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    """`fn` averaged with its run on the mirrored input, mirrored back (horizontal-flip test-time augmentation)."""
    return lambda x: (fn(x) + fn(x.flip(-1)).flip(-1)) / 2


def load_backend_model(weights: str | Path | None, backend: str, device: str) -> Any:
    """A torch model, or its onnxruntime twin: from an exported `NAME.fill.onnx`/`NAME.color.onnx`
    pair (either file names it), or exported on first use from a weights file."""
    if backend == "torch":
        return load_model(weights, device)
    from restoria.onnx_backend import OnnxRestorer, cached_export

    name = str(weights) if weights else ""
    for suffix in (".fill.onnx", ".color.onnx"):
        if name.endswith(suffix):
            return OnnxRestorer(name[: -len(suffix)])
    return OnnxRestorer(cached_export(weights))


def shipped_or(path: str | Path | None, name: str) -> Path | None:
    """`path` as given; "default" means the shipped file `name` when the package has one."""
    if path != "default":
        return Path(path) if path else None
    shipped = default_weights(name)
    return shipped if shipped.exists() else None


class Upscaler:
    """The super-resolution stage: an SR model (the shipped `sr_x{scale}` weights unless `weights` names
    others) on overlapping tiles of `tile` input pixels, so memory stays bounded at any size.
    uint8 RGB (or gray) in, `scale` times larger uint8 out (gray stays gray)."""

    def __init__(self, scale: int, weights: str | Path | None = None, device: str = "cpu", tile: int | None = 256, overlap: int = 24) -> None:
        path = Path(weights) if weights else default_weights(f"sr_x{scale}.safetensors")
        if not path.exists():
            raise InputError(path, f"no x{scale} super-resolution weights (shipped: {', '.join(shipped_sr_scales()) or 'none'}; or pass trained ones)")
        self.model = load_model(path, device)
        found = getattr(self.model, "scale", None)
        if found != scale:
            raise InputError(path, f"is a x{found} super-resolution model; upscaling x{scale} needs a x{scale} one" if found else "not a super-resolution model")
        self.scale, self.device, self.tile, self.overlap = scale, device, tile, overlap

    @torch.inference_mode()
    def __call__(self, image: np.ndarray) -> np.ndarray:
        x = to_tensor(image)[None].to(self.device)
        gray = x.shape[1] == 1
        y = run_tiled(self.model, x.expand(-1, 3, -1, -1) if gray else x, self.tile, self.overlap, self.scale)
        out = to_uint8(y[0])
        return cv2.cvtColor(out, cv2.COLOR_RGB2GRAY) if gray else out


def shipped_sr_scales() -> list[str]:
    return [f"x{s}" for s in (2, 3, 4, 8) if default_weights(f"sr_x{s}.safetensors").exists()]


class Restorer:
    """The restore pipeline over one or more trained two-stage models (an ensemble averages them).

    Damage is found by a learned detector (the dedicated segmenter when one is given or shipped, else
    the inpainter's own damage head) and/or flat-fill detection; a classifier, when given or shipped,
    first decides whether the photo is damaged at all (below `threshold` nothing is inpainted).
    """

    def __init__(
        self,
        weights: list[str | Path] | None = None,
        device: str = "cpu",
        tile: int | None = 1024,
        color_strength: float = 1.0,
        detector: str = "both",
        backend: str = "torch",
        segmenter: str | Path | None = "default",
        classifier: str | Path | None = "default",
        threshold: float = 0.5,
        tta: bool = False,
        upscale: int | None = None,
        sr_weights: str | Path | None = None,
        fill: str = "auto",
    ) -> None:
        if fill not in FILLS:
            raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")
        if detector not in DETECTORS:
            raise ValueError(f"detector must be one of {DETECTORS}, got {detector!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.models: list[Any] = [load_backend_model(w, backend, device) for w in (weights or [None])]
        self.device = device
        self.tile = tile
        self.color_strength = color_strength
        self.detector = detector
        seg, cls = shipped_or(segmenter, "segment.safetensors"), shipped_or(classifier, "classify.safetensors")
        self.segmenter = Segmenter(seg, device) if seg else None
        self.classifier = DamageClassifier(cls, device) if cls else None
        self.threshold = threshold
        self.tta = tta  # flip test-time augmentation of both networks
        self.upscaler = Upscaler(upscale, sr_weights, device) if upscale else None  # the last stage
        self.fill = fill

    def _net(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
        return flip_tta(fn) if self.tta else fn

    @torch.inference_mode()
    def inpaint(self, gray: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Network stage 1: (damage probability, fill), averaged over the ensemble."""
        fills, probs = [], []
        for m in self.models:
            out = run_tiled(self._net(m.fill_and_damage), gray, self.tile)
            fills.append(out[:, :1])
            probs.append(out[:, 1:2])
        return torch.stack(probs).mean(0), torch.stack(fills).mean(0)

    @torch.inference_mode()
    def fill_hole(self, gray: torch.Tensor, hole: torch.Tensor, unet_fill: Callable[[], torch.Tensor]) -> torch.Tensor:
        """The fill of the found damage `hole` (1, 1, H, W), averaged over the ensemble: a classical
        fill alone (`fill` "ns"/"telea"/"fsr"), a refining model's correction of its classical fill, and
        for other models the FSR fill (`fill` "auto") or U-Net #1's own (`unet_fill()`, run only then)."""
        classical = functools.cache(lambda method: classical_fill(gray, hole, method))  # once per method
        if self.fill in METHODS:
            return classical(self.fill)
        fills = []
        for m in self.models:
            method = getattr(m, "refine_method", None)
            if method is None:
                fills.append(unet_fill() if self.fill == "model" else classical(AUTO_FILL))
                continue
            both = torch.cat([classical(method), hole], 1)
            fills.append(run_tiled(self._net(lambda t, m=m: m.refine(t[:, :1], t[:, 1:])), both, self.tile))
        return torch.stack(fills).mean(0)

    def detect(self, gray: np.ndarray, x: torch.Tensor, model_prob: torch.Tensor | None) -> torch.Tensor:
        """Damage mask: the learned detector's alone (`model`), flat-fill detection alone (`flat`), or
        both, each confirming the other (`both`, see `restoria.detect.combine_detections`)."""
        learned = None
        if self.detector in ("model", "both"):
            prob = self.segmenter(x, self.tile) if self.segmenter else model_prob
            learned = prob[0, 0].cpu().numpy() > 0.5
        if self.detector == "model":
            found = drop_small_regions(learned)
        else:
            found = combine_detections(gray, learned)
        return torch.from_numpy(found > 0).float()[None, None].to(x.device)

    @torch.inference_mode()
    def colorize(self, gray: torch.Tensor) -> torch.Tensor:
        """Stage 2: RGB from restored gray, averaged over the ensemble."""
        outs = []
        for m in self.models:
            if getattr(m, "samples_hue", False):  # one noise field for the whole photo, so tiles agree
                noise = noise_for(gray)
                color = run_tiled(self._net(lambda x, m=m: m.color(x[:, :1], x[:, 1:])), torch.cat([gray, noise], 1), self.tile)
            else:
                color = run_tiled(self._net(m.color), gray, self.tile)
            outs.append(m.to_rgb(gray, color, m.chroma_gain * self.color_strength))
        return torch.stack(outs).mean(0)

    def __call__(self, gray: np.ndarray, mask: np.ndarray | None = None, keep: np.ndarray | None = None) -> Stages:
        """Restore a uint8 gray (H, W) photo; `mask` (H, W, >0 = damaged) overrides detection.
        `keep` is the photo's own colour (H, W, 3): it is kept everywhere outside the damage."""
        x = to_tensor(gray)[None].to(self.device)
        p_damaged = self.classifier(gray) if self.classifier and mask is None else None
        if p_damaged is not None and p_damaged < self.threshold:
            mask = np.zeros_like(gray)  # judged undamaged: only colorized
        stage1: list[tuple[torch.Tensor, torch.Tensor]] = []  # U-Net #1's (damage, fill), run at most once

        def unet() -> tuple[torch.Tensor, torch.Tensor]:
            if not stage1:
                stage1.append(self.inpaint(x))
            return stage1[0]

        if mask is not None:
            prob = torch.from_numpy((mask > 0).astype(np.float32))[None, None].to(self.device)
        else:  # U-Net #1's damage head is the learned detector only when no segmenter is there
            prob = self.detect(gray, x, unet()[0] if self.detector != "flat" and self.segmenter is None else None)
        if prob.any():
            inpainted = prob * self.fill_hole(x, prob, lambda: unet()[1]) + (1 - prob) * x
        else:
            inpainted = x  # nothing to inpaint: no fill network runs
        rgb = self.colorize(inpainted)
        colorized = to_uint8_keep_hue(rgb[0])
        damaged = (prob[0, 0] > 0.5).cpu().numpy()
        restored = colorized if keep is None else np.where(damaged[..., None], colorized, keep)
        return Stages(
            mask=damaged.astype(np.uint8) * 255,
            inpainted=to_uint8(inpainted[0]),
            colorized=colorized,
            restored=restored,
            p_damaged=p_damaged,
            upscaled=self.upscaler(restored) if self.upscaler else None,
        )
