"""The damage segmenter: a one-class U-Net over gray photos (damage logit per pixel)."""

from restoria.models.segmenter.model import build_segmenter, run_padded, segment_logits, side_multiple

__all__ = ["build_segmenter", "run_padded", "segment_logits", "side_multiple"]
