"""The input size of a trained classifier, from its weights' metadata alone (no network built), so
inference on onnxruntime reads it without importing timm."""

from __future__ import annotations

from typing import Any


def input_side(meta: dict[str, Any]) -> int:
    """The side a trained classifier's photos are resized to: its training config's `data.size`, read
    from its weights' metadata, so inference and the ONNX export see what training saw."""
    return int(meta.get("config", {}).get("data", {}).get("size", 160))
