"""The CycleGAN / Johnson et al. (2016) generator: c7s1-k, two stride-2 downsamplings, residual blocks at
1/4 resolution, two upsamplings, c7s1-out with tanh. Reflection padding and instance norm avoid the
border artefacts and batch-size coupling of zero padding and batch norm at batch size 1."""

from __future__ import annotations

from torch import Tensor, nn


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels, affine=True), nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """(B, in_channels, H, W) in [-1, 1] -> (B, out_channels, H, W) in [-1, 1]; H, W multiples of 4."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, base_channels: int = 64, n_blocks: int = 9) -> None:
        super().__init__()
        c = base_channels
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3), nn.Conv2d(in_channels, c, 7), nn.InstanceNorm2d(c, affine=True), nn.ReLU(inplace=True),
        ]
        for mult in (1, 2):
            layers += [nn.Conv2d(c * mult, c * mult * 2, 3, 2, 1), nn.InstanceNorm2d(c * mult * 2, affine=True), nn.ReLU(inplace=True)]
        layers += [ResidualBlock(c * 4) for _ in range(n_blocks)]
        for mult in (4, 2):
            layers += [
                nn.ConvTranspose2d(c * mult, c * mult // 2, 3, 2, 1, output_padding=1),
                nn.InstanceNorm2d(c * mult // 2, affine=True),
                nn.ReLU(inplace=True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"height and width must be multiples of 4, got {tuple(x.shape[-2:])}")
        return self.net(x)
