"""Evaluation: calibration folds by source, leave-one-source-out, metrics."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import LeaveOneGroupOut
from tabular import _shortcut_data, _table

from animefeat.model import calibrated_booster
from animefeat.training import leave_one_source_out, metrics


def test_calibration_by_source_takes_its_folds_from_the_groups_at_fit():
    cal = calibrated_booster(by_source=True)
    assert isinstance(cal.cv, LeaveOneGroupOut)
    assert calibrated_booster().cv == 5
    # No fold data in the estimator: a clone fitted on other rows is still valid.
    X, sources, labels = _shortcut_data()
    y = (labels == "anime").astype(int)
    fitted = clone(cal).fit(X, y, groups=sources)
    assert 0 < fitted.slope_ < 10
    with pytest.raises(ValueError, match="groups"):
        clone(cal).fit(X, y)


def test_leave_one_source_out_scores_each_source_with_a_model_that_never_saw_it():
    X, sources, labels = _shortcut_data()
    y = (labels == "anime").astype(int)
    # Only the shortcut column: learnt from s1-s3, it is wrong on every image of s4
    # when s4 is held out, as only a model that never saw s4 can be.
    table = _table(X[:, [1]], sources, labels)
    proba = leave_one_source_out(table, y, seed=0)
    assert np.isfinite(proba).all()
    assert ((proba[sources == "s4"] >= 0.5) == y[sources == "s4"]).mean() == 0.0


def test_metrics_count_confident_mistakes_and_recall_per_class():
    y = np.array([1, 1, 0, 0, 1])
    proba = np.array([0.95, 0.6, 0.05, 0.92, 0.3])  # two mistakes: 0.92 (sure), 0.3 (not)
    report = metrics(y, proba, np.array(["a"] * 5))
    block = report["per_source"]["a"]
    assert block["accuracy"] == pytest.approx(3 / 5)
    assert block["confident_mistakes"] == pytest.approx(1 / 5)
    assert block["recall_1"] == pytest.approx(2 / 3)
    assert block["recall_0"] == pytest.approx(1 / 2)
    assert report["worst_source_accuracy"] == pytest.approx(3 / 5)


def test_confidence_ece_is_zero_when_unsure_answers_are_right_as_often_as_they_say():
    # One-class source, every answer 60% sure (six say anime, four cartoon), so right
    # 3 times in 5: honest hedging, confidence ECE 0, that the class-1 ECE scores 0.48.
    y = np.ones(10, int)
    proba = np.array([0.6] * 6 + [0.4] * 4)
    block = metrics(y, proba, np.array(["a"] * 10))["per_source"]["a"]
    assert block["accuracy"] == pytest.approx(0.6)
    assert block["ece_confidence"] == pytest.approx(0.0)
    assert block["ece"] == pytest.approx(0.6 * 0.4 + 0.4 * 0.6)
