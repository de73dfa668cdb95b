"""The damage segmenter: a one-class U-Net over gray photos (damage logit per pixel)."""

from restoria.models.segmenter.model import build_segmenter, segment_logits

__all__ = ["build_segmenter", "segment_logits"]
