"""SRResNet and the SRGAN discriminator (Ledig et al., "Photo-Realistic Single Image Super-Resolution
Using a Generative Adversarial Network", CVPR 2017), with the EDSR simplifications as options.

SRResNet: a 9x9 head, `n_blocks` residual blocks (conv-BN-PReLU-conv-BN; EDSR drops the batch norm,
which costs range flexibility and adds artefacts in SR, and scales each residual), a global skip over
the whole body, then sub-pixel convolution (conv -> PixelShuffle) per factor of 2 (or one of 3), and
a 9x9 tail. `bicubic_skip` adds the bicubic upsampling of the input to the output, so the network
learns only the missing detail (VDSR's residual learning): a small net trained for minutes on a CPU
starts from bicubic quality instead of from grey.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SCALES = (2, 3, 4, 8)


def icnr_(weight: torch.Tensor, scale: int) -> None:
    """ICNR init (Aitken et al. 2017): every sub-pixel of a PixelShuffle output starts with the same
    kernel, so the untrained upsampler is a nearest-neighbour one and makes no checkerboard."""
    out = weight.shape[0] // (scale * scale)
    sub = torch.empty(out, *weight.shape[1:])
    nn.init.kaiming_normal_(sub)
    with torch.no_grad():
        weight.copy_(sub.repeat_interleave(scale * scale, dim=0))


class ResidualBlock(nn.Module):
    """conv-(BN)-PReLU-conv-(BN), added back to its input times `res_scale`."""

    def __init__(self, channels: int, batch_norm: bool, res_scale: float) -> None:
        super().__init__()
        norm = (lambda: nn.BatchNorm2d(channels)) if batch_norm else nn.Identity
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm), norm(), nn.PReLU(channels),
            nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm), norm(),
        )
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res_scale * self.body(x)


class Upsampler(nn.Sequential):
    """Sub-pixel convolution: one conv + PixelShuffle(2) per factor of 2 (x2, x4, x8), or one PixelShuffle(3)."""

    def __init__(self, channels: int, scale: int) -> None:
        factors = [3] if scale == 3 else [2] * (scale.bit_length() - 1)
        layers: list[nn.Module] = []
        for f in factors:
            conv = nn.Conv2d(channels, channels * f * f, 3, padding=1)
            icnr_(conv.weight, f)
            nn.init.zeros_(conv.bias)
            layers += [conv, nn.PixelShuffle(f), nn.PReLU(channels)]
        super().__init__(*layers)


class SRResNet(nn.Module):
    """(B, C, h, w) in [0, 1] -> (B, C, h*scale, w*scale). Any input size; `scale` in 2, 3, 4, 8."""

    def __init__(
        self,
        scale: int = 4,
        channels: int = 64,
        n_blocks: int = 16,
        batch_norm: bool = True,
        res_scale: float = 1.0,
        bicubic_skip: bool = False,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if scale not in SCALES:
            raise ValueError(f"model.scale must be one of {SCALES}, got {scale}")
        self.scale = scale
        self.bicubic_skip = bicubic_skip
        self.head = nn.Sequential(nn.Conv2d(in_channels, channels, 9, padding=4), nn.PReLU(channels))
        self.body = nn.Sequential(
            *[ResidualBlock(channels, batch_norm, res_scale) for _ in range(n_blocks)],
            nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm),
            nn.BatchNorm2d(channels) if batch_norm else nn.Identity(),
        )
        self.upsample = Upsampler(channels, scale)
        self.tail = nn.Conv2d(channels, in_channels, 9, padding=4)
        if bicubic_skip:  # start as plain bicubic: the residual branch begins near zero
            nn.init.normal_(self.tail.weight, std=1e-3)
            nn.init.zeros_(self.tail.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.head(x)
        out = self.tail(self.upsample(feat + self.body(feat)))
        if self.bicubic_skip:
            out = out + F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return out


class SRGANDiscriminator(nn.Module):
    """SRGAN's VGG-style critic: conv + LeakyReLU, then pairs of (stride 1, stride 2) 3x3 convs with
    BN + LeakyReLU whose width doubles per pair, then dense(1024) -> LeakyReLU -> dense(1) logit.

    The paper flattens a fixed 96x96 input; an adaptive average pool to `pool` x `pool` first lets any
    crop size through with the same dense head.
    """

    def __init__(self, in_channels: int = 3, base: int = 64, stages: int = 4, dense: int = 1024, pool: int = 4, batch_norm: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, base, 3, padding=1), nn.LeakyReLU(0.2, inplace=True)]
        c_in = base
        for s in range(stages):
            c_out = base * 2**s
            for stride in ((2,) if s == 0 else (1, 2)):
                layers += [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=not batch_norm)]
                layers += [nn.BatchNorm2d(c_out)] if batch_norm else []
                layers += [nn.LeakyReLU(0.2, inplace=True)]
                c_in = c_out
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(pool), nn.Flatten(), nn.Linear(c_in * pool * pool, dense), nn.LeakyReLU(0.2, inplace=True), nn.Linear(dense, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, 1) real/fake logits."""
        return self.head(self.features(x))
