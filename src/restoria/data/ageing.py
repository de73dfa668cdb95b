"""A realistic ageing model for old prints: what the people who restore photos actually bring.

Two kinds of harm, kept apart because the pipeline treats them apart:
- structural damage, which destroys the picture where it lies and so goes into the mask that detect
  finds and fill repairs: scratches, cracks and crazing, dust and hairs, folds and creases, torn or
  missing corners and edges, stains and water marks, emulsion loss, and the competition's flat polygons;
- global ageing, which degrades every pixel a little and is undone by the enhance stage, not masked:
  fading and lost contrast, yellowing and sepia, film grain and noise, blur, halftone screens, JPEG.

A third group is not harm at all: look-alikes, parts of the picture that a detector keeps taking for
damage on real scans (a vignette's dark or white surround, a blown-out white collar or backdrop). They
are drawn on the photo first, as the picture itself, and never go into the mask, so a segmenter learns
to leave them alone. They are off by default (the clean photo with a look-alike is no longer the truth
an enhancer should return to); the segmenter's config turns them on.

The order follows a print's life: the print fades and yellows, then is scratched, cracked, stained and
torn, then is scanned (blur, grain, halftone, JPEG over everything, damage included). Every kind is a
pure function of a `numpy.random.Generator`, sizes scale from `reference_size` to the photo, and
`age_photo` returns the per-kind masks so benchmarks can report each kind on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from restoria.data.damage import DamageConfig, _fill, random_polygon
from restoria.imaging import to_gray

STRUCTURAL = ("scratch", "crack", "dust", "hair", "fold", "tear", "stain", "emulsion", "polygon")
GLOBAL = ("fade", "yellow", "grain", "blur", "halftone", "jpeg")
LOOKALIKES = ("vignette", "highlight", "shadow")


@dataclass
class AgeingConfig:
    """How to age a photo. `damage`: relative weight of each structural kind; `min_damages` ..
    `max_damages` kinds are drawn per photo (0 leaves it undamaged). `ageing`: the probability each
    global kind is applied. Pixel sizes are at `reference_size` and scale with the photo."""

    damage: dict[str, float] = field(default_factory=lambda: {k: 1.0 for k in STRUCTURAL})
    min_damages: int = 1
    max_damages: int = 3
    ageing: dict[str, float] = field(
        default_factory=lambda: {"fade": 0.5, "yellow": 0.4, "grain": 0.6, "blur": 0.4, "halftone": 0.1, "jpeg": 0.5}
    )
    min_global: int = 0  # at least this many global kinds, drawn among the rest when too few came up
    lookalikes: dict[str, float] = field(default_factory=dict)  # the probability of each look-alike (none by default)
    reference_size: int = 512
    polygon: dict = field(default_factory=dict)  # DamageConfig fields for the competition polygons

    @classmethod
    def from_dict(cls, d: dict | None) -> "AgeingConfig":
        d = {k: v for k, v in (d or {}).items() if k != "model"}
        unknown = (set(d.get("damage", {})) - set(STRUCTURAL)) | (set(d.get("ageing", {})) - set(GLOBAL)) | (set(d.get("lookalikes", {})) - set(LOOKALIKES))
        if unknown:
            raise ValueError(
                f"unknown ageing kind(s) {', '.join(sorted(unknown))}; structural: {', '.join(STRUCTURAL)}; "
                f"global: {', '.join(GLOBAL)}; look-alikes: {', '.join(LOOKALIKES)}"
            )
        return cls(**d)

    def damage_gray(self, rgb: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A uint8 RGB photo -> (its aged gray, mask with 255 = structural damage), as
        `DamageConfig.damage_gray` gives for the competition's damage."""
        aged = age_photo(rgb, rng, self)
        return to_gray(aged.image), aged.mask

    def clean_gray(self, rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """An undamaged sample: the photo with global ageing only (grain, fading, ... are not damage to
        fill), so a classifier learns to tell them from scratches and dust."""
        return to_gray(age_photo(rgb, rng, replace(self, damage={})).image)


@dataclass
class Aged:
    """An aged photo: `image` uint8 (as the input: gray or RGB), `mask` uint8 255 = structural damage,
    `kinds` the bool mask of each structural kind drawn, `applied` the look-alikes and global kinds applied."""

    image: np.ndarray
    mask: np.ndarray
    kinds: dict[str, np.ndarray]
    applied: list[str]


DamageModel = DamageConfig | AgeingConfig


def damage_model(d: dict | None) -> DamageModel:
    """A data config's `damage:` block: the competition's polygons (DamageConfig's fields), or the
    ageing model with `model: ageing` (AgeingConfig's fields)."""
    d = dict(d or {})
    model = d.pop("model", "competition")
    if model == "ageing":
        return AgeingConfig.from_dict(d)
    if model != "competition":
        raise ValueError(f"damage.model must be competition or ageing, got {model!r}")
    return DamageConfig.from_dict(d)


# A mark drawn on the print: (coverage alpha in [0, 1], the colour it lays down (H, W, 3) float, mask).
Mark = tuple[np.ndarray, np.ndarray, np.ndarray]


def _paper(rng: np.random.Generator) -> np.ndarray:
    """The colour of bare photographic paper: white to cream."""
    v = rng.uniform(215, 250)
    return np.array([v, v - rng.uniform(0, 12), v - rng.uniform(0, 30)], np.float32)


def _tone(rng: np.random.Generator, bright: bool) -> np.ndarray:
    return _paper(rng) if bright else np.full(3, rng.uniform(5, 60), np.float32)


def _blob(rng: np.random.Generator, shape: tuple[int, int], centre: tuple[float, float], radius: float, roughness: float = 0.5) -> np.ndarray:
    """An irregular filled blob (bool): an ellipse whose edge is pushed in and out by smooth noise."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a, b = radius * rng.uniform(0.6, 1.4), radius * rng.uniform(0.6, 1.4)
    t = rng.uniform(0, np.pi)
    dx, dy = xx - centre[0], yy - centre[1]
    u, v = dx * np.cos(t) + dy * np.sin(t), -dx * np.sin(t) + dy * np.cos(t)
    r = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    cells = max(2, int(max(h, w) / max(radius / 2, 2)))
    noise = cv2.resize(rng.standard_normal((cells, cells)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return r + roughness * 0.35 * noise < 1


def _polyline(rng: np.random.Generator, start: np.ndarray, angle: float, length: float, steps: int, bend: float) -> np.ndarray:
    """Points of a line that drifts in direction by up to `bend` radians a step."""
    pts = [start]
    step = length / steps
    for _ in range(steps):
        angle += rng.normal(0, bend)
        pts.append(pts[-1] + step * np.array([np.cos(angle), np.sin(angle)]))
    return np.round(np.array(pts)).astype(np.int32)


def _lines(shape: tuple[int, int], lines: list[tuple[np.ndarray, int]]) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    for pts, width in lines:
        cv2.polylines(m, [pts.reshape(-1, 1, 2)], False, 1, max(1, width), cv2.LINE_AA if width == 1 else cv2.LINE_8)
    return m > 0


def _solid(mask: np.ndarray, colour: np.ndarray, opacity: float) -> Mark:
    """A mark of one colour (or a colour field, (H, W, 3)) laid over its whole mask at one opacity."""
    alpha = mask.astype(np.float32) * opacity
    return alpha, np.broadcast_to(colour, (*mask.shape, 3)), mask


def scratch(rng: np.random.Generator, shape: tuple[int, int], s: float) -> Mark:
    """A long thin scratch, bright (emulsion scraped to the paper) or dark, 1-4 px, fairly straight."""
    h, w = shape
    start = rng.uniform([0, 0], [w, h])
    length = rng.uniform(0.3, 1.2) * max(h, w)
    pts = _polyline(rng, start, rng.uniform(0, 2 * np.pi), length, 12, rng.uniform(0.0, 0.08))
    m = _lines(shape, [(pts, int(round(rng.uniform(1, 4) * s)))])
    return _solid(m, _tone(rng, rng.random() < 0.7), rng.uniform(0.6, 1.0))


def _textured(rng: np.random.Generator, shape: tuple[int, int], colour: np.ndarray, s: float) -> np.ndarray:
    """A colour with the grain of what shows through: bare paper or exposed base is never one flat value
    on a scan, so a segmenter must not learn that damage is flat."""
    noise = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), rng.uniform(0.6, 2.0) * max(s, 0.5))
    noise *= rng.uniform(3, 12) / (noise.std() + 1e-6)
    return np.clip(colour + noise[..., None], 0, 255)


def _with_rim(rng: np.random.Generator, mask: np.ndarray, colour: np.ndarray, opacity: float, s: float) -> Mark:
    """A bright mark with a darker rim around it, as the lifted edge of cracked emulsion casts on the
    scan; the rim is damage too (it is not the picture), so it joins the mask."""
    rim = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=max(1, int(round(s)))).astype(bool) & ~mask
    alpha = mask * opacity + rim * rng.uniform(0.25, 0.55)
    shade = np.full(3, rng.uniform(10, 60), np.float32)
    colour = np.where(rim[..., None], shade, colour)
    return alpha.astype(np.float32), colour, mask | rim


def _jagged(rng: np.random.Generator, shape: tuple[int, int], pts: np.ndarray, s: float, widest: float) -> np.ndarray:
    """A crack whose width changes along it (1 px where it is a hairline, several where the emulsion
    flaked off its edges) and that breaks off here and there."""
    m = np.zeros(shape, np.uint8)
    for a, b in zip(pts[:-1], pts[1:]):
        if rng.random() < 0.1:
            continue
        width = max(1, int(round(rng.choice([1.0, rng.uniform(1, widest)], p=[0.5, 0.5]) * s)))
        cv2.line(m, tuple(int(v) for v in a), tuple(int(v) for v in b), 1, width, cv2.LINE_8)
    return m > 0


def crack(rng: np.random.Generator, shape: tuple[int, int], s: float) -> Mark:
    """Cracks in the emulsion as scans show them: branching lines from one knock, jagged and of varying
    width where flakes came off, mostly bright paper with a darker rim; or a patch of fine crazing."""
    h, w = shape
    crazing = rng.random() < 0.3
    flaked = not crazing and rng.random() < 0.6
    centre = rng.uniform([0.1 * w, 0.1 * h], [0.9 * w, 0.9 * h])
    todo = []
    for _ in range(int(rng.integers(1, 4))):  # main cracks from one point, as from a knock
        todo.append((centre, rng.uniform(0, 2 * np.pi), rng.uniform(0.2, 0.5) * max(h, w) * (0.4 if crazing else 1), 0))
    for _ in range(int(rng.integers(8, 20)) if crazing else 0):  # a net of short fine cracks around it
        todo.append((centre + rng.normal(0, 40 * s, 2), rng.uniform(0, 2 * np.pi), rng.uniform(30, 90) * s, 1))
    m = np.zeros(shape, bool)
    n = 0
    while todo and n < 60:
        start, angle, length, depth = todo.pop()
        steps = max(3, int(length / ((4 if flaked else 6) * s)))
        pts = _polyline(rng, start, angle, length, steps, 0.12 if flaked else 0.35)
        if flaked:  # a straighter path, zig-zagging about it
            jagged = np.round(pts + rng.normal(0, 1.2 * s, pts.shape)).astype(np.int32)
            m |= _jagged(rng, shape, jagged, s, 5.0 if depth == 0 else 3.0)
        else:
            m |= _lines(shape, [(pts, 1 if depth or rng.random() < 0.5 else int(round(2 * s)))])
        n += 1
        for p in pts[2:-1]:
            if depth < 3 and rng.random() < 0.12:
                todo.append((p.astype(float), angle + rng.choice([-1, 1]) * rng.uniform(0.4, 1.2), length * rng.uniform(0.2, 0.5), depth + 1))
    bright = rng.random() < 0.8
    colour = _textured(rng, shape, _tone(rng, bright), s)
    opacity = rng.uniform(0.6, 1.0)
    if bright and rng.random() < 0.5:
        return _with_rim(rng, m, colour, opacity, s)
    return _solid(m, colour, opacity)


def dust(rng: np.random.Generator, shape: tuple[int, int], s: float) -> Mark:
    """Dust and specks: many small dots, dark or bright, some a few pixels across."""
    h, w = shape
    m = np.zeros(shape, np.uint8)
    for _ in range(int(rng.integers(15, 80))):
        r = int(round(rng.choice([0.5, 1, 1.5, 2.5, 4], p=[0.3, 0.3, 0.2, 0.15, 0.05]) * s))
        cv2.circle(m, (int(rng.integers(0, w)), int(rng.integers(0, h))), max(r, 0), 1, -1)
    return _solid(m > 0, _tone(rng, rng.random() < 0.5), rng.uniform(0.7, 1.0))


def hair(rng: np.random.Generator, shape: tuple[int, int], s: float) -> Mark:
    """Hairs and fibres: short curly lines, 1 px, dark (or bright on a negative scan)."""
    h, w = shape
    lines = []
    for _ in range(int(rng.integers(1, 5))):
        pts = _polyline(rng, rng.uniform([0, 0], [w, h]), rng.uniform(0, 2 * np.pi), rng.uniform(25, 120) * s, 16, 0.3)
        lines.append((pts, max(1, int(round(rng.uniform(1, 2) * s)))))
    return _solid(_lines(shape, lines), _tone(rng, rng.random() < 0.25), rng.uniform(0.7, 1.0))


def fold(rng: np.random.Generator, shape: tuple[int, int], s: float) -> Mark:
    """A fold right across the print (a bright broken line where the emulsion cracked), or a crease
    that runs in from an edge: a thin ridge, bright on one side where it catches the scanner's light and
    dark on the other."""
    h, w = shape
    if rng.random() < 0.5:
        start = np.array([(rng.uniform(0, w), 0.0), (rng.uniform(0, w), float(h)), (0.0, rng.uniform(0, h)), (float(w), rng.uniform(0, h))][int(rng.integers(4))])
        angle = float(np.arctan2(h / 2 - start[1], w / 2 - start[0]) + rng.uniform(-0.8, 0.8))
        pts = _polyline(rng, start, angle, rng.uniform(0.3, 1.0) * max(h, w), 30, 0.03)
        offset = np.round(np.array([-np.sin(angle), np.cos(angle)]) * max(1.0, rng.uniform(1, 2.5) * s)).astype(np.int32)
        light = _lines(shape, [(pts, max(1, int(round(rng.uniform(1, 2) * s))))])
        dark = _lines(shape, [(pts + offset, max(1, int(round(s))))]) & ~light
        alpha = light * rng.uniform(0.5, 0.9) + dark * rng.uniform(0.3, 0.7)
        colour = np.where(light[..., None], _textured(rng, shape, _paper(rng), s), np.full(3, rng.uniform(10, 60), np.float32))
        return alpha.astype(np.float32), colour, light | dark
    horizontal = rng.random() < 0.5
    a = rng.uniform(0.15, 0.85) * (h if horizontal else w)
    b = a + rng.uniform(-0.1, 0.1) * (h if horizontal else w)
    ends = [(0, a), (w, b)] if horizontal else [(a, 0), (b, h)]
    start, end = np.array(ends[0], float), np.array(ends[1], float)
    angle = np.arctan2(*(end - start)[::-1])
    pts = _polyline(rng, start, angle, float(np.hypot(*(end - start))) * 1.02, 40, 0.02)
    m = _lines(shape, [(pts, int(round(rng.uniform(2, 6) * s)))])
    opacity = rng.uniform(0.7, 1.0)
    return _solid(m, _textured(rng, shape, _paper(rng), s), opacity)


def tear(rng: np.random.Generator, shape: tuple[int, int], s: float) -> Mark:
    """A torn or missing corner or edge: a jagged piece gone, showing the scanner's white or black; often
    with the print's edges chipped too, small bites of bare paper along a side."""
    h, w = shape
    cx, cy = [(0, 0), (w, 0), (0, h), (w, h)][int(rng.integers(4))] if rng.random() < 0.6 else (
        (rng.uniform(0, w), float(rng.choice([0, h]))) if rng.random() < 0.5 else (float(rng.choice([0, w])), rng.uniform(0, h))
    )
    m = _blob(rng, shape, (cx, cy), rng.uniform(30, 110) * s, roughness=1.0)
    white = rng.random() < 0.6
    if white and rng.random() < 0.5:
        for side in rng.choice(4, size=int(rng.integers(1, 3)), replace=False):
            for _ in range(int(rng.integers(4, 16))):
                t, depth = rng.uniform(0, 1), rng.uniform(-2, 3) * s
                c = [(t * w, depth), (t * w, h - depth), (depth, t * h), (w - depth, t * h)][int(side)]
                m |= _blob(rng, shape, c, rng.uniform(2, 8) * s, roughness=1.2)
    colour = _textured(rng, shape, _paper(rng), s) if white else np.full(3, rng.uniform(0, 25), np.float32)
    return _solid(m, colour, 1.0)


def stain(rng: np.random.Generator, shape: tuple[int, int], s: float) -> Mark:
    """A stain or water mark: a translucent brownish blob with a darker tide line at its edge."""
    h, w = shape
    m = _blob(rng, shape, tuple(rng.uniform([0, 0], [w, h])), rng.uniform(20, 80) * s, roughness=0.8)
    rim = m & ~cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=max(1, int(2 * s))).astype(bool)
    alpha = m * rng.uniform(0.5, 0.8) + rim * 0.3
    colour = np.array([130, 90, 45], np.float32) * rng.uniform(0.5, 1.1)
    return np.clip(alpha, 0, 1).astype(np.float32), np.broadcast_to(np.clip(colour, 0, 255), (*shape, 3)), m


def emulsion(rng: np.random.Generator, shape: tuple[int, int], s: float) -> Mark:
    """Emulsion loss: irregular bright blobs where the image layer flaked off down to the paper."""
    h, w = shape
    m = np.zeros(shape, bool)
    centre = rng.uniform([0, 0], [w, h])
    for _ in range(int(rng.integers(1, 6))):
        c = centre + rng.normal(0, 30 * s, 2)
        m |= _blob(rng, shape, (float(c[0]), float(c[1])), rng.uniform(4, 30) * s, roughness=1.2)
    opacity = rng.uniform(0.85, 1.0)
    return _solid(m, _textured(rng, shape, _paper(rng), s), opacity)


def polygon(rng: np.random.Generator, shape: tuple[int, int], cfg: dict) -> Mark:
    """The competition's lost region: one random polygon of one random gray value."""
    m = _fill(random_polygon(rng, shape, DamageConfig.from_dict(cfg)), shape) > 0
    return _solid(m, np.full(3, float(rng.integers(0, 256)), np.float32), 1.0)


MARKS: dict[str, Callable[[np.random.Generator, tuple[int, int], float], Mark]] = {
    "scratch": scratch, "crack": crack, "dust": dust, "hair": hair, "fold": fold,
    "tear": tear, "stain": stain, "emulsion": emulsion,
}


def fade(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    """Faded print: contrast squeezed toward a light gray, blacks lifted."""
    k = rng.uniform(0.45, 0.8)
    return img * k + rng.uniform(0.3, 0.9) * 255 * (1 - k)


def yellow(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    """Yellowed or sepia-toned paper: the whites go cream, the picture takes a warm cast."""
    cast = np.array([1.0, rng.uniform(0.86, 0.97), rng.uniform(0.62, 0.85)], np.float32)
    if rng.random() < 0.4:  # a real sepia toning: the colour is gone, only the warm tone is left
        img = img.mean(-1, keepdims=True).repeat(3, -1)
    return img * cast


def grain(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    """Film grain and scanner noise: clumped luminance noise, strongest in the mid-tones."""
    h, w = img.shape[:2]
    sigma = rng.uniform(4, 18)
    noise = rng.standard_normal((h, w)).astype(np.float32)
    if rng.random() < 0.6:
        noise = cv2.GaussianBlur(noise, (0, 0), rng.uniform(0.5, 1.2) * max(s, 0.5))
        noise /= noise.std() + 1e-6
    mid = 1 - np.abs(img.mean(-1) / 127.5 - 1) * 0.6
    return img + (sigma * mid * noise)[..., None]


def blur(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    """An out-of-focus copy or a soft scan."""
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 2.0) * s)


def halftone(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    """A newspaper or book reproduction: a rotated dot screen, softened by the scan."""
    h, w = img.shape[:2]
    period = rng.uniform(3, 6) * s
    t = np.deg2rad(rng.choice([15, 45, 75]))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xx * np.cos(t) + yy * np.sin(t), -xx * np.sin(t) + yy * np.cos(t)
    screen = (np.cos(2 * np.pi * u / period) * np.cos(2 * np.pi * v / period) + 1) * 127.5
    dots = np.where(img > screen[..., None], 255.0, 0.0).astype(np.float32)
    mix = rng.uniform(0.3, 0.7)
    return cv2.GaussianBlur(dots, (0, 0), period / 3) * mix + img * (1 - mix)


def jpeg(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    """JPEG compression at a poor quality: 8 px blocks and ringing."""
    u8 = np.clip(img, 0, 255).round().astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", u8[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 60))])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32)


def vignette(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    """A vignetted portrait or an oval mount: the picture fades into a dark or white surround along a
    soft ellipse, or meets it at a cut one. Picture, not damage; the surround's edge is smooth and
    regular, where a tear's is jagged."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.6)
    r = np.sqrt(((xx - cx) / (w * rng.uniform(0.35, 0.6))) ** 2 + ((yy - cy) / (h * rng.uniform(0.35, 0.6))) ** 2)
    feather = rng.uniform(0.003, 0.02) if rng.random() < 0.4 else rng.uniform(0.05, 0.4)  # a cut mount, or a soft vignette
    alpha = np.clip((r - 1) / feather, 0, 1)[..., None]
    colour = np.full(3, rng.uniform(0, 40), np.float32) if rng.random() < 0.6 else _paper(rng)
    return img * (1 - alpha) + colour * alpha


def highlight(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    """A blown-out highlight (a white collar, bow or dress, a bright window or backdrop): a region pushed
    toward white that keeps a trace of its folds and shading, its edge soft or, like a collar's, crisp.
    Picture, not damage: unlike emulsion loss or a tear it keeps the picture's own structure inside."""
    h, w = img.shape[:2]
    radius = rng.uniform(15, 110) * s
    m = _blob(rng, (h, w), tuple(rng.uniform([0, 0], [w, h])), radius, roughness=rng.uniform(0.3, 1.0)).astype(np.float32)
    edge = rng.uniform(0.4, 1.2) if rng.random() < 0.5 else rng.uniform(1.5, 8)
    alpha = cv2.GaussianBlur(m, (0, 0), edge * s)[..., None] * rng.uniform(0.6, 0.9)
    return img + (rng.uniform(235, 255) - img) * alpha


def shadow(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    """A deep shadow or dark cloth (a black uniform or coat, a dark doorway), often running off an edge
    of the picture: a region pushed toward black that keeps a trace of its folds and shading. Picture,
    not damage: a black tear is the scanner's flat black with a jagged edge, a stain a translucent
    tint with a tide line."""
    h, w = img.shape[:2]
    cx, cy = rng.uniform([0, 0], [w, h])
    if rng.random() < 0.5:  # from an edge, as clothing fills the bottom of a portrait
        cx, cy = [(0.0, cy), (w, cy), (cx, 0.0), (cx, h)][int(rng.integers(4))]
    m = _blob(rng, (h, w), (float(cx), float(cy)), rng.uniform(30, 140) * s, roughness=rng.uniform(0.3, 1.0))
    edge = rng.uniform(0.4, 1.2) if rng.random() < 0.5 else rng.uniform(1.5, 8)
    alpha = cv2.GaussianBlur(m.astype(np.float32), (0, 0), edge * s)[..., None] * rng.uniform(0.6, 0.95)
    return img + (rng.uniform(5, 40) - img) * alpha


LOOKALIKE_MARKS = {"vignette": vignette, "highlight": highlight, "shadow": shadow}  # drawn first: they are the picture
PRINT_AGEING = {"fade": fade, "yellow": yellow}  # the print itself, before it was damaged
SCAN_AGEING = {"blur": blur, "grain": grain, "halftone": halftone, "jpeg": jpeg}  # the scan, over everything


def age_photo(image: np.ndarray, rng: np.random.Generator, cfg: AgeingConfig | None = None) -> Aged:
    """Age a uint8 photo (gray (H, W) or RGB (H, W, 3)); the result has the input's channels.

    Structural kinds are drawn with their weights (`min_damages`..`max_damages` of them, a kind may
    repeat), global kinds each with its probability."""
    cfg = cfg or AgeingConfig()
    gray_in = image.ndim == 2
    img = (np.repeat(image[..., None], 3, -1) if gray_in else image).astype(np.float32)
    shape = img.shape[:2]
    s = min(shape) / cfg.reference_size
    # drawn only when asked for, so the default ageing of a given seed stays what it was
    lookalikes = [k for k in LOOKALIKES if cfg.lookalikes.get(k, 0.0) > 0 and rng.random() < cfg.lookalikes[k]]
    for k in lookalikes:
        img = LOOKALIKE_MARKS[k](img, rng, s)
    applied = [k for k in GLOBAL if rng.random() < cfg.ageing.get(k, 0.0)]
    rest = [k for k in GLOBAL if k not in applied and cfg.ageing.get(k, 0.0) > 0]
    extra = max(0, min(cfg.min_global, len(applied) + len(rest)) - len(applied))
    applied += [str(k) for k in rng.choice(rest, size=extra, replace=False)] if extra else []
    applied = [k for k in GLOBAL if k in applied]
    for k in applied:
        if k in PRINT_AGEING:
            img = PRINT_AGEING[k](img, rng, s)
    names = [k for k, v in cfg.damage.items() if v > 0]
    weights = np.array([cfg.damage[k] for k in names], float)
    kinds: dict[str, np.ndarray] = {}
    for _ in range(int(rng.integers(cfg.min_damages, cfg.max_damages + 1)) if names else 0):
        kind = names[int(rng.choice(len(names), p=weights / weights.sum()))]
        alpha, colour, m = polygon(rng, shape, cfg.polygon) if kind == "polygon" else MARKS[kind](rng, shape, s)
        img = img * (1 - alpha[..., None]) + colour * alpha[..., None]
        kinds[kind] = kinds.get(kind, np.zeros(shape, bool)) | m
    for k in applied:
        if k in SCAN_AGEING:
            img = SCAN_AGEING[k](img, rng, s)
    out = np.clip(img, 0, 255).round().astype(np.uint8)
    if gray_in:
        out = to_gray(out)
    mask = np.zeros(shape, bool)
    for m in kinds.values():
        mask |= m
    return Aged(out, mask.astype(np.uint8) * 255, kinds, lookalikes + applied)
