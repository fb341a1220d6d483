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

import hashlib
import io
import json
from pathlib import Path

import cv2
import numpy as np
from joblib import Parallel, delayed
from PIL import Image
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, confusion_matrix, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from tqdm.auto import tqdm

from .data import read_dataset
from .exceptions import AnimefeatError
from .features import extract_features, feature_names
from .io import load_image
from .model import (
    DEFAULT_PARAMS,
    DRAWING_PARAMS,
    FEATURES_VERSION,
    AnimefeatModel,
    build_classifier,
    calibrated_booster,
    new_card,
)
from .preprocess import WORK_SIDE, load_for_features, trim_borders

__all__ = [
    "PARAM_GRID",
    "FeatureTable",
    "cross_validate",
    "degrade",
    "feature_table",
    "leave_one_source_out",
    "near_duplicate_groups",
    "search_params",
    "train",
]

#: The documented hyperparameter search: every combination, scored by grouped CV.
PARAM_GRID = {
    "learning_rate": [0.05, 0.1],
    "max_iter": [300, 600],
    "max_leaf_nodes": [15, 31],
    "min_samples_leaf": [10, 30],
}
# Images whose long side exceeds this get an extra, degraded training copy.
AUGMENT_ABOVE = 160


class FeatureTable:
    """Feature rows for a dataset, plus degraded copies of its large images.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_features)
    origin : ndarray of shape (n_rows,), int
        Index of the dataset image each row comes from (augmented rows repeat it).
    augmented : ndarray of shape (n_rows,), bool
    dataset : Dataset
    """

    def __init__(self, X, origin, augmented, dataset):
        self.X, self.origin, self.augmented, self.dataset = X, origin, augmented, dataset

    def originals(self):
        """Rows of the original images, in dataset order."""
        return self.X[~self.augmented]


def degrade(image, rng):
    """A lower-resolution, re-compressed copy of a large image.

    Small scraped sources are blurrier than large ones; training on degraded copies of
    the large images keeps the model from learning "sharp means cartoon".

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
    rng : numpy.random.Generator

    Returns
    -------
    degraded : ndarray of shape (h, w, 3), uint8
        Long side between 64 and 128 px, JPEG quality between 60 and 90.
    """
    height, width = image.shape[:2]
    target = int(rng.integers(64, 129))
    factor = target / max(height, width)
    small = cv2.resize(image, (max(16, round(width * factor)), max(16, round(height * factor))),
                       interpolation=cv2.INTER_AREA)
    buffer = io.BytesIO()
    Image.fromarray(small).save(buffer, format="JPEG", quality=int(rng.integers(60, 91)))
    return load_image(buffer.getvalue())


def _rows_for(path, index, families, augment, seed):
    rgb = load_for_features(path)
    rows = [extract_features(rgb, families=families)]
    if augment and _file_long_side(path) > AUGMENT_ABOVE:
        rng = np.random.default_rng([seed, index])
        rows.append(extract_features(degrade(rgb, rng), families=families))
    return rows


def _file_long_side(path):
    """The long side of an image file, from its header: a large JPEG is decoded at a
    reduced scale, so the decoded pixels do not tell."""
    with Image.open(path) as im:
        return max(im.size)


def feature_table(dataset, *, families=None, augment=True, seed=0, n_jobs=None,
                  cache_dir=None, progress=True):
    """Compute (or read from cache) the feature rows of a dataset.

    Parameters
    ----------
    dataset : Dataset or str or Path
    families : sequence of str, optional
    augment : bool
        Add one degraded copy (see :func:`degrade`) of every large image.
    seed : int
        Seed of the augmentation.
    n_jobs : int, optional
        Parallel workers.
    cache_dir : str or Path, optional
        Where to keep computed tables, keyed by data and settings.
    progress : bool
        Show a progress bar.

    Returns
    -------
    table : FeatureTable
    """
    dataset = read_dataset(dataset) if isinstance(dataset, (str, Path)) else dataset
    key = hashlib.sha256(json.dumps({
        "data": dataset.manifest_sha256, "n": len(dataset), "families": families,
        "augment": augment, "seed": seed, "features": FEATURES_VERSION, "side": WORK_SIDE,
        "names": feature_names(families),
    }, sort_keys=True).encode()).hexdigest()[:16]
    cached = Path(cache_dir) / f"features-{key}.npz" if cache_dir else None
    if cached is not None and cached.is_file():
        with np.load(cached) as z:
            return FeatureTable(z["X"], z["origin"], z["augmented"], dataset)

    jobs = (delayed(_rows_for)(str(p), i, families, augment, seed)
            for i, p in enumerate(dataset.paths))
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    X, origin, augmented = [], [], []
    bar = tqdm(results, total=len(dataset), desc="features", unit="img", disable=not progress)
    for i, rows in enumerate(bar):
        for k, row in enumerate(rows):
            X.append(row)
            origin.append(i)
            augmented.append(k > 0)
    table = FeatureTable(np.asarray(X), np.asarray(origin), np.asarray(augmented), dataset)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cached, X=table.X, origin=table.origin, augmented=table.augmented)
    return table


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


def trainable(X):
    """``X`` with columns that are NaN in every row set to 0.

    scikit-learn's histogram binning fails on an all-NaN column (its list of distinct
    values is empty); such a column (no face in any training image, say) carries no
    information, and at prediction time its NaN simply follows the default branch.
    """
    empty = np.isnan(X).all(axis=0)
    if not empty.any():
        return X
    X = X.copy()
    X[:, empty] = 0.0
    return X


def _fit_predict(make, table, y, train_idx, test_idx):
    """Fit on the train images (and their degraded copies), predict the test originals."""
    train_rows = np.isin(table.origin, train_idx)
    test_rows = np.isin(table.origin, test_idx) & ~table.augmented
    model = make().fit(trainable(table.X[train_rows]), y[table.origin[train_rows]])
    # Rows are in dataset order, as the sorted test indices are: no reordering needed.
    return model.predict_proba(table.X[test_rows])[:, 1]


def cross_validate(table, y, *, make=None, groups=None, n_splits=5, seed=0, mask=None):
    """Out-of-fold probabilities, grouped and stratified on source x label.

    Parameters
    ----------
    table : FeatureTable
    y : ndarray of shape (n_images,), int
        Target per dataset image.
    make : callable, optional
        Returns a fresh classifier; the calibrated booster by default.
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
    make = make or (lambda: calibrated_booster(seed=seed))
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

    Returns
    -------
    proba : ndarray of shape (n_images,)
        Probability of class 1 from the model that never saw the image's source.
    """
    make = make or (lambda: calibrated_booster(seed=seed))
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


def metrics(y, proba, sources):
    """Accuracy per source and pooled, Brier, ECE, ROC AUC and confusion matrices.

    Parameters
    ----------
    y : ndarray of int
    proba : ndarray of float
        Probability of class 1; NaN rows are left out.
    sources : ndarray of str

    Returns
    -------
    report : dict
        JSON-serialisable.
    """
    keep = np.isfinite(proba)
    y, proba, sources = np.asarray(y)[keep], proba[keep], np.asarray(sources)[keep]

    def block(sel):
        yy, pp = y[sel], proba[sel]
        if not len(yy):
            return {"n": 0}
        out = {"n": int(sel.sum()), "accuracy": float(((pp >= 0.5) == yy).mean()),
               "brier": float(brier_score_loss(yy, pp, pos_label=1)) if len(yy) else None,
               "ece": expected_calibration_error(yy, pp),
               "confusion": confusion_matrix(yy, pp >= 0.5, labels=[0, 1]).tolist()}
        out["roc_auc"] = float(roc_auc_score(yy, pp)) if len(np.unique(yy)) == 2 else None
        return out

    report = {"pooled": block(np.ones(len(y), bool))}
    report["per_source"] = {str(s): block(sources == s) for s in np.unique(sources)}
    accuracies = [v["accuracy"] for v in report["per_source"].values()]
    report["mean_source_accuracy"] = float(np.mean(accuracies)) if accuracies else None
    return report


def expected_calibration_error(y, proba, *, n_bins=10):
    """Expected calibration error with equal-width bins of the predicted probability."""
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


def search_params(table, y, *, groups, mask, seed=0, grid=None, n_splits=5, progress=True):
    """Grid search of the booster on grouped, stratified CV (never a test set).

    Each candidate is scored by the mean over sources of out-of-fold accuracy, so the
    small hard source counts as much as the large easy one.

    Returns
    -------
    best : dict
        The winning parameters.
    results : list of dict
        Every candidate with its score.
    """
    import itertools

    grid = grid or PARAM_GRID
    keys = sorted(grid)
    sources = np.asarray(table.dataset.sources)
    results = []
    candidates = list(itertools.product(*(grid[k] for k in keys)))
    for values in tqdm(candidates, desc="search", disable=not progress):
        params = {**DEFAULT_PARAMS, **dict(zip(keys, values))}
        proba = cross_validate(
            table, y, groups=groups, mask=mask, seed=seed, n_splits=n_splits,
            make=lambda p=params: HistGradientBoostingClassifier(random_state=seed, **p))
        score = metrics(y[mask], proba[mask], sources[mask])["mean_source_accuracy"]
        results.append({"params": params, "mean_source_accuracy": score})
    best = max(results, key=lambda r: r["mean_source_accuracy"])  # first wins ties
    return best["params"], results


def train(data, *, name="anime-cartoon", version="1", families=None, seed=0, search=True,
          augment=True, n_jobs=None, cache_dir=None, evaluate=True, progress=True):
    """Train a model from a labelled folder, with its card and CV metrics.

    Parameters
    ----------
    data : str or Path or Dataset
        A folder with ``manifest.csv`` (path, label, source, group) or ``<label>/*``
        sub-folders. Labels ``anime`` and ``cartoon`` train the classifier; ``photo``
        images train the drawing check.
    name, version : str
        Recorded on the card and in every prediction.
    families : sequence of str, optional
        Feature families; all by default.
    seed : int
        One seed for augmentation, splits and boosting: same seed, same model.
    search : bool
        Run the grid search (:data:`PARAM_GRID`); else use :data:`DEFAULT_PARAMS`.
    augment : bool
        Train on degraded copies of large images as well.
    n_jobs : int, optional
        Parallel feature extraction.
    cache_dir : str or Path, optional
        Feature cache.
    evaluate : bool
        Compute CV and leave-one-source-out metrics for the card.
    progress : bool
        Show progress bars.

    Returns
    -------
    model : AnimefeatModel
    """
    dataset = read_dataset(data) if isinstance(data, (str, Path)) else data
    labels = np.asarray(dataset.labels)
    drawings = np.isin(labels, ["anime", "cartoon"])
    if len(np.unique(labels[drawings])) < 2:
        raise AnimefeatError("training needs images labelled both 'anime' and 'cartoon'")
    photos = labels == "photo"
    if not photos.any():
        raise AnimefeatError("training needs images labelled 'photo' for the drawing check")
    table = feature_table(dataset, families=families, augment=augment, seed=seed,
                          n_jobs=n_jobs, cache_dir=cache_dir, progress=progress)
    y_anime = (labels == "anime").astype(int)
    y_drawing = drawings.astype(int)
    groups = near_duplicate_groups(dataset.paths)
    sources = np.asarray(dataset.sources)

    params, search_results = dict(DEFAULT_PARAMS), []
    if search:
        params, search_results = search_params(table, y_anime, groups=groups, mask=drawings,
                                               seed=seed, progress=progress)

    report, threshold = {}, 0.5
    if evaluate:
        def make():
            return calibrated_booster(params, seed=seed)
        cv = cross_validate(table, y_anime, make=make, groups=groups, mask=drawings, seed=seed)
        draw = cross_validate(table, y_drawing, groups=groups, seed=seed,
                              make=lambda: calibrated_booster(DRAWING_PARAMS, seed=seed))
        threshold = drawing_threshold(y_drawing, draw)
        report = {
            "cv": metrics(y_anime[drawings], cv[drawings], sources[drawings]),
            "drawing_check": drawing_check_metrics(y_drawing, draw, sources, threshold),
        }
        if len(np.unique(sources[drawings])) > 1:
            loso = leave_one_source_out(table, y_anime, make=make, seed=seed, mask=drawings)
            report["leave_one_source_out"] = metrics(y_anime[drawings], loso[drawings],
                                                     sources[drawings])

    rows = np.isin(table.origin, np.flatnonzero(drawings))
    classifier = build_classifier(params, seed=seed, families=families)
    classifier.named_steps["features"].fit()
    classifier.named_steps["model"].fit(trainable(table.X[rows]), y_anime[table.origin[rows]])
    drawing = calibrated_booster(DRAWING_PARAMS, seed=seed).fit(trainable(table.X),
                                                                y_drawing[table.origin])
    reference = _column_medians(table.originals()[drawings])

    counts = {}
    for s, label in zip(dataset.sources, dataset.labels):
        counts.setdefault(s, {}).setdefault(label, 0)
        counts[s][label] += 1
    card = new_card(
        name=name, version=version, params=params, families=families, seed=seed,
        data={"folder": Path(dataset.root).name, "manifest_sha256": dataset.manifest_sha256,
              "counts": counts, "augmented_rows": int(table.augmented.sum()),
              "near_duplicate_groups": len(np.unique(groups))},
        metrics=report)
    card["hyperparameters"]["drawing_check"] = dict(DRAWING_PARAMS)
    card["search"] = {"grid": PARAM_GRID if search else None,
                      "score": "mean over sources of grouped 5-fold CV accuracy",
                      "results": search_results}
    return AnimefeatModel(classifier, drawing, reference, card, drawing_threshold=threshold)


def _column_medians(X):
    """Median of each column over its measured values (NaN for a never-measured column)."""
    out = np.full(X.shape[1], np.nan)
    measured = ~np.isnan(X).all(axis=0)
    out[measured] = np.nanmedian(X[:, measured], axis=0)
    return out


#: Most drawings the photo check may flag, on out-of-fold predictions.
MAX_DRAWINGS_FLAGGED = 0.02


def drawing_threshold(y_drawing, proba, *, max_drawings_flagged=MAX_DRAWINGS_FLAGGED):
    """The threshold on P(drawing) that flags the most photos while flagging at most
    ``max_drawings_flagged`` of the drawings (on out-of-fold probabilities).

    Parameters
    ----------
    y_drawing : ndarray of int
        1 for drawings, 0 for photos.
    proba : ndarray of float
        Out-of-fold P(drawing).

    Returns
    -------
    threshold : float
        ``is_drawing = proba >= threshold``; 0.5 when there are no drawings.
    """
    keep = np.isfinite(proba)
    drawn = np.sort(proba[keep & (y_drawing == 1)])
    if not len(drawn):
        return 0.5
    # Flagging is proba < t: at most k drawings may lie below t.
    k = int(np.floor(max_drawings_flagged * len(drawn)))
    return float(drawn[k]) if k < len(drawn) else 0.5


def drawing_check_metrics(y_drawing, proba, sources, threshold=0.5):
    """How often photos are flagged and drawings wrongly flagged, pooled and per source."""
    keep = np.isfinite(proba)
    flagged = proba < threshold
    photos = keep & (y_drawing == 0)
    drawings = keep & (y_drawing == 1)
    out = {"threshold": float(threshold),
           "photos_flagged": float(flagged[photos].mean()) if photos.any() else None,
           "drawings_flagged": float(flagged[drawings].mean()) if drawings.any() else None,
           "drawings_flagged_per_source": {}}
    for s in np.unique(np.asarray(sources)[drawings]):
        sel = drawings & (np.asarray(sources) == s)
        out["drawings_flagged_per_source"][str(s)] = float(flagged[sel].mean())
    return out

