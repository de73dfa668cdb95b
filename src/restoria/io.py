"""Image and CSV input/output that never corrupts a user's files.

Every reader turns a bad file into an :class:`InputError` naming the file and the reason, so a batch
command can report one clear line and go on with the rest. Every writer writes to a temporary name in
the destination folder and renames it, so a kill leaves only complete files behind.
"""

from __future__ import annotations

import csv
import os
import re
import secrets
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, ImageOps

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
# Largest image we agree to decode (pixels): Pillow's decompression-bomb threshold (89.5 megapixels,
# 358 MB as RGBA). Larger files are refused from their header, before any pixel is decoded.
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485


class InputError(Exception):
    """A user's input is unusable; the message names the file and the reason."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Scale 16-bit/float pixel data to 8 bits (by the dtype's range, not the image's)."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.uint16 or arr.dtype == np.int32 or arr.dtype == np.uint32:
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        return np.clip(np.round(arr.astype(np.float64) * 255.0 / top), 0, 255).astype(np.uint8)
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        scale = 255.0 if arr.max(initial=0) <= 1.0 else 1.0
        return np.clip(np.round(arr * scale), 0, 255).astype(np.uint8)
    return np.clip(arr, 0, 255).astype(np.uint8)


def read_image(path: str | os.PathLike, mode: str = "RGB") -> np.ndarray:
    """Read an image as uint8, `mode` "RGB" (H, W, 3) or "L" (H, W).

    EXIF orientation is applied, alpha is composited on white, palette/CMYK/16-bit images are
    converted. Raises InputError for missing, empty, truncated, non-image or oversized files.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(p, "file not found")
    if p.is_dir():
        raise InputError(p, "is a folder, not an image")
    if p.stat().st_size == 0:
        raise InputError(p, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise InputError(p, _too_large(f"{im.width}x{im.height}"))
                im.load()
                im = ImageOps.exif_transpose(im)
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses far larger images inside Image.open, before we see their size
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise InputError(p, _too_large(f"{int(found.group(1)):,} pixels" if found else str(exc))) from None
    except Exception as exc:  # PIL raises many types for broken files
        raise InputError(p, f"not a readable image ({type(exc).__name__}: {exc})") from None
    return _convert(im, mode)


def _too_large(size: str) -> str:
    return f"image too large ({size}; at most {MAX_PIXELS / 1e6:.1f} megapixels are decoded, against decompression bombs)"


def _convert(im: Image.Image, mode: str) -> np.ndarray:
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, rgba).convert("RGB")
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = _to_uint8(np.asarray(im))
        im = Image.fromarray(arr, mode="L")
    if im.mode not in ("L", "RGB"):
        im = im.convert("RGB")
    return np.asarray(im.convert(mode)).copy()


def is_gray(rgb: np.ndarray, tolerance: int = 2) -> bool:
    """True when an RGB image carries no colour (all channels equal within `tolerance`)."""
    if rgb.ndim == 2:
        return True
    spread = rgb.max(axis=-1).astype(np.int16) - rgb.min(axis=-1).astype(np.int16)
    return bool(np.percentile(spread, 99) <= tolerance)


@contextmanager
def atomic_path(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; rename it onto `dest` only if the block succeeds. The file
    is created as `open(..., "w")` would (0666 under the umask), not private like mkstemp's 0600, so
    outputs are as readable as any file the user makes."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp_path = dest.parent / f".{dest.name}.{secrets.token_hex(6)}.part"
        try:
            os.close(os.open(tmp_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_png(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write a uint8 gray (H, W) or RGB (H, W, 3) PNG atomically."""
    image = np.ascontiguousarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"write_png expects uint8, got {image.dtype}")
    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format="PNG")


def list_images(sources: list[str | os.PathLike]) -> list[Path]:
    """Expand files and folders (recursively) into a sorted list of image files."""
    found: list[Path] = []
    for src in sources:
        p = Path(src)
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*") if q.suffix.lower() in IMAGE_SUFFIXES and q.is_file()))
        else:
            found.append(p)
    return found


def resolve_inside(root: Path, relative: str, what: str) -> Path:
    """Resolve a CSV path relative to its CSV's folder, refusing anything that escapes it."""
    if not relative:
        raise InputError(root, f"empty {what}")
    candidate = Path(relative)
    if candidate.is_absolute():
        raise InputError(relative, f"{what} must be relative to {root}, not absolute")
    resolved = (root / candidate).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise InputError(relative, f"{what} escapes the dataset folder {root}")
    return resolved


def read_csv(
    path: str | os.PathLike, required: tuple[str, ...], errors: list[InputError] | None = None
) -> list[dict[str, str]]:
    """Read a layout CSV, checking its columns and that IDs are present, unique and plain file names.

    Without `errors` the first bad row raises (training data must be clean). With it, each bad row is
    reported there and skipped, so a batch command goes on with the others; of rows sharing an ID only
    the first is kept, so one output never overwrites another."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "file not found")
    with open(p, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(p, f"missing column(s) {', '.join(missing)}")
        rows = list(reader)
    first: dict[str, int] = {}
    kept = []
    for i, row in enumerate(rows, start=2):
        rid = (row.get("ID") or "").strip()
        if not rid:
            problem = "empty ID"
        elif rid in first:
            problem = f"duplicate ID {rid} (first on line {first[rid]})"
        elif "/" in rid or "\\" in rid or os.sep in rid or rid.startswith("."):
            problem = f"ID {rid!r} is not a plain name"
        else:
            first[rid] = i
            kept.append(row)
            continue
        if errors is None:
            raise InputError(p, f"line {i}: {problem}")
        errors.append(InputError(p, f"line {i}: {problem}; row skipped"))
    return kept


def write_csv(path: str | os.PathLike, rows: list[dict[str, object]], columns: list[str]) -> None:
    """Write rows atomically with a fixed column order."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
