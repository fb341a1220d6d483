"""Small helpers the feature families share."""

from __future__ import annotations

import cv2
import numpy as np
from numba import njit

__all__ = ["component_sizes", "entropy_bits", "foreground_pixels", "grey_uint8", "masked",
           "masked_mean", "safe_ratio"]


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
        For (h, w, 3) uint8 values, a view with a row stride of 4 bytes.
    """
    if values.ndim == 3 and values.shape[2] == 3 and values.dtype == np.uint8:
        # np.compress copies a 3-byte item with one memcpy call each; padded to RGBA,
        # a pixel is one 4-byte word, which it copies directly: a third of the time.
        # The result is a view of the (n, 4) words.
        words = cv2.cvtColor(np.ascontiguousarray(values), cv2.COLOR_RGB2RGBA).view(np.uint32)
        return np.compress(mask.ravel(), words.ravel()).view(np.uint8).reshape(-1, 4)[:, :3]
    flat = values.reshape(mask.size, -1) if values.ndim == 3 else values.ravel()
    return np.compress(mask.ravel(), flat, axis=0)


@njit(cache=True, nogil=True)
def masked_mean(values, mask):
    """``values[mask].mean()`` for float64 ``values`` and a bool ``mask``, both (h, w).

    One compiled pass instead of a masked copy and numpy's reduction machinery, with
    numpy's own pairwise summation over the selected values in row-major order, so the
    same value to the last bit. NaN when the mask is empty.
    """
    selected = np.empty(values.size)
    n = 0
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            if mask[r, c]:
                selected[n] = values[r, c]
                n += 1
    if n == 0:
        return np.nan
    return _pairwise_sum(selected, 0, n) / n


@njit(cache=True, nogil=True)
def _pairwise_sum(a, start, n):
    """numpy's pairwise sum of ``a[start:start + n]``: halves (split at a multiple of
    8) down to blocks of at most 128, each summed in eight running sums; the order of
    additions that ``np.sum`` uses. Iterative, with an explicit stack: numba's cache
    does not load recursive functions reliably."""
    tasks = np.empty((64, 3), dtype=np.intp)  # start, length, halves already summed
    sums = np.empty(64)
    tasks[0, 0], tasks[0, 1], tasks[0, 2] = start, n, 0
    n_tasks, n_sums = 1, 0
    while n_tasks:
        n_tasks -= 1
        lo, size, joined = tasks[n_tasks, 0], tasks[n_tasks, 1], tasks[n_tasks, 2]
        if size <= 128:
            sums[n_sums] = _block_sum(a, lo, size)
            n_sums += 1
        elif joined:
            n_sums -= 1
            sums[n_sums - 1] = sums[n_sums - 1] + sums[n_sums]
        else:
            half = size // 2
            half -= half % 8
            # Popped in reverse: the left half is summed first, then the right, then both.
            tasks[n_tasks, 0], tasks[n_tasks, 1], tasks[n_tasks, 2] = lo, size, 1
            tasks[n_tasks + 1, 0], tasks[n_tasks + 1, 1], tasks[n_tasks + 1, 2] = (
                lo + half, size - half, 0)
            tasks[n_tasks + 2, 0], tasks[n_tasks + 2, 1], tasks[n_tasks + 2, 2] = lo, half, 0
            n_tasks += 3
    return sums[0]


@njit(cache=True, nogil=True)
def _block_sum(a, start, n):
    """numpy's sum of at most 128 values: eight running sums, joined in pairs."""
    if n < 8:
        total = 0.0
        for i in range(start, start + n):
            total += a[i]
        return total
    r = a[start:start + 8].copy()
    i = 8
    while i < n - n % 8:
        for k in range(8):
            r[k] += a[start + i + k]
        i += 8
    total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        total += a[start + i]
        i += 1
    return total


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


# Runs and union-find in one compiled pass (numba): a run of equal labels along a row
# is one step, and only runs that touch across rows are joined. A pixel-by-pixel flood
# fill took five times the instructions; skimage's label with a bincount, more still.
@njit(cache=True, nogil=True)
def component_sizes(grid, eight):
    """Pixel counts of the connected regions of equal value in a label grid.

    Parameters
    ----------
    grid : ndarray of shape (h, w), intp
        Each pixel's label; negative pixels belong to no region.
    eight : bool
        8-connected regions (diagonal neighbours join) rather than 4-connected.

    Returns
    -------
    sizes : ndarray of shape (n_regions,), int64
        In the order the regions are first met, row by row.
    """
    h, w = grid.shape
    n = h * w
    start = np.empty(n, dtype=np.intp)
    end = np.empty(n, dtype=np.intp)
    value = np.empty(n, dtype=np.intp)
    parent = np.empty(n, dtype=np.intp)
    reach = 1 if eight else 0  # how far past a run's ends a run in the next row touches it
    n_runs = above_first = above_end = 0
    for r in range(h):
        row_first = n_runs
        c = 0
        while c < w:
            v = grid[r, c]
            s = c
            c += 1
            while c < w and grid[r, c] == v:
                c += 1
            if v < 0:
                continue
            start[n_runs], end[n_runs], value[n_runs], parent[n_runs] = s, c, v, n_runs
            n_runs += 1
        # Join each run with the touching runs of equal value in the row above (both
        # rows' runs are in column order, so one sweep finds them).
        j = above_first
        for i in range(row_first, n_runs):
            lo, hi = start[i] - reach, end[i] + reach
            while j < above_end and end[j] <= lo:
                j += 1
            k = j
            while k < above_end and start[k] < hi:
                if value[k] == value[i]:
                    _join(parent, i, k)
                k += 1
        above_first, above_end = row_first, n_runs
    # Every region's root is its first run in raster order, which holds the region's
    # first pixel: roots in label order are the regions in the order they are met.
    sizes = np.zeros(n_runs, dtype=np.int64)
    for i in range(n_runs):
        sizes[_root(parent, i)] += end[i] - start[i]
    n_regions = 0
    for i in range(n_runs):
        if parent[i] == i:
            sizes[n_regions] = sizes[i]
            n_regions += 1
    return sizes[:n_regions].copy()


@njit(cache=True, nogil=True)
def _root(parent, i):
    """The root of ``i``'s tree, halving the path on the way."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True, nogil=True)
def _join(parent, a, b):
    """Merge the trees of ``a`` and ``b`` under the smaller root (the earlier run)."""
    ra, rb = _root(parent, a), _root(parent, b)
    if ra < rb:
        parent[rb] = ra
    elif rb < ra:
        parent[ra] = rb
