"""Frequency Selective Reconstruction (FSR) of a photo's holes, every independent block at once.

Why: FSR is the best classical fill here (`benchmarks/fills.py`: 1-4 dB above Navier-Stokes and Telea
on every kind of damage), and the default fill. OpenCV's (opencv-contrib `cv2.xphoto.inpaint`,
INPAINT_FSR_FAST) extrapolates one block at a time, up to 100 iterations each with fresh matrices in
every iteration, so it took about half of a whole 512 px restore. The algorithm itself says which
blocks do not depend on each other: each round it takes the damaged blocks with the fewest damaged
neighbours, no two of them adjacent. Here every round is one batch (its windows and FFTs in numpy,
the per-block pursuit compiled with numba): the same algorithm (Seiler et al., TIP 2015, with the
spectral weighting of Genser et al., IWSSIP 2018, and the iteration count of Genser et al., IWSSIP
2017) with OpenCV's FAST profile, 4.4x faster on competition damage (`python benchmarks/speed.py`) and
as good inside the damage (`tests/test_fsr.py` holds it to OpenCV's; `python benchmarks/fills.py
--data data/train512 --split val --methods fsr fsr_opencv`). Unlike OpenCV's, its block grid counts a
photo's last, partial row and column of blocks.

The method, per damaged block: a window of the block and its surroundings (32 px with the FFT) is
modelled as a sparse sum of Fourier basis functions fitted to the known pixels, weighted by a window
that decays with distance from the block (rho) and counts already reconstructed pixels at half weight.
Each iteration picks the basis function that most reduces the weighted residual (low frequencies
preferred) and updates the residual in the frequency domain. Blocks too busy for their size are split
(16 -> 8 -> 4 px) and done later with a tighter window.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numba
import numpy as np


@dataclass(frozen=True)
class Profile:
    """FSR's parameters; the defaults are OpenCV's INPAINT_FSR_FAST profile."""

    block_size: int = 16
    block_size_min: int = 4
    fft_size: int = 32
    max_iter: int = 100
    min_iter: int = 20
    iter_const: float = 1000.0  # iterations per unit of the window's normalised standard deviation
    orthogonality_correction: float = 0.5
    reconstructed_weight: float = 0.5  # what a reconstructed pixel counts for in later windows
    rho: dict[int, float] = field(default_factory=lambda: {16: 0.80, 8: 0.70, 4: 0.66, 2: 0.64})
    # a block whose window's standard deviation (of 255) reaches this is split before extrapolating
    busy_luma: dict[int, float] = field(default_factory=lambda: {16: 0.014, 8: 0.030, 4: 0.090})
    busy_chroma: dict[int, float] = field(default_factory=lambda: {16: 0.006, 8: 0.010, 4: 0.028})


FAST = Profile()


def fsr_fill(image: np.ndarray, hole: np.ndarray, profile: Profile = FAST) -> np.ndarray:
    """uint8 gray (H, W) or RGB (H, W, 3) with its hole (`hole` > 0) filled by FSR; other pixels
    unchanged. A colour photo is filled in YCrCb, luma and chroma apart, as OpenCV does."""
    hole = np.asarray(hole) > 0
    if not hole.any():
        return image.copy()
    known = (~hole).astype(np.float64)
    if image.ndim == 2:
        out = _reconstruct(image.astype(np.float64), known, profile.busy_luma, profile)
    else:
        ycrcb = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb).astype(np.float64)
        planes = [
            _reconstruct(ycrcb[..., c], known, profile.busy_luma if c == 0 else profile.busy_chroma, profile)
            for c in range(3)
        ]
        out = cv2.cvtColor(_to_uint8(np.stack(planes, -1)), cv2.COLOR_YCrCb2RGB)
        return np.where(hole[..., None], out, image)
    return np.where(hole, _to_uint8(out), image)


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _block_any(mask: np.ndarray, size: int) -> np.ndarray:
    """(rows, cols) bool: whether each `size` block (the last row and column partial) has a True pixel."""
    h, w = mask.shape
    padded = np.pad(mask, ((0, -h % size), (0, -w % size)))
    return padded.reshape(padded.shape[0] // size, size, -1, size).any((1, 3))


def _window(y: int, x: int, size: int, border: int, shape: tuple[int, int]) -> tuple[slice, slice, int, int]:
    """A block's extrapolation window (its pixels, clipped to the photo) and the block's offset in it."""
    h, w = shape
    top, left = min(y * size, border), min(x * size, border)
    bottom = max(0, min(h - (y + 1) * size, border))
    right = max(0, min(w - (x + 1) * size, border))
    rows = slice(y * size - top, min(h, y * size + size + bottom))
    cols = slice(x * size - left, min(w, x * size + size + right))
    return rows, cols, top, left


@functools.lru_cache(maxsize=64)
def _decay(size: int, rho: float, cy: int, cx: int) -> np.ndarray:
    """The weight's fall-off, rho to the distance from the block's centre (cy, cx) in the FFT window."""
    uu, vv = np.mgrid[0:size, 0:size] + 0.5
    return rho ** np.hypot(uu - cy, vv - cx)


def _window_busyness(img: np.ndarray, known: np.ndarray, blocks: np.ndarray, size: int, border: int) -> np.ndarray:
    """How busy each listed block's window is: its known pixels' standard deviation, of 255 (NaN with
    none known). It sets a block's split and its number of iterations."""
    out = np.empty(len(blocks))
    for i, (y, x) in enumerate(blocks):
        rows, cols, _, _ = _window(int(y), int(x), size, border, img.shape)
        out[i] = _known_std(img[rows, cols], known[rows, cols])
    return out


@numba.njit(cache=True, nogil=True)
def _known_std(img: np.ndarray, known: np.ndarray) -> float:
    count, total, squares = 0.0, 0.0, 0.0
    for y in range(img.shape[0]):
        for x in range(img.shape[1]):
            if known[y, x] != 0:
                count += 1
                total += img[y, x]
                squares += img[y, x] * img[y, x]
    if count == 0:
        return np.nan
    return min(max(np.sqrt(max(squares / count - (total / count) ** 2, 0.0)) / 255, 0.0), 1.0)


def _neighbour_counts(damaged: np.ndarray) -> np.ndarray:
    """How many of each block's 8 neighbours are damaged, plus OpenCV's bonus for blocks on the photo's
    edge (5 in a corner, 3 on a side), which have fewer neighbours to learn from."""
    rows, cols = damaged.shape
    padded = np.pad(damaged.astype(np.int64), 1)
    nen = sum(padded[1 + dy : 1 + dy + rows, 1 + dx : 1 + dx + cols] for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)
    top, bottom = np.arange(rows)[:, None] == 0, np.arange(rows)[:, None] == rows - 1
    left, right = np.arange(cols)[None, :] == 0, np.arange(cols)[None, :] == cols - 1
    corner = (top & left).astype(int) + (top & right) + (bottom & left) + (bottom & right)
    side = (top & ~left & ~right).astype(int) + (bottom & ~left & ~right) + (left & ~top & ~bottom) + (right & ~top & ~bottom)
    nen = (nen + 5 * corner + 3 * side).astype(np.int64)
    nen[~damaged] = -1
    return nen


def _reconstruct(img: np.ndarray, known: np.ndarray, busy: dict[int, float], p: Profile) -> np.ndarray:
    """One channel (float64) with its unknown pixels (`known` == 0) reconstructed, block size by block
    size and round by round."""
    img, known = img.copy(), known.copy()
    size, todo = p.block_size, None
    while size >= p.block_size_min:
        border = (p.fft_size - size) // 2
        damaged = _block_any(known == 0, size)
        sigma = np.zeros(damaged.shape)
        if size > p.block_size_min:
            todo = damaged if todo is None else todo[: damaged.shape[0], : damaged.shape[1]]
            blocks = np.argwhere(todo)
            sigma[todo] = _window_busyness(img, known, blocks, size, border)
            process = todo & (sigma < busy[size])
            split = todo & ~(sigma < busy[size])
        else:
            process, split = np.ones_like(damaged), np.zeros_like(damaged)
        nen = _neighbour_counts(damaged)
        if nen.min() == 8:  # every block damaged: start from those with some known pixels
            nen[~_block_any(known != 0, size)] += 1
        while True:
            candidates = (nen >= 0) & process
            if not candidates.any():
                break
            ys, xs = np.nonzero(candidates & (nen == nen[candidates].min()))
            taken = np.zeros((nen.shape[0] + 2, nen.shape[1] + 2), bool)
            wave = []
            for y, x in zip(ys, xs):  # row by row, no two adjacent: OpenCV's order
                if not taken[y + 1, x + 1]:
                    wave.append((int(y), int(x)))
                    taken[y : y + 3, x : x + 3] = True
            _extrapolate(img, known, wave, size, border, sigma, p.rho[size], p)
            for y, x in wave:
                nen[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2] -= 1
                nen[y, x] = -1
        if not split.any():
            break
        todo = np.repeat(np.repeat(split, 2, 0), 2, 1)
        size //= 2
    return img


def _extrapolate(
    img: np.ndarray, known: np.ndarray, wave: list[tuple[int, int]], size: int, border: int, sigma: np.ndarray, rho: float, p: Profile
) -> None:
    """Extrapolate every block of one round at once, in place: its unknown pixels get the model's
    values and count as reconstructed from now on."""
    f_size, half = p.fft_size, p.fft_size // 2 + 1
    n = len(wave)
    f = np.zeros((n, f_size, f_size))
    weight = np.zeros((n, f_size, f_size))
    places = []
    for i, (y, x) in enumerate(wave):
        rows, cols, top, left = _window(y, x, size, border, img.shape)
        m, w = rows.stop - rows.start, cols.stop - cols.start
        oy, ox = (f_size - m) // 2, (f_size - w) // 2
        f[i, oy : oy + m, ox : ox + w] = img[rows, cols]
        weight[i, oy : oy + m, ox : ox + w] = known[rows, cols]
        weight[i] *= _decay(f_size, rho, oy + m // 2, ox + w // 2)
        places.append((rows, cols, oy, ox, top, left))
    blocks = np.array(wave)
    s = sigma[blocks[:, 0], blocks[:, 1]]
    if (unknown := s == 0).any():  # the smallest blocks were never measured for splitting
        s[unknown] = _window_busyness(img, known, blocks[unknown], size, border)
    iters = np.clip(np.rint(np.nan_to_num(p.iter_const * s, nan=0.0)), p.min_iter, p.max_iter).astype(np.int64)
    spectrum = np.fft.fft2(weight)
    residual = np.fft.rfft2(f * weight)
    fy = f_size / 2 - np.abs(np.arange(f_size)[:, None] - f_size / 2)
    fx = f_size / 2 - np.abs(np.arange(half)[None, :] - f_size / 2)
    low = 1 - np.sqrt(fx**2 + fy**2) * np.sqrt(2) / f_size  # prefer low frequencies (Genser 2018)
    model = _pursue(spectrum, residual, iters, low, p.orthogonality_correction)
    pixels = np.fft.irfft2(model[:, :, :half], s=(f_size, f_size))  # the model is real: its half spectrum
    for i, (rows, cols, oy, ox, top, left) in enumerate(places):
        if spectrum[i, 0, 0].real <= 0:
            continue
        core = (slice(rows.start + top, min(rows.start + top + size, rows.stop)), slice(cols.start + left, min(cols.start + left + size, cols.stop)))
        h, w = core[0].stop - core[0].start, core[1].stop - core[1].start
        fresh = known[core] == 0
        img[core][fresh] = pixels[i, oy + top : oy + top + h, ox + left : ox + left + w][fresh]
        known[core][fresh] = p.reconstructed_weight


@numba.njit(cache=True, nogil=True)
def _pursue(spectrum: np.ndarray, residual: np.ndarray, iters: np.ndarray, low: np.ndarray, correction: float) -> np.ndarray:
    """The selective pursuit of every block: `iters[i]` times, take the basis function (with its complex
    conjugate, so the model stays real) that best explains block i's weighted residual and subtract its
    weighted contribution, a shifted copy of the weight's spectrum. Compiled: one iteration is a few
    thousand multiply-adds, too small for numpy calls to pay."""
    n, size, half = residual.shape
    model = np.zeros((n, size, size), np.complex128)
    low2 = low * low
    tiled = np.empty((2 * size, 2 * size), np.complex128)  # the spectrum twice over: shifts without a modulo
    for i in range(n):
        energy = spectrum[i, 0, 0].real
        if energy <= 0:  # nothing known in the window: left for a later size, or as it was
            continue
        for y in range(2 * size):
            for x in range(2 * size):
                tiled[y, x] = spectrum[i, y % size, x % size]
        done = 0
        while done < iters[i]:
            best, u, v = -1.0, 0, 0
            for y in range(size):
                for x in range(half):
                    r = residual[i, y, x]
                    d = (r.real * r.real + r.imag * r.imag) * low2[y, x]
                    if d > best:
                        best, u, v = d, y, x
            r = residual[i, u, v]
            if (v == 0 or v == size // 2) and u > size // 2:  # the first half of those columns
                u = size - u
                r = np.conj(r)
                residual[i, u, v] = r
            paired = not ((u == 0 or u == size // 2) and (v == 0 or v == size // 2))
            c = correction * r / energy
            model[i, u, v] += size * size * c
            uc, vc = (size - u) % size, (size - v) % size
            if paired:
                model[i, uc, vc] = np.conj(model[i, u, v])
                cc = np.conj(c)
                for y in range(size):
                    for x in range(half):
                        residual[i, y, x] -= c * tiled[y - u + size, x - v + size] + cc * tiled[y - uc + size, x - vc + size]
            else:
                for y in range(size):
                    for x in range(half):
                        residual[i, y, x] -= c * tiled[y - u + size, x - v + size]
            done += 2 if paired else 1
    return model
