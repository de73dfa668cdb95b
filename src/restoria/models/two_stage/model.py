"""Two-stage restorer: U-Net #1 inpaints the gray photo, U-Net #2 colours it.

This is the competition's described solution (two segmentation_models_pytorch U-Nets), with the options
that make it keep what the photo already tells: the first U-Net can also predict where the damage is and
composite its fill only there, and the second can predict only chroma (YCbCr Cb/Cr) so the restored
luminance passes through exactly. With `refine`, the fill is a classical inpainting of the known or
detected hole (restoria.fill) plus a residual a third U-Net learns on it; the first U-Net then only
says where the damage is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from restoria.fill import METHODS, classical_fill
from restoria.models.two_stage.chroma_bins import ChromaBins, ChromaHead
from restoria.models.two_stage.compose import compose_rgb
from restoria.models.two_stage.global_context import GlobalContext
from restoria.models.two_stage.hue import chroma_directions, noise_for, sample_hues
from restoria.models.unet import build_unet

COLOR_SPACES = ("rgb", "ycbcr")
COLOR_HEADS = ("regression", "bins")


class TwoStageRestorer(nn.Module):
    """damaged gray (B, 1, H, W) in [0, 1] -> dict(mask_logit, gray, rgb)."""

    def __init__(
        self,
        encoder: str = "resnet34",
        encoder_weights: str | None = None,
        decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16),
        colorize_encoder: str | None = None,
        colorize_encoder_weights: str | None = None,
        colorize_decoder_channels: tuple[int, ...] | None = None,
        color_space: str = "rgb",
        predict_mask: bool = False,
        composite: bool = False,
        chroma_gain: float = 1.0,
        chroma_bias: tuple[float, float] = (0.0, 0.0),
        color_head: str = "regression",
        chroma_bins: int = 16,
        chroma_temperature: float = 0.38,
        chroma_calibration: float = 0.0,
        chroma_hidden: int = 0,
        colorize_decoder_blocks: int | None = None,
        colorize_global: bool = False,
        hue_bins: int = 0,
        hue_strength: float = 0.0,
        hue_temperature: float = 1.0,
        refine: str | None = None,
    ) -> None:
        super().__init__()
        if color_space not in COLOR_SPACES:
            raise ValueError(f"color_space must be one of {COLOR_SPACES}, got {color_space!r}")
        if composite and not predict_mask:
            raise ValueError("composite needs predict_mask: the fill is pasted where the damage is predicted")
        if color_head not in COLOR_HEADS:
            raise ValueError(f"color_head must be one of {COLOR_HEADS}, got {color_head!r}")
        if color_head == "bins" and color_space != "ycbcr":
            raise ValueError("color_head 'bins' classifies YCbCr chroma: it needs color_space 'ycbcr'")
        if refine is not None and refine not in METHODS:
            raise ValueError(f"refine must be one of {', '.join(METHODS)} (the classical fill it refines), got {refine!r}")
        if hue_temperature <= 0:
            raise ValueError(f"hue_temperature must be positive, got {hue_temperature}")
        if refine is not None and not predict_mask:
            raise ValueError("refine needs predict_mask: without a given mask the hole is the predicted damage")
        self.color_space = color_space
        self.predict_mask = predict_mask
        self.composite = composite
        self.chroma_gain = chroma_gain
        self.chroma_bias = tuple(chroma_bias)
        self.inpainter = build_unet(encoder, encoder_weights, 1, 2 if predict_mask else 1, decoder_channels)
        # Optional refiner: (classical fill, hole) -> a residual added inside the hole. Its last layer
        # starts at zero, so before training the fill is exactly the classical one.
        self.refine_method = refine
        self.refiner = build_unet(encoder, encoder_weights, 2, 1, decoder_channels) if refine else None
        if self.refiner is not None:
            nn.init.zeros_(self.refiner.segmentation_head[0].weight)
            nn.init.zeros_(self.refiner.segmentation_head[0].bias)
        colorize_decoder_channels = tuple(colorize_decoder_channels or decoder_channels)
        self.bins = ChromaBins(chroma_bins, chroma_temperature, calibration=chroma_calibration) if color_head == "bins" else None
        outputs = self.bins.classes if self.bins is not None else 2 if color_space == "ycbcr" else 3
        # The colorizer has to recognise things (skin, sky, foliage): an ImageNet encoder of its own
        # (`colorize_encoder_weights: imagenet`) serves it better than the inpainter's.
        self.colorizer = build_unet(
            colorize_encoder or encoder, colorize_encoder_weights or encoder_weights, 1, outputs, colorize_decoder_channels
        )
        if colorize_decoder_blocks is not None:
            # Colour varies slowly: a bin head needs the decoder only down to 1/4 of the photo (Zhang et
            # al. predict there too), so the full-resolution blocks, most of a CPU step, are dropped
            # and the decoder's channels can be wide where the semantics are.
            if self.bins is None or colorize_decoder_blocks != len(colorize_decoder_channels) - 2:
                raise ValueError("colorize_decoder_blocks: a chroma-bin head on the decoder at 1/4 resolution (len(colorize_decoder_channels) - 2 blocks)")
            self.colorizer.decoder.blocks = self.colorizer.decoder.blocks[:colorize_decoder_blocks]
        if self.bins is not None:
            head_channels = colorize_decoder_channels[(colorize_decoder_blocks or len(colorize_decoder_channels)) - 1]
            scale = 1 if colorize_decoder_blocks is not None else 4
            self.colorizer.segmentation_head = ChromaHead(head_channels, outputs, scale=scale, hidden=chroma_hidden)
        # Optional global view (restoria.models.two_stage.global_context): the ImageNet classifier's pooled
        # features of the whole photo, added to the colorizer's deepest features.
        self.global_context = (
            GlobalContext(self.colorizer.encoder.out_channels[-1], colorize_encoder or encoder, colorize_encoder_weights or encoder_weights)
            if colorize_global
            else None
        )
        # Optional hue classifier on the colorizer's decoder (restoria.models.two_stage.hue): each pixel's distribution
        # over OpenCV's hue bins, whose draws replace the regressed hue at inference (hue_strength > 0).
        self.hue_head = ChromaHead(colorize_decoder_channels[-1], hue_bins) if hue_bins else None
        self.hue_strength = hue_strength
        # Softmax temperature of the drawn hues, calibrated on val photos: above 1 it spreads each
        # pixel's distribution, which the score's histogram correlation rewards on unfamiliar photos.
        self.hue_temperature = hue_temperature
        if hue_bins:  # the training photos' hue histogram; the head starts from it (RestoreTask.on_fit_start)
            self.register_buffer("hue_prior", torch.full((hue_bins,), 1.0 / hue_bins))

    @torch.no_grad()
    def set_hue_prior(self, prior: torch.Tensor) -> None:
        """Store the training photos' hue histogram and start the hue head from it (zero weights, log
        prior bias): before it has learnt anything, each pixel's distribution is the training photos'."""
        self.hue_prior.copy_(prior / prior.sum())
        conv = self.hue_head[-1]
        conv.weight.zero_()
        conv.bias.copy_(self.hue_prior.clamp_min(1e-6).log())

    @staticmethod
    def _norm(x: torch.Tensor) -> torch.Tensor:
        return (x - 0.5) / 0.5

    @torch.no_grad()
    def refiner_from_inpainter(self) -> None:
        """Start the refiner from the trained inpainter (same shapes; the hole channel's first-layer
        weights at zero, the residual head at zero): it begins with the inpainter's features and the
        classical fill's output."""
        own = self.refiner.state_dict()
        for key, value in self.inpainter.state_dict().items():
            if key not in own or key.startswith("segmentation_head"):
                continue
            if own[key].shape == value.shape:
                own[key].copy_(value)
            elif own[key].ndim == 4 and own[key].shape[1] == 2 and value.shape[1] == 1:  # the first conv
                own[key].zero_()
                own[key][:, :1].copy_(value)

    def _inpainter(self, gray: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """U-Net #1: its own fill and (optionally) the damage logits."""
        raw = self.inpainter(self._norm(gray))
        return torch.sigmoid(raw[:, :1]), raw[:, 1:2] if self.predict_mask else None

    def refine(self, prefill: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The refiner's fill: classical fill `prefill` + the learned residual inside `mask` (both
        (B, 1, H, W)). Size-preserving: it tiles and exports as one graph."""
        residual = self.refiner(torch.cat([self._norm(prefill), self._norm(mask)], 1))
        return (prefill + mask * residual).clamp(0, 1)

    def inpaint(self, gray: torch.Tensor, mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Stage 1: restored gray, and (optionally) the damage logits. A refining model fills the
        given `mask` (1 = lost), or without one the damage its first U-Net predicts."""
        if self.refiner is not None and mask is not None:
            fill = self.refine(classical_fill(gray, mask, self.refine_method), mask)
            return {"fill": fill, "gray": mask * fill + (1 - mask) * gray}
        fill, mask_logit = self._inpainter(gray)
        if self.refiner is not None:  # no mask given: the hole is the damage U-Net #1 predicts
            return {**self.inpaint(gray, (mask_logit > 0).to(gray)), "mask_logit": mask_logit}
        out = {"fill": fill}
        if mask_logit is not None:
            out["mask_logit"] = mask_logit
        if self.composite:
            m = torch.sigmoid(mask_logit)
            out["gray"] = m * fill + (1 - m) * gray
        else:
            out["gray"] = fill
        return out

    def colorize(self, gray: torch.Tensor, chroma_gain: float | None = None) -> torch.Tensor:
        """Stage 2: RGB in [0, 1] from a restored gray image."""
        return self.to_rgb(gray, self.color(gray), chroma_gain)

    def colorize_raw(self, gray: torch.Tensor) -> torch.Tensor:
        """Stage 2's raw output: RGB or Cb/Cr logits, or chroma-bin logits (at 1/4 resolution)."""
        return self.colorize_heads(gray)[0]

    def colorize_heads(self, gray: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Stage 2's raw output and, with a hue head, its hue logits (B, hue_bins, H/4, W/4), from one
        pass through the colorizer's encoder and decoder."""
        unet = self.colorizer
        features = unet.encoder(self._norm(gray))
        if self.global_context is not None:
            features = [*features[:-1], self.global_context(features[-1])]
        features = unet.decoder(features)
        return unet.segmentation_head(features), self.hue_head(features) if self.hue_head is not None else None

    @property
    def samples_hue(self) -> bool:
        """Whether `color` draws hues from the hue head (it then takes a noise field)."""
        return self.hue_head is not None and self.hue_strength > 0

    def color(self, gray: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """What the colorizer says at the photo's resolution: Cb/Cr offsets from neutral in
        [-0.5, 0.5] (YCbCr) or RGB. Size-preserving, so it tiles and exports as one graph.

        With a hue head and `hue_strength` s > 0, each pixel's hue is drawn from the head's
        distribution at the quantile `noise` (B, 1, H, W) gives (`restoria.models.two_stage.hue.smooth_uniform` of the
        whole photo by default), at the softmax temperature `hue_temperature`, and its colour is
        (1 - s) x the regressed chroma + s x a chroma of the same length in the drawn hue's direction."""
        raw, hue_logits = self.colorize_heads(gray)
        chroma = self.chroma(raw, gray.shape[-2:])
        if not self.samples_hue:
            return chroma
        cells = F.interpolate(noise_for(gray) if noise is None else noise, size=hue_logits.shape[-2:], mode="nearest")
        drawn = sample_hues(torch.softmax(hue_logits / self.hue_temperature, dim=1), cells)  # (B, h, w)
        direction = chroma_directions(hue_logits.shape[1]).to(gray)[drawn].permute(0, 3, 1, 2)
        direction = F.interpolate(direction, size=gray.shape[-2:], mode="bilinear", align_corners=False)
        direction = direction / direction.norm(dim=1, keepdim=True).clamp_min(1e-6)
        s = self.hue_strength
        return (1 - s) * chroma + s * chroma.norm(dim=1, keepdim=True) * direction

    def chroma(self, raw: torch.Tensor, size: tuple[int, int], temperature: float | None = None) -> torch.Tensor:
        """The colorizer's raw output -> Cb/Cr offsets (or RGB) at `size`; `temperature` overrides
        the annealed mean's of a chroma-bin head."""
        if self.color_space == "rgb":
            return torch.sigmoid(raw)
        if self.bins is None:
            return 0.5 * torch.tanh(raw)
        return F.interpolate(self.bins.decode(raw, temperature), size=size, mode="bilinear", align_corners=False)

    def to_rgb(
        self,
        gray: torch.Tensor,
        color: torch.Tensor,
        chroma_gain: float | None = None,
        chroma_bias: tuple[float, float] | None = None,
    ) -> torch.Tensor:
        """`color()`'s output -> RGB, with this model's calibrated chroma gain and bias by default."""
        gain = self.chroma_gain if chroma_gain is None else chroma_gain
        return compose_rgb(gray, color, self.color_space, gain, self.chroma_bias if chroma_bias is None else chroma_bias)

    def fill_and_damage(self, gray: torch.Tensor) -> torch.Tensor:
        """Stage 1 for the pipeline: (B, 2, H, W) = the fill and the damage probability (1 everywhere
        for a model without a damage head: it repaints the whole photo). Size-preserving: it tiles
        and exports as one graph. A refining model's pipeline refines the fill afterwards (`refine`)."""
        fill, mask_logit = self._inpainter(gray)
        prob = torch.sigmoid(mask_logit) if mask_logit is not None else torch.ones_like(gray)
        return torch.cat([fill, prob], 1)

    def forward(self, gray: torch.Tensor, chroma_gain: float | None = None) -> dict[str, torch.Tensor]:
        out = self.inpaint(gray)
        out["rgb"] = self.colorize(out["gray"], chroma_gain)
        return out
