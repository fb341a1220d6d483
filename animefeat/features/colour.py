"""Colour family: palette size, flat fills versus soft shading, saturation, skin tones.

Western cartoons fill regions with a handful of flat colours; anime adds cel shading,
gradients and highlights, so it needs more colours to cover the same pixels and has
more smoothly varying regions. Anime skin is typically paler and less saturated.
"""

from __future__ import annotations

import cv2
import numpy as np
from numba import njit

from ..preprocess import as_working_copy
from ._util import entropy_bits, foreground_pixels, safe_ratio

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
    return _palette_counts(foreground_pixels(work), bits)


@njit(cache=True, nogil=True)
def _palette_counts(pixels, bits):
    """:func:`palette_counts` of RGB pixels, shape (n, 3) uint8, in one compiled pass."""
    shift = 8 - bits
    counts = np.zeros(1 << (3 * bits), dtype=np.int64)
    # The colours met, so that only they are read back (a few hundred of 32,768 bins).
    used = np.empty(pixels.shape[0], dtype=np.intp)
    n_used = 0
    for i in range(pixels.shape[0]):
        r, g, b = np.intp(pixels[i, 0]), np.intp(pixels[i, 1]), np.intp(pixels[i, 2])
        key = ((r >> shift) << (2 * bits)) | ((g >> shift) << bits) | (b >> shift)
        if counts[key] == 0:
            used[n_used] = key
            n_used += 1
        counts[key] += 1
    out = np.empty(n_used, dtype=np.int64)
    for j in range(n_used):
        out[j] = counts[used[j]]
    out.sort()
    return out[::-1].copy()


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
    area = np.count_nonzero(fg)

    counts = palette_counts(work)
    cumulative = np.cumsum(counts) / counts.sum()
    n_cover = [float(np.searchsorted(cumulative, c) + 1) for c in COVERAGES]

    smooth = cv2.GaussianBlur(work.grey, (5, 5), 0)
    slope = cv2.magnitude(cv2.Sobel(smooth, cv2.CV_64F, 1, 0, ksize=3),
                          cv2.Sobel(smooth, cv2.CV_64F, 0, 1, ksize=3))
    ycrcb = cv2.cvtColor(work.rgb, cv2.COLOR_RGB2YCrCb)
    stats, hue_hist, coarse = _pixel_stats(fg, work.hsv_uint8, ycrcb, slope)
    flat, shading, sat_mean, sat_std, val_mean, val_std, n_skin, skin_val, skin_sat = stats
    return np.array([
        *n_cover,
        entropy_bits(counts),
        safe_ratio(flat, area),
        safe_ratio(shading, area),
        sat_mean,
        sat_std,
        val_mean,
        val_std,
        entropy_bits(hue_hist),
        safe_ratio(n_skin, area),
        skin_val if n_skin else float("nan"),
        skin_sat if n_skin else float("nan"),
        # Shares of the foreground, not of the saturated pixels.
        *(coarse / max(area, 1)),
    ], dtype=np.float64)


# HSV bytes in [0, 1] (as a float copy of the HSV view would hold them), and what the
# pixel loop derives from each byte: tables instead of three divisions per pixel.
_UNIT = np.arange(256) / 255.0
_SATURATED = _UNIT > 0.2
_HUE_BIN = (_UNIT * N_HUES).astype(np.intp) % N_HUES
_COARSE_BIN = ((_UNIT + 0.5 / N_HUE_BINS) * N_HUE_BINS).astype(np.intp) % N_HUE_BINS


# The per-pixel statistics in one compiled pass (numba) over the foreground, instead
# of a masked copy and a dozen array operations per statistic.
@njit(cache=True, nogil=True)
def _pixel_stats(fg, hsv, ycrcb, slope):
    """Slope classes, HSV moments, hue histograms and skin statistics of the foreground.

    Parameters
    ----------
    fg : ndarray of shape (h, w), bool
    hsv : ndarray of shape (h, w, 3), uint8
        Full-range HSV (0..255 per channel).
    ycrcb : ndarray of shape (h, w, 3), uint8
    slope : ndarray of shape (h, w), float64
        Sobel magnitude of the blurred grey view.

    Returns
    -------
    stats : ndarray of shape (9,), float64
        Flat count, shading count, saturation mean and standard
        deviation, value mean and standard deviation, skin count, skin value mean,
        skin saturation mean (NaN-free: 0 where there is no skin).
    hue_hist : ndarray of shape (N_HUES,), int64
        Hues of saturated pixels (saturation and value over 0.2).
    coarse : ndarray of shape (N_HUE_BINS,), int64
        The same, in bins shifted by half a bin so that reds share the first.
    """
    h, w = fg.shape
    n = flat = shading = n_skin = 0
    sat_sum = val_sum = skin_val = skin_sat = 0.0
    hue_hist = np.zeros(N_HUES, dtype=np.int64)
    coarse = np.zeros(N_HUE_BINS, dtype=np.int64)
    for r in range(h):
        for c in range(w):
            if not fg[r, c]:
                continue
            n += 1
            s = slope[r, c] / 8.0  # Sobel gain is 8
            if s < FLAT_SLOPE:
                flat += 1
            elif s < SHADING_SLOPE:
                shading += 1
            hue, sat, val = hsv[r, c, 0], hsv[r, c, 1], hsv[r, c, 2]
            sat_sum += _UNIT[sat]
            val_sum += _UNIT[val]
            if _SATURATED[sat] and _SATURATED[val]:
                hue_hist[_HUE_BIN[hue]] += 1
                coarse[_COARSE_BIN[hue]] += 1
            # Chai & Ngan's (1999) YCrCb skin rule: works for drawn skin as well as real.
            luma, cr, cb = ycrcb[r, c, 0], ycrcb[r, c, 1], ycrcb[r, c, 2]
            if 133 <= cr <= 173 and 77 <= cb <= 127 and luma > 60:
                n_skin += 1
                skin_val += _UNIT[val]
                skin_sat += _UNIT[sat]
    stats = np.zeros(9)
    if n == 0:
        return stats, hue_hist, coarse
    sat_mean, val_mean = sat_sum / n, val_sum / n
    sat_dev = val_dev = 0.0
    for r in range(h):
        for c in range(w):
            if fg[r, c]:
                sat_dev += (_UNIT[hsv[r, c, 1]] - sat_mean) ** 2
                val_dev += (_UNIT[hsv[r, c, 2]] - val_mean) ** 2
    stats = np.array([flat, shading, sat_mean, np.sqrt(sat_dev / n), val_mean,
                      np.sqrt(val_dev / n), n_skin, skin_val / max(n_skin, 1),
                      skin_sat / max(n_skin, 1)], dtype=np.float64)
    return stats, hue_hist, coarse
