"""Colour as classification over a grid of chroma bins (Zhang, Isola & Efros, "Colorful Image
Colorization", 2016), in YCbCr so the luma stays exactly the input's.

Regressing Cb/Cr with L1/L2 averages the plausible colours of a region into a brownish mean whose hue
matches none of them; the competition's hue-histogram term (40% of the score) punishes exactly that.
Predicting a distribution over bins, training it with class rebalancing (rare, saturated colours
weigh more) and decoding with the annealed mean (softmax at temperature T < 1, then the expectation)
keeps the mode's hue while staying smooth in space.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ChromaHead(nn.Sequential):
    """Decoder features -> chroma-bin logits at 1/`scale` resolution. Colour varies slowly, and
    hundreds of classes at full resolution would cost more than the rest of the network. `hidden` > 0
    adds a 1x1 layer, so a thin decoder's few channels can still spread over many classes."""

    def __init__(self, channels: int, classes: int, scale: int = 4, hidden: int = 0) -> None:
        layers: list[nn.Module] = [nn.AvgPool2d(scale)]
        if hidden:
            layers += [nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True)]
        super().__init__(*layers, nn.Conv2d(hidden or channels, classes, 1))


class ChromaBins(nn.Module):
    """A `bins` x `bins` grid over (Cb, Cr) offsets in [-0.5, 0.5], with the empirical prior of the
    training photos (a buffer, so it travels with the weights) and the rebalancing weights derived
    from it."""

    def __init__(self, bins: int = 16, temperature: float = 0.38, rebalance: float = 0.5, sigma: float = 0.6, calibration: float = 0.0) -> None:
        """`calibration` a in [0, 1]: how much of the rebalancing decoding takes back (below)."""
        super().__init__()
        self.bins = bins
        self.temperature = temperature
        self.calibration = calibration
        self.rebalance = rebalance
        self.sigma = sigma / bins  # soft-encoding width, in chroma units (a fraction of one bin)
        axis = (torch.arange(bins, dtype=torch.float32) + 0.5) / bins - 0.5
        cb, cr = torch.meshgrid(axis, axis, indexing="ij")
        self.register_buffer("centers", torch.stack([cb.flatten(), cr.flatten()], 1))  # (Q, 2)
        self.register_buffer("prior", torch.full((bins * bins,), 1.0 / (bins * bins)))

    @property
    def classes(self) -> int:
        return self.bins * self.bins

    def index(self, chroma: torch.Tensor) -> torch.Tensor:
        """(B, 2, H, W) chroma offsets -> (B, H, W) index of the nearest bin."""
        ij = ((chroma + 0.5) * self.bins).floor().long().clamp(0, self.bins - 1)
        return ij[:, 0] * self.bins + ij[:, 1]

    @torch.no_grad()
    def set_prior(self, chroma_batches: list[torch.Tensor], smooth: float = 1.0) -> None:
        """Estimate the bin prior from training chroma (each (B, 2, H, W)), smoothed by a Gaussian of
        `smooth` bins as in the paper, so a colour seen rarely still gets a finite weight."""
        counts = torch.zeros(self.classes, device=self.prior.device)
        for c in chroma_batches:
            counts += torch.bincount(self.index(c.to(counts.device)).flatten(), minlength=self.classes).float()
        grid = counts.view(1, 1, self.bins, self.bins)
        r = max(1, int(3 * smooth))
        x = torch.arange(-r, r + 1, dtype=torch.float32, device=grid.device)
        k = torch.exp(-(x**2) / (2 * smooth**2))
        k = k / k.sum()
        grid = F.conv2d(F.pad(grid, (r, r, r, r)), (k[:, None] * k[None, :])[None, None])
        self.prior.copy_((grid.flatten() / grid.sum()).clamp_min(1e-12))

    def class_weights(self) -> torch.Tensor:
        """w_q proportional to 1 / ((1 - lambda) p_q + lambda / Q), scaled so E_p[w] = 1."""
        w = 1.0 / ((1 - self.rebalance) * self.prior + self.rebalance / self.classes)
        return w / (self.prior * w).sum()

    def encode(self, chroma: torch.Tensor) -> torch.Tensor:
        """Soft targets (B, Q, H, W): Gaussian weights of each pixel's distance to the bin centres."""
        d2 = (chroma[:, None] - self.centers.view(1, -1, 2, 1, 1)).pow(2).sum(2)
        return torch.softmax(-d2 / (2 * self.sigma**2), dim=1)

    def decode(self, logits: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
        """Annealed mean: (B, Q, H, W) logits -> (B, 2, H, W) chroma offsets. T = 1 is the mean of the
        distribution (safe, dull), T -> 0 its mode (vivid, patchy)."""
        t = self.temperature if temperature is None else temperature
        if self.calibration:
            # Trained with rebalanced cross-entropy, the network's distribution is the posterior times
            # each bin's weight w_q, which favours rare vivid bins wherever it is unsure (red in dark
            # cloth). Dividing by w_q^a takes a of that back: sure colours stay, unsure ones fall
            # toward what photos usually hold.
            logits = logits - self.calibration * self.class_weights().log().view(1, -1, 1, 1)
        # the bins last: softmax and the expectation (a matmul) then run over contiguous memory, where
        # onnxruntime's Softmax over axis 1 and its Einsum took 60% of the exported colorizer's time
        p = torch.softmax(logits.permute(0, 2, 3, 1) / max(t, 1e-3), dim=-1)
        return (p @ self.centers).permute(0, 3, 1, 2)

    def loss(self, logits: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
        """Class-rebalanced cross-entropy against the soft-encoded true chroma (area-averaged to the
        logits' resolution, a quarter of the photo's as in the paper)."""
        chroma = F.adaptive_avg_pool2d(chroma, logits.shape[-2:])
        target = self.encode(chroma)
        weight = self.class_weights()[self.index(chroma)]
        ce = -(target * F.log_softmax(logits, dim=1)).sum(1)
        return (weight * ce).sum() / weight.sum()
