"""DCGAN (Radford et al. 2016) generator and discriminator for small square images, one pair of files for
the plain GAN, the WGAN-GP critic and the label-conditional GAN.

Sizes are 4 * 2^k (8, 16, 32, 64, ...): the generator projects z to a 4x4 map and doubles it with
stride-2 transposed convolutions; the discriminator halves back to 4x4. Conditioning follows the two
standard recipes: the generator reads a label embedding beside z (Mirza & Osindero 2014) and the
discriminator adds a projection term <embed(y), features> to its score (Miyato & Koyama 2018), which
judges "is this a real image of class y" rather than two questions at once.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from restoria.models.patchgan import norm_layer


def levels_for(image_size: int) -> int:
    """How many x2 steps lie between 4x4 and `image_size`."""
    k = math.log2(image_size / 4) if image_size >= 8 else -1
    if k < 1 or k != int(k):
        raise ValueError(f"image_size must be 4 * 2^k (8, 16, 32, 64, ...), got {image_size}")
    return int(k)


class DCGANGenerator(nn.Module):
    """z (B, latent_dim) [+ labels (B,)] -> images (B, channels, S, S) in [-1, 1] (tanh).

    `generate` gives [0, 1] images, the interface `restoria sample` draws from.
    """

    def __init__(
        self,
        latent_dim: int = 64,
        channels: int = 1,
        image_size: int = 32,
        base_channels: int = 64,
        num_classes: int = 0,
        embed_dim: int = 16,
    ) -> None:
        super().__init__()
        levels = levels_for(image_size)
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.channels = channels
        self.image_size = image_size
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        top = base_channels * 2 ** (levels - 1)
        in_dim = latent_dim + (embed_dim if num_classes else 0)
        self.project = nn.Sequential(nn.Linear(in_dim, top * 16, bias=False), nn.BatchNorm1d(top * 16), nn.ReLU(True))
        layers: list[nn.Module] = [nn.Unflatten(1, (top, 4, 4))]
        c = top
        for _ in range(levels - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            if labels is None:
                raise ValueError("this generator is label-conditional: give labels")
            z = torch.cat([z, self.embed(labels)], 1)
        return self.body(self.project(z))

    def generate(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Images in [0, 1]."""
        return (self(z, labels) + 1) / 2


class DCGANDiscriminator(nn.Module):
    """images (B, channels, S, S) in [-1, 1] [+ labels (B,)] -> one score per image (B,).

    A logit for the GAN (norm "batch"), an unbounded critic score for WGAN-GP (norm "layer",
    "instance" or "none": the gradient penalty is per sample, so no batch norm there).
    `spectral_norm` divides every weight by its largest singular value (Miyato et al. 2018; torch's
    parametrization), bounding the discriminator's Lipschitz constant: the usual cure for a D that
    wins too fast and leaves G without gradients (pair it with norm "none").
    `minibatch_std` appends the batch's mean feature standard deviation as one more 4x4 map (Karras
    et al. 2018): a generator that collapses to a few modes gives itself away by its low spread.
    """

    def __init__(
        self,
        channels: int = 1,
        image_size: int = 32,
        base_channels: int = 64,
        num_classes: int = 0,
        norm: str = "batch",
        dropout: float = 0.0,
        minibatch_std: bool = False,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        levels = levels_for(image_size)
        layers: list[nn.Module] = [nn.Conv2d(channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = base_channels
        for _ in range(levels - 1):
            layers += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=norm != "batch"), norm_layer(norm, c * 2), nn.LeakyReLU(0.2, True)]
            c *= 2
        self.features = nn.Sequential(*layers)
        self.minibatch_std = minibatch_std
        flat = (c + int(minibatch_std)) * 16
        self.flatten = nn.Sequential(nn.Flatten(), nn.Dropout(dropout))
        self.head = nn.Linear(flat, 1)
        self.embed = nn.Embedding(num_classes, flat) if num_classes else None
        self.num_classes = num_classes
        if spectral_norm:
            for m in [*self.features, self.head]:
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.utils.parametrizations.spectral_norm(m)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        f = self.features(x)
        if self.minibatch_std:
            spread = f.std(0, unbiased=False).mean() if len(f) > 1 else f.new_zeros(())
            f = torch.cat([f, spread.expand(len(f), 1, *f.shape[2:])], 1)
        h = self.flatten(f)
        score = self.head(h).squeeze(1)
        if self.embed is not None:
            if labels is None:
                raise ValueError("this discriminator is label-conditional: give labels")
            score = score + (self.embed(labels) * h).sum(1)
        return score
