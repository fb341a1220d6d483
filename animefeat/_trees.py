"""A flat, compiled copy of a fitted calibrated gradient-boosted classifier.

scikit-learn predicts with a :class:`HistGradientBoostingClassifier` one tree at a
time, and each tree call costs Python overhead: for one image and 600 trees that is
most of the model's latency. Here all trees' nodes are packed into one array of
16-byte records that a compiled loop (numba) walks.

Explanations are path attributions (Saabas): every node also keeps the mean of the
leaves below it (weighted by their training counts), and each split on an image's
path credits its feature with the change from the node's mean to the child's. Over all
trees, the credits plus the mean answer add up exactly to the image's log-odds, so
the reasons for the winning side outweigh the others, as a reader expects.

The results equal scikit-learn's ``predict_proba`` (same thresholds, same NaN routing,
same calibration; rows checked as scikit-learn checks them); :func:`compile_calibrated`
refuses any model it cannot copy exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.special import expit
from sklearn.utils import check_array

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
    n_features : int
        Columns of the rows it takes (the booster's ``n_features_in_``).
    """

    def __init__(self, predictors, baseline, a, b, n_features):
        self.nodes, self.roots, self.expected = _pack([p.nodes for p in predictors])
        self.baseline = float(baseline)
        self.a, self.b = float(a), float(b)
        self.n_features = int(n_features)
        self._widest = _widest(self.nodes)

    def _check(self, X):
        """``X`` as C-contiguous float64 rows of the right width, as scikit-learn checks.

        The compiled walk reads a row at the split's column with no bounds check: a
        narrower row would be read past its end.
        """
        # The rows predict passes already are such an array; check_array's own checks
        # (dataframe detection among them) cost more than the walk of one row.
        if not (isinstance(X, np.ndarray) and X.dtype == np.float64 and X.ndim == 2
                and X.flags.c_contiguous and X.size and not np.isinf(X).any()):
            X = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan", order="C")
        if self.n_features is None:
            if X.shape[1] < self._widest:
                raise ValueError(f"X has {X.shape[1]} features, but the trees read "
                                 f"column {self._widest - 1}")
        elif X.shape[1] != self.n_features:
            raise ValueError(f"X has {X.shape[1]} features, but the booster was fitted "
                             f"on {self.n_features}")
        return X

    def raw(self, X):
        """Raw scores (log-odds before calibration).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float64

        Returns
        -------
        raw : ndarray of shape (n_samples,)
        """
        return _raw(self._check(X), *self._arrays())

    def calibrate(self, raw):
        """Calibrated probability of class 1 from raw scores."""
        return expit(-(self.a * np.asarray(raw) + self.b))

    def predict_proba(self, X):
        """Probability of class 1, as ``CalibratedClassifierCV.predict_proba(X)[:, 1]``."""
        return self.calibrate(self.raw(X))

    def attributions(self, X):
        """Path attributions of the calibrated log-odds of class 1.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        bias : float
            The log-odds of the mean answer (every tree at its mean leaf).
        effects : ndarray of shape (n_samples, n_features)
            Each feature's share of the log-odds: ``bias + effects.sum(axis=1)`` is
            ``logit(predict_proba(X))``.

        Raises
        ------
        ValueError
            The booster was rebuilt from arrays without the node means.
        """
        if self.expected is None:
            raise ValueError("this booster was stored without node means; "
                             "it can predict but not attribute")
        X = self._check(X)
        n = X.shape[0]
        nodes, expected = self.nodes, self.expected
        leaf = (nodes["flags"] & _LEAF) != 0
        # Every (row, tree) pair walks down one level per step, all at once.
        node = np.tile(self.roots, (n, 1))
        row = np.repeat(np.arange(n), len(self.roots)).reshape(node.shape)
        raw = np.zeros(X.shape)
        walking = ~leaf[node]
        while walking.any():
            r, at = row[walking], node[walking]
            feature = nodes["feature"][at]
            v = X[r, feature]
            go_left = np.where(np.isnan(v), (nodes["flags"][at] & _MISSING_LEFT) != 0,
                               v <= nodes["threshold"][at])
            child = nodes["left"][at] + np.where(go_left, 0, 1)
            np.add.at(raw, (r, feature), expected[child] - expected[at])
            node[walking] = child
            walking = ~leaf[node]
        # P(class 1) = expit(-(a * raw + b)): the log-odds are -(a * raw + b).
        bias = -(self.a * (self.baseline + expected[self.roots].sum()) + self.b)
        return float(bias), -self.a * raw

    def _arrays(self):
        return self.roots, self.nodes, self.baseline

    def to_arrays(self):
        """The packed trees and calibration as plain arrays (for an ``.npz`` file)."""
        out = {"nodes": self.nodes, "roots": self.roots, "baseline": self.baseline,
               "a": self.a, "b": self.b}
        if self.n_features is not None:
            out["n_features"] = self.n_features
        return out

    @classmethod
    def from_arrays(cls, nodes, roots, baseline, a, b, n_features=None):
        """The booster that :meth:`to_arrays` described.

        ``n_features`` is the row width; where it is not known (None), rows must be at
        least as wide as the highest column a split reads.

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
        booster.expected = None  # predicting needs no node means; attributing does
        booster.baseline, booster.a, booster.b = float(baseline), float(a), float(b)
        booster.n_features = None if n_features is None else int(n_features)
        booster._widest = _widest(booster.nodes)
        if n_features is not None and booster._widest > n_features:
            raise ValueError("a split reads a column beyond n_features")
        return booster


# One node in 16 bytes, so that a visit reads one cache line, not one in each of five
# arrays: walking 900 trees after the features had evicted them cost three times as
# long as walking them warm. A split's right child is ``left + 1``; a leaf keeps its
# value where a split keeps its threshold.
NODE_DTYPE = np.dtype([("threshold", np.float64), ("left", np.int32), ("feature", np.int16),
                       ("flags", np.uint8), ("pad", np.uint8)])
_LEAF, _MISSING_LEFT = 1, 2


def _widest(nodes):
    """One past the highest column a split of the packed ``nodes`` reads (0 for none)."""
    return int(nodes["feature"][(nodes["flags"] & _LEAF) == 0].max(initial=-1)) + 1


def _pack(trees):
    """Nodes of all ``trees`` (scikit-learn predictor records) as NODE_DTYPE, roots, and
    the count-weighted mean leaf value below each node.

    Each tree is renumbered breadth first, the two children of a split side by side.
    """
    nodes = np.zeros(sum(len(t) for t in trees), dtype=NODE_DTYPE)
    expected = np.zeros(len(nodes))
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
        # scikit-learn keeps unshrunk values at splits; the mean of the leaves below is
        # what an attribution needs. Children come after parents breadth first.
        mean = np.where(leaf, records["value"], 0.0)
        count = records["count"].astype(np.float64)
        for k in range(len(order) - 1, -1, -1):
            if not leaf[k]:
                child = new[records["left"][k]] - start
                weight = count[child] + count[child + 1]
                mean[k] = ((count[child] * mean[child] + count[child + 1] * mean[child + 1])
                           / weight if weight else 0.5 * (mean[child] + mean[child + 1]))
                count[k] = weight
        expected[start:start + len(order)] = mean
        start += len(order)
    return nodes, roots, expected


# The walk is compiled (numba): a batch of images through 600 trees is tens of thousands
# of node visits, which array-at-a-time numpy paid for in call overhead.
@njit(cache=True, nogil=True)
def _leaf(x, node, nodes):
    """The leaf one row reaches from ``node``."""
    while not nodes[node].flags & _LEAF:
        f = nodes[node].feature
        v = x[f]
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
            total += nodes[_leaf(X[i], root, nodes)].threshold
        out[i] = total
    return out


def compile_calibrated(calibrated):
    """A :class:`FlatBooster` equal to a fitted
    :class:`~animefeat.calibration.SlopeCalibratedClassifier` around a binary
    ``HistGradientBoostingClassifier`` on numerical features, or None for anything else.
    """
    from .calibration import SlopeCalibratedClassifier

    if not isinstance(calibrated, SlopeCalibratedClassifier) or not hasattr(calibrated,
                                                                            "slope_"):
        return None
    # expit(slope * raw) == expit(-(a * raw + b)) with a = -slope, b = 0.
    return flatten_booster(calibrated.estimator_, -calibrated.slope_, 0.0)


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
    return FlatBooster(predictors, baseline[0], a, b, booster.n_features_in_)
