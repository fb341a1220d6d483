"""Region family: how well a few flat paints explain the drawing, and the regions they form.

A western cartoon is close to a paint-by-numbers picture: quantise it to eight colours
and little is lost, leaving a few large connected regions. Anime's gradients, cel
shading and highlights leave a larger residual and many small regions.
"""

from __future__ import annotations

import numpy as np
from skimage.measure import label

from ..preprocess import as_working_copy
from ._util import foreground_pixels, safe_ratio

__all__ = ["NAMES", "median_cut", "quantise", "region_features"]

N_PAINTS = 8
# A region smaller than this share of the foreground is a speck (noise, a highlight).
SPECK_SHARE = 0.001
LARGE_SHARE = 0.01

NAMES = (
    "residual_8",
    "residual_4",
    "regions_per_kpx",
    "large_region_share",
    "largest_region_share",
    "speck_share",
    "colourfulness",
)


def median_cut(pixels, n_colours):
    """Median-cut colour quantisation (Heckbert, 1982), deterministic.

    The box with the largest squared error along its widest channel is split at that
    channel's median, until there are ``n_colours`` boxes or no box can be split. Each
    level is a refinement of the one before, so the 4- and 8-colour answers come
    from one run.

    Parameters
    ----------
    pixels : ndarray of shape (n, 3), uint8
    n_colours : int

    Returns
    -------
    levels : list of ndarray of shape (n,), intp
        ``levels[k - 1]`` is each pixel's box index when there are ``k`` boxes
        (``k = 1 .. n_colours``; shorter when the colours run out).
    """
    return _median_cut(pixels, n_colours)[0]


_VALUES = np.arange(256, dtype=np.float64)


def _median_cut(pixels, n_colours):
    """:func:`median_cut`'s levels, and each level's box histograms.

    Returns
    -------
    levels : list of ndarray of shape (n,), intp
    histograms : list of ndarray of shape (k, 3, 256), int64
        ``histograms[k - 1][b, c]`` counts the values of channel ``c`` in box ``b``.
    """
    # One bincount histograms all three channels: channel c's values are offset by 256c.
    keys = pixels.astype(np.intp) + np.array([0, 256, 512])
    channels = [np.ascontiguousarray(pixels[:, c]) for c in range(3)]
    members = [np.arange(len(pixels))]
    boxes = [np.bincount(keys.ravel(), minlength=768).reshape(3, 256)]
    stats = [_box_stats(boxes[0])]
    labels = np.zeros(len(pixels), dtype=np.intp)
    levels, histograms = [labels.copy()], [np.stack(boxes)]
    while len(members) < n_colours:
        box = int(np.argmax([error for error, _, _ in stats]))
        error, channel, cut = stats[box]
        if error <= 0:
            break
        idx = members[box]
        v = channels[channel][idx]
        low = v <= cut
        if low.all():  # many pixels at the median: put them in the upper half
            low = v < cut
        kept, new = idx[low], idx[~low]
        # Histograms add up: count the smaller half, subtract it from its parent.
        small = kept if len(kept) <= len(new) else new
        counted = np.bincount(keys[small].ravel(), minlength=768).reshape(3, 256)
        rest = boxes[box] - counted
        kept_hist, new_hist = (counted, rest) if small is kept else (rest, counted)
        members[box], boxes[box], stats[box] = kept, kept_hist, _box_stats(kept_hist)
        members.append(new)
        boxes.append(new_hist)
        stats.append(_box_stats(new_hist))
        labels[new] = len(members) - 1
        levels.append(labels.copy())
        histograms.append(np.stack(boxes))
    return levels, histograms


def _box_stats(hist):
    """(squared error along the widest channel, that channel, its median) of one box.

    ``hist`` is the box's histogram, shape (3, 256). Its sums are sums of integers
    below 2**53, so they are exact and the errors do not depend on the pixel order.
    """
    n = int(hist[0].sum())
    if n < 2:
        return 0.0, 0, 0
    sums = hist @ _VALUES
    squares = hist @ (_VALUES * _VALUES)
    sse = squares - sums * sums / n
    channel = int(np.argmax(sse))
    median = int(np.searchsorted(np.cumsum(hist[channel]), (n + 1) // 2))
    # Below 1e-6, the error is rounding: a single colour.
    return (float(sse[channel]) if sse[channel] > 1e-6 else 0.0), channel, median


def _palette(work, n_colours):
    """(labels, palette, residual) of the foreground quantised to ``n_colours``, cached.

    Only the drawing is quantised: a blank page would otherwise spend paints on its
    own paper and JPEG noise. ``labels`` gives the box of each foreground pixel, in
    the order of :func:`foreground_pixels`; ``palette`` each box's mean colour;
    ``residual`` the mean absolute channel error of painting each pixel with its
    box's colour.
    """
    key = ("palette", n_colours)
    if key not in work.cache:
        if work.cache.get("median_cut", (0,))[0] < n_colours:
            work.cache["median_cut"] = (n_colours, _median_cut(foreground_pixels(work),
                                                               n_colours))
        levels, histograms = work.cache["median_cut"][1]
        # Fewer distinct colours than asked: the finest level is the answer.
        level = min(n_colours, len(levels)) - 1
        hist = histograms[level]
        counts = hist[:, 0].sum(axis=1)
        palette = hist @ _VALUES / np.maximum(counts, 1)[:, None]
        # The error over pixels, summed over the histogram bins instead.
        error = hist * np.abs(_VALUES - palette[:, :, None])
        residual = float(error.sum()) / max(3 * int(counts.sum()), 1)
        work.cache[key] = (levels[level], palette, residual)
    return work.cache[key]


def _index_image(work, labels):
    """Foreground labels laid out on the working copy's grid; -1 on the background."""
    indices = np.full(work.foreground.shape, -1, dtype=np.intp)
    indices[work.foreground] = labels
    return indices


def quantise(image, *, n_colours=N_PAINTS):
    """Median-cut quantisation of the working copy's foreground (deterministic).

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy
    n_colours : int

    Returns
    -------
    indices : ndarray of shape (h, w), intp
        Palette index of each foreground pixel; -1 on the background.
    quantised : ndarray of shape (h, w, 3), float64
        The foreground painted with the palette (each box's mean colour), the
        background as it was.
    """
    work = as_working_copy(image)
    labels, palette, _ = _palette(work, n_colours)
    indices = _index_image(work, labels)
    painted = np.where(work.foreground[..., None], palette[indices], work.rgb)
    return indices, painted


def region_features(image):
    """Quantisation residuals and connected-region statistics.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy

    Returns
    -------
    features : ndarray of shape (len(NAMES),), float64
        ``residual_8``/``residual_4``: mean absolute RGB error (in [0, 1]) after
        median-cut quantisation to 8 / 4 colours, over the foreground.
        ``regions_per_kpx``: connected single-colour regions (8 colours) larger than
        0.1% of the foreground, per 1000 foreground pixels. ``large_region_share``:
        foreground share covered by regions over 1% of it. ``largest_region_share``:
        the largest region's share. ``speck_share``: share in regions under 0.1%.
        ``colourfulness``: Hasler and Süsstrunk's (2003) metric, divided by 100.
    """
    work = as_working_copy(image)
    fg = work.foreground
    area = fg.sum()
    residuals = [_palette(work, n)[2] / 255.0 for n in (8, 4)]
    indices = _index_image(work, _palette(work, N_PAINTS)[0])
    # One pass labels every 4-connected run of one paint; the background is label 0.
    labels = label(indices + 1, background=0, connectivity=1)
    sizes = np.bincount(labels.ravel())[1:]
    speck = sizes < SPECK_SHARE * area
    large = sizes >= LARGE_SHARE * area

    r, g, b = foreground_pixels(work).astype(np.float64).T
    rg, yb = r - g, 0.5 * (r + g) - b
    colourfulness = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())
    return np.array([
        *residuals,
        1000.0 * safe_ratio((~speck).sum(), area),
        safe_ratio(sizes[large].sum(), area),
        safe_ratio(sizes.max() if sizes.size else 0, area),
        safe_ratio(sizes[speck].sum(), area),
        colourfulness / 100.0,
    ], dtype=np.float64)
