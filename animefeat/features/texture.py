"""Texture family: micro-patterns of the grey view (uniform local binary patterns).

Flat cartoon fills give almost only the "flat" LBP code; anime's shading, hair
strands and screentone spread the histogram over edges, corners and spots.
"""

from __future__ import annotations

import numpy as np
from skimage.feature import local_binary_pattern

from ..preprocess import as_working_copy
from ._util import entropy_bits, grey_uint8

__all__ = ["NAMES", "texture_features"]

P, R = 8, 1
# Uniform LBP has P + 2 codes: 0..P count set neighbours of a uniform pattern
# (0 = spot/dark centre ... P = flat or bright centre), P + 1 = non-uniform.
N_CODES = P + 2

NAMES = (*(f"lbp_{i}" for i in range(N_CODES)), "lbp_entropy")


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
    # Integer grey avoids spurious codes from float noise on flat fills.
    # Edge-padded so the image border does not invent patterns (skimage samples 0 there).
    padded = np.pad(grey_uint8(work), R + 1, mode="edge")
    codes = local_binary_pattern(padded, P, R, method="uniform").astype(int)
    codes = codes[R + 1:-(R + 1), R + 1:-(R + 1)]
    hist = np.bincount(codes[work.foreground], minlength=N_CODES).astype(np.float64)
    return np.array([*(hist / hist.sum()), entropy_bits(hist)], dtype=np.float64)
