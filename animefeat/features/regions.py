"""Region family: how well a few flat paints explain the drawing, and the regions they form.

A western cartoon is close to a paint-by-numbers picture: quantise it to eight colours
and little is lost, leaving a few large connected regions. Anime's gradients, cel
shading and highlights leave a larger residual and many small regions.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..preprocess import as_working_copy
from ._util import component_sizes, foreground_pixels, safe_ratio

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
    labels, parents, _, _ = _median_cut(np.ascontiguousarray(pixels, dtype=np.uint8), n_colours)
    return [_level_labels(labels, parents, k) for k in range(1, len(parents) + 1)]


def _level_labels(labels, parents, k):
    """Each pixel's box when there were ``k`` boxes, from the final boxes' split history."""
    if k == len(parents):
        return labels
    # Box b was split off box parents[b] < b: boxes from k on fold back into their
    # ancestor among the first k.
    ancestor = np.arange(len(parents))
    for b in range(k, len(parents)):
        ancestor[b] = ancestor[parents[b]]
    return ancestor[labels]


# Median cut is a loop over boxes with a little work per box; compiled (numba), it
# costs a few passes over the pixels instead of dozens of small numpy calls per split.
@njit(cache=True, nogil=True)
def _median_cut(pixels, n_colours):
    """:func:`median_cut` as final boxes and split history, with each level's palette and residual.

    Returns
    -------
    labels : ndarray of shape (n,), intp
        Each pixel's box at the finest level.
    parents : ndarray of shape (n_levels,), intp
        The box each box was split from (``parents[0] == 0``); level ``k`` has boxes
        ``0 .. k - 1``.
    palettes : ndarray of shape (n_levels, n_colours, 3), float64
        Each box's mean colour (rows past the level's box count are 0).
    residuals : ndarray of shape (n_levels,), float64
        Mean absolute channel error of painting each pixel with its box's colour.
    """
    n = pixels.shape[0]
    hists = np.zeros((n_colours, 3, 256), dtype=np.int64)
    for i in range(n):
        for c in range(3):
            hists[0, c, pixels[i, c]] += 1
    errors = np.zeros(n_colours)
    channels = np.zeros(n_colours, dtype=np.intp)
    cuts = np.zeros(n_colours, dtype=np.intp)
    means = np.zeros((n_colours, 3))
    losses = np.zeros(n_colours)  # each box's summed absolute error against its mean
    errors[0], channels[0], cuts[0], losses[0] = _box_stats(hists[0], means[0])
    # Pixel indices grouped by box: box b holds order[starts[b]:ends[b]], so a split
    # reads only the pixels of the box it splits.
    order = np.arange(n)
    scratch = np.empty(n, dtype=np.intp)
    starts = np.zeros(n_colours, dtype=np.intp)
    ends = np.zeros(n_colours, dtype=np.intp)
    ends[0] = n
    parents = np.zeros(n_colours, dtype=np.intp)
    palettes = np.zeros((n_colours, n_colours, 3))
    residuals = np.zeros(n_colours)
    palettes[0, 0] = means[0]
    residuals[0] = losses[0] / max(3 * n, 1)
    n_boxes = 1
    while n_boxes < n_colours:
        box = np.argmax(errors[:n_boxes])
        if errors[box] <= 0:
            break
        channel, cut = channels[box], cuts[box]
        # Many pixels at the median (all at or below it): put them in the upper half.
        strict = hists[box, channel, :cut + 1].sum() == hists[box, 0].sum()
        above = cut - 1 if strict else cut  # pixels over this value go up
        # Partition the box's range, the lower part first. Without a branch: on real
        # images "up or not" is a coin toss that the processor mispredicts half the
        # time. Only which pixels a box holds matters, not their order in it.
        lo, hi = starts[box], ends[box]
        n_low = n_up = 0
        for k in range(lo, hi):
            i = order[k]
            up = np.intp(pixels[i, channel] > above)
            order[lo + n_low] = i  # never ahead of k: the lower part is compacted in place
            scratch[n_up] = i
            n_low += 1 - up
            n_up += up
        mid = lo + n_low
        order[mid:hi] = scratch[:n_up]
        for k in range(mid, hi):
            i = order[k]
            for c in range(3):
                hists[n_boxes, c, pixels[i, c]] += 1
        starts[n_boxes], ends[n_boxes], ends[box] = mid, hi, mid
        parents[n_boxes] = box
        hists[box] -= hists[n_boxes]
        for b in (box, n_boxes):
            errors[b], channels[b], cuts[b], losses[b] = _box_stats(hists[b], means[b])
        n_boxes += 1
        palettes[n_boxes - 1, :n_boxes] = means[:n_boxes]
        residuals[n_boxes - 1] = losses[:n_boxes].sum() / max(3 * n, 1)
    labels = np.empty(n, dtype=np.intp)
    for b in range(n_boxes):
        for k in range(starts[b], ends[b]):
            labels[order[k]] = b
    return labels, parents[:n_boxes], palettes[:n_boxes], residuals[:n_boxes]


@njit(cache=True, nogil=True)
def _box_stats(hist, mean):
    """Split statistics of one box, and its mean colour (written into ``mean``).

    ``hist`` is the box's histogram, shape (3, 256). Its sums are sums of integers
    below 2**53, so they are exact and the errors do not depend on the pixel order.

    Returns
    -------
    error : float
        Squared error along the widest channel (0 for fewer than 2 pixels).
    channel, median : int
        That channel and its median.
    loss : float
        Summed absolute channel error against the mean colour.
    """
    n = hist[0].sum()
    count = max(n, 1)
    sse = np.empty(3)
    loss = 0.0
    for c in range(3):
        sums = squares = 0.0
        for v in range(256):
            sums += hist[c, v] * v
            squares += hist[c, v] * v * v
        sse[c] = squares - sums * sums / count
        mean[c] = sums / count
        for v in range(256):
            loss += hist[c, v] * abs(v - mean[c])
    if n < 2:
        return 0.0, 0, 0, loss
    channel = np.argmax(sse)
    half, seen, median = (n + 1) // 2, 0, 0
    for v in range(256):
        seen += hist[channel, v]
        if seen >= half:
            median = v
            break
    # Below 1e-6, the error is rounding: a single colour.
    return (sse[channel] if sse[channel] > 1e-6 else 0.0), channel, median, loss


def _quantised(work, n_colours):
    """The cached median cut of the foreground with at least ``n_colours`` boxes, and
    the level (0-based) that answers for ``n_colours``."""
    if work.cache.get("median_cut", (0,))[0] < n_colours:
        work.cache["median_cut"] = (n_colours, _median_cut(foreground_pixels(work), n_colours))
    cut = work.cache["median_cut"][1]
    # Fewer distinct colours than asked: the finest level is the answer.
    return cut, min(n_colours, len(cut[1])) - 1


def _residual(work, n_colours):
    """Mean absolute channel error of the foreground quantised to ``n_colours``, in [0, 255]."""
    (_, _, _, residuals), level = _quantised(work, n_colours)
    return float(residuals[level])


def _palette(work, n_colours):
    """(labels, palette, residual) of the foreground quantised to ``n_colours``, cached.

    Only the drawing is quantised: a blank page would otherwise spend paints on its
    own paper and JPEG noise. ``labels`` gives the box of each foreground pixel, in
    the order of :func:`foreground_pixels`; ``palette`` each box's mean colour;
    ``residual`` the mean absolute channel error of painting each pixel with its
    box's colour.
    """
    (labels, parents, palettes, residuals), level = _quantised(work, n_colours)
    return (_level_labels(labels, parents, level + 1), palettes[level, :level + 1],
            float(residuals[level]))


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
    area = np.count_nonzero(fg)
    residuals = [_residual(work, n) / 255.0 for n in (8, 4)]
    # Regions: 4-connected runs of one paint.
    sizes = component_sizes(_index_image(work, _palette(work, N_PAINTS)[0]), False)
    speck = sizes < SPECK_SHARE * area
    large = sizes >= LARGE_SHARE * area
    colourfulness = _colourfulness(foreground_pixels(work))
    return np.array([
        *residuals,
        1000.0 * safe_ratio((~speck).sum(), area),
        safe_ratio(sizes[large].sum(), area),
        safe_ratio(sizes.max() if sizes.size else 0, area),
        safe_ratio(sizes[speck].sum(), area),
        colourfulness / 100.0,
    ], dtype=np.float64)


@njit(cache=True, nogil=True)
def _colourfulness(pixels):
    """Hasler and Süsstrunk's colourfulness of RGB pixels, shape (n, 3) uint8.

    ``rg = r - g`` and ``2 yb = r + g - 2 b`` are integers, so their sums and sums of
    squares are exact: one pass gives the moments (NaN without pixels).
    """
    n = pixels.shape[0]
    if n == 0:
        return np.nan
    s_rg = q_rg = s_yb = q_yb = 0
    for i in range(n):
        r, g, b = np.int64(pixels[i, 0]), np.int64(pixels[i, 1]), np.int64(pixels[i, 2])
        rg, yb2 = r - g, r + g - 2 * b
        s_rg += rg
        q_rg += rg * rg
        s_yb += yb2
        q_yb += yb2 * yb2
    std_rg = np.sqrt((n * q_rg - s_rg * s_rg) / (n * n))
    std_yb = 0.5 * np.sqrt((n * q_yb - s_yb * s_yb) / (n * n))
    return np.hypot(std_rg, std_yb) + 0.3 * np.hypot(s_rg / n, 0.5 * s_yb / n)
