import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from animefeat.encode import FisherVectorEncoder


def _texture_sets(kind, n_images, rng):
    """Descriptor sets of two known kinds in 8 dimensions: "a" patches cluster near
    +1 on the first four dimensions, "b" patches near +1 on the last four."""
    centre = np.r_[np.ones(4), np.zeros(4)] if kind == "a" else np.r_[np.zeros(4), np.ones(4)]
    return [centre + rng.normal(0, 0.3, (rng.integers(20, 60), 8)) for _ in range(n_images)]


@pytest.mark.parametrize("check", [check_no_attributes_set_in_init,
                                   check_parameters_default_constructible,
                                   check_get_params_invariance, check_set_params])
def test_sklearn_checks_that_apply(check):
    # The input is a list of descriptor sets, one per image: only the API checks apply.
    check("FisherVectorEncoder", FisherVectorEncoder())


def _spread_sets(spread, n_images, rng):
    """Patches around one centre: a fine texture (small spread) or a coarse one."""
    return [rng.normal(0, spread, (rng.integers(20, 60), 8)) for _ in range(n_images)]


def test_two_textures_are_separated_on_images_never_fitted():
    # Both textures sit around the same centre, so nothing but how their patches spread
    # tells them apart: the variance gradients (below 0 for the fine, above for the
    # coarse texture, against a codebook fitted on both).
    rng = np.random.default_rng(0)
    train = _spread_sets(0.5, 20, rng) + _spread_sets(1.5, 20, rng)
    test = _spread_sets(0.5, 10, rng) + _spread_sets(1.5, 10, rng)
    y_train, y_test = np.repeat([0, 1], 20), np.repeat([0, 1], 10)
    encoder = FisherVectorEncoder(1, pca_components=None).fit(train)
    classifier = LogisticRegression().fit(encoder.transform(train), y_train)
    assert classifier.score(encoder.transform(test), y_test) == 1.0


def test_patch_terms_add_up_to_the_linear_score_before_normalisation():
    rng = np.random.default_rng(1)
    sets = _texture_sets("a", 5, rng) + _texture_sets("b", 5, rng)
    encoder = FisherVectorEncoder(3, pca_components=4).fit(sets)
    w = rng.normal(size=encoder.n_features_out_)
    terms = encoder.patch_terms(sets[0])
    assert terms.shape == (len(sets[0]), encoder.n_features_out_)
    np.testing.assert_allclose((terms @ w).mean(), encoder.raw(sets[0]) @ w, rtol=1e-12)


def test_fisher_vectors_are_unit_length_and_zero_without_patches():
    rng = np.random.default_rng(2)
    sets = _texture_sets("a", 6, rng)
    encoder = FisherVectorEncoder(2, pca_components=None).fit(sets)
    out = encoder.transform([*sets[:2], np.zeros((0, 8))])
    np.testing.assert_allclose(np.linalg.norm(out[:2], axis=1), 1.0)
    assert not out[2].any()
    assert out.shape == (3, 2 * 2 * 8) and len(encoder.get_feature_names_out()) == 32


def test_mean_gradient_of_a_patch_at_a_gaussians_mean_is_zero():
    rng = np.random.default_rng(3)
    sets = _texture_sets("a", 6, rng)
    encoder = FisherVectorEncoder(1, pca_components=None).fit(sets)
    terms = encoder.patch_terms(encoder.gmm_.means_)  # one patch exactly at the mean
    mean_part = terms[0, :8]
    np.testing.assert_allclose(mean_part, 0.0, atol=1e-12)
    # and its variance gradient is -1 / sqrt(2) on every dimension (z = 0, weight 1).
    np.testing.assert_allclose(terms[0, 8:], -1 / np.sqrt(2), rtol=1e-9)


def test_sample_weight_decides_whose_descriptors_are_drawn():
    rng = np.random.default_rng(4)
    sets = _texture_sets("a", 10, rng) + _texture_sets("b", 10, rng)
    # All weight on the "a" images: one Gaussian learns "a" patches only.
    encoder = FisherVectorEncoder(1, pca_components=None, max_descriptors=200).fit(
        sets, sample_weight=np.repeat([1.0, 0.0], 10))
    np.testing.assert_allclose(encoder.gmm_.means_[0], np.r_[np.ones(4), np.zeros(4)],
                               atol=0.1)


def test_a_clone_refits_to_the_same_codebook():
    rng = np.random.default_rng(5)
    sets = _texture_sets("a", 8, rng) + _texture_sets("b", 8, rng)
    a = FisherVectorEncoder(2, pca_components=4, random_state=3).fit(sets)
    b = clone(a).fit(sets)
    np.testing.assert_array_equal(a.transform(sets), b.transform(sets))


@pytest.mark.parametrize("bad", [np.zeros((3, 8)), [np.zeros(8)], [np.zeros((2, 8)),
                                                                   np.zeros((2, 7))]])
def test_input_that_is_not_descriptor_sets_is_refused(bad):
    with pytest.raises(ValueError):
        FisherVectorEncoder(1).fit(bad)


def test_descriptors_of_another_length_are_refused_at_transform():
    rng = np.random.default_rng(6)
    encoder = FisherVectorEncoder(1, pca_components=None).fit(_texture_sets("a", 4, rng))
    with pytest.raises(ValueError, match="features"):
        encoder.transform([np.zeros((3, 5))])


def test_posteriors_and_reduction_match_the_fitted_pca_and_mixture():
    # The encoder's own matrix products give what PCA.transform and
    # GaussianMixture.predict_proba give.
    rng = np.random.default_rng(5)
    sets = _texture_sets("a", 6, rng) + _texture_sets("b", 6, rng)
    encoder = FisherVectorEncoder(4, pca_components=5).fit(sets)
    x = encoder._reduce(sets[0])
    np.testing.assert_allclose(x, encoder.pca_.transform(sets[0]), atol=1e-12)
    np.testing.assert_allclose(encoder._posteriors(x), encoder.gmm_.predict_proba(x),
                               atol=1e-10)


def test_uint8_descriptors_encode_as_their_float_values():
    rng = np.random.default_rng(6)
    sets = [rng.integers(0, 256, (30, 8)).astype(np.uint8) for _ in range(8)]
    encoder = FisherVectorEncoder(2, pca_components=4).fit(sets)
    np.testing.assert_array_equal(encoder.transform(sets),
                                  encoder.transform([s.astype(np.float64) for s in sets]))
