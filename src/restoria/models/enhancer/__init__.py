from restoria.models.lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {"Enhancer": "model"})
__all__ = ["Enhancer"]
