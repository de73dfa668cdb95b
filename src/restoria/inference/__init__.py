"""Inference: tiling, detectors, fills, colour rendering, the upscaler, the restorer's stages, the ONNX backend."""
