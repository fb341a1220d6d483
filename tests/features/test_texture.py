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
