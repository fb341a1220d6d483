"""Shading family: what each edge separates, the colour of the outlines, highlights.

An edge in a drawing is one of three things: a dark outline, a change of paint (skin to
shirt), or a shadow step inside one paint (cel shading: the same hue, darker). Anime
shades its figures in such steps and draws its outlines in dark colours (brown hair
lines, red-brown skin lines) with bright highlights in the eyes and hair; western TV
and clip-art cartoons fill flat paints inside black outlines. So the family classifies
every edge pixel by the two pixels on either side of it, across the edge, and measures
the outline pixels' colour and the small bright specks. All are shares and densities
of the drawing's own pixels, so the image's size, framing and page colour do not move
them.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..preprocess import as_working_copy
from ._util import gradients, grey_uint8, safe_ratio
from .edges import canny
from .lines import line_mask

__all__ = ["NAMES", "edge_kinds", "shading_features"]

# How far across an edge its two sides are read, in working pixels: past the blur of
# the edge itself, within the paint on either side.
SIDE_STEP = 2.0
# Two sides are "one paint" when their hues differ by less than this (degrees) and both
# are coloured (saturation above MIN_SATURATION); a shadow step when, in addition,
# their values differ by more than SHADOW_STEP.
SAME_HUE, MIN_SATURATION, SHADOW_STEP = 20.0, 0.15, 0.08
# A change of paint: hues at least this far apart, or one side grey and the other not.
OTHER_HUE = 40.0
# Outline pixels darker than this value count as black.
BLACK_VALUE = 0.25
# A highlight: a speck brighter than its surroundings by this much (white top-hat of a
# disk of HIGHLIGHT_SIZE px) and no larger than MAX_HIGHLIGHT of the drawing.
HIGHLIGHT_CONTRAST, HIGHLIGHT_SIZE, MAX_HIGHLIGHT = 0.2, 7, 0.002

NAMES = (
    "shadow_edge_share",
    "paint_edge_share",
    "outline_edge_share",
    "outline_black_share",
    "outline_saturation",
    "outline_value",
    "highlights_per_kpx",
)


def edge_kinds(image):
    """Classify each edge pixel by the pixels on either side of it.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy

    Returns
    -------
    kinds : dict of str -> ndarray of shape (n_edge,), bool
        ``"shadow"`` (same hue, different value), ``"paint"`` (different hue, or grey
        against colour) and ``"outline"`` (one side on a dark line), over the
        foreground's Canny edge pixels, in raster order.
    rows, cols : ndarray of shape (n_edge,), int
        Where those edge pixels are.
    """
    work = as_working_copy(image)
    edges = canny(work) & work.foreground
    rows, cols = np.nonzero(edges)
    gx, gy, magnitude = gradients(work)
    norm = np.maximum(magnitude[rows, cols], 1e-9)
    dy, dx = gy[rows, cols] / norm, gx[rows, cols] / norm
    h, w = edges.shape
    r0 = np.clip(np.rint(rows - SIDE_STEP * dy), 0, h - 1).astype(np.intp)
    c0 = np.clip(np.rint(cols - SIDE_STEP * dx), 0, w - 1).astype(np.intp)
    r1 = np.clip(np.rint(rows + SIDE_STEP * dy), 0, h - 1).astype(np.intp)
    c1 = np.clip(np.rint(cols + SIDE_STEP * dx), 0, w - 1).astype(np.intp)
    hsv = work.hsv_uint8
    hue0, hue1 = hsv[r0, c0, 0] * (360.0 / 256), hsv[r1, c1, 0] * (360.0 / 256)
    sat0, sat1 = hsv[r0, c0, 1] / 255.0, hsv[r1, c1, 1] / 255.0
    val0, val1 = hsv[r0, c0, 2] / 255.0, hsv[r1, c1, 2] / 255.0
    hue_gap = np.abs(hue0 - hue1)
    hue_gap = np.minimum(hue_gap, 360.0 - hue_gap)
    coloured0, coloured1 = sat0 >= MIN_SATURATION, sat1 >= MIN_SATURATION
    lines = line_mask(work)
    outline = lines[r0, c0] | lines[r1, c1] | lines[rows, cols]
    shadow = (~outline & coloured0 & coloured1 & (hue_gap < SAME_HUE)
              & (np.abs(val0 - val1) > SHADOW_STEP))
    paint = ~outline & ((coloured0 & coloured1 & (hue_gap >= OTHER_HUE))
                        | (coloured0 != coloured1))
    return {"shadow": shadow, "paint": paint, "outline": outline}, rows, cols


def shading_features(image):
    """Shadow steps, paint changes and outlines among the edges; outline colour; highlights.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy

    Returns
    -------
    features : ndarray of shape (len(NAMES),), float64
        ``shadow_edge_share``, ``paint_edge_share``, ``outline_edge_share``: shares of
        the foreground's edge pixels that are a shadow step inside one paint, a change
        of paint, or on a dark outline (see :func:`edge_kinds`; NaN without edges).
        ``outline_black_share``: share of outline pixels that are near-black (value <
        0.25). ``outline_saturation``, ``outline_value``: mean saturation and value of
        the outline pixels, in [0, 1] (NaN without outlines). ``highlights_per_kpx``:
        small bright specks (eye and hair highlights) per 1000 foreground pixels.
    """
    work = as_working_copy(image)
    kinds, rows, _ = edge_kinds(work)
    n_edge = len(rows)
    lines = line_mask(work)
    n_line = np.count_nonzero(lines)
    nan = float("nan")
    black_share = saturation = value = nan
    if n_line:
        hsv = work.hsv_uint8[lines]
        saturation = float(hsv[:, 1].mean()) / 255.0
        value = float(hsv[:, 2].mean()) / 255.0
        black_share = float(np.count_nonzero(hsv[:, 2] < BLACK_VALUE * 255)) / n_line
    area = np.count_nonzero(work.foreground)
    return np.array([
        safe_ratio(np.count_nonzero(kinds["shadow"]), n_edge),
        safe_ratio(np.count_nonzero(kinds["paint"]), n_edge),
        safe_ratio(np.count_nonzero(kinds["outline"]), n_edge),
        black_share,
        saturation,
        value,
        1000.0 * safe_ratio(_highlights(work), area),
    ], dtype=np.float64)


def _highlights(work):
    """How many small bright specks the foreground holds (white top-hat components)."""
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (HIGHLIGHT_SIZE, HIGHLIGHT_SIZE))
    tophat = cv2.morphologyEx(grey_uint8(work), cv2.MORPH_TOPHAT, disk)
    specks = ((tophat >= HIGHLIGHT_CONTRAST * 255) & work.foreground).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(specks, connectivity=8)
    largest = max(2, MAX_HIGHLIGHT * np.count_nonzero(work.foreground))
    return int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] <= largest))
