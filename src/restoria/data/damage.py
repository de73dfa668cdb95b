"""Damage synthesis: the competition's lost regions, and a few other kinds for robustness.

The competition damages a grayscale photo with random polygons (3-20 vertices, bounding box >= 50 px
and area > 625 px at 512x512) filled with one random gray value. Training draws new damage every time
it sees a photo, so the generator is a pure function of a `numpy.random.Generator`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from restoria.imaging import to_gray


@dataclass
class DamageConfig:
    """How to damage a photo. Pixel sizes are at `reference_size` and scale with the image."""

    kinds: dict[str, float] = field(default_factory=lambda: {"polygon": 1.0})
    min_regions: int = 1
    max_regions: int = 1
    min_vertices: int = 3
    max_vertices: int = 20
    min_bbox: int = 50
    max_bbox: int = 256
    min_area: int = 625
    reference_size: int = 512
    min_stroke_width: int = 8
    max_stroke_width: int = 40

    @classmethod
    def from_dict(cls, d: dict | None) -> "DamageConfig":
        return cls(**(d or {}))

    def damage_gray(self, rgb: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A uint8 RGB photo -> (its damaged gray, mask with 255 = lost): the one call every dataset
        makes, shared with the ageing model (restoria.data.ageing)."""
        return apply_damage(to_gray(rgb), rng, self)

    def clean_gray(self, rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """An undamaged sample of the same photo, as a classifier's clean class sees it: its gray."""
        return to_gray(rgb)


def _scale(cfg: DamageConfig, shape: tuple[int, int]) -> float:
    return min(shape) / cfg.reference_size


def random_polygon(rng: np.random.Generator, shape: tuple[int, int], cfg: DamageConfig) -> np.ndarray:
    """Vertices (K, 2) of a simple polygon, as int32 (x, y), meeting the bbox and area limits."""
    h, w = shape
    s = _scale(cfg, shape)
    min_bbox = max(3, int(round(cfg.min_bbox * s)))
    max_bbox = max(min_bbox, min(int(round(cfg.max_bbox * s)), h, w))
    min_area = cfg.min_area * s * s
    for _ in range(1000):
        k = int(rng.integers(cfg.min_vertices, cfg.max_vertices + 1))
        bw, bh = (int(v) for v in rng.integers(min_bbox, max_bbox + 1, size=2))
        x0 = int(rng.integers(0, w - bw + 1))
        y0 = int(rng.integers(0, h - bh + 1))
        pts = np.stack([rng.uniform(x0, x0 + bw - 1, k), rng.uniform(y0, y0 + bh - 1, k)], axis=1)
        # Stretch so the vertices span the whole chosen box: the bbox limit then holds exactly.
        lo, hi = pts.min(0), pts.max(0)
        span = np.maximum(hi - lo, 1e-6)
        pts = (pts - lo) / span * np.array([bw - 1, bh - 1]) + np.array([x0, y0])
        centre = pts.mean(0)
        order = np.argsort(np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0]))
        poly = np.round(pts[order]).astype(np.int32)
        if cv2.contourArea(poly) > min_area and _fill(poly, shape).sum() > min_area:
            return poly
    raise RuntimeError(f"could not draw a polygon meeting the limits in a {w}x{h} image")


def _fill(poly: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [poly], 1)
    return m


def _strokes(rng: np.random.Generator, shape: tuple[int, int], cfg: DamageConfig) -> np.ndarray:
    """LaMa-style free-form brush strokes: a random walk of thick line segments."""
    h, w = shape
    s = _scale(cfg, shape)
    m = np.zeros(shape, np.uint8)
    x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
    width = int(max(2, rng.integers(cfg.min_stroke_width, cfg.max_stroke_width + 1) * s))
    for _ in range(int(rng.integers(3, 10))):
        angle = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(20, 120) * s
        nx = int(np.clip(x + length * np.cos(angle), 0, w - 1))
        ny = int(np.clip(y + length * np.sin(angle), 0, h - 1))
        cv2.line(m, (x, y), (nx, ny), 1, width)
        cv2.circle(m, (nx, ny), width // 2, 1, -1)
        x, y = nx, ny
    return m


def _box(rng: np.random.Generator, shape: tuple[int, int], cfg: DamageConfig) -> np.ndarray:
    h, w = shape
    s = _scale(cfg, shape)
    lo = max(3, int(cfg.min_bbox * s))
    hi = max(lo, min(int(cfg.max_bbox * s), h, w))
    bw, bh = (int(v) for v in rng.integers(lo, hi + 1, size=2))
    x0, y0 = int(rng.integers(0, w - bw + 1)), int(rng.integers(0, h - bh + 1))
    m = np.zeros(shape, np.uint8)
    m[y0 : y0 + bh, x0 : x0 + bw] = 1
    return m


def _scratch(rng: np.random.Generator, shape: tuple[int, int], cfg: DamageConfig) -> np.ndarray:
    """A long thin line across the photo, as on scratched prints."""
    h, w = shape
    m = np.zeros(shape, np.uint8)
    pts = [(int(rng.integers(0, w)), int(rng.integers(0, h))) for _ in range(2)]
    cv2.line(m, pts[0], pts[1], 1, int(rng.integers(1, 4)))
    return m


def damage_mask(rng: np.random.Generator, shape: tuple[int, int], cfg: DamageConfig) -> np.ndarray:
    """A uint8 mask (1 = lost) made of 1..N regions of the configured kinds."""
    names = list(cfg.kinds)
    weights = np.array([cfg.kinds[n] for n in names], dtype=float)
    weights /= weights.sum()
    mask = np.zeros(shape, np.uint8)
    for _ in range(int(rng.integers(cfg.min_regions, cfg.max_regions + 1))):
        kind = names[int(rng.choice(len(names), p=weights))]
        if kind == "polygon":
            mask |= _fill(random_polygon(rng, shape, cfg), shape)
        elif kind == "stroke":
            mask |= _strokes(rng, shape, cfg)
        elif kind == "box":
            mask |= _box(rng, shape, cfg)
        elif kind == "scratch":
            mask |= _scratch(rng, shape, cfg)
        else:
            raise ValueError(f"unknown damage kind {kind!r}; use polygon, stroke, box or scratch")
    return mask


def apply_damage(
    gray: np.ndarray, rng: np.random.Generator, cfg: DamageConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Damage a uint8 gray image: returns (damaged gray, mask with 255 = lost).

    All lost pixels take ONE random gray value 0-255, as in the competition.
    """
    cfg = cfg or DamageConfig()
    mask = damage_mask(rng, gray.shape[:2], cfg)
    value = np.uint8(rng.integers(0, 256))
    damaged = gray.copy()
    damaged[mask > 0] = value
    return damaged, mask * np.uint8(255)


# Monochrome print tonings as (tinted black, tinted white) in RGB: what the ageing of a print or its
# chemistry gives a gray photo, which `restore` should colorize rather than keep.
TONES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "sepia": ((60, 35, 20), (250, 235, 205)),
    "selenium": ((40, 25, 45), (245, 240, 235)),
    "cyanotype": ((8, 30, 80), (220, 235, 245)),
    "faded": ((70, 65, 55), (215, 210, 195)),
}


def tone(gray: np.ndarray, dark: tuple[int, int, int], light: tuple[int, int, int]) -> np.ndarray:
    """A toned monochrome print of a uint8 gray photo: each gray level mapped linearly from the tinted
    black `dark` to the tinted white `light` (uint8 RGB out). Lost contrast comes with it, as in a
    faded print."""
    t = gray[..., None].astype(np.float32) / 255
    return (np.array(dark, np.float32) * (1 - t) + np.array(light, np.float32) * t).round().astype(np.uint8)
