"""Small feature tables with known answers, for the training tests."""

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from animefeat.data import Dataset
from animefeat.training import FeatureTable


def _table(X, sources, labels):
    n = len(X)
    ds = Dataset(root=".", paths=[f"{i}.png" for i in range(n)], labels=list(labels),
                 sources=list(sources), manifest_sha256="x")
    return FeatureTable(np.asarray(X, float), np.arange(n), np.zeros(n, bool), ds)


def _shortcut_data(seed=0):
    """Four sources; column 0 is the style (anime > 0), column 1 a source shortcut that
    agrees with the label in three sources and contradicts it in the fourth."""
    rng = np.random.default_rng(seed)
    sources, labels, rows = [], [], []
    for source, flip in (("s1", False), ("s2", False), ("s3", False), ("s4", True)):
        for label in ("anime", "cartoon"):
            for _ in range(40):
                style = rng.normal(1.0 if label == "anime" else -1.0, 0.4)
                shortcut = (1.0 if label == "anime" else -1.0) * (-1 if flip else 1)
                rows.append([style, shortcut + rng.normal(0, 0.05)])
                sources.append(source)
                labels.append(label)
    return np.array(rows), np.array(sources), np.array(labels)


def _clean_style_data(seed=0):
    """Four balanced sources whose one column tells the styles apart without error."""
    rng = np.random.default_rng(seed)
    sources = np.repeat(["s1", "s2", "s3", "s4"], 40)
    labels = np.tile(np.repeat(["anime", "cartoon"], 20), 4)
    X = np.where(labels == "anime", 1.0, -1.0)[:, None] + rng.normal(0, 0.1, (160, 1))
    return X, sources, labels


class Spy(ClassifierMixin, BaseEstimator):
    """Records the ids (column 0) of the rows it is fitted on and of those it scores."""

    log: ClassVar[list] = []

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.unique(y)
        self.trained_ = set(X[:, 0].astype(int))
        return self

    def predict_proba(self, X):
        Spy.log.append((self.trained_, set(X[:, 0].astype(int))))
        return np.full((len(X), 2), 0.5)
