"""Region family: how well a few flat paints explain the drawing, and the regions they form.

A western cartoon is close to a paint-by-numbers picture: quantise it to eight colours
and little is lost, leaving a few large connected regions. Anime's gradients, cel
shading and highlights leave a larger residual and many small regions.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from ..preprocess import as_working_copy
from ._util import safe_ratio

__all__ = ["NAMES", "quantise", "region_features"]

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


def quantise(image, *, n_colours=N_PAINTS):
    """Median-cut quantisation of the working copy (deterministic, no random seeds).

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy
    n_colours : int

    Returns
    -------
    indices : ndarray of shape (h, w), uint8
        Palette index of each working pixel.
    quantised : ndarray of shape (h, w, 3), uint8
        The image painted with the palette.
    """
    work = as_working_copy(image)
    key = ("quantise", n_colours)
    if key not in work.cache:
        pal = Image.fromarray(work.rgb).quantize(colors=n_colours,
                                                 method=Image.Quantize.MEDIANCUT, dither=0)
        indices = np.asarray(pal)
        palette = np.asarray(pal.getpalette()[:3 * 256], dtype=np.uint8).reshape(-1, 3)
        work.cache[key] = (indices, palette[indices])
    return work.cache[key]


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
    rgb = work.rgb.astype(np.float64)
    residuals = []
    for n in (8, 4):
        _, painted = quantise(work, n_colours=n)
        residuals.append(float(np.abs(rgb - painted)[fg].mean()) / 255.0)

    indices, _ = quantise(work, n_colours=N_PAINTS)
    sizes = []
    for index in np.unique(indices[fg]):
        labels, n = ndi.label((indices == index) & fg)
        sizes.append(np.bincount(labels.ravel(), minlength=n + 1)[1:])
    sizes = np.concatenate(sizes) if sizes else np.zeros(0)
    speck = sizes < SPECK_SHARE * area
    large = sizes >= LARGE_SHARE * area

    r, g, b = rgb[..., 0][fg], rgb[..., 1][fg], rgb[..., 2][fg]
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
