"""One style head from two views of a drawing: its structure and its local patterns.

* **structure**: gradient boosting on the structural families (lines, edges);
* **local patterns**: dense grey SIFT (:func:`animefeat.features.local.dense_sift`)
  encoded as a Fisher vector (:class:`animefeat.encode.FisherVectorEncoder`), read by a
  logistic regression (:func:`local_head`);
* **combiner**: a logistic regression on the two log-odds. It is fitted on out-of-fold
  log-odds, the training sources held out in groups of whole sources (stacking), so
  its weights say how far each view holds up on sources it has not seen, and its
  output is calibrated on such sources.

The two views fail on different sources (the structure on large web art, the local
patterns on some TV frames), which is why they are combined rather than chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .encode import FisherVectorEncoder

__all__ = ["LOCAL_COPIES", "LOCAL_GRID", "LOCAL_PARAMS", "StyleStack", "combine", "fit_stack",
           "local_head", "source_folds"]

#: The grid of patches the local head reads (working-copy pixels): every 8 px, patches
#: of 16 and 32 px (the two sizes #25 measured 82% with on unseen sources), only those
#: with at least 3% line pixels (a stroke across half a 16-px patch): painted
#: backgrounds left out (experiments/11: 81.0% / 47.2% left out against 79.9% / 42.7%
#: with every textured patch).
LOCAL_GRID = {"step": 8, "sizes": (16, 32), "min_line_share": 0.03}

#: Whether the local head also trains on each image's degraded copy (as the structural
#: head does), so that a small, re-encoded upload is described as its original was.
LOCAL_COPIES = True

#: The local head's settings: 64 Gaussians over SIFT reduced to 64 dimensions (a
#: vector of 8,192), C = 1; the settings #25 measured on 8 sources and 4 unseen ones.
LOCAL_PARAMS = {"n_components": 64, "pca_components": 64, "C": 1.0,
                "max_descriptors": 100_000}


def local_head(*, n_components=64, pca_components=64, C=1.0, max_descriptors=100_000,
               seed=0):
    """Fisher vector then logistic regression, as one scikit-learn pipeline.

    Parameters
    ----------
    n_components, pca_components, max_descriptors
        See :class:`~animefeat.encode.FisherVectorEncoder`.
    C : float
        Inverse regularisation of the logistic regression.
    seed : int

    Returns
    -------
    head : Pipeline
        Unfitted; ``X`` is a sequence of descriptor arrays, one per image. Route
        ``sample_weight`` to both steps (``encode__sample_weight``,
        ``classify__sample_weight``).
    """
    return Pipeline([
        ("encode", FisherVectorEncoder(n_components, pca_components=pca_components,
                                       max_descriptors=max_descriptors,
                                       random_state=seed)),
        ("classify", LogisticRegression(C=C, max_iter=2000)),
    ])


def source_folds(sources, mask, k, seed):
    """Each row's group of whole sources: ``mask``'s sources shuffled (seeded) and dealt
    into ``k`` groups (-1 outside ``mask``).

    Parameters
    ----------
    sources : ndarray of shape (n,)
    mask : ndarray of shape (n,), bool
    k : int or None
        Groups; None (or more than there are sources) puts each source alone.
    seed : int

    Returns
    -------
    fold : ndarray of shape (n,), int
    k : int
        The number of groups made.
    """
    names = np.unique(sources[mask])
    order = np.random.default_rng([seed, len(names)]).permutation(names)
    k = len(order) if k is None else min(k, len(order))
    group_of = {s: i % k for i, s in enumerate(order)}
    return np.array([group_of.get(s, -1) for s in sources]), k


@dataclass
class StyleStack:
    """The fitted parts of the combined style head.

    Attributes
    ----------
    structure : classifier
        Reads the structural columns; its ``decision_function`` gives log-odds of anime.
    local : Pipeline
        :func:`local_head`, fitted; reads descriptor sets.
    combiner : LogisticRegression
        On the columns ``[structure log-odds, local log-odds]``.
    """

    structure: object
    local: object
    combiner: object

    def log_odds(self, X_structure, descriptor_sets):
        """The two views' log-odds of anime, shape (n_images, 2)."""
        return np.column_stack([self.structure.decision_function(X_structure),
                                self.local.decision_function(descriptor_sets)])

    def predict_proba_anime(self, X_structure, descriptor_sets):
        """Combined, calibrated P(anime), shape (n_images,)."""
        return combine(self.combiner, self.log_odds(X_structure, descriptor_sets))


def combine(combiner, log_odds):
    """P(anime) from the two views' log-odds, shape (n_images,)."""
    return expit(log_odds @ combiner.coef_[0] + combiner.intercept_[0])


def fit_stack(fit_structure, X_local, y, sources, *, local=None, weight=None,
              inner_folds=4, seed=0, copies=None):
    """Fit the combined head on the training images.

    Parameters
    ----------
    fit_structure : callable
        ``fit_structure(train, test)`` (index arrays into the training images) fits the
        structural model on ``train`` and returns ``(model, log_odds_of_test)``; with
        ``test=None`` it fits on all the images and returns ``(model, None)``. The
        caller owns the rows (degraded copies, columns).
    X_local : sequence of ndarray
        Each training image's descriptors.
    y : ndarray of shape (n_images,), int
        1 for anime.
    sources : ndarray of shape (n_images,)
    local : Pipeline, optional
        Unfitted :func:`local_head`; its defaults when None.
    weight : ndarray of shape (n_images,), optional
        Sample weights (every (source, label) cell alike, as a rule).
    inner_folds : int
        Groups of whole sources that give the combiner its out-of-fold log-odds.
    seed : int
    copies : sequence of ndarray, optional
        Descriptors of each image's degraded copy (same order as ``X_local``): the
        encoder and the logistic regressions train on them beside the images, with the
        image's label and weight; nothing is ever scored on a copy.

    Returns
    -------
    stack : StyleStack
    out_of_fold : ndarray of shape (n_images, 2)
        The log-odds the combiner was fitted on.

    Notes
    -----
    The encoder (PCA and mixture) is unsupervised and fitted once on all the training
    images; only the supervised parts (the structural model and the logistic
    regression) are refitted in the inner folds.
    """
    y = np.asarray(y)
    sources = np.asarray(sources)
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
    local = clone(local_head(seed=seed) if local is None else local)
    encoder, classify = local.named_steps["encode"], local.named_steps["classify"]
    fit_sets = list(X_local) + ([] if copies is None else list(copies))
    encoder.fit(fit_sets, sample_weight=np.tile(weight, 1 if copies is None else 2))
    encoded = encoder.transform(X_local)
    encoded_copies = None if copies is None else encoder.transform(copies)

    def linear_fit(rows):
        X, yy, w = encoded[rows], y[rows], weight[rows]
        if encoded_copies is not None:
            X = np.vstack([X, encoded_copies[rows]])
            yy, w = np.r_[yy, yy], np.r_[w, w]
        return clone(classify).fit(X, yy, sample_weight=w)

    fold, k = source_folds(sources, np.ones(len(y), bool), inner_folds, seed)
    out_of_fold = np.full((len(y), 2), np.nan)
    for g in range(k):
        test, train = np.flatnonzero(fold == g), np.flatnonzero(fold != g)
        if len(np.unique(y[train])) < 2:
            raise ValueError("an inner fold's training sources hold one class only; "
                             "use fewer inner folds")
        _, out_of_fold[test, 0] = fit_structure(train, test)
        out_of_fold[test, 1] = linear_fit(train).decision_function(encoded[test])
    combiner = LogisticRegression().fit(out_of_fold, y, sample_weight=weight)
    structure, _ = fit_structure(np.arange(len(y)), None)
    local.steps[-1] = ("classify", linear_fit(np.arange(len(y))))
    return StyleStack(structure, local, combiner), out_of_fold
