import itertools

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


def test_median_cut_separates_flat_paints_exactly():
    import numpy as np

    paints = np.array([[200, 30, 30], [30, 200, 30], [30, 30, 200], [240, 240, 240]], np.uint8)
    pixels = np.repeat(paints, [400, 300, 200, 100], axis=0)
    levels = regions.median_cut(pixels, 8)
    # Four distinct colours: four boxes, then nothing left to split.
    assert len(levels) == 4
    finest = levels[-1]
    assert all(len(np.unique(finest[(pixels == p).all(axis=1)])) == 1 for p in paints)
    assert len(np.unique(finest)) == 4


def test_median_cut_levels_refine_each_other():
    import numpy as np

    pixels = np.random.default_rng(0).integers(0, 256, (2000, 3)).astype(np.uint8)
    levels = regions.median_cut(pixels, 8)
    assert [len(np.unique(lv)) for lv in levels] == list(range(1, 9))
    for coarse, fine in itertools.pairwise(levels):
        # Every fine box lies inside one coarse box.
        pairs = np.unique(np.stack([fine, coarse]), axis=1)
        assert len(np.unique(pairs[0])) == pairs.shape[1]


def test_level_labels_fold_split_boxes_back():
    import numpy as np

    # Box 1 split off box 0, box 2 off box 1, box 3 off box 0.
    labels, parents = np.array([0, 1, 2, 3, 2]), np.array([0, 0, 1, 0])
    assert regions._level_labels(labels, parents, 1).tolist() == [0, 0, 0, 0, 0]
    assert regions._level_labels(labels, parents, 2).tolist() == [0, 1, 1, 0, 1]
    assert regions._level_labels(labels, parents, 3).tolist() == [0, 1, 2, 0, 2]
    assert regions._level_labels(labels, parents, 4) is labels


def test_colourfulness_equals_the_two_pass_formula():
    import numpy as np

    pixels = np.random.default_rng(2).integers(0, 256, (5000, 3)).astype(np.uint8)
    r, g, b = pixels.astype(np.float64).T
    rg, yb = r - g, 0.5 * (r + g) - b
    expected = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())
    assert regions._colourfulness(pixels) == pytest.approx(expected, rel=1e-12)
