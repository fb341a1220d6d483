import pytest
from synth import checkerboard, gradient, palette_blocks

from animefeat.features import regions


def feats(image):
    return dict(zip(regions.NAMES, regions.region_features(image)))


def test_flat_palette_has_no_residual():
    f = feats(palette_blocks(4))
    assert f["residual_8"] == pytest.approx(0.0, abs=1e-9)


def test_gradient_leaves_a_residual():
    assert feats(gradient())["residual_4"] > 0.02


def test_checkerboard_region_count():
    # A 4 x 4 board is 16 regions of 1024 px each, every one "large" (over 1%).
    f = feats(checkerboard(4))
    assert f["regions_per_kpx"] == pytest.approx(1000 * 16 / 128 ** 2)
    assert f["large_region_share"] == pytest.approx(1.0)
    assert f["largest_region_share"] == pytest.approx(1 / 16)


def test_grey_image_is_not_colourful():
    assert feats(checkerboard(4))["colourfulness"] == pytest.approx(0.0)
