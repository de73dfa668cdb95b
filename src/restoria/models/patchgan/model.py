"""The pix2pix PatchGAN discriminator (Isola et al. 2017): a fully convolutional net whose every output
logit judges one overlapping patch (70x70 pixels with the default 3 layers), so it penalises local
texture and colour, leaves global structure to an L1 term, and works on any image size."""

from __future__ import annotations

from torch import Tensor, nn

NORMS = ("batch", "instance", "layer", "none")


def norm_layer(kind: str, channels: int) -> nn.Module:
    """batch, instance (affine, per image), layer (over C, H, W of each image) or none.

    A WGAN-GP critic needs instance, layer or none: its gradient penalty is per sample, and batch norm
    makes each sample's score depend on the rest of the batch.
    """
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {kind!r}")


class PatchGAN(nn.Module):
    """(B, in_channels, H, W) -> (B, 1, H', W') patch logits; pix2pix's NLayerDiscriminator.

    4x4 convolutions: `n_layers` stride-2 ones (channels doubling from `base_channels`, capped at 8x),
    then a stride-1 one and a 1-channel stride-1 output. No norm on the first layer, LeakyReLU(0.2).
    For pix2pix, `in_channels` counts the condition and the image concatenated (e.g. gray + RGB = 4).
    """

    def __init__(self, in_channels: int = 3, base_channels: int = 64, n_layers: int = 3, norm: str = "batch") -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}")
        bias = norm != "batch"  # batch norm's shift makes a conv bias redundant
        layers: list[nn.Module] = [nn.Conv2d(in_channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(base_channels * prev, base_channels * mult, 4, stride, 1, bias=bias),
                norm_layer(norm, base_channels * mult),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers.append(nn.Conv2d(base_channels * mult, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
