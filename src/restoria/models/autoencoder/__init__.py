"""Convolutional autoencoder and variational autoencoder."""

from restoria.models.autoencoder.model import VAE, Autoencoder

__all__ = ["VAE", "Autoencoder"]
