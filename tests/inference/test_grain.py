"""Grain: its measure reads a photo's noise and not its texture, the filter takes the ageing model's
grain out and keeps edges, and the enhance stage denoises a grainy photo and leaves a clean one alone."""

from __future__ import annotations

import cv2
import numpy as np

from restoria.data.ageing import grain
from restoria.imaging import to_gray
from restoria.inference.enhancer import PhotoEnhancer
from restoria.inference.grain import CLUMPED_GRAIN_SIGMA, GRAIN_SIGMA, clumped_noise_sigma, noise_sigma, take_out_grain
from restoria.inference.restorer import Restorer
from restoria.weights import default_weights


def at_512(photo: np.ndarray) -> np.ndarray:
    return cv2.resize(to_gray(photo), (512, 512), interpolation=cv2.INTER_AREA)


def grainy(gray: np.ndarray, seed: int) -> np.ndarray:
    """The ageing model's grain at full strength over a uint8 gray photo."""
    aged = grain(gray[..., None].astype(np.float32), np.random.default_rng(seed), 1.0)[..., 0]
    return np.clip(aged, 0, 255).round().astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(float) - b.astype(float)) ** 2)))


def test_the_measure_reads_noise_not_texture(photos: dict[str, np.ndarray]) -> None:
    """Clean photos, textured ones included (the cat's fur, the rocket's lattice), measure under the
    gate, at their own size and at 512; the same photos with Gaussian noise of 4 and 8 gray levels measure near that noise."""
    rng = np.random.default_rng(0)
    for name, photo in photos.items():  # at their own size too
        gray = to_gray(photo) if photo.ndim == 3 else photo
        assert noise_sigma(gray) < GRAIN_SIGMA and clumped_noise_sigma(gray) < CLUMPED_GRAIN_SIGMA, name
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        clean = at_512(photos[name])
        assert noise_sigma(clean) < GRAIN_SIGMA and clumped_noise_sigma(clean) < CLUMPED_GRAIN_SIGMA, name
        for sigma in (4.0, 8.0):
            noisy = np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 255).astype(np.uint8)
            assert 0.7 * sigma < noise_sigma(noisy) < 1.3 * sigma, (name, sigma, noise_sigma(noisy))


def test_the_filter_takes_the_ageing_models_grain_out(photos: dict[str, np.ndarray]) -> None:
    """restoria.data.ageing's grain at full strength on four photos, eight draws each, fine or clumped:
    most are measured as grainy, and every one that is comes out closer to the clean one, by 1.5 dB on
    average."""
    gains = []
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        clean = at_512(photos[name])
        for seed in range(8):
            aged = grainy(clean, seed)
            cleaned, sigma = take_out_grain(aged, aged)
            if sigma > 0:
                gains.append(psnr(cleaned, clean) - psnr(aged, clean))
    assert len(gains) >= 20 and min(gains) > 0.3 and np.mean(gains) > 1.5, gains


def test_the_enhance_stage_denoises_grainy_photos_only(photos: dict[str, np.ndarray]) -> None:
    """The shipped enhance stage: a clean photo comes back bit-exact, the same photo with grain comes back
    closer to the clean one and the restore says so; with `grain_sigma` None grain is left."""
    enhancer = PhotoEnhancer(default_weights("enhance.safetensors"))
    clean = at_512(photos["chelsea"])
    assert (enhancer(clean) == clean).all() and not enhancer.removed_grain
    aged = grainy(clean, 3)
    assert psnr(enhancer(aged), clean) > psnr(aged, clean) + 1.5 and enhancer.removed_grain
    assert (PhotoEnhancer(default_weights("enhance.safetensors"), grain_sigma=None)(aged) == aged).all()
    notes = Restorer(backend="onnx")(aged, mask=np.zeros_like(aged), stages=("enhance",)).notes
    assert any("grain taken out" in n for n in notes)
