"""A flat, vectorised copy of a fitted calibrated gradient-boosted classifier.

scikit-learn predicts with a :class:`HistGradientBoostingClassifier` one tree at a
time, and each tree call costs Python overhead: for one image and 600 trees that is
most of the model's latency. Here all trees' nodes are packed into flat arrays and
every tree is walked at once with numpy, level by level.

The explanation probes (each feature in turn replaced by its reference value) are
computed sparsely: replacing feature ``j`` can only change a tree whose path for the
image splits on ``j``, so only those (tree, feature) pairs are walked again.

The results equal scikit-learn's ``predict_proba`` (same thresholds, same NaN routing,
same sigmoid calibration); :func:`compile_calibrated` refuses any model it cannot copy
exactly, and callers fall back to scikit-learn then.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

__all__ = ["FlatBooster", "compile_calibrated"]


class FlatBooster:
    """All trees of a binary gradient-boosted model, flattened, plus its sigmoid calibration.

    Parameters
    ----------
    predictors : sequence of TreePredictor
        The fitted trees (one per iteration).
    baseline : float
        The booster's initial raw score.
    a, b : float
        Sigmoid calibration: ``P(class 1) = expit(-(a * raw + b))``.
    """

    def __init__(self, predictors, baseline, a, b):
        nodes = [p.nodes for p in predictors]
        sizes = np.array([len(n) for n in nodes])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        flat = np.concatenate(nodes)
        shift = np.repeat(offsets, sizes)
        self.roots = offsets.astype(np.intp)
        self.feature = flat["feature_idx"].astype(np.intp)
        self.threshold = flat["num_threshold"].astype(np.float64)
        self.missing_left = flat["missing_go_to_left"].astype(bool)
        self.is_leaf = flat["is_leaf"].astype(bool)
        # Leaves point to themselves, so a finished walk stays put while others go on.
        index = np.arange(len(flat))
        self.left = np.where(self.is_leaf, index, flat["left"] + shift).astype(np.intp)
        self.right = np.where(self.is_leaf, index, flat["right"] + shift).astype(np.intp)
        self.value = flat["value"].astype(np.float64)
        self.depth = int(flat["depth"].max())
        self.baseline = float(baseline)
        self.a, self.b = float(a), float(b)

    def _walk(self, nodes, rows, X, swap_feature=None, swap_value=None, record=False):
        """Walk each start node in ``nodes`` to its leaf, reading features from ``X[rows]``.

        Where ``swap_feature`` is given, that feature reads ``swap_value`` instead. With
        ``record``, also returns the path (internal nodes visited, one array per level,
        -1 where a walk had already ended).
        """
        flat = X.ravel()
        base = rows * X.shape[1]
        path = []
        for _ in range(self.depth):
            leaf = self.is_leaf[nodes]
            if leaf.all():
                break
            feature = self.feature[nodes]
            x = flat[base + feature]
            if swap_feature is not None:
                x = np.where(feature == swap_feature, swap_value, x)
            go_left = np.where(np.isnan(x), self.missing_left[nodes], x <= self.threshold[nodes])
            if record:
                path.append(np.where(leaf, -1, nodes))
            nodes = np.where(go_left, self.left[nodes], self.right[nodes])
        return nodes, path

    def raw(self, X):
        """Raw scores (log-odds before calibration).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float64

        Returns
        -------
        raw : ndarray of shape (n_samples,)
        """
        X = np.ascontiguousarray(X, dtype=np.float64)
        n, t = len(X), len(self.roots)
        rows = np.repeat(np.arange(n), t)
        leaves, _ = self._walk(np.tile(self.roots, n), rows, X)
        return self.baseline + self.value[leaves].reshape(n, t).sum(axis=1)

    def calibrate(self, raw):
        """Calibrated probability of class 1 from raw scores."""
        return expit(-(self.a * np.asarray(raw) + self.b))

    def predict_proba(self, X):
        """Probability of class 1, as ``CalibratedClassifierCV.predict_proba(X)[:, 1]``."""
        return self.calibrate(self.raw(X))

    def probe_proba(self, X, reference):
        """Probabilities of class 1 of each row and its probes; see :meth:`probe_raw`."""
        return self.calibrate(self.probe_raw(X, reference))

    def probe_raw(self, X, reference):
        """Raw scores of each row and of its probes (one feature set to its reference).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        reference : ndarray of shape (n_features,)

        Returns
        -------
        raw : ndarray of shape (n_samples, n_features + 1)
            Column 0 is the row itself, column ``j + 1`` the row with feature ``j``
            replaced by ``reference[j]``: the raw scores of
            :func:`animefeat.explain.probe_matrix` rows.
        """
        X = np.ascontiguousarray(X, dtype=np.float64)
        reference = np.asarray(reference, dtype=np.float64)
        n, f = X.shape
        t = len(self.roots)
        rows = np.repeat(np.arange(n), t)
        leaves, path = self._walk(np.tile(self.roots, n), rows, X, record=True)
        leaf_value = self.value[leaves]
        raw = np.empty((n, f + 1))
        raw[:, 0] = self.baseline + leaf_value.reshape(n, t).sum(axis=1)
        raw[:, 1:] = raw[:, :1]
        if not path:
            return raw
        # Every (row-tree walk, feature split on along it), once each.
        walks = np.concatenate([np.arange(n * t)] * len(path))
        visited = np.concatenate(path)
        keep = visited >= 0
        walks, features = walks[keep], self.feature[visited[keep]]
        pairs = np.unique(walks * f + features)
        walks, features = pairs // f, pairs % f
        new_leaves, _ = self._walk(self.roots[walks % t], rows[walks], X,
                                   swap_feature=features, swap_value=reference[features])
        delta = self.value[new_leaves] - leaf_value[walks]
        change = np.bincount(rows[walks] * f + features, weights=delta, minlength=n * f)
        raw[:, 1:] += change.reshape(n, f)
        return raw


def compile_calibrated(calibrated):
    """A :class:`FlatBooster` equal to a fitted ``CalibratedClassifierCV``, or None.

    Only the exact shape animefeat trains is copied: one calibrated classifier
    (``ensemble=False``), sigmoid method, a binary ``HistGradientBoostingClassifier``
    on numerical features. Anything else returns None.
    """
    from sklearn.calibration import _SigmoidCalibration
    from sklearn.ensemble import HistGradientBoostingClassifier

    members = getattr(calibrated, "calibrated_classifiers_", None)
    if not members or len(members) != 1:
        return None
    member = members[0]
    booster = member.estimator
    if (not isinstance(booster, HistGradientBoostingClassifier)
            or len(booster.classes_) != 2 or booster.n_trees_per_iteration_ != 1
            or len(member.calibrators) != 1
            or not isinstance(member.calibrators[0], _SigmoidCalibration)):
        return None
    predictors = [p[0] for p in booster._predictors]
    if any(p.nodes["is_categorical"].any() for p in predictors):
        return None
    baseline = np.ravel(booster._baseline_prediction)
    if baseline.size != 1:
        return None
    calibrator = member.calibrators[0]
    return FlatBooster(predictors, baseline[0], calibrator.a_, calibrator.b_)
