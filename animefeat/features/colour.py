"""Colour family: palette size, flat fills versus soft shading, saturation, skin tones.

Western cartoons fill regions with a handful of flat colours; anime adds cel shading,
gradients and highlights, so it needs more colours to cover the same pixels and has
more smoothly varying regions. Anime skin is typically paler and less saturated.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..preprocess import as_working_copy
from ._util import entropy_bits, foreground_pixels, masked, safe_ratio

__all__ = ["NAMES", "colour_features", "palette_counts"]

# 5 bits per channel: JPEG noise stays inside a bin, distinct paints do not.
BITS = 5
COVERAGES = (0.90, 0.95, 0.99)
# Grey slope per working pixel (after a 5x5 blur that removes JPEG noise) below which a
# pixel is a flat fill, and up to which it is soft shading rather than an edge.
FLAT_SLOPE, SHADING_SLOPE = 0.004, 0.04
N_HUES = 18
# Coarse hue histogram: anime palettes lean to pastel pinks, violets and cyans (hair,
# eyes), western cartoons to primaries. 30-degree bins starting at red.
N_HUE_BINS = 12

NAMES = (
    *(f"colours_{round(c * 100)}" for c in COVERAGES),
    "palette_entropy",
    "flat_share",
    "shading_share",
    "saturation_mean",
    "saturation_std",
    "value_mean",
    "value_std",
    "hue_entropy",
    "skin_share",
    "skin_value_mean",
    "skin_saturation_mean",
    *(f"hue_{i * 360 // N_HUE_BINS}" for i in range(N_HUE_BINS)),
)


def palette_counts(image, *, bits=BITS):
    """Pixel counts of the quantised colours of the foreground, largest first.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy
    bits : int
        Bits kept per channel.

    Returns
    -------
    counts : ndarray of shape (n_colours,), int64
    """
    work = as_working_copy(image)
    q = (foreground_pixels(work) >> (8 - bits)).astype(np.intp)
    keys = (q[:, 0] << (2 * bits)) | (q[:, 1] << bits) | q[:, 2]
    counts = np.bincount(keys)
    return np.sort(counts[counts > 0])[::-1]


def colour_features(image):
    """Palette size, flat/shaded share, saturation, value and skin-tone statistics.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy

    Returns
    -------
    features : ndarray of shape (len(NAMES),), float64
        ``colours_<p>``: fewest quantised colours (5 bits/channel) covering p% of the
        foreground. ``palette_entropy``: entropy of the quantised palette, in bits.
        ``flat_share``/``shading_share``: foreground share whose grey slope (after a
        5x5 blur) is below 0.004 / between 0.004 and 0.04 per working pixel. ``saturation_*``,
        ``value_*``: HSV statistics in [0, 1]. ``hue_entropy``: entropy (bits) of the
        18-bin hue histogram of saturated pixels. ``skin_share``: foreground share
        in the YCrCb skin range; ``skin_value_mean``/``skin_saturation_mean`` over it
        (NaN without skin). ``hue_<deg>``: foreground share of saturated pixels
        (saturation and value over 0.2) whose hue lies in the 30-degree bin starting at <deg>.
    """
    work = as_working_copy(image)
    fg = work.foreground
    area = fg.sum()

    counts = palette_counts(work)
    cumulative = np.cumsum(counts) / counts.sum()
    n_cover = [float(np.searchsorted(cumulative, c) + 1) for c in COVERAGES]

    smooth = cv2.GaussianBlur(work.grey, (5, 5), 0)
    slope = cv2.magnitude(cv2.Sobel(smooth, cv2.CV_64F, 1, 0, ksize=3),
                          cv2.Sobel(smooth, cv2.CV_64F, 0, 1, ksize=3))
    slope = masked(slope, fg) / 8.0  # Sobel gain is 8
    flat = safe_ratio((slope < FLAT_SLOPE).sum(), area)
    shading = safe_ratio(((slope >= FLAT_SLOPE) & (slope < SHADING_SLOPE)).sum(), area)

    hue, sat, val = masked(work.hsv, fg).T
    saturated = (sat > 0.2) & (val > 0.2)
    hue_hist = np.bincount((hue[saturated] * N_HUES).astype(int) % N_HUES, minlength=N_HUES)
    # Shift by half a bin so that reds (hue near 0 and near 1) share the first bin.
    coarse = np.bincount(((hue[saturated] + 0.5 / N_HUE_BINS) * N_HUE_BINS).astype(int)
                         % N_HUE_BINS, minlength=N_HUE_BINS) / max(area, 1)

    skin = masked(_skin_mask(work.rgb), fg)
    n_skin = skin.sum()
    return np.array([
        *n_cover,
        entropy_bits(counts),
        flat,
        shading,
        float(sat.mean()),
        float(sat.std()),
        float(val.mean()),
        float(val.std()),
        entropy_bits(hue_hist),
        safe_ratio(n_skin, area),
        float(val[skin].mean()) if n_skin else float("nan"),
        float(sat[skin].mean()) if n_skin else float("nan"),
        *coarse,
    ], dtype=np.float64)


def _skin_mask(rgb):
    """Classic YCrCb skin rule (Chai & Ngan, 1999): works for drawn skin as well as real."""
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    cr, cb = ycrcb[..., 1], ycrcb[..., 2]
    return (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127) & (ycrcb[..., 0] > 60)
