from restoria.models.enhancer.model import Enhancer

__all__ = ["Enhancer"]
