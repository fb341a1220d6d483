import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import PredefinedSplit
from sklearn.utils.estimator_checks import parametrize_with_checks

from animefeat.calibration import SlopeCalibratedClassifier


def _scores_data(n=4000, slope=0.5, seed=0):
    """One feature ``x`` and labels drawn with ``P(class 1) = expit(slope * x)``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=3.0, size=n)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-slope * x))).astype(int)
    return x[:, None], y


def _expected_failures(estimator):
    # Repeating a row instead of doubling its weight changes which rows share a
    # cross-validation fold, hence the out-of-fold scores the slope is fitted on (as for
    # scikit-learn's CalibratedClassifierCV). A logistic regression barely notices.
    if estimator.estimator is not None:
        return {}
    return {"check_sample_weight_equivalence_on_dense_data":
            "folds change when rows are repeated instead of weighted"}


@parametrize_with_checks([SlopeCalibratedClassifier(LogisticRegression(), cv=3),
                          SlopeCalibratedClassifier(cv=3)],
                         expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_decisions_are_the_estimators():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] - X[:, 1] + rng.normal(scale=0.8, size=300) > 0).astype(int)
    model = SlopeCalibratedClassifier(HistGradientBoostingClassifier(max_iter=30), cv=3)
    model.fit(X, y)
    X_test = rng.normal(size=(200, 4))
    np.testing.assert_array_equal(model.predict(X_test), model.estimator_.predict(X_test))
    # The probability crosses 0.5 exactly where the estimator's does.
    raw = model.estimator_.predict_proba(X_test)[:, 1]
    np.testing.assert_array_equal(model.predict_proba(X_test)[:, 1] > 0.5, raw > 0.5)


def test_slope_recovers_known_overconfidence():
    # The estimator's log-odds are the raw feature (a logistic regression with a huge
    # weight would do; here, an identity score), while the truth is expit(0.5 * x).
    X, y = _scores_data(slope=0.5)

    class Identity(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            super().fit(X, y, sample_weight=sample_weight)
            self.coef_[:] = 1.0
            self.intercept_[:] = 0.0
            return self

    model = SlopeCalibratedClassifier(Identity(), cv=5).fit(X, y)
    assert model.slope_ == pytest.approx(0.5, abs=0.05)


def test_held_out_sources_fit_the_slope():
    # Two sources where the feature means the opposite: on held-out sources the
    # scores are worthless and the slope falls to near zero (answers hedge to 50%).
    rng = np.random.default_rng(2)
    x = rng.normal(size=(600, 1))
    y = (x[:, 0] > 0).astype(int)
    source = np.repeat([0, 1, 2], 200)
    y[source == 1] = 1 - y[source == 1]
    model = SlopeCalibratedClassifier(LogisticRegression(), cv=PredefinedSplit(source))
    model.fit(x, y)
    assert model.slope_ < 0.2


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="Two classes"):
        SlopeCalibratedClassifier(LogisticRegression()).fit(np.zeros((10, 1)), np.zeros(10))


def test_a_column_missing_from_a_training_fold_is_tolerated():
    # Feature 1 is measured only in source 2: when source 2 is held out, the fold's
    # training rows have it all NaN, which gradient boosting's binning cannot take.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 2))
    source = np.repeat([0, 1, 2], 100)
    X[source != 2, 1] = np.nan
    y = (X[:, 0] > 0).astype(int)
    model = SlopeCalibratedClassifier(HistGradientBoostingClassifier(max_iter=20),
                                      cv=PredefinedSplit(source)).fit(X, y)
    assert model.slope_ > 0.5
