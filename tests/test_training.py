"""Training: source weights, augmentation, source-held-out evaluation and calibration."""

from typing import ClassVar

import cv2
import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import LeaveOneGroupOut
from synth import cartoon

from animefeat.data import Dataset, check_labels, read_dataset
from animefeat.exceptions import AnimefeatError
from animefeat.features import feature_names
from animefeat.model import calibrated_booster
from animefeat.training import (
    MIN_AUGMENT_SIDE,
    FeatureTable,
    candidate_recipes,
    degrade,
    drawing_held_out,
    held_out_drawing_check,
    leave_one_source_out,
    metrics,
    nested_leave_one_source_out,
    select_recipe,
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


def _table(X, sources, labels):
    n = len(X)
    ds = Dataset(root=".", paths=[f"{i}.png" for i in range(n)], labels=list(labels),
                 sources=list(sources), manifest_sha256="x")
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


def _clean_style_data(seed=0):
    """Four balanced sources whose one column tells the styles apart without error."""
    rng = np.random.default_rng(seed)
    sources = np.repeat(["s1", "s2", "s3", "s4"], 40)
    labels = np.tile(np.repeat(["anime", "cartoon"], 20), 4)
    X = np.where(labels == "anime", 1.0, -1.0)[:, None] + rng.normal(0, 0.1, (160, 1))
    return X, sources, labels


def test_select_recipe_picks_the_candidate_right_on_sources_held_out():
    X, sources, labels = _clean_style_data()
    y = (labels == "anime").astype(int)
    # A booster whose leaves need more rows than there are cannot split: it answers
    # 0.5 everywhere, which is right on half of every balanced source. The other learns
    # the clean column and is right everywhere.
    candidates = candidate_recipes(families=[None], augment=[True],
                                   grid={"min_samples_leaf": [10_000, 5], "max_iter": [20]})
    best, results = select_recipe(_table(X, sources, labels), y, candidates=candidates,
                                  of=None, progress=False)
    scores = {r["params"]["min_samples_leaf"]: r["score"] for r in results}
    assert scores == {10_000: 0.5, 5: 1.0}
    assert best["params"]["min_samples_leaf"] == 5


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


def test_drawing_held_out_never_scores_an_image_with_its_source_or_itself_in_training():
    sources = np.repeat(["s1", "s2", "s3", "photos-a", "photos-b"], 12)
    labels = np.where(np.char.startswith(sources, "photos"), "photo", "anime")
    y_drawing = (labels != "photo").astype(int)
    table = _table(np.arange(60, dtype=float)[:, None], sources, labels)
    Spy.log = []
    drawing_held_out(table, y_drawing, groups=np.arange(60), make=lambda _: Spy())
    assert Spy.log and {i for _, scored in Spy.log for i in scored} == set(range(60))
    for trained, scored in Spy.log:
        assert not trained & scored
        scored_drawing_sources = {sources[i] for i in scored if y_drawing[i]}
        assert not scored_drawing_sources & {sources[i] for i in trained}


def test_held_out_thresholds_are_chosen_without_the_source_they_grade():
    # Three drawing sources of 100. s3's scores sit below the others': a threshold
    # chosen on all three (2% of s3 below it) would flag 2% of s3 by construction; chosen
    # without s3, at the 2% point of s1 and s2 (0.5101), it flags every s3 drawing under
    # it: 0.3 + k * 0.44 / 99 < 0.5101 for k = 0..47, 48 of 100.
    s12 = np.linspace(0.5, 1.0, 100)
    s3 = np.linspace(0.3, 0.74, 100)
    proba = np.r_[s12, s12, s3, [0.1, 0.2]]
    sources = np.repeat(["s1", "s2", "s3", "photos"], [100, 100, 100, 2])
    y_drawing = (sources != "photos").astype(int)
    report = held_out_drawing_check(y_drawing, proba, sources)
    assert report["threshold_per_source"]["s3"] == pytest.approx(s12[2])
    assert report["drawings_flagged_per_source"]["s3"] == pytest.approx(0.48)
    # s1 is graded at the threshold of s2 and s3, which s3's low scores set.
    assert report["threshold_per_source"]["s1"] == pytest.approx(s3[2])
    assert report["photos_flagged"] == 1.0


def test_nested_selection_never_lets_the_scored_source_shape_a_choice():
    # "edges" holds a shortcut, right in s1-s3 and inverted in s4; "lines" the style,
    # right on 80% of every source. Chosen without s4, the shortcut wins (perfect on
    # s1-s3) and s4 is scored by it: 0% right. A selection that saw s4 would have chosen
    # the style (the shortcut's worst source is 0%) and flattered s4 with 80%.
    X, sources, labels = _shortcut_data(seed=4)
    y = (labels == "anime").astype(int)
    style = np.where(y == 1, 1.0, -1.0) * np.where(np.arange(len(y)) % 5 == 0, -1, 1)
    n_edges, n_lines = len(feature_names(["edges"])), len(feature_names(["lines"]))
    wide = np.c_[np.repeat(X[:, [1]], n_edges, axis=1), np.repeat(style[:, None], n_lines,
                                                                   axis=1)]
    table = _table(wide, sources, labels)
    candidates = candidate_recipes(families=[["lines"], ["edges"]], grid={"max_iter": [20]},
                                   augment=[True])
    proba, choices = nested_leave_one_source_out(table, y, candidates=candidates,
                                                 of=["edges", "lines"], inner_folds=None,
                                                 progress=False)
    assert choices["s4"]["families"] == ["edges"] and choices["s4"]["inner_score"] == 1.0
    assert ((proba[sources == "s4"] >= 0.5) == y[sources == "s4"]).mean() == 0.0
    assert all(choices[s]["families"] == ["lines"] for s in ("s1", "s2", "s3"))


def test_nested_selection_picks_by_inner_sources_and_reports_the_choice():
    X, sources, labels = _clean_style_data(seed=2)
    noise = np.random.default_rng(5).normal(size=(len(X), 1))
    y = (labels == "anime").astype(int)
    names = feature_names(["lines", "edges"])
    # "lines" columns hold the clean style, "edges" columns pure noise.
    n_lines = len(feature_names(["lines"]))
    wide = np.c_[np.repeat(noise, len(names) - n_lines, axis=1), np.repeat(X, n_lines, axis=1)]
    table = _table(wide, sources, labels)
    candidates = candidate_recipes(families=[["edges"], ["lines"]], grid={"max_iter": [20]},
                                   augment=[True])
    proba, choices = nested_leave_one_source_out(table, y, candidates=candidates,
                                                 of=["edges", "lines"], inner_folds=3,
                                                 progress=False)
    assert set(choices) == {"s1", "s2", "s3", "s4"}
    assert all(c["families"] == ["lines"] and c["inner_score"] == 1.0
               for c in choices.values())
    assert ((proba >= 0.5) == y).all()


def test_unknown_labels_are_refused_by_name():
    with pytest.raises(AnimefeatError, match="manga"):
        check_labels(["anime", "cartoon", "photo", "manga"])
    check_labels(["anime", "cartoon", "photo"])


def test_a_folder_of_unknown_label_is_refused_or_dropped_as_asked(tmp_path):
    from synth import cartoon, encode

    for label in ("anime", "manga"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "a.png").write_bytes(encode(cartoon(seed=1)))
    with pytest.raises(AnimefeatError, match=r"unknown labels \['manga'\]"):
        read_dataset(tmp_path)
    assert read_dataset(tmp_path, unknown_labels="drop").labels == ["anime"]


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
