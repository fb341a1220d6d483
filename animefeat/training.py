"""Training and evaluation on labelled folders: features, splits, search, metrics.

Reproducible by construction: every random choice takes the seed, feature matrices
are cached by file hash (so a rerun computes nothing it has already computed), and
the card records the data's manifest hash and every library version.

Splits respect what makes this data hard:

* near-duplicate frames (same show, same scene) are grouped so they never straddle a
  train/test split (:func:`near_duplicate_groups`);
* folds are stratified on source x label, and accuracy is reported per source;
* leave-one-source-out shows how the model does on a source it has never seen.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import json
from pathlib import Path

import cv2
import numpy as np
from joblib import Parallel, delayed
from PIL import Image
from scipy.special import expit
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, confusion_matrix, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from tqdm.auto import tqdm

from .data import check_labels, read_dataset
from .estimator import FeatureExtractor
from .exceptions import AnimefeatError
from .features import FAMILIES, extract_features, feature_names
from .features.local import dense_sift
from .io import load_image
from .model import (
    DEFAULT_PARAMS,
    DRAWING_PARAMS,
    FEATURES_VERSION,
    MIN_SOURCES_HELD_OUT,
    AnimefeatModel,
    calibrated_booster,
    new_card,
    union_families,
)
from .preprocess import WORK_SIDE, load_for_features, trim_borders

__all__ = [
    "PARAM_GRID",
    "FeatureTable",
    "cross_validate",
    "degrade",
    "descriptor_sets",
    "drawing_check",
    "drawing_held_out",
    "feature_table",
    "leave_one_source_out",
    "near_duplicate_groups",
    "select_recipe",
    "source_weights",
    "train",
]

#: The booster grid searched when no other candidates are given: every combination,
#: scored on sources held out (:func:`select_recipe`). Small trees and large leaves: a
#: source-specific quirk needs a deep, narrow branch to be learnt.
PARAM_GRID = {
    "learning_rate": [0.05, 0.1],
    "max_iter": [150, 300],
    "max_leaf_nodes": [7, 15],
    "min_samples_leaf": [40],
}
# Degraded training copies: long side log-uniform between MIN_AUGMENT_SIDE px and the
# decoded image's, JPEG quality 40 to 95, and half of them framed by a flat border.
# Down to thumbnail size: one source's 52-px face crops must not teach "small and
# blurry means anime" (left out, 94% of web-small's 120-px cartoons were called anime).
AUGMENT_QUALITY = (40, 95)
MIN_AUGMENT_SIDE = 48

#: Families measured by something learnt from the evaluation sources: the drawn-face
#: detector was trained on the ``faces`` crops with hard negatives from scene-photos,
#: dexter-frames, scooby-frames and ghibli-stills, so a head that reads it is scored on
#: sources it has seen. No head is trained on them by default, and an evaluation that
#: reads them says so.
DETECTOR_FAMILIES = ("face",)
#: The drawing check's families by default: every family but the detector's.
DRAWING_FAMILIES = [f for f in FAMILIES if f not in DETECTOR_FAMILIES]


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


def _descriptors_of(path, step, sizes, side):
    rgb = load_for_features(path, side=side)
    # uint8: OpenCV's SIFT values are whole numbers in 0..255 (8 times smaller).
    return dense_sift(rgb, step=step, sizes=sizes, side=side).descriptors.astype(np.uint8)


def descriptor_sets(dataset, *, step=8, sizes=(16, 32), side=WORK_SIDE, n_jobs=None,
                    cache_dir=None, progress=True):
    """Every image's dense SIFT descriptors (:func:`~animefeat.features.local.dense_sift`).

    Parameters
    ----------
    dataset : Dataset or str or Path
    step, sizes : int, sequence of int
        The grid.
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
    key = hashlib.sha256(json.dumps({"data": dataset.manifest_sha256, "step": step,
                                     "sizes": list(sizes), "side": side, "v": 2},
                                    sort_keys=True).encode()).hexdigest()[:16]
    cached = Path(cache_dir) / f"sift-{key}.npz" if cache_dir else None
    if cached is not None and cached.is_file():
        with np.load(cached) as z:
            flat, counts = z["flat"], z["counts"]
    else:
        rows = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_descriptors_of)(str(p), step, tuple(sizes), side) for p in dataset.paths)
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


def _folds(labels, sources, groups, n_splits, seed):
    strata = np.array([f"{s}|{label}" for s, label in zip(sources, labels)])
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(cv.split(np.zeros(len(strata)), strata, groups))


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


def _fit_predict(make, table, y, train_idx, test_idx):
    """Fit on the train images (and their degraded copies), predict the test originals.

    ``make(sources)`` returns a fresh classifier, given the source of each training
    row (so that its calibration can hold sources out); every (source, label) cell
    weighs the same (:func:`source_weights`).
    """
    train_rows = np.isin(table.origin, train_idx)
    test_rows = np.isin(table.origin, test_idx) & ~table.augmented
    origin = table.origin[train_rows]
    sources = np.asarray(table.dataset.sources)[origin]
    model = _fit(make(sources), trainable(table.X[train_rows], sources), y[origin], sources)
    # Rows are in dataset order, as the sorted test indices are: no reordering needed.
    return model.predict_proba(table.X[test_rows])[:, 1]


def _fit(model, X, y, sources):
    """Fit with every (source, label) cell weighed alike, and the sources as ``groups``
    where the model's calibration holds groups out (a splitter, not a number of folds)."""
    fit_params = {"sample_weight": source_weights(sources, y)}
    if ("groups" in inspect.signature(model.fit).parameters
            and not isinstance(getattr(model, "cv", 5), int)):
        fit_params["groups"] = sources
    return model.fit(X, y, **fit_params)


def _by_source(sources):
    """Whether calibration can hold sources out: three or more of them."""
    return len(np.unique(sources)) >= MIN_SOURCES_HELD_OUT


def _default_make(params, seed):
    return lambda sources: calibrated_booster(params, seed=seed,
                                              by_source=_by_source(sources))


def cross_validate(table, y, *, make=None, groups=None, n_splits=5, seed=0, mask=None):
    """Out-of-fold probabilities, grouped and stratified on source x label.

    Parameters
    ----------
    table : FeatureTable
    y : ndarray of shape (n_images,), int
        Target per dataset image.
    make : callable, optional
        ``make(sources)`` returns a fresh classifier for training rows from ``sources``;
        the calibrated booster by default.
    groups : ndarray of shape (n_images,), optional
        Near-duplicate groups; each image its own group by default.
    n_splits, seed : int
    mask : ndarray of shape (n_images,), bool, optional
        The images taking part (e.g. drawings only).

    Returns
    -------
    proba : ndarray of shape (n_images,)
        Out-of-fold probability of class 1 (NaN outside ``mask``).
    """
    make = make or _default_make(None, seed)
    n = len(table.dataset)
    mask = np.ones(n, bool) if mask is None else np.asarray(mask)
    groups = np.arange(n) if groups is None else np.asarray(groups)
    idx = np.flatnonzero(mask)
    labels = np.asarray(table.dataset.labels)[idx]
    sources = np.asarray(table.dataset.sources)[idx]
    proba = np.full(n, np.nan)
    for train, test in _folds(labels, sources, groups[idx], n_splits, seed):
        proba[idx[test]] = _fit_predict(make, table, y, idx[train], idx[test])
    return proba


def leave_one_source_out(table, y, *, make=None, seed=0, mask=None):
    """Train on every source but one, test on that one, for each source.

    Parameters
    ----------
    table : FeatureTable
    y : ndarray of shape (n_images,), int
    make : callable, optional
        ``make(sources)`` returns a fresh classifier; the calibrated booster by
        default, whose own calibration then holds out each of the remaining sources
        in turn (nested: the source scored is never seen, not even by the calibration).
    seed : int
    mask : ndarray of shape (n_images,), bool, optional

    Returns
    -------
    proba : ndarray of shape (n_images,)
        Probability of class 1 from the model that never saw the image's source (NaN
        outside ``mask`` and for a source whose absence leaves one class only).
    """
    make = make or _default_make(None, seed)
    n = len(table.dataset)
    mask = np.ones(n, bool) if mask is None else np.asarray(mask)
    sources = np.asarray(table.dataset.sources)
    proba = np.full(n, np.nan)
    for source in np.unique(sources[mask]):
        test = np.flatnonzero(mask & (sources == source))
        train = np.flatnonzero(mask & (sources != source))
        if len(np.unique(y[train])) < 2:
            continue
        proba[test] = _fit_predict(make, table, y, train, test)
    return proba


def candidate_recipes(*, families, grid=None, augment=(True,)):
    """Every recipe of a nested selection: feature families x booster grid x augmentation.

    Parameters
    ----------
    families : sequence of sequence of str
        Candidate family sets of the style head.
    grid : dict, optional
        Booster parameters to try (every combination, on top of :data:`DEFAULT_PARAMS`);
        :data:`PARAM_GRID` by default.
    augment : sequence of bool
        Train on the degraded copies, or not.

    Returns
    -------
    recipes : list of dict
        ``{"families": [...], "params": {...}, "augment": bool}``.
    """
    import itertools

    grid = PARAM_GRID if grid is None else grid
    keys = sorted(grid)
    return [{"families": None if f is None else list(f),
             "params": {**DEFAULT_PARAMS, **dict(zip(keys, values))},
             "augment": bool(a)}
            for f in families for values in itertools.product(*(grid[k] for k in keys))
            for a in augment]


def _recipe_table(table, recipe, of):
    # No families: every column the table holds.
    out = table if recipe["families"] is None else table.select_families(recipe["families"],
                                                                          of=of)
    return out if recipe["augment"] else out.without_augmented()


def _selection_score(report):
    return (report["mean_source_accuracy"] + report["worst_source_accuracy"]) / 2


def select_recipe(table, y, *, candidates, of=None, mask=None, seed=0, inner_folds=4,
                  progress=True):
    """The candidate recipe that does best on sources held out, among ``mask``'s sources.

    The sources are split into ``inner_folds`` groups of whole sources (a seeded
    shuffle), each group held out in turn; a recipe's score is (mean + worst) / 2 of its
    accuracy per source, with uncalibrated boosters (calibration moves no label).

    Parameters
    ----------
    table : FeatureTable
        Holds the columns of ``of`` (every family by default) and the degraded copies.
    y : ndarray of shape (n_images,), int
    candidates : list of dict
        Recipes, as :func:`candidate_recipes` makes them.
    of : sequence of str, optional
        Families whose columns ``table`` holds.
    mask : ndarray of shape (n_images,), bool, optional
        The images to choose on; every image by default.
    seed : int
    inner_folds : int or None
        Groups of sources; None holds out each source alone.
    progress : bool

    Returns
    -------
    best : dict
        The winning recipe (the first of equals), with its ``score``.
    scored : list of dict
        Every candidate with its ``score``, ``mean_source_accuracy`` and
        ``worst_source_accuracy``.
    """
    n = len(table.dataset)
    mask = np.ones(n, bool) if mask is None else np.asarray(mask)
    sources = np.asarray(table.dataset.sources)
    order = np.random.default_rng([seed, len(np.unique(sources[mask]))]).permutation(
        np.unique(sources[mask]))
    k = len(order) if inner_folds is None else min(inner_folds, len(order))
    group_of = {s: i % k for i, s in enumerate(order)}
    fold = np.array([group_of.get(s, -1) for s in sources])
    scored = []
    for recipe in tqdm(candidates, desc="recipes", disable=not progress, leave=False):
        t = _recipe_table(table, recipe, of)
        p = np.full(n, np.nan)
        for g in range(k):
            test = np.flatnonzero(mask & (fold == g))
            train = np.flatnonzero(mask & (fold != g))
            if len(np.unique(y[train])) < 2:
                continue
            p[test] = _fit_predict(
                lambda _, r=recipe: HistGradientBoostingClassifier(random_state=seed,
                                                                   **r["params"]),
                t, y, train, test)
        report = metrics(y[mask], p[mask], sources[mask])
        scored.append({**recipe, "score": _selection_score(report),
                       "mean_source_accuracy": report["mean_source_accuracy"],
                       "worst_source_accuracy": report["worst_source_accuracy"]})
    best = max(scored, key=lambda r: r["score"])  # first wins ties
    return best, scored


def nested_leave_one_source_out(table, y, *, candidates, of=None, mask=None, seed=0,
                                inner_folds=4, progress=True):
    """Leave-one-source-out where every choice is made without the source scored.

    For each source left out, :func:`select_recipe` chooses among the candidate recipes
    on the *remaining* sources alone; the chosen recipe is then fitted, calibrated, on
    all of them and scores the source left out. Nothing about the left-out source
    shapes the model that scores it: not the families, the hyperparameters, the
    augmentation nor the calibration. This scores the procedure
    :func:`train` follows with ``candidates``.

    Parameters
    ----------
    table : FeatureTable
        Holds the columns of ``of`` (every family by default) and the degraded copies.
    y : ndarray of shape (n_images,), int
    candidates : list of dict
        Recipes, as :func:`candidate_recipes` makes them.
    of : sequence of str, optional
        Families whose columns ``table`` holds.
    mask : ndarray of shape (n_images,), bool, optional
    seed : int
    inner_folds : int or None
        Groups of whole sources held out in turn inside each fold
        (:func:`select_recipe`).
    progress : bool

    Returns
    -------
    proba : ndarray of shape (n_images,)
        Held-out probability of class 1 (NaN outside ``mask``).
    choices : dict
        Source left out -> the recipe chosen without it and its inner score.
    """
    n = len(table.dataset)
    mask = np.ones(n, bool) if mask is None else np.asarray(mask)
    sources = np.asarray(table.dataset.sources)
    proba, choices = np.full(n, np.nan), {}
    outer = [s for s in np.unique(sources[mask])
             if len(np.unique(y[mask & (sources != s)])) == 2]
    for source in tqdm(outer, desc="nested", disable=not progress):
        inner = mask & (sources != source)
        best, _ = select_recipe(table, y, candidates=candidates, of=of, mask=inner,
                                seed=seed, inner_folds=inner_folds, progress=False)
        recipe = {k: best[k] for k in ("families", "params", "augment")}
        test = np.flatnonzero(mask & (sources == source))
        proba[test] = _fit_predict(_default_make(recipe["params"], seed),
                                   _recipe_table(table, recipe, of), y,
                                   np.flatnonzero(inner), test)
        choices[str(source)] = {**recipe, "inner_score": float(best["score"]),
                                "candidates": len(candidates)}
    return proba, choices


def structure_fitter(table, y, images, *, params, seed=0):
    """The structural booster for :func:`animefeat.stack.fit_stack`, over ``images``.

    Returns ``fit(train, test)``: an uncalibrated booster fitted on the rows of
    ``images[train]`` (their degraded copies too, when ``table`` holds them), every
    (source, label) cell weighed alike, and the log-odds of the originals of
    ``images[test]`` (None when ``test`` is None).
    """
    sources = np.asarray(table.dataset.sources)

    def fit(train, test):
        rows = np.isin(table.origin, images[train])
        origin = table.origin[rows]
        booster = HistGradientBoostingClassifier(random_state=seed, **params).fit(
            trainable(table.X[rows], sources[origin]), y[origin],
            sample_weight=source_weights(sources[origin], y[origin]))
        if test is None:
            return booster, None
        # Table rows are in dataset order, as the sorted images[test] are.
        keep = np.isin(table.origin, images[test]) & ~table.augmented
        return booster, booster.decision_function(table.X[keep])
    return fit


def stacked_leave_one_source_out(full, y, sets, *, choices, of=None, mask=None, seed=0,
                                 local_params=None, inner_folds=4, cache_dir=None,
                                 progress=True):
    """Leave-one-source-out of the combined style head (:mod:`animefeat.stack`).

    For each source left out, on the other sources alone: the structural booster of
    the recipe chosen without that source (``choices``, from
    :func:`nested_leave_one_source_out`), the local head (its codebook included) and
    the combiner, fitted on out-of-fold log-odds of ``inner_folds`` groups of whole
    sources. Nothing of the left-out source shapes any of them.

    Parameters
    ----------
    full : FeatureTable
        Holds the columns of ``of`` and the degraded copies.
    y : ndarray of shape (n_images,), int
    sets : list of ndarray
        Every image's descriptors (:func:`descriptor_sets`).
    choices : dict
        Source left out -> recipe (``families``, ``params``, ``augment``).
    of : sequence of str, optional
    mask : ndarray of shape (n_images,), bool, optional
    seed : int
    local_params : dict, optional
        :func:`animefeat.stack.local_head` arguments; :data:`~animefeat.stack.LOCAL_PARAMS`.
    inner_folds : int
    cache_dir : str or Path, optional
        Each fold's held-out answers are kept there (keyed by the table, the source,
        its recipe and the local settings).
    progress : bool

    Returns
    -------
    proba : dict
        ``structure``, ``local`` (each view alone, uncalibrated) and ``stack`` (the
        combiner's, calibrated): held-out P(anime), shape (n_images,), NaN outside.
    weights : dict
        Source left out -> the combiner's ``structure``, ``local`` and ``intercept``.
    """
    from .stack import LOCAL_GRID, LOCAL_PARAMS, fit_stack, local_head

    local_params = dict(LOCAL_PARAMS if local_params is None else local_params)
    n = len(full.dataset)
    mask = np.ones(n, bool) if mask is None else np.asarray(mask)
    sources = np.asarray(full.dataset.sources)
    proba = {v: np.full(n, np.nan) for v in ("structure", "local", "stack")}
    weights = {}
    for source in tqdm(sorted(choices), desc="stacked", disable=not progress):
        recipe = choices[source]
        test = np.flatnonzero(mask & (sources == source))

        def fold(recipe=recipe, test=test, source=source):
            train = np.flatnonzero(mask & (sources != source))
            table = _recipe_table(full, recipe, of)
            stack, _ = fit_stack(
                structure_fitter(table, y, train, params=recipe["params"], seed=seed),
                [sets[i] for i in train], y[train], sources[train],
                local=local_head(seed=seed, **local_params),
                weight=source_weights(sources[train], y[train]),
                inner_folds=inner_folds, seed=seed)
            keep = np.isin(table.origin, test) & ~table.augmented
            X_test, sets_test = table.X[keep], [sets[i] for i in test]
            views = np.column_stack([expit(stack.log_odds(X_test, sets_test)),
                                     stack.predict_proba_anime(X_test, sets_test)])
            coef = stack.combiner.coef_[0]
            return {"p": views, "weights": {"structure": float(coef[0]),
                                            "local": float(coef[1]),
                                            "intercept": float(stack.combiner.intercept_[0])}}

        out = _cached_part(cache_dir, full, "stacked", {
            "of": of, "source": str(source), "recipe": recipe, "local": local_params,
            "inner_folds": inner_folds, "n_test": len(test), "seed": seed,
            "grid": {k: list(v) if isinstance(v, tuple) else v for k, v in LOCAL_GRID.items()}},
            fold)
        for k, view in enumerate(("structure", "local", "stack")):
            proba[view][test] = out["p"][:, k]
        weights[str(source)] = out["weights"]
    return proba, weights


#: A prediction at least this sure that is wrong counts as a confident mistake.
CONFIDENT = 0.9


def metrics(y, proba, sources):
    """Accuracy, recall per class, calibration and confident mistakes, per source and pooled.

    Parameters
    ----------
    y : ndarray of int
    proba : ndarray of float
        Probability of class 1; NaN rows are left out.
    sources : ndarray of str

    Returns
    -------
    report : dict
        JSON-serialisable: ``pooled`` and ``per_source`` blocks (n, accuracy,
        recall_0, recall_1, brier, ece (of the probability of class 1),
        ece_confidence (of the confidence in the class answered, as Guo et al. 2017),
        confident_mistakes, confusion, roc_auc), and
        ``mean_source_accuracy``, ``worst_source_accuracy``.
    """
    keep = np.isfinite(proba)
    y, proba, sources = np.asarray(y)[keep], proba[keep], np.asarray(sources)[keep]

    def block(sel):
        yy, pp = y[sel], proba[sel]
        if not len(yy):
            return {"n": 0}
        predicted = pp >= 0.5
        wrong = predicted != yy
        confidence = np.maximum(pp, 1 - pp)
        out = {"n": int(sel.sum()), "accuracy": float((~wrong).mean()),
               "recall_0": float((~wrong[yy == 0]).mean()) if (yy == 0).any() else None,
               "recall_1": float((~wrong[yy == 1]).mean()) if (yy == 1).any() else None,
               "brier": float(brier_score_loss(yy, pp, pos_label=1)),
               "ece": expected_calibration_error(yy, pp),
               # Confidence in the answer given against how often it is right: on a
               # one-class source the ECE above only falls when answers are sure and
               # right, this one also when an unsure answer is as unsure as it says.
               "ece_confidence": expected_calibration_error(~wrong, confidence),
               "confident_mistakes": float((wrong & (confidence >= CONFIDENT)).mean()),
               "confusion": confusion_matrix(yy, predicted, labels=[0, 1]).tolist()}
        out["roc_auc"] = float(roc_auc_score(yy, pp)) if len(np.unique(yy)) == 2 else None
        return out

    report = {"pooled": block(np.ones(len(y), bool))}
    report["per_source"] = {str(s): block(sources == s) for s in np.unique(sources)}
    accuracies = [v["accuracy"] for v in report["per_source"].values()]
    report["mean_source_accuracy"] = float(np.mean(accuracies)) if accuracies else None
    report["worst_source_accuracy"] = float(np.min(accuracies)) if accuracies else None
    return report


def expected_calibration_error(y, proba, *, n_bins=10):
    """Expected calibration error with equal-width bins of the predicted probability.

    Parameters
    ----------
    y : array-like of int or bool, shape (n,)
        Outcomes (1 or True where the event happened).
    proba : array-like of float, shape (n,)
        Predicted probability of the event, in [0, 1].
    n_bins : int
        Equal-width bins over [0, 1].

    Returns
    -------
    ece : float or None
        Mean over bins, weighted by their share of rows, of the gap between the mean
        predicted probability and the observed frequency; None without rows.
    """
    y, proba = np.asarray(y), np.asarray(proba)
    if not len(y):
        return None
    bins = np.minimum((proba * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        sel = bins == b
        if sel.any():
            ece += sel.mean() * abs(proba[sel].mean() - y[sel].mean())
    return float(ece)


def train(data, *, name="anime-cartoon", version="1", families=None, seed=0, search=True,
          augment=True, n_jobs=None, cache_dir=None, evaluate=True, progress=True,
          side=WORK_SIDE, drawing_families=DRAWING_FAMILIES, candidates=None, nested=False,
          local=False):
    """Train a model from a labelled folder, with its card and its held-out metrics.

    Every fit weighs each (source, label) cell alike (:func:`source_weights`), may train
    on degraded copies of every image (:func:`degrade`), and calibrates on
    leave-one-source-out scores where there are three sources or more.

    Parameters
    ----------
    data : str or Path or Dataset
        A folder with ``manifest.csv`` (path, label, source, group) or ``<label>/*``
        sub-folders. Labels ``anime`` and ``cartoon`` train the classifier; ``photo``
        images train the drawing check; any other label is refused
        (:func:`animefeat.data.read_dataset` can drop them explicitly).
    name, version : str
        Recorded on the card and in every prediction.
    families : sequence of str, optional
        Feature families of the anime-vs-cartoon head; all by default. Ignored with
        ``candidates``.
    seed : int
        One seed for augmentation, splits and boosting: same seed, same model.
    search : bool
        Choose the recipe on sources held out (:func:`select_recipe`): among
        ``candidates``, or else the booster grid :data:`PARAM_GRID` with ``families``
        and ``augment`` as given; without, :data:`DEFAULT_PARAMS`.
    augment : bool
        Train on degraded copies of the images as well. Ignored with ``candidates``.
    n_jobs : int, optional
        Parallel feature extraction.
    cache_dir : str or Path, optional
        Feature and held-out score cache.
    evaluate : bool
        Compute leave-one-source-out and CV metrics for the card.
    progress : bool
        Show progress bars.
    side : int
        Long side of the working copy, in pixels.
    drawing_families : sequence of str or None
        Feature families of the drawing check; by default every family whose
        measurement learnt nothing from the evaluation sources (:data:`DRAWING_FAMILIES`),
        None for all.
    candidates : dict, optional
        Recipes to choose among, as :func:`candidate_recipes` arguments
        (:data:`RECIPE_CANDIDATES` for the shipped model).
    nested : bool
        Also evaluate the choice itself by nested leave-one-source-out
        (:func:`nested_leave_one_source_out`, slow): the card's honest headline.
    local : bool or dict
        Add the local patterns (:mod:`animefeat.stack`): dense SIFT as a Fisher vector,
        combined with the structural head by a logistic regression fitted on
        out-of-fold log-odds of whole-source groups. Evaluated by
        :func:`stacked_leave_one_source_out` (on the nested choices with ``nested``).
        A dict gives :func:`animefeat.stack.local_head` arguments other than
        :data:`~animefeat.stack.LOCAL_PARAMS` (a small codebook for a small folder).

    Returns
    -------
    model : AnimefeatModel
    """
    dataset = read_dataset(data) if isinstance(data, (str, Path)) else data
    labels = np.asarray(dataset.labels)
    check_labels(labels)
    drawings = np.isin(labels, ["anime", "cartoon"])
    if len(np.unique(labels[drawings])) < 2:
        raise AnimefeatError("training needs images labelled both 'anime' and 'cartoon'")
    photos = labels == "photo"
    if not photos.any():
        raise AnimefeatError("training needs images labelled 'photo' for the drawing check")
    sources = np.asarray(dataset.sources)
    several = len(np.unique(sources[drawings])) >= MIN_SOURCES_HELD_OUT
    if candidates is None:
        candidates = {"families": [families], "grid": PARAM_GRID, "augment": [augment]}
    searching = search and several
    computed = union_families(drawing_families, *(candidates["families"] if searching
                                                  else [families]))
    full = feature_table(dataset, families=computed, augment=augment or searching, seed=seed,
                         n_jobs=n_jobs, cache_dir=cache_dir, progress=progress, side=side)
    y_anime = (labels == "anime").astype(int)
    y_drawing = drawings.astype(int)

    recipe = {"families": families, "params": dict(DEFAULT_PARAMS), "augment": augment}
    scored = []
    if searching:
        best, scored = select_recipe(full, y_anime, candidates=candidate_recipes(**candidates),
                                     of=computed, mask=drawings, seed=seed, progress=progress)
        recipe = {k: best[k] for k in ("families", "params", "augment")}
    families, params = recipe["families"], recipe["params"]
    table = full.select_families(families, of=computed)
    table = table if recipe["augment"] else table.without_augmented()
    drawing_table = full.select_families(drawing_families, of=computed)

    report, threshold = {}, 0.5
    if evaluate:
        report, held_out = evaluate_recipe(
            full, of=computed, families=families, drawing_families=drawing_families,
            params=params, augment=recipe["augment"], seed=seed,
            nested=candidates if nested and searching else None, searched=searching,
            cache_dir=cache_dir, progress=progress)
        threshold = drawing_threshold(y_drawing, held_out["p_drawing"], sources=sources)
        report["drawing_check"]["shipped_threshold"] = threshold

    rows = np.isin(table.origin, np.flatnonzero(drawings))
    origin = table.origin[rows]
    extractor = FeatureExtractor(families=union_families(families, drawing_families),
                                 side=side).fit()
    style = _fit(calibrated_booster(params, seed=seed, by_source=_by_source(sources[origin])),
                 trainable(table.X[rows], sources[origin]), y_anime[origin], sources[origin])
    local_head_ = combiner = None
    if local:
        local_head_, combiner, local_report = _fit_local(
            dataset, full, table, style, y_anime, drawings, params=params, seed=seed,
            side=side, of=computed, recipe=recipe, n_jobs=n_jobs, cache_dir=cache_dir,
            progress=progress, evaluate=evaluate, local_params=_local_params(local),
            choices=held_out["choices"] if evaluate and nested and searching else None)
        report.update(local_report)
    drawing = drawing_check(seed=seed).fit(
        trainable(drawing_table.X, sources[drawing_table.origin]),
        y_drawing[drawing_table.origin],
        sample_weight=source_weights(sources[drawing_table.origin],
                                     labels[drawing_table.origin]))

    counts = {}
    for s, label in zip(dataset.sources, dataset.labels):
        counts.setdefault(s, {}).setdefault(label, 0)
        counts[s][label] += 1
    card = new_card(
        name=name, version=version, params=params, families=families, seed=seed,
        side=side, drawing_families=drawing_families,
        data={"folder": Path(dataset.root).name, "manifest_sha256": dataset.manifest_sha256,
              "counts": counts, "augmented_rows": int(table.augmented.sum())},
        metrics=report)
    card["hyperparameters"]["drawing_check"] = dict(DRAWING_PARAMS)
    card["hyperparameters"]["weights"] = "each (source, label) cell weighs the same"
    card["hyperparameters"]["augmentation"] = {
        "copies_per_image": int(recipe["augment"]),
        "long_side": f"log-uniform from {MIN_AUGMENT_SIDE} px to the decoded image's",
        "jpeg_quality": list(AUGMENT_QUALITY), "min_side": MIN_AUGMENT_SIDE,
        "border": "half of the copies, 2-15% per side, white or a random flat colour"}
    card["search"] = {"candidates": candidates if searching else None,
                      "score": "accuracy on sources held out in four groups of whole "
                               "sources: (mean over sources + worst source) / 2, "
                               "uncalibrated boosters",
                      "results": scored}
    if local:
        from .stack import LOCAL_GRID

        card["hyperparameters"]["local"] = {
            "grid": {"step": LOCAL_GRID["step"], "sizes": list(LOCAL_GRID["sizes"])},
            **_local_params(local),
            "combiner": "logistic regression on the structure's raw log-odds and the local "
                        "head's, fitted on out-of-fold log-odds of 4 groups of whole sources"}
        card["hyperparameters"]["combiner_weights"] = {
            "structure": float(combiner.coef_[0][0]), "local": float(combiner.coef_[0][1]),
            "intercept": float(combiner.intercept_[0])}
    return AnimefeatModel(extractor, style, drawing, card, drawing_threshold=threshold,
                          local=local_head_, combiner=combiner)


def _local_params(local):
    """The local head's settings for ``train(local=...)``: the defaults or a dict's."""
    from .stack import LOCAL_PARAMS

    return {**LOCAL_PARAMS, **(local if isinstance(local, dict) else {})}


def _fit_local(dataset, full, table, style, y, drawings, *, params, seed, side, of, recipe,
               n_jobs, cache_dir, progress, evaluate, choices, local_params):
    """The local head and the combiner on every drawing, and their held-out report."""
    from .stack import LOCAL_GRID, fit_stack, local_head

    sources = np.asarray(dataset.sources)
    sets = descriptor_sets(dataset, side=side, n_jobs=n_jobs, cache_dir=cache_dir,
                           progress=progress, **LOCAL_GRID)
    report = {}
    if evaluate:
        fast = choices is None
        if fast:
            choices = {str(s): recipe for s in np.unique(sources[drawings])}
        proba, weights = stacked_leave_one_source_out(
            full, y, sets, choices=choices, of=of, mask=drawings, seed=seed,
            local_params=local_params, cache_dir=cache_dir, progress=progress)
        d = drawings
        block = metrics(y[d], proba["stack"][d], sources[d])
        block["views"] = {v: metrics(y[d], proba[v][d], sources[d])
                          for v in ("structure", "local")}
        block["combiner_weights"] = weights
        block["selection"] = (
            "structure: the shipped recipe (chosen on all sources)" if fast else
            "structure: the recipe chosen without the source (nested); local head, "
            "codebook and combiner fitted without it")
        report["stacked_leave_one_source_out"] = block
    train_idx = np.flatnonzero(drawings)
    inner = structure_fitter(table, y, train_idx, params=params, seed=seed)

    def fit_structure(train, test):
        # On all the drawings: the style head's own booster (the same fit), not a refit.
        return (style.estimator_, None) if test is None else inner(train, test)

    stack, _ = fit_stack(fit_structure, [sets[i] for i in train_idx], y[train_idx],
                         sources[train_idx], local=local_head(seed=seed, **local_params),
                         weight=source_weights(sources[train_idx], y[train_idx]), seed=seed)
    return stack.local, stack.combiner, report


#: Bumped whenever the evaluation protocol changes, so cached held-out scores are redone.
EVALUATION_VERSION = 2


def evaluate_recipe(full, *, of=None, families, drawing_families, params, augment=True,
                    seed=0, nested=None, searched=True, groups=None, cache_dir=None,
                    progress=True):
    """The held-out report of one training recipe: what the card and experiments/01 show.

    1. Leave-one-source-out of the style head with the recipe as given (the *fast*
       number: when the recipe was itself chosen on these folds, it flatters).
    2. With ``nested``, :func:`nested_leave_one_source_out`: the choice among those
       candidates made on the training sources of each fold (the honest number).
    3. The drawing check held out (:func:`drawing_held_out`), each source measured at
       a threshold chosen without it (:func:`held_out_drawing_check`).
    4. Pooled grouped 5-fold CV of the style head.

    Parameters
    ----------
    full : FeatureTable
        Rows of every image with the columns of ``of`` (its ``key`` keys the cache).
    of : sequence of str, optional
        Families whose columns ``full`` holds (all by default).
    families, drawing_families : sequence of str or None
        The two heads' families.
    params : dict
        Booster parameters of the style head.
    augment : bool
        Whether the style head trains on the degraded copies.
    seed : int
    nested : dict, optional
        Candidates of the nested selection (:func:`candidate_recipes` arguments).
    searched : bool
        Whether the recipe came from a selection on the same folds (said in the report).
    groups : ndarray, optional
        Near-duplicate groups for the CV; computed when not given.
    cache_dir : str or Path, optional
        Each part's held-out scores are kept there, keyed by the table, what that part
        depends on and :data:`EVALUATION_VERSION`: a rerun computes nothing again.
    progress : bool

    Returns
    -------
    report : dict
        ``leave_one_source_out``, ``nested_leave_one_source_out`` (with ``nested``),
        ``drawing_check``, ``cv``: :func:`metrics` blocks.
    held_out : dict
        ``p_anime`` (leave-one-source-out), ``p_anime_nested``, ``p_drawing``,
        ``p_anime_cv``, of shape (n_images,), and ``choices`` of the nested selection.
    """
    dataset = full.dataset
    labels = np.asarray(dataset.labels)
    sources = np.asarray(dataset.sources)
    drawings = np.isin(labels, ["anime", "cartoon"])
    y_anime = (labels == "anime").astype(int)
    y_drawing = drawings.astype(int)
    table = full.select_families(families, of=of)
    table = table if augment else table.without_augmented()
    drawing_table = full.select_families(drawing_families, of=of)
    make = _default_make(params, seed)

    @functools.cache
    def near_duplicates():
        # Read every image once, and only when a part is not in the cache.
        return near_duplicate_groups(dataset.paths) if groups is None else groups

    def part(name, spec, compute):
        return _cached_part(cache_dir, full, name, {**spec, "seed": seed}, compute)

    style = {"of": of, "families": families, "params": params, "augment": augment}
    held_out = {
        "p_anime": part("loso", style, lambda: {"p": leave_one_source_out(
            table, y_anime, make=make, seed=seed, mask=drawings)})["p"],
        "p_anime_cv": part("cv", style, lambda: {"p": cross_validate(
            table, y_anime, make=make, groups=near_duplicates(), mask=drawings,
            seed=seed)})["p"],
        "p_drawing": part("drawing", {"of": of, "families": drawing_families,
                                      "params": DRAWING_PARAMS},
                          lambda: {"p": drawing_held_out(drawing_table, y_drawing,
                                                         groups=near_duplicates(),
                                                         seed=seed)[0]})["p"],
        "p_anime_nested": np.full(len(labels), np.nan), "choices": {}}
    if nested:
        def run_nested():
            p, choices = nested_leave_one_source_out(
                full, y_anime, of=of, mask=drawings, seed=seed,
                candidates=candidate_recipes(**nested), progress=progress)
            return {"p": p, "choices": choices}

        out = part("nested", {"of": of, "candidates": nested}, run_nested)
        held_out["p_anime_nested"], held_out["choices"] = out["p"], out["choices"]

    d = drawings
    report = {}
    if np.isfinite(held_out["p_anime"][d]).any():
        report["leave_one_source_out"] = metrics(y_anime[d], held_out["p_anime"][d], sources[d])
        report["leave_one_source_out"]["selection"] = (
            "fast: the recipe chosen on all sources, these folds' sources among them"
            if searched else "the given recipe, scored on each source left out")
    if nested:
        report["nested_leave_one_source_out"] = metrics(
            y_anime[d], held_out["p_anime_nested"][d], sources[d])
        report["nested_leave_one_source_out"]["selection"] = (
            "nested: families, booster parameters and augmentation chosen in every fold on "
            "its training sources alone (held out in groups of whole sources), then the "
            "calibrated booster fitted on them scores the source left out")
        report["nested_leave_one_source_out"]["candidates"] = nested
        report["nested_leave_one_source_out"]["choices"] = held_out["choices"]
    report["drawing_check"] = held_out_drawing_check(y_drawing, held_out["p_drawing"], sources)
    report["drawing_check"]["protocol"] = (
        "drawings: each drawing source left out (photos of every source in training); "
        "photos: grouped 5-fold CV over the photos; families: "
        f"{drawing_families or 'all'}")
    report["cv"] = metrics(y_anime[d], held_out["p_anime_cv"][d], sources[d])
    return report, held_out


def _cached_part(cache_dir, full, name, spec, compute):
    """``compute()`` (a dict of one array ``p`` and JSON-able extras), kept in
    ``cache_dir`` under a key of the table, ``name``, ``spec`` and the protocol version."""
    path = None
    if cache_dir is not None and full.key is not None:
        key = hashlib.sha256(json.dumps({"table": full.key, "part": name, **spec,
                                         "evaluation": EVALUATION_VERSION},
                                        sort_keys=True).encode()).hexdigest()[:16]
        path = Path(cache_dir) / f"held-out-{name}-{key}.npz"
        if path.is_file():
            with np.load(path, allow_pickle=False) as z:
                return {"p": z["p"], **json.loads(str(z["extra"]))}
    out = compute()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, p=out["p"], extra=json.dumps(
            {k: v for k, v in out.items() if k != "p"}))
    return out


#: The recipes the shipped model is chosen among (``animefeat train --recipes``), and that
#: its nested evaluation chooses among in every fold: the choices that earlier rounds made
#: on the reported folds (lines alone or with edges, the booster grid, degraded copies).
RECIPE_CANDIDATES = {
    "families": [["lines"], ["edges", "lines"]],
    "grid": {"learning_rate": [0.05, 0.1], "max_leaf_nodes": [7, 15],
             "max_iter": [300], "min_samples_leaf": [40]},
    "augment": [True, False],
}


def drawing_held_out(table, y_drawing, *, groups, seed=0, make=None):
    """Held-out P(drawing) for every image, each from a check that never saw it.

    With three or more sources of drawings, each drawing source is left out in turn: the
    check is trained on every other source, photos included, and scores the drawings of
    the source left out, as it will a new show's frames. Photos, which come from fewer
    sources, are scored by grouped 5-fold CV over the photos (every drawing in
    training). With fewer sources, grouped 5-fold CV over everything.

    Parameters
    ----------
    table : FeatureTable
    y_drawing : ndarray of shape (n_images,), int
        1 for drawings, 0 for photos.
    groups : ndarray of shape (n_images,)
        Near-duplicate groups.
    seed : int
    make : callable, optional
        ``make(sources)`` returns a fresh classifier; the drawing check's recipe by
        default (:func:`drawing_check`).

    Returns
    -------
    proba : ndarray of shape (n_images,)
    protocol : str
    """
    make = make or (lambda _: drawing_check(seed=seed))
    sources = np.asarray(table.dataset.sources)
    drawn = y_drawing == 1
    if len(np.unique(sources[drawn])) < MIN_SOURCES_HELD_OUT:
        return (cross_validate(table, y_drawing, groups=groups, seed=seed, make=make),
                "grouped 5-fold CV")
    proba = np.full(len(y_drawing), np.nan)
    everything = np.arange(len(y_drawing))
    for source in np.unique(sources[drawn]):
        test = np.flatnonzero(drawn & (sources == source))
        proba[test] = _fit_predict(make, table, y_drawing,
                                   np.flatnonzero(sources != source), test)
    photos = np.flatnonzero(~drawn)
    labels = np.asarray(table.dataset.labels)[photos]
    for _, test in _folds(labels, sources[photos], groups[photos], 5, seed):
        rest = np.setdiff1d(everything, photos[test])
        proba[photos[test]] = _fit_predict(make, table, y_drawing, rest, photos[test])
    return proba, ("drawings: each drawing source left out (photos of every source in "
                   "training); photos: grouped 5-fold CV over the photos")


def drawing_check(*, seed=0):
    """The drawing-vs-photo check: gradient boosting, calibrated on 5 folds.

    Only its threshold decides (chosen on held-out scores so that every source of
    drawings keeps at most 2% flagged), so it is calibrated on plain folds: holding
    each of nine sources out in turn would cost nine boosters per fit for a
    probability that no decision reads.
    """
    return calibrated_booster(DRAWING_PARAMS, seed=seed)


#: Most drawings the photo check may flag, on out-of-fold predictions.
MAX_DRAWINGS_FLAGGED = 0.02


def drawing_threshold(y_drawing, proba, *, sources=None,
                      max_drawings_flagged=MAX_DRAWINGS_FLAGGED):
    """The threshold on P(drawing) that flags the most photos while flagging at most
    ``max_drawings_flagged`` of the drawings (on held-out probabilities).

    Parameters
    ----------
    y_drawing : ndarray of int
        1 for drawings, 0 for photos.
    proba : ndarray of float
        Held-out P(drawing).
    sources : ndarray of str, optional
        With sources, the bound holds in every source of drawings, not only pooled.

    Returns
    -------
    threshold : float
        ``is_drawing = proba >= threshold``; 0.5 when there are no drawings.
    """
    keep = np.isfinite(proba) & (np.asarray(y_drawing) == 1)
    sources = np.zeros(len(proba), int) if sources is None else np.asarray(sources)
    thresholds = []
    for s in np.unique(sources[keep]):
        drawn = np.sort(proba[keep & (sources == s)])
        # Flagging is proba < t: at most k drawings may lie below t.
        k = int(np.floor(max_drawings_flagged * len(drawn)))
        thresholds.append(float(drawn[k]))
    return min(thresholds) if thresholds else 0.5


def held_out_drawing_check(y_drawing, proba, sources, *,
                           max_drawings_flagged=MAX_DRAWINGS_FLAGGED):
    """How often the drawing check flags each source, at a threshold chosen without it.

    For each drawing source, the threshold is :func:`drawing_threshold` over the
    held-out scores of the *other* drawing sources, and that source's flag rate is
    measured at it: a threshold fitted on the source it is graded on would meet its
    bound by construction. Photos never shape a threshold (it is set on drawings
    alone), so each photo is measured at the threshold of all drawing sources.

    Parameters
    ----------
    y_drawing : ndarray of int
        1 for drawings, 0 for photos.
    proba : ndarray of float
        Held-out P(drawing) (NaN rows are left out).
    sources : ndarray of str
    max_drawings_flagged : float

    Returns
    -------
    report : dict
        ``photos_flagged``, ``drawings_flagged`` (pooled shares),
        ``photos_flagged_per_source``, ``drawings_flagged_per_source``,
        ``threshold_per_source`` (the threshold each source was measured at) and
        ``rule``.
    """
    y_drawing, proba, sources = np.asarray(y_drawing), np.asarray(proba), np.asarray(sources)
    keep = np.isfinite(proba)
    drawn = keep & (y_drawing == 1)
    flagged = np.zeros(len(proba), bool)
    thresholds = {}
    everyone = drawing_threshold(y_drawing, proba, sources=sources,
                                 max_drawings_flagged=max_drawings_flagged)
    for s in np.unique(sources[keep]):
        rows = keep & (sources == s)
        if (drawn & rows).any():
            others = np.where(sources == s, np.nan, proba)
            t = drawing_threshold(y_drawing, others, sources=sources,
                                  max_drawings_flagged=max_drawings_flagged)
        else:
            t = everyone
        thresholds[str(s)] = float(t)
        flagged[rows] = proba[rows] < t
    photos = keep & (y_drawing == 0)
    out = {"rule": f"flag P(drawing) below the threshold that flags at most "
                   f"{max_drawings_flagged:.0%} of every other drawing source",
           "photos_flagged": float(flagged[photos].mean()) if photos.any() else None,
           "drawings_flagged": float(flagged[drawn].mean()) if drawn.any() else None,
           "photos_flagged_per_source": {}, "drawings_flagged_per_source": {},
           "threshold_per_source": thresholds}
    for kind, rows in (("photos", photos), ("drawings", drawn)):
        for s in np.unique(sources[rows]):
            out[f"{kind}_flagged_per_source"][str(s)] = float(flagged[rows & (sources == s)]
                                                               .mean())
    return out


def drawing_check_metrics(y_drawing, proba, sources, threshold=0.5):
    """How often photos are flagged and drawings wrongly flagged, pooled and per source.

    Returns
    -------
    report : dict
        ``threshold``, ``photos_flagged``, ``drawings_flagged`` (pooled shares), and
        ``photos_flagged_per_source``, ``drawings_flagged_per_source``.
    """
    keep = np.isfinite(proba)
    flagged = proba < threshold
    photos = keep & (y_drawing == 0)
    drawings = keep & (y_drawing == 1)
    out = {"threshold": float(threshold),
           "photos_flagged": float(flagged[photos].mean()) if photos.any() else None,
           "drawings_flagged": float(flagged[drawings].mean()) if drawings.any() else None,
           "photos_flagged_per_source": {}, "drawings_flagged_per_source": {}}
    sources = np.asarray(sources)
    for kind, rows in (("photos", photos), ("drawings", drawings)):
        for s in np.unique(sources[rows]):
            sel = rows & (sources == s)
            out[f"{kind}_flagged_per_source"][str(s)] = float(flagged[sel].mean())
    return out

