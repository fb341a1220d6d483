import numpy as np
import pytest

from animefeat.stack import StyleStack, fit_stack, local_head, source_folds


def _sets(labels, rng):
    """Descriptor sets in 8 dimensions around one centre: anime (1) a coarse texture
    (patches spread 1.5), cartoon (0) a fine one (0.5). Only the Fisher vector's
    variance gradients tell them apart."""
    return [rng.normal(0, 1.5 if label else 0.5, (rng.integers(20, 40), 8))
            for label in labels]


class _Constant:
    """A structural 'model' that knows nothing: the same log-odds for every image."""

    def decision_function(self, X):
        return np.zeros(len(X))


def _uninformed(train, test):
    return _Constant(), None if test is None else np.zeros(len(test))


def _data(n_sources=6, per=10, seed=0):
    rng = np.random.default_rng(seed)
    sources = np.repeat([f"s{i}" for i in range(n_sources)], per)
    y = np.tile(np.repeat([0, 1], per // 2), n_sources)
    return _sets(y, rng), y, sources, rng


def _small_head():
    return local_head(n_components=2, pca_components=4, max_descriptors=2000)


def test_source_folds_keep_each_source_whole_and_use_k_groups():
    sources = np.array(["a", "a", "b", "c", "c", "d", "e"])
    fold, k = source_folds(sources, np.ones(7, bool), 3, seed=0)
    assert k == 3 and set(fold) == {0, 1, 2}
    for s in np.unique(sources):
        assert len(set(fold[sources == s])) == 1


def test_source_folds_put_rows_outside_the_mask_in_no_group():
    sources = np.array(["a", "b", "c", "d"])
    fold, k = source_folds(sources, np.array([True, True, True, False]), None, seed=0)
    assert k == 3 and fold[3] == -1 and sorted(fold[:3]) == [0, 1, 2]


def test_the_combiner_leans_on_the_view_that_knows():
    # Structure says nothing (log-odds 0 everywhere), the local patterns tell the
    # classes apart: the combiner weighs local patterns, not structure, and the
    # combined head is right on images of a source it never saw.
    sets, y, sources, rng = _data()
    stack, out_of_fold = fit_stack(_uninformed, sets, y, sources, local=_small_head())
    assert out_of_fold.shape == (len(y), 2) and np.isfinite(out_of_fold).all()
    structure_w, local_w = stack.combiner.coef_[0]
    assert local_w > 0.5 and abs(structure_w) < 1e-6
    new_y = np.repeat([0, 1], 10)
    p = stack.predict_proba_anime(np.zeros((20, 1)), _sets(new_y, rng))
    assert ((p >= 0.5) == new_y).all()


def test_out_of_fold_log_odds_never_come_from_a_model_that_saw_the_source():
    sets, y, sources, _ = _data()
    seen = []

    def spy(train, test):
        seen.append((train, test))
        return _Constant(), None if test is None else np.zeros(len(test))

    fit_stack(spy, sets, y, sources, local=_small_head(), inner_folds=3)
    inner = [(tr, te) for tr, te in seen if te is not None]
    assert len(inner) == 3
    for train, test in inner:
        assert not set(sources[train]) & set(sources[test])
    # Every image is scored once out of fold; the last call fits on all of them.
    assert sorted(np.concatenate([te for _, te in inner]).tolist()) == list(range(len(y)))
    assert seen[-1][1] is None and len(seen[-1][0]) == len(y)


def test_one_class_in_an_inner_fold_is_refused():
    sets, _, sources, _ = _data(n_sources=2)
    y = np.repeat([0, 1], 10)  # s0 all cartoon, s1 all anime
    with pytest.raises(ValueError, match="one class"):
        fit_stack(_uninformed, sets, y, sources, local=_small_head(), inner_folds=2)


def test_the_combined_probability_is_the_combiners_on_both_log_odds():
    sets, y, sources, _ = _data()
    stack, _ = fit_stack(_uninformed, sets, y, sources, local=_small_head())
    z = stack.log_odds(np.zeros((3, 1)), sets[:3])
    expected = stack.combiner.predict_proba(z)[:, 1]
    np.testing.assert_allclose(stack.predict_proba_anime(np.zeros((3, 1)), sets[:3]), expected)
    assert isinstance(stack, StyleStack)


def test_degraded_copies_train_the_local_head_beside_their_images_and_are_never_scored():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from animefeat.encode import FisherVectorEncoder

    fitted_rows = []

    class Counting(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            fitted_rows.append(len(y))
            return super().fit(X, y, sample_weight=sample_weight)

    sets, y, sources, rng = _data()
    copies = [s + rng.normal(0, 0.05, s.shape) for s in sets]
    head = Pipeline([("encode", FisherVectorEncoder(2, pca_components=4, max_descriptors=2000)),
                     ("classify", Counting())])
    _, out_of_fold = fit_stack(_uninformed, sets, y, sources, local=head, inner_folds=3,
                               copies=copies)
    fold, _ = source_folds(sources, np.ones(len(y), bool), 3, seed=0)
    # Each inner fit: the training images and their copies; the last: all of both.
    assert fitted_rows == [2 * (fold != g).sum() for g in range(3)] + [2 * len(y)]
    assert out_of_fold.shape == (len(y), 2)
