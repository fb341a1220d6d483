"""Texture family: micro-patterns of the grey view (uniform local binary patterns).

Flat cartoon fills give almost only the "flat" LBP code; anime's shading, hair
strands and screentone spread the histogram over edges, corners and spots.
"""

from __future__ import annotations

import cv2
import numpy as np
from numba import njit

from ..preprocess import as_working_copy
from ._util import entropy_bits, grey_uint8

__all__ = ["NAMES", "lbp_codes", "texture_features"]

P, R = 8, 1
# Uniform LBP has P + 2 codes: 0..P count set neighbours of a uniform pattern
# (0 = a centre brighter than all its neighbours ... P = flat, or a dark spot), P + 1 =
# non-uniform.
N_CODES = P + 2

NAMES = (*(f"lbp_{i}" for i in range(N_CODES)), "lbp_entropy")


def lbp_codes(grey):
    """Rotation-invariant uniform local binary patterns, P=8 and R=1.

    The definition of :func:`skimage.feature.local_binary_pattern` with
    ``method="uniform"`` (neighbours on a circle, the diagonal ones bilinearly
    interpolated; a neighbour counts when it is at least the centre), in one compiled
    pass with a table from bit pattern to code. Ties are taken with a tolerance of
    1e-6 grey levels, so interpolation rounding on flat fills never invents a
    pattern. The border is edge-padded.

    Parameters
    ----------
    grey : ndarray of shape (h, w)
        Grey levels (any real type).

    Returns
    -------
    codes : ndarray of shape (h, w), intp
        0..P: how many neighbours are set, for uniform patterns (at most two 0/1
        changes around the circle); P + 1 for all others.
    """
    # Two pixels of padding: every neighbour reads its four bilinear corners, the
    # unused ones with weight 0 (which leaves the sum unchanged).
    padded = cv2.copyMakeBorder(np.asarray(grey, dtype=np.float64), R + 1, R + 1, R + 1, R + 1,
                                cv2.BORDER_REPLICATE)
    return _lbp(padded, _OFFSETS, _WEIGHTS, _CODE_OF_PATTERN)


def _sampling_points():
    """Each neighbour's corner offsets (row, column) and bilinear corner weights.

    Returns
    -------
    offsets : ndarray of shape (P, 2), intp
    weights : ndarray of shape (P, 4), float64
        For the corners (y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1).
    """
    offsets, weights = [], []
    for i in range(P):
        # skimage's sampling points: rounded to 5 decimals, row axis pointing down.
        y = round(-R * np.sin(2 * np.pi * i / P), 5)
        x = round(R * np.cos(2 * np.pi * i / P), 5)
        y0, x0 = int(np.floor(y)), int(np.floor(x))
        fy, fx = y - y0, x - x0
        offsets.append((y0, x0))
        weights.append(((1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx))
    return np.array(offsets, dtype=np.intp), np.array(weights)


def _code_table():
    """The uniform code of each of the 2**P neighbour bit patterns (bit i: neighbour i)."""
    table = np.empty(2 ** P, dtype=np.intp)
    for pattern in range(2 ** P):
        bits = [(pattern >> i) & 1 for i in range(P)]
        # skimage counts the P - 1 changes between consecutive neighbours (not around).
        changes = sum(bits[i] != bits[i + 1] for i in range(P - 1))
        table[pattern] = sum(bits) if changes <= 2 else P + 1
    return table


_OFFSETS, _WEIGHTS = _sampling_points()
_CODE_OF_PATTERN = _code_table()


# One compiled pass (numba) instead of some sixty whole-image numpy operations.
@njit(cache=True, nogil=True)
def _lbp(padded, offsets, weights, table):
    pad = R + 1
    h, w = padded.shape[0] - 2 * pad, padded.shape[1] - 2 * pad
    codes = np.empty((h, w), dtype=np.intp)
    patterns = np.empty(w, dtype=np.intp)
    for r in range(h):
        centre = padded[r + pad, pad:pad + w]
        patterns[:] = 0
        # Neighbour by neighbour along the row: the inner loop is plain arithmetic on
        # contiguous memory, which the compiler vectorises.
        for i in range(P):
            top, left = r + pad + offsets[i, 0], pad + offsets[i, 1]
            above, below = padded[top], padded[top + 1]
            w00, w01, w10, w11 = weights[i, 0], weights[i, 1], weights[i, 2], weights[i, 3]
            bit = 1 << i
            if w00 == 1 and w01 == 0 and w10 == 0 and w11 == 0:
                # A neighbour on an axis is a pixel: no interpolation (the same value).
                for c in range(w):
                    if above[left + c] - centre[c] >= -1e-6:
                        patterns[c] |= bit
                continue
            for c in range(w):
                x = left + c
                value = (w00 * above[x] + w01 * above[x + 1]
                         + w10 * below[x] + w11 * below[x + 1])
                if value - centre[c] >= -1e-6:
                    patterns[c] |= bit
        for c in range(w):
            codes[r, c] = table[patterns[c]]
    return codes


def texture_features(image):
    """Histogram of uniform local binary patterns over the foreground.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy

    Returns
    -------
    features : ndarray of shape (len(NAMES),), float64
        ``lbp_<k>``: share of foreground pixels with uniform LBP code k (P=8, R=1;
        sums to 1). ``lbp_entropy``: entropy of that histogram, in bits.
    """
    work = as_working_copy(image)
    # Integer grey: JPEG-level float noise on flat fills is not a pattern.
    codes = lbp_codes(grey_uint8(work))
    hist = np.bincount(codes[work.foreground], minlength=N_CODES).astype(np.float64)
    return np.array([*(hist / hist.sum()), entropy_bits(hist)], dtype=np.float64)
