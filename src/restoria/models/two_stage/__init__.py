from restoria.models.lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {"TwoStageRestorer": "model"})
__all__ = ["TwoStageRestorer"]
