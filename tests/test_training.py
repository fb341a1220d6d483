"""Training: source weights, augmentation, source-held-out evaluation and calibration."""

import cv2
import numpy as np
import pytest
from sklearn.model_selection import PredefinedSplit
from synth import cartoon

from animefeat.data import Dataset
from animefeat.features import feature_names
from animefeat.model import calibrated_booster
from animefeat.training import (
    AUGMENT_QUALITY,
    MIN_AUGMENT_SIDE,
    FeatureTable,
    degrade,
    drawing_held_out,
    leave_one_source_out,
    metrics,
    search_params,
    source_weights,
    trainable,
)


def test_source_weights_give_every_cell_the_same_total():
    sources = np.array(["a"] * 6 + ["b"] * 2 + ["b"] * 2)
    labels = np.array(["anime"] * 6 + ["anime"] * 2 + ["cartoon"] * 2)
    w = source_weights(sources, labels)
    totals = [w[(sources == s) & (labels == lab)].sum()
              for s, lab in (("a", "anime"), ("b", "anime"), ("b", "cartoon"))]
    assert totals == pytest.approx([10 / 3] * 3)
    assert w.mean() == pytest.approx(1.0)


def test_degrade_rescales_within_bounds_and_never_upscales():
    image = cartoon(seed=1, size=400)
    sides = []
    for seed in range(30):
        out = degrade(image, np.random.default_rng(seed))
        assert out.dtype == np.uint8 and out.ndim == 3
        sides.append(max(out.shape[:2]))
    # 48 to 400 px, plus a border of at most 15% on each side.
    assert min(sides) >= MIN_AUGMENT_SIDE and max(sides) <= round(400 * 1.3) + 2
    assert min(sides) < 100
    assert len(set(sides)) > 10


def test_degrade_keeps_a_small_image_at_least_min_side():
    image = cv2.resize(cartoon(seed=2), (60, 60), interpolation=cv2.INTER_AREA)
    for seed in range(20):
        assert max(degrade(image, np.random.default_rng(seed)).shape[:2]) >= MIN_AUGMENT_SIDE


def test_degrade_keeps_the_short_side_of_a_strip_loadable():
    strip = cv2.resize(cartoon(seed=4), (400, 30), interpolation=cv2.INTER_AREA)
    for seed in range(30):
        assert min(degrade(strip, np.random.default_rng(seed)).shape[:2]) >= 16


def test_degrade_is_reproducible_from_the_seed():
    image = cartoon(seed=3)
    a = degrade(image, np.random.default_rng(7))
    b = degrade(image, np.random.default_rng(7))
    assert np.array_equal(a, b)
    assert AUGMENT_QUALITY[0] >= 1


def test_calibration_holds_sources_out_with_three_or_more():
    cal = calibrated_booster(sources=["a", "a", "b", "c", "c"])
    assert isinstance(cal.cv, PredefinedSplit)
    assert cal.cv.get_n_splits() == 3
    assert calibrated_booster(sources=["a", "b"]).cv == 5
    assert calibrated_booster().cv == 5


def _table(X, sources, labels):
    n = len(X)
    ds = Dataset(root=".", paths=[f"{i}.png" for i in range(n)], labels=list(labels),
                 sources=list(sources), groups=list(sources), manifest_sha256="x")
    return FeatureTable(np.asarray(X, float), np.arange(n), np.zeros(n, bool), ds)


def test_select_families_keeps_the_columns_of_those_families_in_registry_order():
    computed = ["lines", "colour", "face"]  # asked out of order: stored in registry order
    names = feature_names(computed)
    # Each column holds its own index, so the kept columns name themselves.
    table = _table([np.arange(len(names))] * 2, ["a", "b"], ["anime", "cartoon"])
    kept = table.select_families(["face", "lines"], of=computed)
    expected = [names.index(n) for n in feature_names(["lines", "face"])]
    assert kept.X[0].tolist() == expected
    assert feature_names(["face", "lines"])[0].startswith("lines.")
    assert np.array_equal(kept.origin, table.origin)


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


def test_leave_one_source_out_scores_each_source_with_a_model_that_never_saw_it():
    X, sources, labels = _shortcut_data()
    y = (labels == "anime").astype(int)
    # Only the shortcut column: learnt from s1-s3, it is wrong on every image of s4
    # when s4 is held out, as only a model that never saw s4 can be.
    table = _table(X[:, [1]], sources, labels)
    proba = leave_one_source_out(table, y, seed=0)
    assert np.isfinite(proba).all()
    assert ((proba[sources == "s4"] >= 0.5) == y[sources == "s4"]).mean() == 0.0


def test_search_params_scores_candidates_on_sources_held_out():
    X, sources, labels = _shortcut_data(seed=1)
    y = (labels == "anime").astype(int)
    grid = {"max_iter": [20, 40]}
    best, results = search_params(_table(X, sources, labels), y, mask=np.ones(len(y), bool),
                                  grid=grid, progress=False)
    assert len(results) == 2 and best["max_iter"] in (20, 40)
    for r in results:
        assert 0 <= r["worst_source_accuracy"] <= r["mean_source_accuracy"] <= 1
        assert r["score"] == pytest.approx(
            (r["mean_source_accuracy"] + r["worst_source_accuracy"]) / 2)


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


def test_trainable_blanks_columns_measured_in_one_source_only():
    nan = np.nan
    X = np.array([[1.0, nan, 5.0], [2.0, nan, nan], [3.0, 7.0, 6.0], [4.0, 8.0, nan]])
    sources = ["a", "a", "b", "b"]
    out = trainable(X, sources)
    # Column 1 is measured in source b only: held out, b would leave it all NaN.
    assert np.array_equal(out[:, 1], np.zeros(4))
    assert np.array_equal(out[:, 0], X[:, 0])
    assert np.array_equal(out[:, 2], X[:, 2], equal_nan=True)
    # Without sources, or with one source (nothing is held out), only an all-NaN column
    # is blanked.
    assert np.array_equal(trainable(X), X, equal_nan=True)
    assert np.array_equal(trainable(X, ["a"] * 4), X, equal_nan=True)


def test_drawing_held_out_scores_every_image_without_its_source():
    rng = np.random.default_rng(3)
    sources = np.repeat(["s1", "s2", "s3", "photos"], 30)
    labels = np.where(sources == "photos", "photo", "anime")
    y_drawing = (labels != "photo").astype(int)
    # Column 0 tells photos from drawings; column 1 is a shortcut for s3 alone, so
    # s3's drawings are right only if s3 was never seen (its shortcut value unseen).
    X = np.column_stack([np.where(y_drawing == 1, 1.0, -1.0) + rng.normal(0, 0.2, 120),
                         np.where(sources == "s3", 5.0, 0.0)])
    proba, protocol = drawing_held_out(_table(X, sources, labels), y_drawing,
                                       groups=np.arange(120), seed=0)
    assert np.isfinite(proba).all()
    assert "left out" in protocol
    assert ((proba >= 0.5) == y_drawing).mean() > 0.95
