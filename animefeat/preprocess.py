"""The working copy: one small, normalised view of an image that every feature family shares.

Features must describe the drawing, not its file: its resolution, its letterbox or the
blank page around it. So, once per image, we

1. bring a large image down by a power of two, to a long side between ``side`` and
   ``2 * side`` pixels: JPEGs in their decoder (a reduced DCT scale: 1/2, 1/4 or 1/8),
   others (and JPEGs beyond 1/8) by averaging blocks of pixels, which is close to what
   the reduced DCT gives, so a decoded array and its JPEG file reach step 2 alike;
2. trim flat borders (letterboxing, the white page around clip art);
3. resize so the long side is ``side`` pixels (area averaging when shrinking);
4. derive the grey and HSV views and a foreground mask (pixels that are not the flat
   background connected to the border), so families normalise by drawing area.

Reducing by a whole factor first keeps the cost of all that follows constant, and cheap:
a whole factor is one pass over the pixels (OpenCV's block average, or less than a full
JPEG decode), where area averaging by a fractional factor weighs every pixel into up to
four outputs (0.9 ms for a 500-px colour image, against 0.05 ms for a factor of 2).

The default ``side`` of 128 px is close to the resolution of the smallest training
sources, so a 2000-px web image and a 100-px thumbnail reach the families alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from numba import njit

from .io import load_image

__all__ = ["WORK_SIDE", "WorkingCopy", "load_for_features", "reencoded", "trim_borders",
           "working_copy"]

WORK_SIDE = 128
# Share of each trimmed side's length kept as margin.
_MARGIN = 0.02
# Nested borders peeled at most (frame, mat, page).
_MAX_NESTED_BORDERS = 3
# A border line is "flat" when nearly all its pixels are within this distance of its colour.
_FLAT_TOLERANCE = 18
_FLAT_SHARE = 0.98
# Depth of the band inside a trimmed side where a page's colour must show (share of the
# image's length): a stroke or outline is thinner, a picture's edge region wider.
_PAGE_BAND = 0.06


@dataclass(frozen=True, eq=False)
class WorkingCopy:
    """The shared, down-scaled view of one image.

    Attributes
    ----------
    rgb : ndarray of shape (h, w, 3), uint8
        Trimmed, resized RGB; ``max(h, w) == side``.
    grey : ndarray of shape (h, w), float64
        Luma in [0, 1] (ITU-R BT.601 weights).
    hsv_uint8 : ndarray of shape (h, w, 3), uint8
        Hue, saturation and value, each in 0..255 (OpenCV's full-range HSV).
    hsv : ndarray of shape (h, w, 3), float64
        The same in [0, 1], computed on first use.
    foreground : ndarray of shape (h, w), bool
        False on the flat background that touches the border.
    crop : tuple of 4 int
        ``(top, bottom, left, right)`` rows/columns trimmed from the original.
    scale : float
        Working pixels per original pixel.
    """

    rgb: np.ndarray
    grey: np.ndarray
    hsv_uint8: np.ndarray
    foreground: np.ndarray
    crop: tuple
    scale: float
    cache: dict = field(default_factory=dict, repr=False)

    @property
    def hsv(self):
        """Hue, saturation and value in [0, 1], shape (h, w, 3), float64 (cached)."""
        if "hsv" not in self.cache:
            # Features read the 8-bit view (the same values, divided where they are
            # used): the float copy is three times the working copy's size.
            self.cache["hsv"] = self.hsv_uint8 / 255.0
        return self.cache["hsv"]

    @property
    def foreground_share(self):
        """Share of working pixels in the foreground, in [0, 1]."""
        return np.count_nonzero(self.foreground) / self.foreground.size


_LUMA = np.array([0.299, 0.587, 0.114])


def load_for_features(source, *, limits=None, side=WORK_SIDE):
    """Load any image source the way every feature computation does (reduced JPEG decode).

    Large JPEGs are decoded at the smallest DCT scale (1/2, 1/4 or 1/8) whose long side
    is still at least ``side``; other formats are decoded whole. Training and inference
    both load through this function, so they see the same pixels.

    Parameters
    ----------
    source : anything :func:`animefeat.load_image` accepts
    limits : Limits, optional
    side : int
        Long side of the working copy the image is loaded for, in pixels.

    Returns
    -------
    image : ndarray of shape (H, W, 3), uint8
    """
    return load_image(source, limits=limits, max_side=side)


def as_working_copy(image, *, side=WORK_SIDE):
    """Return ``image`` as a :class:`WorkingCopy`, building one unless it already is."""
    if isinstance(image, WorkingCopy):
        return image
    return working_copy(image, side=side)


def working_copy(image, *, side=WORK_SIDE):
    """Build the shared working copy of an image.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or anything :func:`load_image` accepts
        The RGB image.
    side : int
        Long side of the working copy, in pixels.

    Returns
    -------
    work : WorkingCopy
    """
    rgb = image if _is_rgb_uint8(image) else load_for_features(image, side=side)
    height, width = rgb.shape[:2]
    # The largest power of two that keeps the long side >= side.
    factor = 1 << max(0, (max(height, width) // side).bit_length() - 1)
    reduced, (row_block, col_block) = _reduce_whole(rgb, factor)
    (top, bottom, left, right), pages = _trim(reduced, _FLAT_TOLERANCE, 0.25, _MARGIN,
                                        blended=factor > 1)
    core = np.ascontiguousarray(reduced[top:reduced.shape[0] - bottom,
                                        left:reduced.shape[1] - right])
    core_height, core_width = core.shape[:2]
    scale = side / max(core_height, core_width)
    size = (max(1, round(core_width * scale)), max(1, round(core_height * scale)))
    if size == (core_width, core_height):
        small = core
    else:
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        small = cv2.resize(core, size, interpolation=interpolation)
    # In original pixels: the rows and columns left out of the blocks count as trimmed.
    crop = (top * row_block, height - (reduced.shape[0] - bottom) * row_block,
            left * col_block, width - (reduced.shape[1] - right) * col_block)
    # Scaled in place: the same values without a second temporary of each.
    grey = small @ _LUMA
    grey /= 255.0
    return WorkingCopy(
        rgb=small, grey=grey, hsv_uint8=cv2.cvtColor(small, cv2.COLOR_RGB2HSV_FULL),
        foreground=_foreground(small, _page_colours(reduced, (top, bottom, left, right), pages),
                               bands=_margin_bands(core.shape, pages,
                                                   small.shape[0] / core_height)),
        crop=crop, scale=scale / factor)


def reencoded(work, *, quality=75):
    """The working copy as a re-upload would give it: saved as a JPEG, read back and
    measured again at the same side.

    A measurement that moves when the picture is merely re-compressed is not evidence
    about the drawing; the model checks each reason against this copy.

    Parameters
    ----------
    work : WorkingCopy
    quality : int
        JPEG quality, 1-100.

    Returns
    -------
    work : WorkingCopy
        Of the re-encoded picture, with the same long side.
    """
    bgr = cv2.cvtColor(work.rgb, cv2.COLOR_RGB2BGR)
    _, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    rgb = cv2.cvtColor(cv2.imdecode(buffer, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return working_copy(rgb, side=max(work.rgb.shape[:2]))


def _reduce_whole(image, factor):
    """Shrink an image by a whole factor, each output pixel the mean of a block.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
    factor : int
        Block side, >= 1; an axis shorter than ``factor`` is reduced by its own length.

    Returns
    -------
    reduced : ndarray of shape (H // rows, W // cols, 3), uint8
        The mean of each block, rounded; the last rows and columns that do not fill a
        block are left out. ``image`` itself when ``factor`` is 1.
    block : tuple of 2 int
        ``(rows, cols)``, the block's shape.
    """
    if factor <= 1:
        return image, (1, 1)
    height, width = image.shape[:2]
    rows, cols = min(factor, height), min(factor, width)
    out_height, out_width = height // rows, width // cols
    # Whole blocks only: OpenCV then takes its block-average path, not the weighted
    # area average of a fractional factor.
    reduced = cv2.resize(image[:out_height * rows, :out_width * cols], (out_width, out_height),
                         interpolation=cv2.INTER_AREA)
    return reduced, (rows, cols)


def trim_borders(image, *, tolerance=_FLAT_TOLERANCE, min_keep=0.25, margin=_MARGIN):
    """Find flat borders (letterbox bars, blank page) around an image.

    A side's border is the run of lines, from the edge inwards, on which nearly all
    pixels (98%) lie within ``tolerance`` of the outermost line's median colour.

    Where the border frames a page (a figure on white), a margin of it is kept so the
    figure's outer outline is still an edge. Where it frames a picture that fills the
    frame (a letterboxed still, a framed painting), it goes entirely: kept, it would
    draw a straight edge along the whole picture that the unframed file does not have.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
    tolerance : int
        Largest per-channel difference from the outermost line's median colour that
        still counts as the same flat colour.
    min_keep : float
        Never trim an axis below this share of its length (a blank image stays whole).
    margin : float
        Share of each page side's length, after trimming (at least 2 px), of the border
        left in place.

    Returns
    -------
    crop : tuple of 4 int
        Rows trimmed at the top and bottom, columns trimmed at the left and right.
    """
    return _trim(image, tolerance, min_keep, margin)[0]


def _trim(image, tolerance, min_keep, margin, blended=False):
    """:func:`trim_borders`, and which trimmed sides kept a margin of page.

    ``blended``: the image was shrunk by block averages, so the line where a frame
    meets the picture may mix both; it goes with the frame.
    """
    img = np.asarray(image)
    height, width = img.shape[:2]
    top = bottom = left = right = 0
    # Depth of the innermost layer peeled on each side: the only one a margin is kept of.
    innermost = [0, 0, 0, 0]
    # Borders nest (a black frame around a white page): peel them until none is left.
    for _ in range(_MAX_NESTED_BORDERS):
        inner = img[top:height - bottom, left:width - right]
        columns = inner.transpose(1, 0, 2)
        runs = (_border_run(inner, tolerance), _border_run(inner[::-1], tolerance),
                _border_run(columns, tolerance), _border_run(columns[::-1], tolerance))
        rows_ok = height - top - bottom - runs[0] - runs[1] >= max(min_keep * height, 8)
        cols_ok = width - left - right - runs[2] - runs[3] >= max(min_keep * width, 8)
        if top or bottom or left or right:
            # An inner layer is a mat only when it frames both opposite sides in one
            # colour; otherwise it is a flat part of the drawing (a sky, a wall).
            rows_ok &= _same_colour_pair(inner[0], inner[-1], runs[0], runs[1], tolerance)
            cols_ok &= _same_colour_pair(inner[:, 0], inner[:, -1], runs[2], runs[3],
                                         tolerance)
        runs = (runs[0] * rows_ok, runs[1] * rows_ok, runs[2] * cols_ok, runs[3] * cols_ok)
        if not any(runs):
            break
        top, bottom, left, right = (top + runs[0], bottom + runs[1],
                                    left + runs[2], right + runs[3])
        innermost = [run or depth for run, depth in zip(runs, innermost)]
    core = img[top:height - bottom, left:width - right]
    # Margins are a share of the picture left, so a frame added around the file
    # changes none of them.
    keep_rows, keep_cols = _kept(margin, core.shape[0]), _kept(margin, core.shape[1])
    # Per side: the innermost trimmed line (the colour met at the picture), and the band
    # of lines just inside the picture, as (depth, length, 3).
    rows, cols = _band(height), _band(width)
    borders = (lambda: img[top - 1], lambda: img[height - bottom],
               lambda: img[:, left - 1], lambda: img[:, width - right])
    insides = (lambda: core[:rows], lambda: core[::-1][:rows],
               lambda: core[:, :cols].transpose(1, 0, 2),
               lambda: core[:, ::-1][:, :cols].transpose(1, 0, 2))
    crop, pages = [], []
    for trimmed, depth, border, inside, keep in zip(
            (top, bottom, left, right), innermost, borders, insides,
            (keep_rows, keep_rows, keep_cols, keep_cols)):
        page = bool(trimmed) and _is_page(border(), inside(), tolerance)
        # A page keeps a margin of its own colour, never of the frame around it.
        crop.append(trimmed - min(keep, depth) if page else trimmed + (blended and trimmed > 0))
        pages.append(page)
    return tuple(crop), tuple(pages)


def _is_page(border, inside, tolerance):
    """Whether a border continues into the picture as its background (a page).

    ``inside`` is the band of lines just within the border, shape (depth, length, 3). A
    figure on a page lets the page show within a few pixels at most places along the
    side (between strokes, beyond an outline, even beyond a straight outer stroke); a
    picture that fills a frame does not. A page when the border's colour is met within
    the band at half the places or more.
    """
    if inside.size == 0:
        return True
    colour = np.median(border, axis=0)
    near = _near_mask(np.ascontiguousarray(inside), colour, tolerance)
    return bool(np.count_nonzero(near.any(axis=0)) >= 0.5 * inside.shape[1])


def _band(length):
    """Depth, in lines, of the band inside a side that :func:`_is_page` looks into."""
    return max(3, round(_PAGE_BAND * length))


def _kept(margin, length):
    """Lines of border kept in place on a trimmed side of ``length`` lines."""
    return max(2, round(margin * length))


def _same_colour_pair(first, last, first_run, last_run, tolerance):
    """Whether two opposite border runs both exist and share one flat colour."""
    if not (first_run and last_run):
        return False
    difference = np.abs(np.median(first, axis=0) - np.median(last, axis=0))
    return bool(np.all(difference <= tolerance))


def _near_mask(image, colour, tolerance):
    """Pixels whose every channel lies within ``tolerance`` of ``colour``.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
    colour : array-like of 3 float
    tolerance : float

    Returns
    -------
    near : ndarray of shape (H, W), uint8
        255 where near, 0 elsewhere.
    """
    # cv2.inRange compares uint8 directly: no int16 copy of the image.
    colour = np.asarray(colour, dtype=np.float64)
    low = np.clip(np.ceil(colour - tolerance), 0.0, 255.0)
    high = np.clip(np.floor(colour + tolerance), 0.0, 255.0)
    return cv2.inRange(image, low, high)


@njit(cache=True, nogil=True)
def _border_run(lines, tolerance):
    """How many of ``lines`` (shape (n, length, 3)), from the first, are flat.

    A line is flat when at least ``_FLAT_SHARE`` of its pixels lie within
    ``tolerance`` of the first line's median colour (as :func:`_near_mask` tests).
    Compiled (numba): borders are usually a few lines deep, and this stops at the
    first line that is not flat.
    """
    n, length = lines.shape[0], lines.shape[1]
    low, high = np.empty(3), np.empty(3)
    for c in range(3):
        # The bounds of _near_mask around the first line's median colour.
        median = np.median(lines[0, :, c])
        low[c] = min(max(np.ceil(median - tolerance), 0.0), 255.0)
        high[c] = min(max(np.floor(median + tolerance), 0.0), 255.0)
    for k in range(n):
        near = 0
        for i in range(length):
            inside = True
            for c in range(3):
                v = lines[k, i, c]
                if v < low[c] or v > high[c]:
                    inside = False
                    break
            near += inside
        if near / length < _FLAT_SHARE:
            return k
    return n


def _page_colours(rgb, crop, pages):
    """The colours of the trimmed margins (the page), one per distinct colour.

    Empty where no side kept a margin of page. Sides may differ: a black frame whose top
    and bottom margins are kept while the white page inside it was peeled at the sides.
    """
    top, bottom, left, right = crop
    colours = []
    # The first kept line lies in the margin left of the innermost border: the page.
    for page, line in zip(pages, (rgb[top], rgb[-1 - bottom], rgb[:, left], rgb[:, -1 - right])):
        if page:
            colour = np.median(line, axis=0)
            if not any(np.all(np.abs(colour - c) <= _FLAT_TOLERANCE) for c in colours):
                colours.append(colour)
    return colours


def _margin_bands(core_shape, pages, scale):
    """Width, in working pixels, of the margin kept on each page side (0 elsewhere).

    ``core_shape`` is the shape of the picture inside the borders. One pixel wider than
    the margin itself: resizing blends its inner edge.
    """
    height, width = core_shape[:2]
    return tuple(int(np.ceil(_kept(_MARGIN, length) * scale)) + 1 if page else 0
                 for page, length in zip(pages, (height, height, width, width)))


def _foreground(rgb, pages=(), *, bands=(0, 0, 0, 0)):
    """Mask out the flat background region connected to the border.

    The background colours are the page colours when margins were trimmed (after
    trimming, the drawing touches the border and may dominate it), else the border's
    dominant colour, if it has one. ``bands`` (top, bottom, left, right), in pixels,
    are the kept margins: background, and the page region may reach the border
    through them.
    """
    if len(pages):
        colours = [np.asarray(page, dtype=np.float64) for page in pages]
    else:
        border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.int64)
        quant = border // 16
        keys = quant[:, 0] * 256 + quant[:, 1] * 16 + quant[:, 2]
        counts = np.bincount(keys)
        if counts.max() <= 0.5 * len(border):  # no colour dominates: no background
            return np.ones(rgb.shape[:2], dtype=bool)
        colours = [np.median(border[keys == np.argmax(counts)], axis=0)]
    # One region over all page colours: a page seen between the strokes may reach the
    # border only through the frame's margin.
    near = _near_mask(rgb, colours[0], _FLAT_TOLERANCE)
    for colour in colours[1:]:
        near |= _near_mask(rgb, colour, _FLAT_TOLERANCE)
    top, bottom, left, right = bands
    near[:top] = near[near.shape[0] - bottom:] = 255
    near[:, :left] = near[:, near.shape[1] - right:] = 255
    n, labels = cv2.connectedComponents(near, connectivity=4)
    touching = np.zeros(n, dtype=bool)
    touching[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = True
    touching[0] = False  # label 0: pixels that are not near the background colour
    background = touching[labels]
    # Grow the drawing by 2 px: its outer outline and the edge around it belong to it.
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    foreground = cv2.dilate((~background).astype(np.uint8), cross, iterations=2) > 0
    # An (almost) blank image: describe all of it.
    if np.count_nonzero(foreground) / foreground.size < 0.02:
        return np.ones(rgb.shape[:2], dtype=bool)
    return foreground


def _is_rgb_uint8(image):
    return (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
            and image.shape[2] == 3)
