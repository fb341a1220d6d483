import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier

from animefeat._trees import compile_calibrated
from animefeat.calibration import SlopeCalibratedClassifier
from animefeat.explain import probe_matrix


def _data(n=300, f=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f))
    y = (X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + rng.normal(scale=0.3, size=n) > 0).astype(int)
    X[rng.random(X.shape) < 0.1] = np.nan  # missing values take the learned side
    return X, y


def _fitted(ensemble=False, method="sigmoid", **params):
    X, y = _data()
    booster = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=7, random_state=0,
                                             **params)
    return CalibratedClassifierCV(booster, method=method, cv=3, ensemble=ensemble).fit(X, y)


@pytest.fixture(scope="module")
def model():
    return _fitted()


def test_probabilities_equal_scikit_learn(model):
    X, _ = _data(n=200, seed=1)
    flat = compile_calibrated(model)
    np.testing.assert_allclose(flat.predict_proba(X), model.predict_proba(X)[:, 1],
                               rtol=0, atol=1e-12)


def test_probes_equal_scikit_learn_on_probe_rows(model):
    X, _ = _data(n=4, seed=2)
    reference = np.nanmedian(_data()[0], axis=0)
    flat = compile_calibrated(model)
    got = flat.calibrate(flat.probe_raw(X, reference))
    want = np.vstack([model.predict_proba(probe_matrix(x, reference))[:, 1] for x in X])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_probe_of_a_feature_at_its_reference_changes_nothing(model):
    X, _ = _data(n=1, seed=3)
    flat = compile_calibrated(model)
    raw = flat.probe_raw(X, X[0])
    np.testing.assert_allclose(raw[0, 1:], raw[0, 0], rtol=0, atol=1e-12)


def test_packed_trees_keep_every_node_with_children_side_by_side(model):
    flat = compile_calibrated(model)
    trees = [p[0].nodes for p in model.calibrated_classifiers_[0].estimator._predictors]
    assert len(flat.nodes) == sum(len(t) for t in trees)
    ends = np.r_[flat.roots[1:], len(flat.nodes)]
    for tree, start, end in zip(trees, flat.roots, ends):
        packed = flat.nodes[start:end]
        leaf = packed["flags"] & 1 == 1
        # A leaf keeps its value where a split keeps its threshold.
        assert sorted(packed["threshold"][leaf]) == sorted(tree["value"][tree["is_leaf"] == 1])
        assert sorted(packed["threshold"][~leaf]) == sorted(
            tree["num_threshold"][tree["is_leaf"] == 0])
        # Breadth first, children side by side: split k's children are 2k+1 and 2k+2.
        np.testing.assert_array_equal(packed["left"][~leaf] - start,
                                      2 * np.arange((~leaf).sum()) + 1)


def test_trees_of_depth_zero_are_walked():
    X = np.zeros((20, 2))
    y = np.r_[np.zeros(10), np.ones(10)].astype(int)
    # Constant features: every tree is a single leaf.
    model = CalibratedClassifierCV(HistGradientBoostingClassifier(max_iter=3), cv=2,
                                   ensemble=False).fit(X, y)
    flat = compile_calibrated(model)
    np.testing.assert_allclose(flat.predict_proba(X), model.predict_proba(X)[:, 1], atol=1e-12)
    assert flat.probe_raw(X[:2], np.ones(2)).shape == (2, 3)


@pytest.mark.parametrize("kwargs", [{"ensemble": True}, {"method": "isotonic"}])
def test_other_model_shapes_are_not_copied(kwargs):
    assert compile_calibrated(_fitted(**kwargs)) is None


def test_slope_calibrated_booster_equals_scikit_learn():
    X, y = _data()
    booster = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=7, random_state=0)
    model = SlopeCalibratedClassifier(booster, cv=3).fit(X, y)
    X_test, _ = _data(n=200, seed=1)
    flat = compile_calibrated(model)
    np.testing.assert_allclose(flat.predict_proba(X_test), model.predict_proba(X_test)[:, 1],
                               rtol=0, atol=1e-12)
