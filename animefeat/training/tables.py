"""Feature tables of a labelled folder: feature rows, degraded copies, patch descriptors,
near-duplicate groups and the weights that make every (source, label) cell count alike.

Computed once and cached by file hash: a rerun computes nothing it has already computed.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import cv2
import numpy as np
from joblib import Parallel, delayed
from PIL import Image
from tqdm.auto import tqdm

from ..data import read_dataset
from ..features import extract_features, feature_names
from ..features.local import dense_sift
from ..io import load_image
from ..model import FEATURES_VERSION
from ..preprocess import WORK_SIDE, load_for_features, trim_borders

__all__ = [
    "FeatureTable",
    "degrade",
    "descriptor_sets",
    "feature_table",
    "near_duplicate_groups",
    "source_weights",
    "trainable",
    "yardsticks",
]

# Degraded training copies: long side log-uniform between MIN_AUGMENT_SIDE px and the
# decoded image's, JPEG quality 40 to 95, and half of them framed by a flat border.
# Down to thumbnail size: one source's 52-px face crops must not teach "small and
# blurry means anime" (left out, 94% of web-small's 120-px cartoons were called anime).
AUGMENT_QUALITY = (40, 95)
MIN_AUGMENT_SIDE = 48


class FeatureTable:
    """Feature rows for a dataset, plus degraded copies of its large images.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_features)
    origin : ndarray of shape (n_rows,), int
        Index of the dataset image each row comes from (augmented rows repeat it).
    augmented : ndarray of shape (n_rows,), bool
    dataset : Dataset
    key : str or None
        What the rows were computed from (data, features, augmentation, side, seed), as
        :func:`feature_table` keys its cache; None for a table built by hand.
    """

    def __init__(self, X, origin, augmented, dataset, key=None):
        self.X, self.origin, self.augmented, self.dataset = X, origin, augmented, dataset
        self.key = key

    def without_augmented(self):
        """The same table without the degraded copies (a recipe that trains on none)."""
        keep = ~self.augmented
        return FeatureTable(self.X[keep], self.origin[keep], self.augmented[keep], self.dataset)

    def select(self, columns):
        """The same rows with only ``columns`` (indices or a bool mask) of ``X``."""
        return FeatureTable(self.X[:, columns], self.origin, self.augmented, self.dataset)

    def select_families(self, families, *, of=None):
        """The same rows with only the features of ``families``, in registry order.

        Parameters
        ----------
        families : sequence of str or None
            Families to keep; None keeps all of ``of``.
        of : sequence of str, optional
            Families whose features ``X`` holds, in registry order; all by default.
        """
        names = feature_names(of)
        return self.select([names.index(n) for n in feature_names(families)])


def degrade(image, rng):
    """A rescaled, re-compressed, sometimes framed copy of an image.

    Sources differ in resolution, compression and framing (face crops of 52 px, TV
    frames, clip art on a white page). Training on such copies of every image makes
    those properties useless for telling the styles apart, so the model has to learn
    the drawing instead.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
    rng : numpy.random.Generator

    Returns
    -------
    degraded : ndarray of shape (h, w, 3), uint8
        Long side log-uniform between ``MIN_AUGMENT_SIDE`` px and the input's (an input
        smaller than that keeps its size; the short side stays at least 16 px), JPEG
        quality in ``AUGMENT_QUALITY``; with probability 1/2 padded on every side by 2%
        to 15% of its size with white or a random flat colour.
    """
    height, width = image.shape[:2]
    long_side, short_side = max(height, width), min(height, width)
    # An elongated image keeps its short side at the loader's smallest side (16 px).
    smallest = min(long_side, max(MIN_AUGMENT_SIDE, -(-long_side * 16 // short_side)))
    target = round(np.exp(rng.uniform(np.log(smallest), np.log(long_side))))
    out = image
    if target < long_side:
        factor = target / long_side
        out = cv2.resize(image, (max(1, round(width * factor)), max(1, round(height * factor))),
                         interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        colour = (255, 255, 255) if rng.random() < 0.5 else tuple(
            int(v) for v in rng.integers(0, 256, 3))
        h, w = out.shape[:2]
        top, bottom = (round(h * rng.uniform(0.02, 0.15)) for _ in range(2))
        left, right = (round(w * rng.uniform(0.02, 0.15)) for _ in range(2))
        out = cv2.copyMakeBorder(out, top, bottom, left, right, cv2.BORDER_CONSTANT,
                                 value=colour)
    buffer = io.BytesIO()
    Image.fromarray(out).save(buffer, format="JPEG", quality=int(rng.integers(
        AUGMENT_QUALITY[0], AUGMENT_QUALITY[1] + 1)))
    return load_image(buffer.getvalue())


def _rows_for(path, index, families, augment, seed, side):
    rgb = load_for_features(path, side=side)
    rows = [extract_features(rgb, families=families, side=side)]
    if augment:
        rng = np.random.default_rng([seed, index])
        rows.append(extract_features(degrade(rgb, rng), families=families, side=side))
    return rows


def source_weights(sources, labels):
    """Sample weights that give every (source, label) cell the same total weight.

    Without them the largest source (1,084 face crops) decides what "anime" looks
    like; with them, every source counts alike, whatever its size.

    Parameters
    ----------
    sources, labels : array-like of shape (n_rows,)

    Returns
    -------
    weights : ndarray of shape (n_rows,), float64
        Mean 1.
    """
    keys = np.char.add(np.char.add(np.asarray(sources, dtype=str), "|"),
                       np.asarray(labels, dtype=str))
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    weights = 1.0 / counts[inverse]
    return weights / weights.mean()


def feature_table(dataset, *, families=None, augment=True, seed=0, n_jobs=None,
                  cache_dir=None, progress=True, side=WORK_SIDE):
    """Compute (or read from cache) the feature rows of a dataset.

    Parameters
    ----------
    dataset : Dataset or str or Path
    families : sequence of str, optional
    augment : bool
        Add one degraded copy (see :func:`degrade`) of every image.
    seed : int
        Seed of the augmentation.
    n_jobs : int, optional
        Parallel workers.
    cache_dir : str or Path, optional
        Where to keep computed tables, keyed by data and settings.
    progress : bool
        Show a progress bar.
    side : int
        Long side of the working copy, in pixels.

    Returns
    -------
    table : FeatureTable
    """
    dataset = read_dataset(dataset) if isinstance(dataset, (str, Path)) else dataset
    key = hashlib.sha256(json.dumps({
        "data": dataset.manifest_sha256, "n": len(dataset), "families": families,
        "augment": augment, "seed": seed, "features": FEATURES_VERSION, "side": side,
        "augmentation": ["log-uniform", AUGMENT_QUALITY, MIN_AUGMENT_SIDE],
        "names": feature_names(families),
    }, sort_keys=True).encode()).hexdigest()[:16]
    cached = Path(cache_dir) / f"features-{key}.npz" if cache_dir else None
    if cached is not None and cached.is_file():
        with np.load(cached) as z:
            return FeatureTable(z["X"], z["origin"], z["augmented"], dataset, key=key)

    jobs = (delayed(_rows_for)(str(p), i, families, augment, seed, side)
            for i, p in enumerate(dataset.paths))
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    X, origin, augmented = [], [], []
    bar = tqdm(results, total=len(dataset), desc="features", unit="img", disable=not progress)
    for i, rows in enumerate(bar):
        for k, row in enumerate(rows):
            X.append(row)
            origin.append(i)
            augmented.append(k > 0)
    table = FeatureTable(np.asarray(X), np.asarray(origin), np.asarray(augmented), dataset,
                         key=key)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cached, X=table.X, origin=table.origin, augmented=table.augmented)
    return table


def _descriptors_of(path, index, grid, side, degraded, seed):
    rgb = load_for_features(path, side=side)
    if degraded:
        # The same copy as the feature table's degraded row of this image.
        rgb = degrade(rgb, np.random.default_rng([seed, index]))
    # uint8: OpenCV's SIFT values are whole numbers in 0..255 (8 times smaller).
    return dense_sift(rgb, side=side, **grid).descriptors.astype(np.uint8)


def descriptor_sets(dataset, *, step=8, sizes=(16, 32), min_contrast=0.02, background=False,
                    min_line_share=0.0, degraded=False, seed=0, side=WORK_SIDE, n_jobs=None,
                    cache_dir=None, progress=True):
    """Every image's dense SIFT descriptors (:func:`~animefeat.features.local.dense_sift`).

    Parameters
    ----------
    dataset : Dataset or str or Path
    step, sizes, min_contrast, background, min_line_share
        The grid and the patches left out (:func:`~animefeat.features.local.dense_sift`).
    degraded : bool
        Describe each image's degraded copy (:func:`degrade`, seeded by ``seed`` and the
        image's index: the copy :func:`feature_table` makes) instead of the image.
    seed : int
    side : int
        Long side of the working copy.
    n_jobs : int, optional
    cache_dir : str or Path, optional
        Where to keep them, keyed by data and grid.
    progress : bool

    Returns
    -------
    sets : list of ndarray of shape (n_patches_i, 128), uint8
        One per dataset image, in dataset order.
    """
    dataset = read_dataset(dataset) if isinstance(dataset, (str, Path)) else dataset
    grid = {"step": step, "sizes": tuple(sizes), "min_contrast": min_contrast,
            "background": background, "min_line_share": min_line_share}
    spec = {"data": dataset.manifest_sha256, "step": step, "sizes": list(sizes), "side": side,
            "v": 4}
    if min_contrast != 0.02 or background:  # the defaults keep the keys of earlier caches
        spec.update(min_contrast=min_contrast, background=background)
    if min_line_share:
        spec.update(min_line_share=min_line_share)
    if degraded:
        spec.update(degraded={"seed": seed, "augmentation": ["log-uniform", AUGMENT_QUALITY,
                                                            MIN_AUGMENT_SIDE]})
    key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
    cached = Path(cache_dir) / f"sift-{key}.npz" if cache_dir else None
    if cached is not None and cached.is_file():
        with np.load(cached) as z:
            flat, counts = z["flat"], z["counts"]
    else:
        rows = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_descriptors_of)(str(p), i, grid, side, degraded, seed)
            for i, p in enumerate(dataset.paths))
        sets = list(tqdm(rows, total=len(dataset), desc="descriptors", unit="img",
                         disable=not progress))
        counts = np.array([len(s) for s in sets])
        flat = np.vstack(sets)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(cached, flat=flat, counts=counts)
    return np.split(flat, np.cumsum(counts)[:-1])


def near_duplicate_groups(paths, *, max_distance=4):
    """Group near-duplicate images (same frame re-encoded, cropped or re-sized).

    Each image's content (flat borders trimmed) gets a 64-bit difference hash; an
    image joins the group of the first earlier image within ``max_distance`` bits.
    Leader clustering, not chaining: a chain of slightly different images (say, many
    avatars drawn from one template) must not merge into one giant group.

    Parameters
    ----------
    paths : sequence of path-like
    max_distance : int
        Largest Hamming distance between the dHashes of an image and its group leader.

    Returns
    -------
    groups : ndarray of shape (n,), int
        Group id of each image: the index of its group's first image.
    """
    hashes = np.zeros(len(paths), dtype=np.uint64)
    weights = np.array([0.299, 0.587, 0.114])
    for i, path in enumerate(paths):
        rgb = load_image(path)
        top, bottom, left, right = trim_borders(rgb)
        core = rgb[top:rgb.shape[0] - bottom, left:rgb.shape[1] - right] @ weights
        grey = cv2.resize(core, (9, 8), interpolation=cv2.INTER_AREA)
        bits = np.packbits(grey[:, 1:] > grey[:, :-1])
        hashes[i] = int.from_bytes(bits.tobytes(), "big")
    groups = np.arange(len(paths))
    leaders = []
    for i in range(len(paths)):
        if leaders:
            lead = np.asarray(leaders)
            close = lead[np.bitwise_count(hashes[lead] ^ hashes[i]) <= max_distance]
            if close.size:
                groups[i] = close[0]
                continue
        leaders.append(i)
    return groups


def trainable(X, sources=None):
    """``X`` with the columns that cannot be trained on set to 0.

    scikit-learn's histogram binning fails on an all-NaN column (its list of distinct
    values is empty). Such a column (no face in any training image, say) carries no
    information, and at prediction time its NaN simply follows the default branch.
    Given the rows' ``sources`` (two or more), a column measured in one source only is
    blanked too:
    calibration and evaluation hold each source out in turn, which would leave it all
    NaN, and a feature only one source ever shows describes that source, not a style.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    sources : array-like of shape (n_rows,), optional

    Returns
    -------
    X : ndarray of shape (n_rows, n_features)
        ``X`` itself when no column needs it, else a copy.
    """
    measured = ~np.isnan(X)
    empty = ~measured.any(axis=0)
    if sources is not None and len(np.unique(sources)) > 1:
        # Only where a source can be held out: with one source, nothing is.
        sources = np.asarray(sources)
        kinds = [measured[sources == s].any(axis=0) for s in np.unique(sources)]
        empty |= np.sum(kinds, axis=0) <= 1
    if not empty.any():
        return X
    X = X.copy()
    X[:, empty] = 0.0
    return X


def yardsticks(table, y, names, *, rows=None):
    """Each feature's usual range per style: the middle half of the training drawings.

    Parameters
    ----------
    table : FeatureTable
        Its columns are ``names``.
    y : ndarray of shape (n_images,), int
        1 for anime, 0 for cartoon (per dataset image).
    names : sequence of str
    rows : ndarray of int, optional
        The dataset images to measure (the drawings); degraded copies never count.

    Returns
    -------
    ranges : dict
        ``{name: {"anime": [p25, p75], "cartoon": [p25, p75]}}``; a feature measured in
        no drawing of a style is left out.
    """
    keep = ~table.augmented
    if rows is not None:
        keep &= np.isin(table.origin, rows)
    X, labels = table.X[keep], np.asarray(y)[table.origin[keep]]
    out = {}
    for j, name in enumerate(names):
        ranges = {}
        for style, cls in (("anime", 1), ("cartoon", 0)):
            values = X[labels == cls, j]
            values = values[np.isfinite(values)]
            if not len(values):
                break
            low, high = np.percentile(values, [25, 75])
            ranges[style] = [float(low), float(high)]
        if len(ranges) == 2:
            out[name] = ranges
    return out
