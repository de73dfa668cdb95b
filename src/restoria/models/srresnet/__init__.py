from restoria.models.srresnet.model import SRGANDiscriminator, SRResNet

__all__ = ["SRGANDiscriminator", "SRResNet"]
