import numpy as np
from synth import blank, checkerboard, stripes

from animefeat.features import hog


def feats(image):
    return dict(zip(hog.NAMES, hog.hog_features(image)))


def test_descriptor_shape():
    assert hog.hog_descriptor(checkerboard(4)).shape == (49, 4, 9)


def test_flat_image_has_no_gradients():
    assert np.all(hog.hog_features(blank()) == 0)


def test_vertical_lines_peak_at_horizontal_gradients():
    f = feats(stripes(width=4, spacing=16))
    means = [f[f"mean_{d}"] for d in range(0, 180, 20)]
    assert int(np.argmax(means)) == 0  # gradient direction 0 degrees: across the lines


def test_horizontal_lines_peak_at_vertical_gradients():
    f = feats(stripes(width=4, spacing=16).transpose(1, 0, 2).copy())
    means = [f[f"mean_{d}"] for d in range(0, 180, 20)]
    assert int(np.argmax(means)) in (4, 5)  # bins starting at 80 and 100 degrees
