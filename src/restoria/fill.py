"""Classical inpainting of a known hole (OpenCV's Navier-Stokes or Telea, or Frequency Selective
Reconstruction, `restoria.fsr`): the default fill stage and the learned refiner's start.

Why: propagating the boundary's isophotes into the hole keeps the structure that SSIM rewards, where a
U-Net trained with L1/MSE fills with a blurred mean. FSR (Seiler et al., TIP 2015; Genser et al., PCS
2018; `restoria.fsr`, opencv-contrib's `cv2.xphoto.inpaint` batched) goes further on the competition's
large polygons: it models each block around the hole as a sparse sum of Fourier basis functions fitted
to the known pixels, so texture and edges continue through the hole instead of smearing from its rim;
it is also the slowest (0.16 s a 512 px photo against Telea's 0.01 s in `benchmarks/speed.py`). The model
card compares them (`python benchmarks/fills.py`). The learned stage can start from any of them and
learn a residual (`TwoStageRestorer(refine=...)`); `Restorer(fill=...)` offers each alone.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import torch

from restoria.fsr import fsr_fill

METHODS = ("ns", "telea", "fsr")

# FSR (INPAINT_FSR_FAST) cuts the image into 16 px blocks on a grid from its top-left corner, splits
# busy ones down to 4 px, and extrapolates each damaged block from the block plus (fft_size 32 - block
# size) / 2 <= 14 px around it, in an order set by which of its 8 neighbour blocks are damaged. A
# window of whole blocks that keeps one clean block around the damage therefore sees every pixel and
# every neighbour the whole-image run would, and damage 32+ px apart never shares or touches a block.
FSR_BLOCK = 16
# Windows covering more than this share of the photo: one whole-image fill costs no more.
WHOLE_IMAGE_SHARE = 0.5


def fill_cell(method: str, radius: int = 3) -> int:
    """The cell (px) of the windows `method` needs to fill a window as it fills the whole image: FSR's
    own block; for ns and telea twice their neighbourhood `radius` (OpenCV also marches a `radius`-wide
    ring outside the hole) plus a few pixels for gradients and its 1 px border."""
    return FSR_BLOCK if method == "fsr" else 2 * radius + 4


def fill_in_windows(
    fill: Callable[[np.ndarray, np.ndarray], np.ndarray], image: np.ndarray, hole: np.ndarray, cell: int
) -> np.ndarray:
    """`fill(image, hole)` run only on a window around each damaged region, and only that region's
    pixels pasted back: the fills cost by the damage, not the photo. The photo is cut into `cell`-sized
    cells from its corner; each region's window is its damaged cells' box plus one cell (clipped to the
    photo), so it holds at least `cell` px of context, and damage within two cells shares a window (a
    dilation by one cell before `connectedComponentsWithStats`), so damage in separate windows is more
    than 2 * `cell` px apart. Found on the cells, not the pixels: a 32x32 map at 512x512 with FSR.
    Windows covering most of the photo fall back to one whole-image fill."""
    hole = np.asarray(hole, bool)
    h, w = hole.shape
    padded = np.pad(hole.view(np.uint8), ((0, -h % cell), (0, -w % cell)))
    rows, cols = padded.shape[0] // cell, padded.shape[1] // cell
    damaged = padded.reshape(rows, cell, -1).max(1).reshape(rows, cols, cell).max(2)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(damaged, np.ones((3, 3), np.uint8)), connectivity=8)
    windows = []
    for label in range(1, count):
        x, y, bw, bh = (int(v) for v in stats[label, :4])  # in cells: the damage's plus one, clipped
        pixels = (slice(y * cell, min(h, (y + bh) * cell)), slice(x * cell, min(w, (x + bw) * cell)))
        windows.append((label, (y, y + bh, x, x + bw), pixels))
    if sum((r.stop - r.start) * (c.stop - c.start) for *_, (r, c) in windows) > WHOLE_IMAGE_SHARE * h * w:
        return fill(image, hole)
    out = image.copy()
    for label, (y0, y1, x0, x1), (r, c) in windows:
        mine = np.repeat(np.repeat(labels[y0:y1, x0:x1] == label, cell, 0), cell, 1)
        region = hole[r, c] & mine[: r.stop - r.start, : c.stop - c.start]
        filled = fill(np.ascontiguousarray(image[r, c]), region)
        out[r, c][region] = filled[region]
    return out


def classical_fill_image(
    gray: np.ndarray, mask: np.ndarray, method: str = "ns", radius: int = 3, windowed: bool = True
) -> np.ndarray:
    """uint8 (H, W) gray, or (H, W, 3) colour filled in its own colours, with its hole (`mask` > 0)
    filled by `method`; other pixels unchanged. `radius` is the neighbourhood of ns and telea (FSR
    chooses its own blocks). `windowed` fills a window around each damaged region (`fill_in_windows`):
    the whole-image fill (bit-exact in tests/test_fill.py) without a pass over the whole photo, which
    counts on large photos with small damage; FSR's cost is mostly its damaged blocks' either way."""
    if method not in METHODS:
        raise ValueError(f"fill method must be one of {', '.join(METHODS)}, got {method!r}")
    hole = mask > 0
    if not hole.any():
        return gray.copy()

    def fill(image: np.ndarray, region: np.ndarray) -> np.ndarray:
        if method == "fsr":
            return fsr_fill(image, region)
        return cv2.inpaint(image, region.astype(np.uint8), radius, cv2.INPAINT_NS if method == "ns" else cv2.INPAINT_TELEA)

    if not windowed:
        return fill(gray, hole)
    return fill_in_windows(fill, gray, hole, fill_cell(method, radius))


def xphoto_fill(gray: np.ndarray, mask: np.ndarray, algorithm: str = "INPAINT_FSR_FAST") -> np.ndarray:
    """uint8 (H, W) gray with its hole (`mask` > 0) filled by opencv-contrib's `cv2.xphoto.inpaint`
    with the named `algorithm` (INPAINT_FSR_FAST, INPAINT_FSR_BEST or INPAINT_SHIFTMAP, which needs
    three channels); other pixels unchanged. Not offered by `restore`: `benchmarks/fills.py` compares
    them, OpenCV's FSR_FAST being the reference `restoria.fsr` is held to."""
    if not hasattr(cv2, "xphoto"):
        raise RuntimeError(
            f"OpenCV's {algorithm} needs opencv-contrib (cv2.xphoto), but this cv2 has none: pip uninstall opencv-python "
            "opencv-python-headless, then pip install opencv-contrib-python-headless==5.0.0.93"
        )
    hole = mask > 0
    single = gray.ndim == 2
    src = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR) if algorithm == "INPAINT_SHIFTMAP" and single else gray
    h, w = hole.shape
    pad_h, pad_w = (0, 0) if src.ndim == 2 else (-h % FSR_BLOCK, -w % FSR_BLOCK)
    if pad_h or pad_w:
        # OpenCV's colour FSR leaves the hole unfilled in a last, partial 16 px block row or column:
        # give it whole blocks, mirrored (the hole mirrored too, so no damaged pixel counts as known)
        src = cv2.copyMakeBorder(src, 0, pad_h, 0, pad_w, cv2.BORDER_REFLECT_101)
        known = cv2.copyMakeBorder((~hole).astype(np.uint8), 0, pad_h, 0, pad_w, cv2.BORDER_REFLECT_101)
    else:
        known = (~hole).astype(np.uint8)
    out = np.empty_like(src)
    cv2.xphoto.inpaint(src, known, out, getattr(cv2.xphoto, algorithm))  # its mask marks the known pixels
    out = out[:h, :w]
    if single:
        return np.where(hole, out if out.ndim == 2 else out[..., 0], gray)
    return np.where(hole[..., None], out, gray)


def classical_fill(gray: torch.Tensor, mask: torch.Tensor, method: str = "ns", radius: int = 3) -> torch.Tensor:
    """(B, 1, H, W) gray in [0, 1] and its damage (> 0.5 = lost) -> the same with each hole filled by
    `classical_fill_image` (on the 8-bit values, as the photo was read)."""
    grays = gray.detach().float().clamp(0, 1).mul(255).round().byte().cpu().numpy()[:, 0]
    holes = (mask.detach() > 0.5).cpu().numpy()[:, 0]
    filled = np.stack([classical_fill_image(g, h, method, radius) for g, h in zip(grays, holes)])
    return torch.from_numpy(filled).to(gray.device, gray.dtype).div(255).unsqueeze(1)
