"""Edge family: how much of the drawing is edge, in which directions, straight or curved.

Western cartoons are built from few, long, smooth strokes; anime adds hair strands,
fabric folds and shading boundaries, so its edge maps are denser and more broken.
"""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
from numba import njit

from ..preprocess import as_working_copy
from ._util import entropy_bits, gradients, grey_uint8, safe_ratio

__all__ = ["NAMES", "edge_features"]

N_ORIENTATIONS = 8
# Canny thresholds on 8-bit grey after a light blur: fixed, so "an edge" means the same
# contrast step in every image (the working copy fixes the scale).
CANNY_LOW, CANNY_HIGH = 40, 120
# A contour point is on a straight run when it lies within STRAIGHT_TOLERANCE px of the
# chord joining the points STRAIGHT_SPAN px before and after it along the contour
# (a circle of radius 15 working px deviates 1.25 px; a digital line at most 0.5).
# The tolerance must be a ratio of small integers (0.75 = 3/4): the test is done in
# integers with it.
STRAIGHT_SPAN, STRAIGHT_TOLERANCE = 6, 0.75

NAMES = (
    "density",
    "gradient_mean",
    *(f"orientation_{round(i * 180 / N_ORIENTATIONS)}" for i in range(N_ORIENTATIONS)),
    "orientation_entropy",
    "straight_share",
    "contour_length_mean",
    "contours_per_kpx",
    "density_half",
    "density_quarter",
    "laplacian_half",
    "laplacian_quarter",
)
# Coarser scales see the composition of strokes (busy versus open areas) rather than
# single lines.
COARSE_SCALES = (0.5, 0.25)


def canny(work):
    """Canny edge map (bool) of a working copy, cached on it."""
    if "canny" not in work.cache:
        blurred = cv2.GaussianBlur(grey_uint8(work), (3, 3), 0)
        work.cache["canny"] = cv2.Canny(blurred, CANNY_LOW, CANNY_HIGH, L2gradient=True) > 0
    return work.cache["canny"]


def edge_features(image):
    """Edge density, orientation histogram and straight/curved contour statistics.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy
        The RGB image or its working copy.

    Returns
    -------
    features : ndarray of shape (len(NAMES),), float64
        ``density``: share of foreground pixels on a Canny edge, in [0, 1].
        ``gradient_mean``: mean Sobel magnitude over the foreground.
        ``orientation_<deg>``: share of edge pixels whose gradient points near <deg>
        (sums to 1). ``orientation_entropy``: entropy of that histogram, in bits.
        ``straight_share``: share of contour points on straight runs (within 0.75 px
        of the chord through the points 6 px before and after them).
        ``contour_length_mean``: mean contour length as a share of the working side.
        ``contours_per_kpx``: contours per 1000 foreground pixels.
        ``density_half``/``density_quarter``: Canny density of the whole working copy
        at half and quarter scale. ``laplacian_half``/``laplacian_quarter``: mean
        absolute Laplacian of the grey view at those scales.
    """
    work = as_working_copy(image)
    edges = canny(work)
    fg = work.foreground
    area = np.count_nonzero(fg)
    on_edge = edges & fg
    hist, gradient_sum = _orientations(on_edge, fg, *gradients(work))
    n_edge = hist.sum()
    orientation = hist / n_edge if n_edge else np.full(N_ORIENTATIONS, np.nan)

    straight, total, lengths = _contour_stats(on_edge)
    side = max(work.grey.shape)
    return np.array([
        safe_ratio(n_edge, area),
        gradient_sum / area if area else 0.0,
        *orientation,
        entropy_bits(hist),
        safe_ratio(straight, total),
        float(np.mean(lengths)) / side if lengths else float("nan"),
        1000.0 * safe_ratio(len(lengths), area),
        *_coarse_stats(grey_uint8(work)),
    ], dtype=np.float64)


# One compiled pass (numba); angles only where they are used, on edge pixels.
@njit(cache=True, nogil=True)
def _orientations(on_edge, foreground, gx, gy, magnitude):
    """Orientation histogram of the edge pixels, and the gradient magnitude summed over
    the foreground.

    Returns
    -------
    hist : ndarray of shape (N_ORIENTATIONS,), float64
        Edge pixels by gradient direction modulo 180 degrees, in bins centred on
        0, 22.5, ... degrees.
    gradient_sum : float
    """
    hist = np.zeros(N_ORIENTATIONS)
    gradient_sum = 0.0
    for r in range(on_edge.shape[0]):
        for c in range(on_edge.shape[1]):
            if foreground[r, c]:
                gradient_sum += magnitude[r, c]
            if on_edge[r, c]:
                hist[_orientation_bin(gx[r, c], gy[r, c], _BOUNDARY_COS, _BOUNDARY_SIN)] += 1
    return hist, gradient_sum


# The bins' lower edges, 11.25, 33.75, ... 168.75 degrees, as unit vectors.
_BOUNDARIES = np.radians(180.0 / N_ORIENTATIONS * (np.arange(N_ORIENTATIONS) + 0.5))
_BOUNDARY_COS, _BOUNDARY_SIN = np.cos(_BOUNDARIES), np.sin(_BOUNDARIES)


@njit(cache=True, nogil=True)
def _orientation_bin(gx, gy, boundary_cos, boundary_sin):
    """The orientation bin of a gradient: ``int((angle + width / 2) // width) % 8`` for
    ``angle = degrees(arctan2(gy, gx)) % 180`` and ``width = 22.5``.

    Comparing the gradient with each bin edge by a cross product costs a fraction of
    an arctangent. Within a hair of an edge (1e-9 of the gradient's length, far more
    than the rounding of either way), and for gradients on an axis, the arctangent
    decides, so the bin is always the one the formula gives.
    """
    if gx != 0.0 and gy != 0.0:
        # The same line direction in the upper half-plane: an angle in (0, 180).
        x, y = (gx, gy) if gy > 0.0 else (-gx, -gy)
        margin = 1e-9 * (abs(x) + abs(y))
        lo, hi = 0, N_ORIENTATIONS  # how many bin edges lie below the angle
        clear = True
        while clear and lo < hi:
            mid = (lo + hi) // 2
            side = y * boundary_cos[mid] - x * boundary_sin[mid]  # sin(angle - edge)
            if abs(side) <= margin:
                clear = False
            elif side > 0.0:
                lo = mid + 1
            else:
                hi = mid
        if clear:
            return lo % N_ORIENTATIONS
    width = 180.0 / N_ORIENTATIONS
    angle = np.degrees(np.arctan2(gy, gx)) % 180.0
    return int((angle + width / 2) // width) % N_ORIENTATIONS


def _coarse_stats(grey):
    densities, laplacians = [], []
    for factor in COARSE_SCALES:
        small = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        edges = cv2.Canny(cv2.GaussianBlur(small, (3, 3), 0), CANNY_LOW, CANNY_HIGH,
                          L2gradient=True)
        densities.append(cv2.countNonZero(edges) / edges.size)
        # Integer Laplacian: its L1 norm is an exact sum, the same as a float64 mean.
        laplacian = cv2.Laplacian(small, cv2.CV_16S)
        laplacians.append(cv2.norm(laplacian, cv2.NORM_L1) / laplacian.size / 255.0)
    return (*densities, *laplacians)


def _contour_stats(edges):
    """Straight contour points, all contour points and contour lengths of an edge map."""
    contours, _ = cv2.findContours(edges.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return 0.0, 0.0, []
    sizes = np.array([len(c) for c in contours], dtype=np.intp)
    points = np.concatenate(contours).reshape(-1, 2)
    straight, total, lengths = _straightness(points, sizes)
    return straight, total, lengths.tolist()


# A step between neighbouring contour points is 0, 1 or sqrt(2) long (squared: 0, 1,
# 2), in float32 as cv2.arcLength takes it: read from this table, not computed.
_STEP = np.sqrt(np.arange(3, dtype=np.float32)).astype(np.float64)
_TOLERANCE_RATIO = Fraction(STRAIGHT_TOLERANCE).as_integer_ratio()


# Contours are many and short: one compiled pass (numba) over all their points.
@njit(cache=True, nogil=True)
def _straightness(points, sizes):
    """Straight points, points and lengths of the closed contours of at least 5 px.

    ``points`` holds the contours one after the other, ``sizes`` their point counts.
    A contour's points before and after a point wrap around (the contours are closed).
    """
    straight = total = 0
    lengths = []
    start = 0
    # The points are integers, so both tests of a point are exact in integers: the
    # chord is longer than STRAIGHT_SPAN when its squared length is, and the point is
    # within STRAIGHT_TOLERANCE of it when tolerance**2 * chord**2 >= deviation**2
    # (deviation = |cross product| = distance * chord), as a ratio of small integers.
    tol_num, tol_den = _TOLERANCE_RATIO
    for size in sizes:
        # cv2.arcLength, closed: float32 steps summed in float64. An open edge chain is
        # traced forth and back: half the closed length is its length.
        length = 0.0
        for k in range(size):
            p, q = points[start + k - 1 if k else start + size - 1], points[start + k]
            step = (q[0] - p[0]) ** 2 + (q[1] - p[1]) ** 2
            length += _STEP[step] if step <= 2 else np.sqrt(np.float32(step))
        length /= 2.0
        if length >= 5:
            lengths.append(length)
            total += size
            # Contours too short for a chord are never straight.
            if size > 2 * STRAIGHT_SPAN:
                for k in range(size):
                    before = points[start + (k - STRAIGHT_SPAN) % size]
                    after = points[start + (k + STRAIGHT_SPAN) % size]
                    here = points[start + k]
                    cx, cy = np.int64(after[0] - before[0]), np.int64(after[1] - before[1])
                    chord2 = cx * cx + cy * cy
                    deviation = cx * (here[1] - before[1]) - cy * (here[0] - before[0])
                    # A short chord means the trace turns back (an open stroke's end).
                    if (chord2 > STRAIGHT_SPAN * STRAIGHT_SPAN and tol_den * tol_den
                            * deviation * deviation <= tol_num * tol_num * chord2):
                        straight += 1
        start += size
    return float(straight), float(total), np.array(lengths)
