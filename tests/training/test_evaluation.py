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


def test_verdict_level_is_the_lowest_confidence_right_ninety_percent_from_there():
    # 10 answers at 0.95 all right, 10 at 0.8 with 8 right, 10 at 0.7 with 5 right:
    # from 0.95: 100%; from 0.8: 18/20 = 90%; from 0.7: 23/30 = 77%. The level is 0.8.
    from animefeat.training import verdict_level

    proba = np.repeat([0.95, 0.8, 0.7], 10)
    y = np.r_[np.ones(10), np.ones(8), np.zeros(2), np.ones(5), np.zeros(5)].astype(int)
    level = verdict_level(y, proba, accuracy=0.9)
    assert level["sure_from"] == pytest.approx(0.8)
    assert level["accuracy_from_there"] == pytest.approx(0.9)
    assert level["share_of_answers"] == pytest.approx(20 / 30)


def test_no_level_reaches_the_accuracy_so_every_answer_is_hedged():
    from animefeat.training import verdict_level

    proba = np.full(10, 0.9)
    y = np.r_[np.ones(5), np.zeros(5)].astype(int)
    assert verdict_level(y, proba)["sure_from"] == 1.0
