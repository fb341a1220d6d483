import numpy as np
import pytest
from synth import blank, checkerboard

from animefeat.features import texture


def feats(image):
    return dict(zip(texture.NAMES, texture.texture_features(image)))


def test_histogram_sums_to_one():
    f = feats(checkerboard(8))
    assert sum(f[f"lbp_{i}"] for i in range(texture.N_CODES)) == pytest.approx(1.0)


def test_flat_image_is_one_code():
    # Every neighbour equals the centre: all 8 bits set, uniform code P = 8.
    f = feats(blank(colour=(90, 90, 90)))
    assert f["lbp_8"] == 1.0 and f["lbp_entropy"] == 0.0


def test_noise_spreads_the_histogram():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    assert feats(noise)["lbp_entropy"] > 2.5


def test_codes_match_scikit_image_on_noise():
    from skimage.feature import local_binary_pattern

    rng = np.random.default_rng(1)
    grey = rng.integers(0, 256, (64, 80)).astype(np.uint8)
    ours = texture.lbp_codes(grey)
    padded = np.pad(grey, 2, mode="edge")
    theirs = local_binary_pattern(padded, 8, 1, method="uniform")[2:-2, 2:-2]
    assert (ours == theirs).mean() > 0.99


def test_isolated_dark_spot_is_code_zero_and_bright_spot_code_eight():
    grey = np.full((9, 9), 100, np.uint8)
    grey[4, 4] = 10
    grey[2, 2] = 250
    codes = texture.lbp_codes(grey)
    assert codes[4, 4] == 8  # every neighbour brighter than a dark centre
    assert codes[2, 2] == 0  # none as bright as a bright centre
