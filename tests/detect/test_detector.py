import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

import animefeat as af
from animefeat._trees import FlatBooster, flatten_booster
from animefeat.detect.detector import (
    DEFAULT_DETECTOR,
    FaceDetector,
    hog_descriptor,
    load_detector,
    proposal_features,
    window_features,
)


def test_shipped_detector_loads_offline_and_is_small():
    detector = load_detector()
    assert DEFAULT_DETECTOR.stat().st_size < 5_000_000
    assert detector.booster is not None and 0 < detector.accept < 1
    assert detector.card["data"]["held_out_rule"]


def test_missing_detector_file_is_a_model_error(tmp_path):
    with pytest.raises(af.ModelError, match="not found"):
        load_detector(tmp_path / "nothing.npz")


def test_wrong_weights_are_a_model_error(tmp_path):
    path = tmp_path / "bad.npz"
    FaceDetector(np.zeros(10, np.float32), 0.0, 0.0, None, 0.5, {}).save(path)
    with pytest.raises(af.ModelError, match="weights"):
        load_detector(path)


def test_garbage_file_is_a_model_error(tmp_path):
    path = tmp_path / "garbage.npz"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(af.ModelError, match="unreadable"):
        load_detector(path)


def test_save_and_load_give_the_same_detector(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 5)), rng.integers(0, 2, 200)
    booster = flatten_booster(HistGradientBoostingClassifier(max_iter=5).fit(X, y))
    weights = rng.normal(size=hog_descriptor().getDescriptorSize()).astype(np.float32)
    detector = FaceDetector(weights, 0.25, -0.5, booster, 0.6, {"name": "t"})
    detector.save(tmp_path / "d.npz")
    loaded = load_detector(tmp_path / "d.npz")
    np.testing.assert_array_equal(loaded.weights, weights)
    assert (loaded.bias, loaded.propose, loaded.accept, loaded.card) == (0.25, -0.5, 0.6,
                                                                         {"name": "t"})
    np.testing.assert_array_equal(loaded.booster.predict_proba(X), booster.predict_proba(X))


def test_flat_booster_refuses_arrays_that_are_not_trees():
    with pytest.raises(ValueError):
        FlatBooster.from_arrays(np.zeros(3), np.zeros(1), 0.0, -1.0, 0.0)


def test_window_features_are_hog_of_each_window():
    windows = [np.full((32, 32), v, np.uint8) for v in (0, 255)]
    X = window_features(windows)
    assert X.shape == (2, 324)
    np.testing.assert_array_equal(X[0], hog_descriptor().compute(windows[0]).ravel())


def test_proposal_features_describe_each_box():
    rgb = np.zeros((64, 64, 3), np.uint8)
    rgb[:, 32:] = (255, 0, 0)
    grey = rgb.mean(axis=2).astype(np.uint8)
    X = proposal_features(rgb, grey, np.array([[0, 0, 32, 32], [32, 0, 32, 32]]), [1.0, 2.0])
    assert X.shape == (2, 900 + 48 + 1)
    assert X[:, -1].tolist() == [1.0, 2.0]  # the SVM score comes last
    # Colour grid: V (HSV) of black 0, of pure red 255.
    assert X[0, 900 + 2] == 0 and X[1, 900 + 2] == 255


def test_suppression_keeps_a_lone_box_and_separate_boxes():
    from animefeat.detect.detector import _suppress

    assert _suppress(np.array([[0.0, 0, 10, 10]]), np.array([0.3])).tolist() == [0]
    boxes = np.array([[0.0, 0, 10, 10], [1.0, 1, 10, 10], [50.0, 50, 10, 10]])
    # The overlapping weaker box goes; the lowest-scoring separate box stays.
    assert _suppress(boxes, np.array([0.9, 0.5, 0.1])).tolist() == [0, 2]
