"""The enhancer's global path: one gain and one offset of the luma per photo, read from a small view of
the whole photo.

Fading is a per-photo affine map of the luma (the print's black and white points moved), and a U-Net
that sees 160 px crops cannot tell a faded print from a soft, low-key one: trained on the ageing
model it settled on the identity (`benchmarks/enhance_headroom.py`: an affine fix alone is worth
+4.3 dB on the training mixture, the U-Net gained 0). This path reads what a levels tool reads, the
luma's quantiles, beside a few pooled convolutions (grain, blur and content: a night scene is dark on
purpose), from a fixed-size view of the whole photo, so every tile of a large scan gets the same map.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

VIEW = 128  # side of the whole photo's view the levels are read from
# the view's luma quantiles the levels are read from: 1% (the black point), 6.25% ... 93.75%, 99% (the white point)
FRACTIONS = (0.01, *(i / 16 for i in range(1, 16)), 0.99)


def photo_view(x: torch.Tensor, side: int = VIEW) -> torch.Tensor:
    """(B, C, H, W) -> the antialiased (B, C, side, side) view the levels are read from."""
    return F.interpolate(x, size=(side, side), mode="area")


def quantiles(view: torch.Tensor, fractions: tuple[float, ...] = FRACTIONS) -> torch.Tensor:
    """(B, 1, h, w) -> (B, len(fractions)) quantiles of each view; sort + fixed indices, which ONNX exports."""
    flat = view.flatten(1).sort(dim=1).values
    n = int(flat.shape[1])  # a constant: the view's size is fixed
    idx = torch.tensor([round(f * (n - 1)) for f in fractions])
    return flat[:, idx]


class Levels(nn.Module):
    """(B, 1, VIEW, VIEW) view -> (gain, offset), each (B, 1, 1, 1); the identity (1, 0) at init.

    It predicts where the photo's black and white points (its 1% and 99% luma) belong, as shifts from
    where they are, and maps one onto the other, as a levels tool does. "Stretch a faded print to
    full range" is then nearly linear in what it reads, where a gain is a ratio of it."""

    def __init__(self, width: int = 32, hidden: int = 64) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width // 2, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(width // 2, width, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU(inplace=True),
        )
        self.mlp = nn.Sequential(nn.Linear(len(FRACTIONS) + 2 * width, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 2))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, view: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(view)
        q = quantiles(view)
        shift = self.mlp(torch.cat([f.mean((2, 3)), f.amax((2, 3)), q], 1))
        black, white = q[:, :1], q[:, -1:]
        gain = (white + shift[:, 1:] - black - shift[:, :1]) / (white - black).clamp_min(0.02)
        offset = black + shift[:, :1] - gain * black
        return gain[..., None, None], offset[..., None, None]
