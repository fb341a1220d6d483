import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from animefeat._trees import FlatBooster, compile_calibrated, flatten_booster
from animefeat.calibration import SlopeCalibratedClassifier


def _data(n=300, f=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f))
    y = (X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + rng.normal(scale=0.3, size=n) > 0).astype(int)
    X[rng.random(X.shape) < 0.1] = np.nan  # missing values take the learned side
    return X, y


def _fitted(X=None, y=None, **params):
    if X is None:
        X, y = _data()
    booster = HistGradientBoostingClassifier(**{"max_iter": 40, "max_leaf_nodes": 7,
                                                "random_state": 0, **params})
    return SlopeCalibratedClassifier(booster, cv=3).fit(X, y)


@pytest.fixture(scope="module")
def model():
    return _fitted()


def test_probabilities_equal_scikit_learn(model):
    X, _ = _data(n=200, seed=1)
    flat = compile_calibrated(model)
    np.testing.assert_allclose(flat.predict_proba(X), model.predict_proba(X)[:, 1],
                               rtol=0, atol=1e-12)


def test_attributions_add_up_to_the_log_odds(model):
    X, _ = _data(n=50, seed=2)
    bias, effects = compile_calibrated(model).attributions(X)
    p = model.predict_proba(X)[:, 1]
    np.testing.assert_allclose(bias + effects.sum(axis=1), np.log(p / (1 - p)),
                               rtol=0, atol=1e-9)


def test_a_feature_no_tree_splits_on_gets_nothing():
    X, y = _data()
    X = np.c_[X, np.full(len(X), 3.0)]  # a constant column: no split can use it
    model = _fitted(X, y, max_iter=20)
    _, effects = compile_calibrated(model).attributions(X[:20])
    assert np.all(effects[:, -1] == 0) and np.any(effects[:, 0] != 0)


def test_one_even_split_credits_both_sides_alike():
    # One tree, one split on feature 0, as many rows on each side: the mean answer is
    # halfway, so a row on either side is credited the same amount, in opposite signs.
    X = np.r_[np.zeros(50), np.ones(50)][:, None]
    y = np.r_[np.zeros(45), np.ones(5), np.ones(45), np.zeros(5)].astype(int)
    booster = HistGradientBoostingClassifier(max_iter=1, max_leaf_nodes=2,
                                             min_samples_leaf=1).fit(X, y)
    flat = flatten_booster(booster)
    bias, effects = flat.attributions(np.array([[0.0], [1.0]]))
    assert effects[0, 0] == pytest.approx(-effects[1, 0]) and effects[1, 0] > 0
    assert bias == pytest.approx(booster.decision_function([[0.0], [1.0]]).mean())


def test_a_booster_rebuilt_from_arrays_predicts_but_does_not_attribute(model):
    flat = compile_calibrated(model)
    again = FlatBooster.from_arrays(**flat.to_arrays())
    X, _ = _data(n=5, seed=4)
    np.testing.assert_array_equal(again.predict_proba(X), flat.predict_proba(X))
    with pytest.raises(ValueError, match="node means"):
        again.attributions(X)


def test_packed_trees_keep_every_node_with_children_side_by_side(model):
    flat = compile_calibrated(model)
    trees = [p[0].nodes for p in model.estimator_._predictors]
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
    model = _fitted(X, y, max_iter=3)
    flat = compile_calibrated(model)
    np.testing.assert_allclose(flat.predict_proba(X), model.predict_proba(X)[:, 1], atol=1e-12)
    _, effects = flat.attributions(X[:2])
    assert effects.shape == (2, 2) and np.all(effects == 0)


def test_other_model_shapes_are_not_copied():
    from sklearn.calibration import CalibratedClassifierCV

    X, y = _data()
    platt = CalibratedClassifierCV(HistGradientBoostingClassifier(max_iter=5), cv=3,
                                   ensemble=False).fit(X, y)
    assert compile_calibrated(platt) is None
    assert compile_calibrated(SlopeCalibratedClassifier(HistGradientBoostingClassifier())) is None


@pytest.mark.parametrize("width", [3, 7])
def test_rows_of_another_width_are_refused(model, width):
    # The compiled walk reads a row at the split's column unchecked: a 3-column row once
    # read past its end and gave two answers for two identical rows.
    X = np.zeros((2, width))
    with pytest.raises(ValueError, match="features"):
        compile_calibrated(model).predict_proba(X)
    with pytest.raises(ValueError, match="features"):
        compile_calibrated(model).attributions(X)


def test_infinite_values_are_refused_as_scikit_learn_refuses_them(model):
    X, _ = _data(n=2, seed=5)
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        compile_calibrated(model).predict_proba(X)


@pytest.mark.parametrize("layout", ["fortran", "strided", "float32", "list"])
def test_rows_in_any_layout_are_walked_as_c_ordered_float64(model, layout):
    # The walk reads rows as C-ordered float64; rows in any other layout are converted
    # first, not read as if they were.
    X, _ = _data(n=20, seed=6)
    X = X.astype(np.float32).astype(np.float64)  # the same numbers in every layout
    expected = compile_calibrated(model).predict_proba(X)
    given = {"fortran": lambda: np.asfortranarray(X),
             "strided": lambda: np.repeat(X, 2, axis=1)[:, ::2],
             "float32": lambda: X.astype(np.float32),
             "list": lambda: X.tolist()}[layout]()
    np.testing.assert_array_equal(compile_calibrated(model).predict_proba(given), expected)


def test_a_value_on_a_threshold_goes_left_as_in_scikit_learn(model):
    # Rows placed exactly on split thresholds part the ways of ``<=`` and ``<``.
    flat = compile_calibrated(model)
    leaf = flat.nodes["flags"] & 1 == 1
    features, thresholds = flat.nodes["feature"][~leaf], flat.nodes["threshold"][~leaf]
    X, _ = _data(n=len(thresholds), seed=6)
    X[np.arange(len(X)), features] = thresholds
    np.testing.assert_allclose(flat.predict_proba(X), model.predict_proba(X)[:, 1],
                               rtol=0, atol=1e-12)


def test_a_rebuilt_booster_without_its_width_takes_rows_that_cover_its_splits(model):
    arrays = compile_calibrated(model).to_arrays()
    del arrays["n_features"]
    again = FlatBooster.from_arrays(**arrays)
    X, _ = _data(n=3, seed=7)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X)[:, 1])
    with pytest.raises(ValueError, match="column"):
        again.predict_proba(X[:, :1])


def test_slope_calibrated_booster_equals_scikit_learn():
    X, y = _data()
    booster = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=7, random_state=0)
    model = SlopeCalibratedClassifier(booster, cv=3).fit(X, y)
    X_test, _ = _data(n=200, seed=1)
    flat = compile_calibrated(model)
    np.testing.assert_allclose(flat.predict_proba(X_test), model.predict_proba(X_test)[:, 1],
                               rtol=0, atol=1e-12)
