"""Convolutional autoencoder (plain, sparse, denoising: the variants differ in the loss and the input
noise, which the task adds) and the variational autoencoder (Kingma & Welling 2014).

Images are (B, channels, S, S) in [0, 1] with S = 4 * 2^k; the decoder ends in logits and `decode`
applies the sigmoid, so the reconstruction is a per-pixel Bernoulli mean.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from restoria.models.dcgan.model import levels_for


def encoder(channels: int, image_size: int, base_channels: int, out_dim: int) -> nn.Sequential:
    """Stride-2 convolutions (batch norm, LeakyReLU) down to 4x4, then a linear map to `out_dim`."""
    layers: list[nn.Module] = []
    c_in, c = channels, base_channels
    for _ in range(levels_for(image_size)):
        layers += [nn.Conv2d(c_in, c, 4, 2, 1, bias=False), nn.BatchNorm2d(c), nn.LeakyReLU(0.2, True)]
        c_in, c = c, c * 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c_in * 16, out_dim))


def decoder(channels: int, image_size: int, base_channels: int, latent_dim: int) -> nn.Sequential:
    """The mirror of `encoder`: linear to a 4x4 map, stride-2 transposed convolutions, pixel logits."""
    levels = levels_for(image_size)
    c = base_channels * 2 ** (levels - 1)
    layers: list[nn.Module] = [nn.Linear(latent_dim, c * 16), nn.ReLU(True), nn.Unflatten(1, (c, 4, 4))]
    for _ in range(levels - 1):
        layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
        c //= 2
    layers.append(nn.ConvTranspose2d(c, channels, 4, 2, 1))
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """x -> code (B, latent_dim) -> reconstruction. forward returns dict(code, logits, recon)."""

    variational = False

    def __init__(self, channels: int = 1, image_size: int = 32, latent_dim: int = 16, base_channels: int = 32) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.channels = channels
        self.image_size = image_size
        self.num_classes = 0
        self.encoder = encoder(channels, image_size, base_channels, latent_dim)
        self.decoder = decoder(channels, image_size, base_channels, latent_dim)

    def encode(self, x: Tensor) -> Tensor:
        """The code of each image (B, latent_dim)."""
        return self.encoder(x)

    def generate(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Decoded images in [0, 1] (labels are ignored: the interface is shared with the GANs)."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        code = self.encode(x)
        logits = self.decoder(code)
        return {"code": code, "logits": logits, "recon": torch.sigmoid(logits)}


class VAE(Autoencoder):
    """x -> (mu, logvar) -> z = mu + sigma * eps -> reconstruction; decoding z ~ N(0, I) draws new images.

    forward returns dict(mu, logvar, z, logits, recon); in eval mode z = mu (the deterministic code).
    """

    variational = True

    def __init__(self, channels: int = 1, image_size: int = 32, latent_dim: int = 16, base_channels: int = 32) -> None:
        super().__init__(channels, image_size, latent_dim, base_channels)
        self.encoder = encoder(channels, image_size, base_channels, 2 * latent_dim)

    def encode_stats(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and log-variance of q(z | x)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def encode(self, x: Tensor) -> Tensor:
        """The posterior mean: the point a photo sits at in latent space (for interpolation)."""
        return self.encode_stats(x)[0]

    @staticmethod
    def reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
        """z = mu + exp(logvar / 2) * eps, eps ~ N(0, I): a sample whose gradient reaches mu and logvar."""
        return mu + (0.5 * logvar).exp() * torch.randn_like(mu)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        mu, logvar = self.encode_stats(x)
        z = self.reparameterize(mu, logvar) if self.training else mu
        logits = self.decoder(z)
        return {"mu": mu, "logvar": logvar, "z": z, "logits": logits, "recon": torch.sigmoid(logits)}
