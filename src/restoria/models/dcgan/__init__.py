"""DCGAN generator and discriminator/critic, optionally label-conditional."""

from restoria.models.dcgan.model import DCGANDiscriminator, DCGANGenerator

__all__ = ["DCGANDiscriminator", "DCGANGenerator"]
