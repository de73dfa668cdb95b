"""Restore = detect -> enhance -> fill -> colorize -> upscale: explicit stages that take and return arrays,
composed in the open by `Restorer.__call__`, each computed once and only when asked for. The web page,
`restoria restore` and `restoria predict` all call that one composition.

detect: the classifier asks whether the photo is damaged at all, then a learned detector and/or
flat-fill detection find where. enhance: the enhancer takes grain, blur, JPEG blocks and fading out of
the whole photo (restoria.inference.enhancer; a clean photo passes through). fill: a classical inpainting of the found damage (restoria.fill, FSR
by default), which a refining model's third U-Net corrects, or U-Net #1's own (`fill="model"`).
colorize: U-Net #2 colours the filled gray (restoria.inference.colour). upscale: super-resolution of
the result, when the restorer has an upscaler.

Works on any size: the networks run on reflect-padded tiles with overlap, blended with smooth weights,
so memory stays bounded on large photos. Several weights files make an ensemble (outputs averaged), and
`tta` also averages each network over the photo and its mirror image.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from restoria.fill import METHODS, classical_fill, classical_fill_image
from restoria.imaging import to_gray, to_tensor, to_uint8
from restoria.inference.colour import COLOUR_SIZE, colorize
from restoria.inference.colour_mode import colour_mode
from restoria.inference.detectors import DamageClassifier, Segmenter
from restoria.inference.enhancer import PhotoEnhancer
from restoria.inference.flat import all_fills, combine_detections, drop_small_regions, learned_regions, mid_tone, unflat_regions
from restoria.inference.net import BACKENDS, RestorerNet
from restoria.inference.tiling import flip_tta, run_tiled
from restoria.inference.upscaler import Upscaler
from restoria.io import InputError, is_gray
from restoria.weights import default_weights, load_model

# The stages in the order the user sees them, one name each in code, CLI, web page and files.
STAGES = ("detect", "enhance", "fill", "colorize", "upscale")
# `--save-stages` / web page file of each stage's output (docs/DESIGN.md fixes these names)
STAGE_FILES = {"detect": "mask", "enhance": "enhanced", "fill": "inpainted", "colorize": "colorized", "upscale": "restored"}

DETECTORS = ("model", "flat", "both")
# auto: a refining model's refiner, else opencv-contrib's FSR fill (the model card compares the fills);
# model: each model's own; ns/telea/fsr: that method alone
FILLS = ("auto", "model", *METHODS)
AUTO_FILL = "fsr"
REAL_SEGMENTER = "segment_real.safetensors"  # the shipped real-damage segmenter, beside segment.safetensors
# auto: a photo in colour keeps its colours and only its damage is filled, in those colours; a gray or
# toned monochrome print is colorized (restoria.inference.colour_mode decides from the pixels);
# keep / colorize force either way
COLOURS = ("auto", "keep", "colorize")


@dataclass
class Restoration:
    """Every stage's output for one photo (uint8), named as `--save-stages` names its files."""

    mask: np.ndarray  # (H, W), 255 = damaged (detect)
    enhanced: np.ndarray  # the photo with grain, blur, JPEG blocks and fading taken out (enhance), gray or kept colour
    inpainted: np.ndarray  # (H, W) the gray with its damage filled (fill)
    colorized: np.ndarray  # (H, W, 3) colour of the filled gray (colorize), or a kept colour photo with its damage filled
    restored: np.ndarray  # (H, W, 3) the result at the input's size
    p_damaged: float | None = None  # the classifier's answer, when one was asked
    upscaled: np.ndarray | None = None  # (H*s, W*s, 3) the restored photo super-resolved (upscale)
    notes: list[str] = field(default_factory=list)  # what the user should know about this photo


def load_backend_model(weights: str | Path | None, backend: str, device: str, model_overrides: dict[str, Any] | None = None) -> Any:
    """A torch model, or its onnxruntime twin: from an exported `NAME.fill.onnx`/`NAME.color.onnx`
    pair (either file names it; `model_overrides` were baked in when it was written), or exported on
    first use from a weights file with `model_overrides` (restoria.weights.load_model)."""
    if backend == "torch":
        return load_model(weights, device, model_overrides)
    from restoria.inference.onnx_backend import OnnxRestorer, cached_export

    name = str(weights) if weights else ""
    for suffix in (".fill.onnx", ".color.onnx"):
        if name.endswith(suffix):
            if model_overrides:
                raise InputError(Path(name), f"exported graphs keep the settings they were written with ({', '.join(model_overrides)}): give the weights file")
            return OnnxRestorer(name[: -len(suffix)])
    return OnnxRestorer(cached_export(weights, model_overrides))


def _load_models(weights: list[str | Path | None], backend: str, device: str, calibration: float | None) -> list[Any]:
    """The restorer networks of `weights`, their colorizers decoded with `calibration` (None: the files' own)."""
    overrides = None if calibration is None else {"chroma_calibration": calibration}
    return [load_backend_model(w, backend, device, overrides) for w in weights]


def shipped_or(path: str | Path | None, name: str) -> Path | None:
    """`path` as given; "default" means the shipped file `name` when the package has one."""
    if path != "default":
        return Path(path) if path else None
    shipped = default_weights(name)
    return shipped if shipped.exists() else None


class Restorer:
    """The restore pipeline over one or more trained two-stage models (an ensemble averages them).

    Damage is found by a learned detector (the dedicated segmenter when one is given or shipped, else
    the inpainter's own damage head) and/or flat-fill detection; a classifier, when given or shipped,
    first decides whether the photo is damaged at all (below `threshold` nothing is filled). The
    enhancer, when given or shipped, cleans the whole photo before the fill.
    `backend` "onnx" runs every one of these networks, and the upscaler, on onnxruntime.
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
        real_segmenter: str | Path | None = "default",
        tta: bool = False,
        upscale: int | None = None,
        sr_weights: str | Path | None = None,
        fill: str = "auto",
        nets: list[RestorerNet] | None = None,
        enhancer: str | Path | None = "default",
        colour_size: int | None = COLOUR_SIZE,
        color_calibration: float | None = None,
        damage_views: int | None = None,
    ) -> None:
        """`nets` (instead of `weights`) are networks already in memory, e.g. the one a training run
        is validating. `segmenter` finds the competition's damage, `real_segmenter` the damage of real
        prints (scratches, cracks, dust, folds, tears); "default" is the shipped one, None none.
        `color_calibration` (a chroma-bin colorizer's, 0 to 1; None: its file's) takes back that much of
        the rebalancing it was trained with: 1 gives the colours it is sure of and mutes the rest.
        `damage_views` (1, 2, 4, 8; None: its own) is how many mirrored and rotated views the
        real-damage segmenter's map is averaged over: fewer is faster, more marks less of a clean photo."""
        if fill not in FILLS:
            raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")
        if detector not in DETECTORS:
            raise ValueError(f"detector must be one of {DETECTORS}, got {detector!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        # the restorer networks per colour calibration, each loaded once (`use_color_calibration`)
        # networks given in memory are the ones for their own calibration (None) and no other
        self._load_models = None if nets else functools.partial(_load_models, weights or [None], backend, device)
        self._models_by_calibration: dict[float | None, list[RestorerNet]] = {None: nets} if nets else {}
        self.models: list[RestorerNet] = self._models_for(color_calibration)
        self.color_calibration = color_calibration
        self.device = device
        self.tile = tile
        self.color_strength = color_strength
        self.detector = detector
        seg, cls = shipped_or(segmenter, "segment.safetensors"), shipped_or(classifier, "classify.safetensors")
        self.segmenter = Segmenter(seg, device, backend) if seg else None
        real = shipped_or(real_segmenter, REAL_SEGMENTER)
        self.real_segmenter = Segmenter(real, device, backend) if real else None
        if self.real_segmenter is not None and damage_views is not None:
            self.real_segmenter.use_views(damage_views)
        self.classifier = DamageClassifier(cls, device, backend) if cls else None
        enh = shipped_or(enhancer, "enhance.safetensors")
        self.enhancer = PhotoEnhancer(enh, device, backend, tile) if enh else None
        self.threshold = threshold
        self.tta = tta  # flip test-time augmentation of every network
        self.upscaler = Upscaler(upscale, sr_weights, device, backend=backend) if upscale else None
        self.fill_method = fill
        self.colour_size = colour_size  # colour is read from about this many pixels squared (None: full size)

    def _models_for(self, calibration: float | None) -> list[RestorerNet]:
        if calibration is not None and not 0 <= calibration <= 1:
            raise ValueError(f"color_calibration must be between 0 and 1, got {calibration}")
        if calibration not in self._models_by_calibration:
            if self._load_models is None:
                raise ValueError("color_calibration needs weights files: networks given in memory keep their own")
            self._models_by_calibration[calibration] = self._load_models(calibration)
        return self._models_by_calibration[calibration]

    def use_color_calibration(self, calibration: float | None) -> None:
        """Decode the colorizer with `calibration` from now on (see `__init__`; None: each file's own). The
        networks are loaded once per setting and kept, so a server can switch from one photo to the next."""
        self.models = self._models_for(calibration)
        self.color_calibration = calibration

    def _run(self, fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """A network over the whole photo: tiled, and mirrored too under `tta`."""
        return run_tiled(flip_tta(fn) if self.tta else fn, x, self.tile)

    def _tensor(self, gray: np.ndarray) -> torch.Tensor:
        return to_tensor(gray)[None].to(self.device)

    @property
    def segmenters(self) -> list[Segmenter]:
        return [s for s in (self.segmenter, self.real_segmenter) if s is not None]

    @property
    def detect_uses_unet(self) -> bool:
        """U-Net #1's damage head is the learned detector only when no segmenter is there."""
        return self.detector != "flat" and not self.segmenters

    @property
    def fill_uses_unet(self) -> bool:
        """`fill="model"` takes U-Net #1's own fill for every model that does not refine."""
        return self.fill_method == "model" and any(m.refine_method is None for m in self.models)

    @torch.inference_mode()
    def unet(self, gray: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """U-Net #1 (both stages that may need it share one run): (damage probability, fill), averaged
        over the ensemble, each (1, 1, H, W)."""
        outs = [self._run(m.fill_and_damage, self._tensor(gray)) for m in self.models]
        both = torch.stack(outs).mean(0)
        return both[:, 1:2], both[:, :1]

    def detect(self, gray: np.ndarray, unet_damage: torch.Tensor | None = None) -> tuple[np.ndarray, float | None]:
        """The detect stage: uint8 gray -> (mask, 255 = damaged; P(damaged) when a classifier was asked).

        Each learned detector (the segmenters, else U-Net #1's damage head `unet_damage`) alone
        (`model`), flat-fill detection alone (`flat`), or both, each confirming the other (`both`, see
        `restoria.inference.flat.combine_detections`); the masks of the learned detectors are united.
        Below the classifier's threshold the photo has none of the competition's damage, which is all
        the classifier knows: nothing is found, except what a segmenter trained on real damage finds
        outside flat regions (scratches, dust, cracks, tears), which the classifier has never seen."""
        p_damaged = self.classifier(gray) if self.classifier else None
        gated = p_damaged is not None and p_damaged < self.threshold
        if self.detector == "flat":
            return (np.zeros_like(gray) if gated else combine_detections(gray, None)), p_damaged
        if self.segmenters:
            x = self._tensor(gray)
            heard = [s for s in self.segmenters if s.real_damage or not gated]  # the gate silences polygon segmenters
            learned = [(s.found(s(x, self.tile)[0, 0].cpu().numpy()), s.min_area(gray.shape), s.grow) for s in heard]
        else:
            learned = [] if gated or unet_damage is None else [(unet_damage[0, 0].cpu().numpy() > 0.5, None, lambda m: m)]
        fills = all_fills(gray) if self.detector == "both" and not gated else None
        found = mid_tone(fills, gray) if fills is not None else np.zeros(gray.shape, bool)
        for mask, min_area, grow in learned:
            if gated:  # only real-damage segmenters are left
                part = unflat_regions(gray, mask, min_area)
            elif self.detector == "model":
                part = drop_small_regions(mask, min_area) > 0
            else:
                part = learned_regions(gray, mask, min_area, fills)
            found |= grow(part)
        return found.astype(np.uint8) * 255, p_damaged

    @torch.inference_mode()
    def fill(self, gray: np.ndarray, mask: np.ndarray, unet_fill: torch.Tensor | None = None) -> np.ndarray:
        """The fill stage: uint8 gray and its damage (>0) -> uint8 gray with the damage filled, averaged
        over the ensemble: a classical fill alone (`fill` ns/telea/fsr), a refining model's correction
        of its classical fill, and for other models the FSR fill (`auto`) or U-Net #1's own (`model`,
        `unet_fill`). Pixels outside the damage are kept."""
        x = self._tensor(gray)
        hole = torch.from_numpy(mask > 0).float()[None, None].to(self.device)
        classical = functools.cache(lambda method: classical_fill(x, hole, method))  # once per method
        if self.fill_method in METHODS:
            filled = classical(self.fill_method)
        else:
            fills = []
            for m in self.models:
                if m.refine_method is not None:
                    both = torch.cat([classical(m.refine_method), hole], 1)
                    fills.append(self._run(lambda t, m=m: m.refine(t[:, :1], t[:, 1:]), both))
                else:
                    fills.append(unet_fill if self.fill_method == "model" else classical(AUTO_FILL))
            filled = torch.stack(fills).mean(0)
        return to_uint8((hole * filled + (1 - hole) * x)[0])

    def colorize(self, gray: np.ndarray) -> np.ndarray:
        """The colorize stage: uint8 gray -> uint8 RGB (restoria.inference.colour)."""
        return colorize(self.models, self._tensor(gray), self._run, self.color_strength, self.colour_size)

    def colour_mode(self, image: np.ndarray, colour: str = "auto") -> tuple[np.ndarray, np.ndarray | None, list[str]]:
        """Whether the photo keeps its own colours or is colorized: (gray to restore, the colour photo to
        keep or None, notes). `colour` "auto" decides from the pixels (restoria.inference.colour_mode):
        a photo in colour keeps them, a gray or toned monochrome print (sepia, selenium, cyanotype,
        faded) is colorized from its gray; "keep" keeps any photo's colours; "colorize" re-colours all."""
        if colour not in COLOURS:
            raise ValueError(f"colour must be one of {COLOURS}, got {colour!r}")
        if image.ndim == 2:
            return image, None, []
        gray = to_gray(image)
        if is_gray(image):
            return gray, None, []
        mode = colour_mode(image) if colour == "auto" else "colour" if colour == "keep" else "forced"
        if mode == "colour":
            return gray, image, ["a photo in colour: its colours kept, only the damage filled (--color colorize re-colours it)"]
        if mode == "toned":
            return gray, None, ["a toned monochrome print: colorized from its gray (--color keep keeps its tint)"]
        if mode == "gray":
            return gray, None, []
        return gray, None, ["colour photo converted to gray and colorized (--color colorize)"]

    def fill_colour(self, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The fill stage for a photo that keeps its colours: uint8 RGB and its damage (>0) -> the damage
        filled in the photo's own colours by the classical fill (`fill` ns/telea/fsr, else FSR: the
        networks fill gray); pixels outside the damage are exactly the photo's."""
        return classical_fill_image(rgb, mask, self.fill_method if self.fill_method in METHODS else AUTO_FILL)

    def __call__(
        self,
        image: np.ndarray,
        mask: np.ndarray | None = None,
        colour: str = "auto",
        stages: tuple[str, ...] = STAGES,
    ) -> Restoration:
        """Restore a uint8 photo, gray (H, W) or colour (H, W, 3), with the chosen `stages`.

        `colour` (see `colour_mode`): by default a photo in colour keeps its colours and only its damage
        is filled, in those colours (no colorize network runs); gray and toned prints are colorized. A
        `mask` (>0 = damaged) replaces detection; without one and without "detect" nothing is filled.
        Without "enhance" the photo is not cleaned; without "fill" the damage is found but left as it is; without "colorize" a colorized photo is
        the filled gray; "upscale" runs when the restorer has an upscaler."""
        unknown = set(stages) - set(STAGES)
        if unknown:
            raise ValueError(f"unknown stage(s) {', '.join(sorted(unknown))}; choose from {', '.join(STAGES)}")
        gray, keep, notes = self.colour_mode(image, colour)
        p_damaged, unet = None, None
        if mask is None and "detect" in stages:
            unet = self.unet(gray) if self.detect_uses_unet else None
            mask, p_damaged = self.detect(gray, unet[0] if unet else None)
        damaged = (mask > 0) if mask is not None else np.zeros(gray.shape, bool)
        if self.enhancer is not None and "enhance" in stages:
            if keep is not None:
                keep = self.enhancer(keep, damaged)
                gray = to_gray(keep)
            else:
                gray = self.enhancer(gray, damaged)
            if self.enhancer.removed_grain:
                notes.append(f"enhanced: grain taken out (noise measured at {self.enhancer.last_noise:.1f} gray levels; --enhancer none leaves it)")
            if self.enhancer.last_change >= self.enhancer.min_change:
                notes.append(f"enhanced: its levels (fading) corrected, a mean change of {self.enhancer.last_change:.1f} gray levels (--enhancer none leaves it as it is)")
        enhanced = keep if keep is not None else gray
        if keep is not None:  # the photo's own colours: fill the damage in them, nothing to colorize
            restored = self.fill_colour(keep, damaged) if "fill" in stages and damaged.any() else keep
            inpainted, colorized = to_gray(restored), restored
        else:
            inpainted = gray
            if "fill" in stages and damaged.any():
                if unet is None and self.fill_uses_unet:
                    unet = self.unet(gray)
                inpainted = self.fill(gray, damaged, unet[1] if unet else None)
            if "colorize" in stages:
                colorized = self.colorize(inpainted)
            else:
                colorized = np.repeat(inpainted[..., None], 3, axis=-1)
            restored = colorized
        upscaled = self.upscaler(restored) if self.upscaler is not None and "upscale" in stages else None
        return Restoration(damaged.astype(np.uint8) * 255, enhanced, inpainted, colorized, restored, p_damaged, upscaled, notes)
