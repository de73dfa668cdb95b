"""CycleGAN: two ResNet generators translating between unpaired image domains."""

from restoria.models.cyclegan.generator import ResnetGenerator
from restoria.models.cyclegan.model import CycleGAN

__all__ = ["CycleGAN", "ResnetGenerator"]
