"""pix2pix PatchGAN discriminator."""

from restoria.models.patchgan.model import PatchGAN, norm_layer

__all__ = ["PatchGAN", "norm_layer"]
