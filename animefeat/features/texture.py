"""Texture family: micro-patterns of the grey view (uniform local binary patterns).

Flat cartoon fills give almost only the "flat" LBP code; anime's shading, hair
strands and screentone spread the histogram over edges, corners and spots.
"""

from __future__ import annotations

import numpy as np

from ..preprocess import as_working_copy
from ._util import entropy_bits, grey_uint8, masked

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
    interpolated; a neighbour counts when it is at least the centre), computed with
    eight whole-image array operations instead of a per-pixel loop. Ties are taken
    with a tolerance of 1e-6 grey levels, so interpolation rounding on flat fills
    never invents a pattern. The border is edge-padded.

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
    g = np.pad(np.asarray(grey, dtype=np.float64), R, mode="edge")
    h, w = g.shape[0] - 2 * R, g.shape[1] - 2 * R

    def at(dy, dx):
        return g[R + dy:R + dy + h, R + dx:R + dx + w]

    centre = at(0, 0)
    bits = []
    for i in range(P):
        # skimage's sampling points: rounded to 5 decimals, row axis pointing down.
        y = round(-R * np.sin(2 * np.pi * i / P), 5)
        x = round(R * np.cos(2 * np.pi * i / P), 5)
        y0, x0 = int(np.floor(y)), int(np.floor(x))
        fy, fx = y - y0, x - x0
        value = (1 - fy) * (1 - fx) * at(y0, x0)
        if fx:
            value = value + (1 - fy) * fx * at(y0, x0 + 1)
        if fy:
            value = value + fy * (1 - fx) * at(y0 + 1, x0)
        if fx and fy:
            value = value + fy * fx * at(y0 + 1, x0 + 1)
        bits.append(value - centre >= -1e-6)
    ones = np.sum(bits, axis=0)
    changes = np.sum([bits[i] != bits[i + 1] for i in range(P - 1)], axis=0)
    return np.where(changes <= 2, ones, P + 1)


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
    hist = np.bincount(masked(codes, work.foreground), minlength=N_CODES).astype(np.float64)
    return np.array([*(hist / hist.sum()), entropy_bits(hist)], dtype=np.float64)
