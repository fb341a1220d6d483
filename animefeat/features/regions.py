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
    channels = [np.ascontiguousarray(pixels[:, c]) for c in range(3)]
    floats = [c.astype(np.float64) for c in channels]
    members = [np.arange(len(pixels))]
    stats = [_box_stats(floats, channels)]
    labels = np.zeros(len(pixels), dtype=np.intp)
    levels = [labels.copy()]
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
        members[box] = kept
        members.append(new)
        labels[new] = len(members) - 1
        stats[box] = _box_stats([f[kept] for f in floats], [c[kept] for c in channels])
        stats.append(_box_stats([f[new] for f in floats], [c[new] for c in channels]))
        levels.append(labels.copy())
    return levels


def _box_stats(floats, channels):
    """(squared error along the widest channel, that channel, its median) of one box.

    ``floats`` and ``channels`` are the box's three channels as float64 and uint8.
    Sums of integers below 2**53 are exact, so the errors do not depend on the order
    of the pixels.
    """
    n = len(floats[0])
    if n < 2:
        return 0.0, 0, 0
    sums = np.array([f.sum() for f in floats])
    squares = np.array([f @ f for f in floats])
    sse = squares - sums * sums / n
    channel = int(np.argmax(sse))
    hist = np.bincount(channels[channel], minlength=256)
    median = int(np.searchsorted(np.cumsum(hist), (n + 1) // 2))
    # Below 1e-6, the error is rounding: a single colour.
    return (float(sse[channel]) if sse[channel] > 1e-6 else 0.0), channel, median


def _palette(work, n_colours):
    """(labels, palette) of the foreground quantised to ``n_colours``, cached.

    Only the drawing is quantised: a blank page would otherwise spend paints on its
    own paper and JPEG noise. ``labels`` gives the box of each foreground pixel, in
    the order of :func:`foreground_pixels`; ``palette`` each box's mean colour.
    """
    key = ("palette", n_colours)
    if key not in work.cache:
        pixels = foreground_pixels(work)
        if work.cache.get("median_cut", (0,))[0] < n_colours:
            work.cache["median_cut"] = (n_colours, median_cut(pixels, n_colours))
        levels = work.cache["median_cut"][1]
        # Fewer distinct colours than asked: the finest level is the answer.
        labels = levels[min(n_colours, len(levels)) - 1]
        k = int(labels.max()) + 1
        counts = np.bincount(labels, minlength=k)
        palette = np.stack([np.bincount(labels, weights=pixels[:, c], minlength=k)
                            for c in range(3)], axis=1) / np.maximum(counts, 1)[:, None]
        work.cache[key] = (labels, palette)
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
    labels, palette = _palette(work, n_colours)
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
    rgb = foreground_pixels(work).astype(np.float64)
    residuals = []
    for n in (8, 4):
        labels, palette = _palette(work, n)
        residuals.append(float(np.abs(rgb - palette[labels]).mean()) / 255.0)

    indices = _index_image(work, _palette(work, N_PAINTS)[0])
    # One pass labels every 4-connected run of one paint; the background is label 0.
    labels = label(indices + 1, background=0, connectivity=1)
    sizes = np.bincount(labels.ravel())[1:]
    speck = sizes < SPECK_SHARE * area
    large = sizes >= LARGE_SHARE * area

    r, g, b = rgb.T
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
