"""HOG family: histograms of oriented gradients on a fixed 64x64 grey copy, pooled.

The full descriptor (1,764 values) would let the classifier memorise layouts of one
source; pooling it to the mean and spread of each orientation keeps what is about
drawing style (how much structure runs in each direction, how evenly) in 18 numbers.
"""

from __future__ import annotations

import cv2
import numpy as np
from numba import njit

from ..preprocess import as_working_copy
from ._util import grey_uint8

__all__ = ["NAMES", "hog_descriptor", "hog_features"]

HOG_SIDE = 64
N_BINS = 9

NAMES = (
    *(f"mean_{i * 180 // N_BINS}" for i in range(N_BINS)),
    *(f"std_{i * 180 // N_BINS}" for i in range(N_BINS)),
)

# cv2's HOG is about 20x faster than skimage.feature.hog at this size and gives the
# same Dalal-Triggs blocks; the descriptor object is immutable, so one is shared.
_HOG = cv2.HOGDescriptor((HOG_SIDE, HOG_SIDE), (16, 16), (8, 8), (8, 8), N_BINS)


def hog_descriptor(image):
    """The full HOG descriptor of the 64x64 grey copy.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy

    Returns
    -------
    descriptor : ndarray of shape (n_blocks, 4, N_BINS), float64
        Block-normalised histograms: 7x7 blocks of 2x2 cells of 8x8 pixels.
    """
    return _compute(image).astype(np.float64).reshape(-1, 4, N_BINS)


def hog_features(image):
    """Mean and standard deviation of each HOG orientation bin over all cells.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy

    Returns
    -------
    features : ndarray of shape (18,), float64
        ``mean_<deg>``, ``std_<deg>``: over the 196 normalised cell histograms, for
        orientation bins starting at 0, 20, ..., 160 degrees.
    """
    return _pooled(_compute(image).reshape(-1, N_BINS))


def _compute(image):
    """OpenCV's HOG descriptor (float32, flat) of the working copy's 64x64 grey copy."""
    work = as_working_copy(image)
    small = cv2.resize(grey_uint8(work), (HOG_SIDE, HOG_SIDE), interpolation=cv2.INTER_AREA)
    return _HOG.compute(small)


# Pooling 196 cells of 9 bins is a few hundred additions; numpy's mean and std cost
# more in call overhead than in arithmetic. Same sums in the same order (numpy adds
# the rows of a C-ordered array one after another), so the same values.
@njit(cache=True, nogil=True)
def _pooled(cells):
    """``concatenate([c.mean(axis=0), c.std(axis=0)])`` of ``c = cells.astype(float64)``.

    Parameters
    ----------
    cells : ndarray of shape (n_cells, N_BINS), float32

    Returns
    -------
    features : ndarray of shape (2 * N_BINS,), float64
    """
    n, k = cells.shape
    out = np.zeros(2 * k)
    for i in range(n):
        for j in range(k):
            out[j] += np.float64(cells[i, j])
    for j in range(k):
        out[j] /= n
    for i in range(n):
        for j in range(k):
            d = np.float64(cells[i, j]) - out[j]
            out[k + j] += d * d
    for j in range(k):
        out[k + j] = np.sqrt(out[k + j] / n)
    return out
