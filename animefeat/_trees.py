"""A flat, compiled copy of a fitted calibrated gradient-boosted classifier.

scikit-learn predicts with a :class:`HistGradientBoostingClassifier` one tree at a
time, and each tree call costs Python overhead: for one image and 600 trees that is
most of the model's latency. Here all trees' nodes are packed into one array of
16-byte records that a compiled loop (numba) walks.

The explanation probes (each feature in turn replaced by its reference value) are
computed sparsely: replacing feature ``j`` can only change a tree whose path for the
image splits on ``j``, so only those (tree, feature) pairs are walked again, each from
the path's first split on ``j`` (above it the probe's path is the image's).

The results equal scikit-learn's ``predict_proba`` (same thresholds, same NaN routing,
same calibration); :func:`compile_calibrated` refuses any model it cannot copy
exactly, and callers fall back to scikit-learn then.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.special import expit

__all__ = ["FlatBooster", "compile_calibrated", "flatten_booster"]


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
        self.nodes, self.roots = _pack([p.nodes for p in predictors])
        self.baseline = float(baseline)
        self.a, self.b = float(a), float(b)

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
        return _raw(X, *self._arrays())

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
        reference = np.ascontiguousarray(reference, dtype=np.float64)
        return _probe_raw(X, reference, *self._arrays())

    def _arrays(self):
        return self.roots, self.nodes, self.baseline

    def to_arrays(self):
        """The packed trees and calibration as plain arrays (for an ``.npz`` file)."""
        return {"nodes": self.nodes, "roots": self.roots, "baseline": self.baseline,
                "a": self.a, "b": self.b}

    @classmethod
    def from_arrays(cls, nodes, roots, baseline, a, b):
        """The booster that :meth:`to_arrays` described.

        Raises
        ------
        ValueError
            The arrays are not packed trees (wrong node layout or roots out of range).
        """
        nodes = np.asarray(nodes)
        roots = np.asarray(roots, dtype=np.intp)
        if nodes.dtype != NODE_DTYPE or roots.ndim != 1 or (
                len(roots) and (roots.min() < 0 or roots.max() >= len(nodes))):
            raise ValueError("not a packed tree ensemble")
        leaf = nodes["flags"] & _LEAF == 1
        if len(nodes) and (nodes["left"][~leaf].min(initial=0) < 0
                           or nodes["left"][~leaf].max(initial=0) + 1 >= len(nodes)):
            raise ValueError("a split points outside the packed trees")
        booster = cls.__new__(cls)
        booster.nodes, booster.roots = np.ascontiguousarray(nodes), roots
        booster.baseline, booster.a, booster.b = float(baseline), float(a), float(b)
        return booster


# One node in 16 bytes, so that a visit reads one cache line, not one in each of five
# arrays: walking 900 trees after the features had evicted them cost three times as
# long as walking them warm. A split's right child is ``left + 1``; a leaf keeps its
# value where a split keeps its threshold.
NODE_DTYPE = np.dtype([("threshold", np.float64), ("left", np.int32), ("feature", np.int16),
                       ("flags", np.uint8), ("pad", np.uint8)])
_LEAF, _MISSING_LEFT = 1, 2


def _pack(trees):
    """Nodes of all ``trees`` (scikit-learn predictor records) as NODE_DTYPE, and roots.

    Each tree is renumbered breadth first, the two children of a split side by side.
    """
    nodes = np.zeros(sum(len(t) for t in trees), dtype=NODE_DTYPE)
    roots = np.empty(len(trees), dtype=np.intp)
    start = 0
    for t, tree in enumerate(trees):
        roots[t] = start
        is_leaf, left, right = (tree[k].tolist() for k in ("is_leaf", "left", "right"))
        order = [0]  # old indices in breadth-first order
        for old in order:
            if not is_leaf[old]:
                order += [left[old], right[old]]
        new = np.empty(len(order), dtype=np.intp)
        new[order] = np.arange(start, start + len(order))
        records, packed = tree[order], nodes[start:start + len(order)]
        leaf = records["is_leaf"].astype(bool)
        packed["threshold"] = np.where(leaf, records["value"], records["num_threshold"])
        packed["left"] = np.where(leaf, 0, new[records["left"]])
        packed["feature"] = np.where(leaf, 0, records["feature_idx"])
        packed["flags"] = np.where(leaf, _LEAF, np.where(records["missing_go_to_left"],
                                                         _MISSING_LEFT, 0))
        start += len(order)
    return nodes, roots


# The walks are compiled (numba): one image's 600 trees and its probes are tens of
# thousands of node visits, which array-at-a-time numpy paid for in call overhead.
@njit(cache=True, nogil=True)
def _leaf(x, node, nodes, swap_feature, swap_value):
    """The leaf one row reaches from ``node``; ``swap_feature`` reads ``swap_value``."""
    while not nodes[node].flags & _LEAF:
        f = nodes[node].feature
        v = swap_value if f == swap_feature else x[f]
        if np.isnan(v):
            go_left = nodes[node].flags & _MISSING_LEFT
        else:
            go_left = v <= nodes[node].threshold
        node = nodes[node].left + (0 if go_left else 1)
    return node


@njit(cache=True, nogil=True)
def _raw(X, roots, nodes, baseline):
    out = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        total = baseline
        for root in roots:
            total += nodes[_leaf(X[i], root, nodes, -1, 0.0)].threshold
        out[i] = total
    return out


@njit(cache=True, nogil=True)
def _probe_raw(X, reference, roots, nodes, baseline):
    n, f = X.shape
    raw = np.empty((n, f + 1))
    seen = np.full(f, -1, dtype=np.intp)  # the last tree that probed each feature
    # Per tree: the features its path splits on, and the leaf value of each probe.
    probed = np.empty(f, dtype=np.intp)
    probe_value = np.empty(f)
    for i in range(n):
        x = X[i]
        total = baseline
        change = np.zeros(f)
        for t in range(len(roots)):
            node = roots[t]
            marker = i * len(roots) + t
            k = 0
            while not nodes[node].flags & _LEAF:
                j = nodes[node].feature
                if seen[j] != marker:
                    # Replacing feature j can only change this tree's leaf if its path
                    # splits on j, and the path up to its first such split stays the
                    # same: the probe walks on from this node.
                    seen[j] = marker
                    probed[k] = j
                    probe_value[k] = nodes[_leaf(x, node, nodes, j, reference[j])].threshold
                    k += 1
                v = x[j]
                go_left = (nodes[node].flags & _MISSING_LEFT if np.isnan(v)
                           else v <= nodes[node].threshold)
                node = nodes[node].left + (0 if go_left else 1)
            leaf = nodes[node].threshold
            total += leaf
            for q in range(k):
                change[probed[q]] += probe_value[q] - leaf
        raw[i, 0] = total
        raw[i, 1:] = total + change
    return raw


def compile_calibrated(calibrated):
    """A :class:`FlatBooster` equal to a fitted calibrated booster, or None.

    Only the exact shapes animefeat trains are copied: a
    :class:`~animefeat.calibration.SlopeCalibratedClassifier`, or a
    ``CalibratedClassifierCV`` with one calibrated classifier (``ensemble=False``) and
    the sigmoid method, around a binary ``HistGradientBoostingClassifier`` on
    numerical features. Anything else returns None.
    """
    from sklearn.calibration import _SigmoidCalibration

    from .calibration import SlopeCalibratedClassifier

    if isinstance(calibrated, SlopeCalibratedClassifier):
        if not hasattr(calibrated, "slope_"):
            return None
        # expit(slope * raw) == expit(-(a * raw + b)) with a = -slope, b = 0.
        return flatten_booster(calibrated.estimator_, -calibrated.slope_, 0.0)
    members = getattr(calibrated, "calibrated_classifiers_", None)
    if not members or len(members) != 1:
        return None
    member = members[0]
    if (len(member.calibrators) != 1
            or not isinstance(member.calibrators[0], _SigmoidCalibration)):
        return None
    calibrator = member.calibrators[0]
    return flatten_booster(member.estimator, calibrator.a_, calibrator.b_)


def flatten_booster(booster, a=-1.0, b=0.0):
    """A :class:`FlatBooster` equal to a fitted binary ``HistGradientBoostingClassifier``.

    ``P(class 1) = expit(-(a * raw + b))``: the booster's own probability with the
    defaults. None for a booster it cannot copy exactly (categorical splits, more than
    two classes).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    if (not isinstance(booster, HistGradientBoostingClassifier)
            or len(booster.classes_) != 2 or booster.n_trees_per_iteration_ != 1):
        return None
    predictors = [p[0] for p in booster._predictors]
    if any(p.nodes["is_categorical"].any() for p in predictors):
        return None
    baseline = np.ravel(booster._baseline_prediction)
    if baseline.size != 1:
        return None
    if (sum(len(p.nodes) for p in predictors) >= 2 ** 31
            or booster.n_features_in_ >= 2 ** 15):
        return None  # beyond the packed node's index and feature fields
    return FlatBooster(predictors, baseline[0], a, b)
