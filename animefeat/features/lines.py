"""Line family: the outlines themselves, how thick, how dark, how unbroken.

Western cartoons favour bold, dark, continuous outlines of even weight; anime line art
is thinner, often coloured rather than black, and broken by highlights.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.morphology import skeletonize

from ..preprocess import as_working_copy
from ._util import masked, safe_ratio

__all__ = ["NAMES", "line_features", "line_mask"]

# A pixel is on a line when it is this much darker than its surroundings after a
# closing with a disk wider than any outline at the working scale.
LINE_CONTRAST = 0.12
CLOSING_SIZE = 9
BLACK_LEVEL = 0.2

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
        # Pad with white so strokes touching the border are still closed over. float32:
        # OpenCV's morphology is three times faster than on float64, and grey levels
        # need no more than float32's 1e-7.
        padded = cv2.copyMakeBorder(work.grey.astype(np.float32), closing_size, closing_size,
                                    closing_size, closing_size, cv2.BORDER_CONSTANT, value=1.0)
        closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, disk)
        closed = closed[closing_size:-closing_size, closing_size:-closing_size]
        depth = closed - work.grey
        work.cache[key] = ((depth >= contrast) & work.foreground, depth)
    return work.cache[key][0]


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
    area = fg.sum()
    n_line = mask.sum()
    black = ((work.grey < BLACK_LEVEL) & fg).sum()
    if n_line == 0:
        nan = float("nan")
        return np.array([0.0, nan, nan, nan, nan, nan, nan, nan, safe_ratio(black, area)])

    distance = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    skeleton = skeletonize(mask)
    widths = 2.0 * masked(distance, skeleton) - 1.0
    q25, q50, q75, q90 = _percentiles(widths, (25, 50, 75, 90))

    skeleton_u8 = skeleton.astype(np.uint8)
    sizes = cv2.connectedComponentsWithStats(skeleton_u8, connectivity=8)[2][1:, cv2.CC_STAT_AREA]
    long_enough = sizes >= max(work.grey.shape) / 10
    # 8-neighbours of each pixel (zero outside the image): a stroke end has one.
    neighbours = cv2.filter2D(skeleton_u8, -1, np.ones((3, 3), np.float32),
                              borderType=cv2.BORDER_CONSTANT) - skeleton_u8
    endpoints = (skeleton & (neighbours == 1)).sum()
    n_skeleton = skeleton.sum()
    return np.array([
        safe_ratio(n_line, area),
        q50,
        q75 - q25,
        q90,
        1.0 - float(masked(work.grey, mask).mean()),
        float(masked(depth, mask).mean()),
        safe_ratio(sizes[long_enough].sum(), n_skeleton),
        100.0 * safe_ratio(endpoints, n_skeleton),
        safe_ratio(black, area),
    ], dtype=np.float64)


def _percentiles(values, qs):
    """``np.percentile(values, qs)`` (linear interpolation) from one sort.

    The same numbers, without numpy's general machinery: a tenth of the time on the
    few hundred skeleton pixels of a working copy.
    """
    v = np.sort(values)
    pos = np.asarray(qs, dtype=np.float64) / 100.0 * (len(v) - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, len(v) - 1)
    return v[lo] + (pos - lo) * (v[hi] - v[lo])
