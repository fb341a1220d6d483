import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)
from synth import anime, blank, cartoon, encode

import animefeat as af
from animefeat import FeatureExtractor
from animefeat.preprocess import load_for_features


@pytest.mark.parametrize("check", [check_no_attributes_set_in_init,
                                   check_parameters_default_constructible,
                                   check_get_params_invariance, check_set_params])
def test_sklearn_checks_that_apply(check):
    # The full check suite feeds 2-D numeric tables; our input is a list of images,
    # so only the API-contract checks apply.
    check("FeatureExtractor", FeatureExtractor())


def test_transform_matches_extract_features():
    images = [cartoon(1), anime(2)]
    X = FeatureExtractor().fit_transform(images)
    np.testing.assert_array_equal(X[1], af.extract_features(images[1]))


def test_jpeg_is_decoded_for_the_extractors_own_side():
    # 600 px: decoded at 1/2 (300 px) for a 256-px working copy, not at 1/4 as for 128.
    data = encode(cartoon(size=600), "JPEG", quality=95)
    X = FeatureExtractor(side=256).fit_transform([data, data])
    expected = af.extract_features(load_for_features(data, side=256), side=256)
    np.testing.assert_array_equal(X[0], expected)
    assert not np.array_equal(X[0], af.extract_features(load_for_features(data), side=256))


def test_feature_names_out():
    ext = FeatureExtractor(families=["colour"]).fit()
    assert list(ext.get_feature_names_out()) == af.feature_names(["colour"])
    assert ext.n_features_out_ == len(af.feature_names(["colour"]))


def test_parallel_equals_serial():
    images = [cartoon(i) for i in range(4)]
    serial = FeatureExtractor(families=["edges", "lines"]).fit_transform(images)
    parallel = FeatureExtractor(families=["edges", "lines"], n_jobs=2).fit_transform(images)
    np.testing.assert_array_equal(serial, parallel)


def test_fit_returns_self_and_clone_keeps_params():
    ext = FeatureExtractor(families=["hog"], n_jobs=2)
    assert ext.fit() is ext
    assert clone(ext).get_params() == ext.get_params()


def test_bad_image_raises_by_default():
    with pytest.raises(af.ImageDecodeError):
        FeatureExtractor().fit_transform([b"not an image"])


def test_bad_image_becomes_nan_row_on_request():
    X = FeatureExtractor(on_error="nan").fit_transform([b"not an image", blank()])
    assert np.isnan(X[0]).all() and not np.isnan(X[1]).all()


def test_single_image_array_is_refused():
    with pytest.raises(ValueError, match="single image"):
        FeatureExtractor().fit_transform(cartoon())


def test_transform_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FeatureExtractor().transform([cartoon()])
