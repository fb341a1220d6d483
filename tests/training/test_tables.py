"""Feature tables: source weights, degraded copies, family columns, trainable columns."""

import cv2
import numpy as np
import pytest
from synth import cartoon
from tabular import _table

from animefeat.features import feature_names
from animefeat.training import MIN_AUGMENT_SIDE, degrade, source_weights, trainable


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


def test_yardsticks_are_the_middle_half_of_each_style_on_originals():
    # Anime rows 0..99 and cartoon rows 100..199 in one column; a degraded copy far out
    # never counts.
    from animefeat.training import yardsticks

    X = np.r_[np.arange(100.0), np.arange(100.0, 200.0), [1e6]][:, None]
    sources = ["s"] * 201
    labels = ["anime"] * 100 + ["cartoon"] * 100 + ["anime"]
    table = _table(X, sources, labels)
    table.origin[200], table.augmented[200] = 0, True
    y = np.r_[np.ones(100), np.zeros(100), [1]].astype(int)
    ranges = yardsticks(table, y, ["f"])
    assert ranges["f"]["anime"] == pytest.approx([24.75, 74.25])
    assert ranges["f"]["cartoon"] == pytest.approx([124.75, 174.25])
