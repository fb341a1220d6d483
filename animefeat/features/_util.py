"""Small helpers the feature families share."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["entropy_bits", "foreground_pixels", "grey_uint8", "masked", "safe_ratio"]


def grey_uint8(work):
    """The working copy's grey view as uint8, computed once per working copy."""
    if "grey_u8" not in work.cache:
        work.cache["grey_u8"] = np.rint(work.grey * 255).astype(np.uint8)
    return work.cache["grey_u8"]


def masked(values, mask):
    """``values[mask]`` for a 2-D mask, with np.compress (several times faster here).

    Parameters
    ----------
    values : ndarray of shape (h, w) or (h, w, c)
    mask : ndarray of shape (h, w), bool

    Returns
    -------
    selected : ndarray of shape (mask.sum(),) or (mask.sum(), c)
    """
    flat = values.reshape(mask.size, -1) if values.ndim == 3 else values.ravel()
    return np.compress(mask.ravel(), flat, axis=0)


def foreground_pixels(work):
    """The working copy's foreground RGB pixels, shape (n, 3) uint8, cached."""
    if "fg_rgb" not in work.cache:
        work.cache["fg_rgb"] = masked(work.rgb, work.foreground)
    return work.cache["fg_rgb"]


def gradients(work):
    """Sobel gradients ``gx``, ``gy`` and their magnitude, of the grey view, cached."""
    if "gradients" not in work.cache:
        gx = cv2.Sobel(work.grey, cv2.CV_64F, 1, 0, ksize=3)
        gy = cv2.Sobel(work.grey, cv2.CV_64F, 0, 1, ksize=3)
        work.cache["gradients"] = (gx, gy, cv2.magnitude(gx, gy))
    return work.cache["gradients"]


def entropy_bits(counts):
    """Shannon entropy, in bits, of a histogram of counts (0 for an empty one)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return 0.0
    p = counts[counts > 0] / total
    return float(-(p * np.log2(p)).sum())


def safe_ratio(numerator, denominator):
    """``numerator / denominator``, or NaN where the denominator is 0 (not measurable)."""
    return float(numerator) / float(denominator) if denominator else float("nan")
