"""Feature families and the registry that assembles them into one named vector.

Each family is a module with a pure function ``image -> float64 vector`` and a tuple
``NAMES``; the registry below fixes their order, so a feature's index never changes
for a given list of families. Full names are ``family.feature``.
"""

from __future__ import annotations

import numpy as np

from ..preprocess import WORK_SIDE, as_working_copy
from . import colour, edges, face, hog, lines, regions, shading, texture

__all__ = ["FAMILIES", "extract_features", "feature_names"]

#: family name -> (function, feature names), in vector order.
FAMILIES = {
    "edges": (edges.edge_features, edges.NAMES),
    "lines": (lines.line_features, lines.NAMES),
    "colour": (colour.colour_features, colour.NAMES),
    "regions": (regions.region_features, regions.NAMES),
    "shading": (shading.shading_features, shading.NAMES),
    "texture": (texture.texture_features, texture.NAMES),
    "hog": (hog.hog_features, hog.NAMES),
    "face": (face.face_features, face.NAMES),
}


def _resolve(families):
    if families is None:
        return list(FAMILIES)
    if isinstance(families, str):
        families = [families]
    families = list(families)
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown feature families {unknown}; choose from {list(FAMILIES)}")
    if not families:
        raise ValueError("families must name at least one family")
    # Registry order, whatever order was asked for, so names stay stable.
    return [f for f in FAMILIES if f in families]


def feature_names(families=None):
    """Names of the features that :func:`extract_features` returns, in order.

    Parameters
    ----------
    families : str or sequence of str, optional
        Families to include; all of ``FAMILIES`` by default.

    Returns
    -------
    names : list of str
        ``"family.feature"`` strings, e.g. ``"lines.thickness_median"``.
    """
    return [f"{family}.{name}" for family in _resolve(families) for name in FAMILIES[family][1]]


def extract_features(image, *, families=None, side=WORK_SIDE):
    """Compute the structural feature vector of one image.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or anything ``load_image`` accepts
        The image. It is trimmed and resized to a working copy first, so features
        do not depend on its resolution.
    families : str or sequence of str, optional
        Families to compute; all by default.
    side : int
        Long side of the working copy, in pixels.

    Returns
    -------
    features : ndarray of shape (len(feature_names(families)),), float64
        NaN marks a feature that cannot be measured on this image (no face found,
        no outlines).
    """
    work = as_working_copy(image, side=side)
    parts = [FAMILIES[f][0](work) for f in _resolve(families)]
    return np.concatenate(parts).astype(np.float64, copy=False)
