"""Splits and metrics: grouped cross-validation, leave-one-source-out, and the report
of accuracy, calibration and confident mistakes per source.

Splits respect what makes this data hard: near-duplicate frames never straddle a split,
folds are stratified on source x label, and accuracy is reported per source.
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.metrics import brier_score_loss, confusion_matrix, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from ..model import MIN_SOURCES_HELD_OUT, calibrated_booster
from .tables import source_weights, trainable

__all__ = ["cross_validate", "expected_calibration_error", "leave_one_source_out", "metrics"]

def _folds(labels, sources, groups, n_splits, seed):
    strata = np.array([f"{s}|{label}" for s, label in zip(sources, labels)])
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(cv.split(np.zeros(len(strata)), strata, groups))


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


def verdict_level(y, proba, *, accuracy=0.9, floor=0.65):
    """The lowest confidence from which held-out answers are right often enough.

    Parameters
    ----------
    y : array-like of int, shape (n,)
        1 for class 1.
    proba : array-like of float, shape (n,)
        Held-out probability of class 1 (NaN rows are left out).
    accuracy : float
        How often the answers at least that sure must be right.
    floor : float
        The level is never below this (the edge of "Not sure").

    Returns
    -------
    level : dict
        ``sure_from`` (1.0 when no level reaches ``accuracy``: every answer is hedged),
        ``accuracy_from_there`` and ``share_of_answers`` (of the answers at least that
        sure), ``n``.
    """
    keep = np.isfinite(proba)
    y, proba = np.asarray(y)[keep], np.asarray(proba)[keep]
    confidence = np.maximum(proba, 1 - proba)
    right = (proba >= 0.5) == (y == 1)
    order = np.argsort(-confidence, kind="stable")
    conf, hits = confidence[order], right[order]
    # Accuracy of the answers at least conf[i] sure (ties included: the last of equals).
    acc = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    last = np.r_[conf[1:] != conf[:-1], True]
    ok = np.flatnonzero(last & (acc >= accuracy) & (conf >= floor))
    if not len(ok):
        return {"sure_from": 1.0, "accuracy_from_there": None, "share_of_answers": 0.0,
                "n": len(y)}
    i = ok[-1]
    return {"sure_from": float(conf[i]), "accuracy_from_there": float(acc[i]),
            "share_of_answers": float((i + 1) / len(y)), "n": len(y)}
