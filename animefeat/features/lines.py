"""Line family: the outlines themselves, how thick, how dark, how unbroken.

Western cartoons favour bold, dark, continuous outlines of even weight; anime line art
is thinner, often coloured rather than black, and broken by highlights.
"""

from __future__ import annotations

import cv2
import numpy as np
from numba import njit

from ..preprocess import as_working_copy
from ._util import component_sizes, gradients, masked_mean, safe_ratio

__all__ = ["NAMES", "OUTLINE_MIN_SHARE", "line_features", "line_mask", "outline_share",
           "reads_as_outlines", "skeletonize"]

# A pixel is on a line when it is this much darker than its surroundings after a
# closing with a disk wider than any outline at the working scale.
LINE_CONTRAST = 0.12
CLOSING_SIZE = 9
BLACK_LEVEL = 0.2
# Paint is flat where the grey level changes by less than FLAT_SLOPE per pixel (Sobel
# magnitude / 8) over a 3 x 3 square; a line pixel bounds paint when flat paint lies
# within FLANK px beyond the stroke's edge there (past the line's blur).
FLAT_SLOPE, FLANK = 0.02, 4.0
#: Below this share of line pixels bounding flat paint, the line mask is mostly hair
#: strands, ripples and shading lines on shaded art or photographs, not outlines: no
#: reason is read from it (experiments/16 measures where it falls, per source).
OUTLINE_MIN_SHARE = 0.25
# Stroke width percentiles reported: the quartiles (for the IQR) and the 90th.
_QUARTILES_P90 = np.array([25.0, 50.0, 75.0, 90.0])

NAMES = (
    "share",
    "thickness_median",
    "thickness_iqr",
    "thickness_p90",
    "darkness",
    "contrast",
    "continuity",
    "endpoints_per_100px",
    "black_share",
)


def line_mask(image, *, contrast=LINE_CONTRAST, closing_size=CLOSING_SIZE):
    """Pixels on thin dark strokes (black top-hat of the grey view).

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy
    contrast : float
        How much darker than the closed (stroke-free) image a pixel must be, in grey
        levels of [0, 1].
    closing_size : int
        Diameter of the closing disk, in working pixels: strokes thinner than this
        are found.

    Returns
    -------
    mask : ndarray of shape (h, w), bool
        On the working copy's grid, restricted to the foreground.
    """
    work = as_working_copy(image)
    key = ("lines", contrast, closing_size)
    if key not in work.cache:
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (closing_size, closing_size))
        # Pad by replicating the edge: strokes touching the border are still closed
        # over, and a dark margin or frame stays wide rather than reading as an
        # outline (white padding made a black border a line). float32:
        # OpenCV's morphology is three times faster than on float64, and grey levels
        # need no more than float32's 1e-7.
        padded = cv2.copyMakeBorder(work.grey.astype(np.float32), closing_size, closing_size,
                                    closing_size, closing_size, cv2.BORDER_REPLICATE)
        closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, disk)
        closed = closed[closing_size:-closing_size, closing_size:-closing_size]
        depth = closed - work.grey
        work.cache[key] = ((depth >= contrast) & work.foreground, depth)
    return work.cache[key][0]


def outline_share(image):
    """Share of the line pixels that bound flat paint: how far the lines are outlines.

    In cel art a line separates flat fills; on shaded art and photographs the same mask
    (:func:`line_mask`) also finds hair strands, ripples and shading lines, with shaded
    or textured paint on both sides. A line pixel counts when a flat 3 x 3 square (grey
    slope below ``FLAT_SLOPE`` per pixel) lies within ``FLANK`` px beyond the stroke's
    edge, whatever the stroke's width.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy

    Returns
    -------
    share : float
        In [0, 1]; NaN without line pixels. Below :data:`OUTLINE_MIN_SHARE` the line
        features describe texture rather than outlines.
    """
    work = as_working_copy(image)
    if "outline_share" not in work.cache:
        mask = line_mask(work)
        if not mask.any():
            work.cache["outline_share"] = float("nan")
        else:
            # Sobel's 3 x 3 kernels weigh a unit slope by 8. A blank page is flat paint
            # too: a figure's outline on it bounds it.
            flat = ((gradients(work)[2] < 8 * FLAT_SLOPE) & ~mask).astype(np.uint8)
            # Paint is a flat area, not a flat pixel: texture has those too.
            flat = cv2.erode(flat, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT,
                             borderValue=0)
            to_flat = cv2.distanceTransform(1 - flat, cv2.DIST_L2, 3)
            # How deep each line pixel sits in its stroke: 1 on the stroke's edge.
            depth = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
            beyond = to_flat[mask] - depth[mask]
            work.cache["outline_share"] = float(np.mean(beyond <= FLANK))
    return work.cache["outline_share"]


def reads_as_outlines(share):
    """Whether reasons may be read from the line mask, given :func:`outline_share`.

    Parameters
    ----------
    share : float or ndarray
        Outline shares (NaN: no line pixel, so no outline to read).

    Returns
    -------
    reads : bool or ndarray of bool
        True where at least :data:`OUTLINE_MIN_SHARE` of the line pixels bound flat paint.
    """
    # NaN compares False.
    return np.asarray(share, dtype=np.float64) >= OUTLINE_MIN_SHARE


def line_features(image):
    """Stroke width, darkness and continuity of the outlines.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy

    Returns
    -------
    features : ndarray of shape (len(NAMES),), float64
        ``share``: line pixels per foreground pixel. ``thickness_median``,
        ``thickness_iqr``, ``thickness_p90``: stroke width in working pixels
        (``2 * distance - 1`` sampled on the stroke skeleton; NaN without lines).
        ``darkness``: 1 - mean grey of line pixels. ``contrast``: mean depth of line
        pixels below their surroundings. ``continuity``: share of skeleton pixels in
        strokes at least a tenth of the working side long. ``endpoints_per_100px``:
        stroke ends per 100 skeleton pixels (broken lines have many).
        ``black_share``: foreground share of near-black pixels (grey < 0.2).
    """
    work = as_working_copy(image)
    mask = line_mask(work)
    depth = work.cache[("lines", LINE_CONTRAST, CLOSING_SIZE)][1]
    fg = work.foreground
    area = np.count_nonzero(fg)
    n_line = np.count_nonzero(mask)
    black = np.count_nonzero((work.grey < BLACK_LEVEL) & fg)
    if n_line == 0:
        nan = float("nan")
        return np.array([0.0, nan, nan, nan, nan, nan, nan, nan, safe_ratio(black, area)])

    skeleton = skeletonize(mask)
    distances, endpoints = _stroke_stats(mask, skeleton)
    # Strokes: 8-connected skeleton components; long ones span a tenth of the side.
    strokes = component_sizes(skeleton.astype(np.intp) - 1, True)
    on_long = strokes[strokes >= max(work.grey.shape) / 10].sum()
    widths = 2.0 * distances - 1.0
    q25, q50, q75, q90 = np.percentile(widths, _QUARTILES_P90)
    n_skeleton = len(distances)
    return np.array([
        safe_ratio(n_line, area),
        q50,
        q75 - q25,
        q90,
        1.0 - masked_mean(work.grey, mask),
        masked_mean(depth, mask),
        safe_ratio(on_long, n_skeleton),
        100.0 * safe_ratio(endpoints, n_skeleton),
        safe_ratio(black, area),
    ], dtype=np.float64)


def skeletonize(mask):
    """Zhang and Suen's (1984) thinning of a binary mask, as scikit-image computes it.

    The same skeleton as :func:`skimage.morphology.skeletonize` (tested on 20,000 random
    masks and every dataset image's line mask), in a third to two thirds of its time: the
    passes visit only the pixels still set, not the whole image.

    Parameters
    ----------
    mask : ndarray of shape (h, w), bool

    Returns
    -------
    skeleton : ndarray of shape (h, w), bool
    """
    return _thin(np.ascontiguousarray(mask, dtype=bool), _REMOVABLE)


# Which pass removes a pixel, by the pattern of its 8 neighbours (bit 0: north-west,
# then clockwise: N, NE, E, SE, S, SW, W): 0 never, 1 the first, 2 the second, 3 either.
# This is scikit-image's table, found by fitting this loop to its output (it differs
# from the conditions in Zhang and Suen's paper on 26 of the 256 patterns).
_REMOVABLE = np.array([int(v) for v in (
    "0001001300311013000000002020303300000000300000000000000020003022"
    "0000000000000000000000000000000020000000200020003000000030003020"
    "0031001300000001000000000000000131000000000000002000000000000000"
    "2313001300000001000000000000000023010001000000003301000022002000")], dtype=np.uint8)


@njit(cache=True, nogil=True)
def _thin(mask, removable):
    h, w = mask.shape
    stride = w + 2  # a zero border all round: every pixel has eight neighbours
    image = np.zeros((h + 2) * stride, dtype=np.uint8)
    alive = np.empty(h * w, dtype=np.intp)  # the set pixels, as flat indices
    n = 0
    for r in range(h):
        for c in range(w):
            if mask[r, c]:
                alive[n] = (r + 1) * stride + c + 1
                image[alive[n]] = 1
                n += 1
    gone = np.empty(n, dtype=np.intp)
    changed = True
    while changed:
        changed = False
        for first in (True, False):
            # Both passes decide on the image as it was when the pass began.
            n_gone = 0
            for i in range(n):
                p = alive[i]
                rule = removable[image[p - stride - 1] + 2 * image[p - stride]
                                 + 4 * image[p - stride + 1] + 8 * image[p + 1]
                                 + 16 * image[p + stride + 1] + 32 * image[p + stride]
                                 + 64 * image[p + stride - 1] + 128 * image[p - 1]]
                if rule == 3 or (rule == 1 and first) or (rule == 2 and not first):
                    gone[n_gone] = p
                    n_gone += 1
            if n_gone:
                changed = True
                for j in range(n_gone):
                    image[gone[j]] = 0
                kept = 0
                for i in range(n):
                    if image[alive[i]]:
                        alive[kept] = alive[i]
                        kept += 1
                n = kept
    skeleton = np.zeros((h, w), dtype=np.bool_)
    for i in range(n):
        skeleton[alive[i] // stride - 1, alive[i] % stride - 1] = True
    return skeleton


# The skeleton's statistics in one compiled pass (numba). A distance transform of the
# whole mask and a neighbour filter cost several times as much.
@njit(cache=True, nogil=True)
def _stroke_stats(mask, skeleton):
    """Distance to the nearest non-line pixel at each skeleton pixel, and stroke ends.

    Parameters
    ----------
    mask : ndarray of shape (h, w), bool
        Line pixels.
    skeleton : ndarray of shape (h, w), bool
        Their skeleton (inside ``mask``).

    Returns
    -------
    distances : ndarray of shape (skeleton.sum(),), float32
        Euclidean distance from each skeleton pixel (row-major order) to the nearest
        pixel outside ``mask``, inside the image: ``cv2.distanceTransform`` with
        ``DIST_MASK_PRECISE``, read at the skeleton. Infinite where the mask has no
        outside (it always has: the brightest pixel is never below its closing).
    endpoints : int
        Skeleton pixels with exactly one 8-neighbour on the skeleton.
    """
    h, w = skeleton.shape
    distances = np.empty(skeleton.sum(), dtype=np.float32)
    k = endpoints = 0
    for r in range(h):
        for c in range(w):
            if not skeleton[r, c]:
                continue
            neighbours = 0
            for y in range(max(r - 1, 0), min(r + 2, h)):
                for x in range(max(c - 1, 0), min(c + 2, w)):
                    if skeleton[y, x] and (y != r or x != c):
                        neighbours += 1
            if neighbours == 1:
                endpoints += 1
            distances[k] = _nearest_outside(mask, r, c)
            k += 1
    return distances, endpoints


@njit(cache=True, nogil=True)
def _nearest_outside(mask, r, c):
    """Distance (float32) from (r, c) to the nearest False pixel of ``mask``, searched
    ring by ring (strokes are a few pixels wide, so the first rings decide)."""
    h, w = mask.shape
    best = -1
    for ring in range(1, max(h, w)):
        if best >= 0 and ring * ring > best:
            break
        for dy in range(-ring, ring + 1):
            y = r + dy
            if y < 0 or y >= h:
                continue
            # The ring's top and bottom rows in full, its sides at two columns.
            step = 1 if abs(dy) == ring else 2 * ring
            for dx in range(-ring, ring + 1, step):
                x = c + dx
                if 0 <= x < w and not mask[y, x]:
                    d2 = dy * dy + dx * dx
                    if best < 0 or d2 < best:
                        best = d2
    if best < 0:
        return np.float32(np.inf)
    return np.float32(np.sqrt(best))
