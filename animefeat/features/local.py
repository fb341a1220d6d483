"""Dense local descriptors: SIFT on a regular grid over the grey working copy.

Local gradient patterns (how a stroke tapers, how hair strands and eyes are hatched)
carry a drawing's style to sources never seen better than global statistics do: the
patches are encoded against a codebook learnt from data (:mod:`animefeat.encode`).
This module is the pure part: one image in, its patches out. Near-uniform patches (a
flat page, sky, an empty fill) describe the framing, not the drawing, and patches
centred on the flat background that touches the border are not the figure: both are
left out. So, optionally, are patches with few line pixels: painted backgrounds (night
skies, walls, foliage) carry texture but few thin dark strokes, and the local patterns
learnt there tell one studio's backgrounds from another's rather than anime from
cartoon.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from ..preprocess import as_working_copy
from ._util import grey_uint8
from .lines import line_mask

__all__ = ["DESCRIPTOR_SIZE", "LocalDescriptors", "dense_sift"]

#: Length of one SIFT descriptor (4 x 4 cells of 8 orientations).
DESCRIPTOR_SIZE = 128

#: Patches larger than this (pixels) are described on a shrunk copy of the image.
_BASE_WINDOW = 16

_local = threading.local()  # one SIFT object per thread


def _sift():
    if not hasattr(_local, "sift"):
        _local.sift = cv2.SIFT_create()
    return _local.sift


@dataclass(frozen=True)
class LocalDescriptors:
    """The patches of one working copy.

    Attributes
    ----------
    descriptors : ndarray of shape (n_patches, 128), float64
        One SIFT descriptor per patch kept (OpenCV's scaling: values in 0..255).
    positions : ndarray of shape (n_patches, 2), float64
        Patch centres ``(x, y)`` in working-copy pixels.
    sizes : ndarray of shape (n_patches,), float64
        Patch diameters in working-copy pixels.
    shape : tuple of 2 int
        ``(h, w)`` of the working copy.
    """

    descriptors: np.ndarray
    positions: np.ndarray
    sizes: np.ndarray
    shape: tuple

    def __len__(self):
        return len(self.descriptors)


def dense_sift(image, *, step=8, sizes=(16, 32), min_contrast=0.02, background=False,
               min_line_share=0.0, side=256):
    """SIFT descriptors of patches on a regular grid, flat and background patches left out.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy
        The image; a working copy is made at ``side`` first (trimmed, masked).
    step : int
        Grid spacing in working-copy pixels.
    sizes : sequence of int
        Patch diameters in working-copy pixels; every grid point gets one patch of each.
    min_contrast : float
        Patches whose grey standard deviation (grey in [0, 1]) is below this are flat
        and left out (0 keeps them).
    background : bool
        Keep patches centred on the flat background that touches the border (left out
        by default: they describe the framing, not the figure).
    min_line_share : float
        Patches whose square holds a smaller share of line pixels
        (:func:`animefeat.features.lines.line_mask`) are left out (0 keeps them all).
        A one-pixel stroke across a 16-px patch is a share of 1/16.
    side : int
        Long side of the working copy, in pixels.

    Returns
    -------
    patches : LocalDescriptors
        Patches in grid order (size, then row, then column); none for a flat image.
    """
    work = as_working_copy(image, side=side)
    # Kept with the working copy, as its other shared intermediates are: the answer and
    # the page's map both read the same patches of one copy.
    key = ("dense_sift", step, tuple(sizes), min_contrast, background, min_line_share)
    if key not in work.cache:
        work.cache[key] = _dense_sift(work, step, sizes, min_contrast, background,
                                      min_line_share)
    return work.cache[key]


def _dense_sift(work, step, sizes, min_contrast, background, min_line_share):
    grey = grey_uint8(work)
    h, w = grey.shape
    # The line mask as box-filterable values, once for every patch size.
    lines = line_mask(work).astype(np.float32) if min_line_share > 0 else None
    positions, diameters = [], []
    for size in sizes:
        half = size // 2
        ys = np.arange(half, h - half + 1, step, dtype=np.float64)
        xs = np.arange(half, w - half + 1, step, dtype=np.float64)
        if not len(ys) or not len(xs):
            continue
        yy, xx = np.meshgrid(ys, xs, indexing="ij")
        centres = np.column_stack([xx.ravel(), yy.ravel()])
        at = (centres[:, 1].astype(int), centres[:, 0].astype(int))  # (rows, cols)
        keep = (_textured(work.grey, at, size, min_contrast) if min_contrast > 0
                else np.ones(len(centres), bool))
        if not background:
            keep &= work.foreground[at]
        if lines is not None:
            keep &= _on_lines(lines, at, size, min_line_share)
        positions.append(centres[keep])
        diameters.append(np.full(int(keep.sum()), float(size)))
    positions = np.concatenate(positions) if positions else np.zeros((0, 2))
    diameters = np.concatenate(diameters) if diameters else np.zeros(0)
    if not len(positions):
        return LocalDescriptors(np.zeros((0, DESCRIPTOR_SIZE)), positions, diameters, (h, w))
    descriptors = np.vstack([_describe(grey, positions[diameters == size], size)
                             for size in dict.fromkeys(diameters.tolist())])
    return LocalDescriptors(descriptors, positions, diameters, (h, w))


def _describe(grey, centres, size):
    """SIFT descriptors whose 4 x 4 cells span a ``size``-pixel square around each centre.

    OpenCV's descriptor spans 6 times the keypoint's size (4 cells of 1.5 sizes each),
    so a keypoint of ``size / 6`` covers the patch. Larger patches are described on a
    copy shrunk to the base window (a pyramid level): the same descriptor at a quarter
    of the cost per halving, since SIFT samples every pixel under the window.
    """
    scale = min(1.0, _BASE_WINDOW / size)
    if scale < 1.0:
        h, w = grey.shape
        grey = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))),
                          interpolation=cv2.INTER_AREA)
    # Angle 0: upright patches (OpenCV turns a keypoint's default -1 into 1 degree).
    # Python floats in one list first: numpy scalars cost 3 times as much per keypoint.
    diameter = size * scale / 6.0
    keypoints = [cv2.KeyPoint(x, y, diameter, 0.0) for x, y in (centres * scale).tolist()]
    # compute() keeps the keypoints' order; it drops none on an in-bounds grid.
    found, descriptors = _sift().compute(grey, keypoints)
    if len(found) != len(keypoints):
        raise RuntimeError("OpenCV's SIFT dropped grid patches")
    return descriptors.astype(np.float64)


def _on_lines(lines, at, size, min_line_share):
    """Whether the square patch of ``size`` around each centre (``at``: their rows and
    columns) holds at least ``min_line_share`` of line pixels (``lines``: the line mask
    as float32 0/1; outside the picture counts as no line)."""
    share = cv2.boxFilter(lines, -1, (size, size), borderType=cv2.BORDER_CONSTANT)
    # float32 box sums of 0/1 values: a hair of rounding must not drop a patch that
    # holds exactly the share asked for.
    return share[at] >= min_line_share - 1e-6


def _textured(grey, at, size, min_contrast):
    """Whether the square patch of ``size`` around each centre (``at``: their rows and
    columns) has grey standard deviation of at least ``min_contrast`` (box filters: one
    pass per size)."""
    mean = cv2.boxFilter(grey, cv2.CV_64F, (size, size), borderType=cv2.BORDER_REFLECT)
    mean_sq = cv2.boxFilter(grey * grey, cv2.CV_64F, (size, size),
                            borderType=cv2.BORDER_REFLECT)
    std = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))
    return std[at] >= min_contrast
