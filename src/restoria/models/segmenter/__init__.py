"""The damage segmenter: a one-class U-Net over gray photos (damage logit per pixel)."""

from restoria.models.lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {"build_segmenter": "model", "run_padded": "padding", "segment_logits": "padding", "side_multiple": "padding"})
__all__ = ["build_segmenter", "run_padded", "segment_logits", "side_multiple"]
