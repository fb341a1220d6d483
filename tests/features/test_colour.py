import numpy as np
import pytest
from synth import blank, gradient, palette_blocks

from animefeat.features import colour


def feats(image):
    return dict(zip(colour.NAMES, colour.colour_features(image)))


@pytest.mark.parametrize("n", [1, 3, 6])
def test_palette_size_of_flat_bands(n):
    f = feats(palette_blocks(n, size=128))
    assert f["colours_99"] == n
    assert f["palette_entropy"] == pytest.approx(np.log2(n), abs=0.05)


def test_flat_image_is_flat():
    f = feats(blank(colour=(200, 60, 60)))
    assert f["flat_share"] == 1 and f["shading_share"] == 0


def test_gradient_is_shading_and_needs_many_colours():
    f = feats(gradient())
    assert f["shading_share"] > 0.9
    assert f["colours_90"] > 50


def test_grey_image_has_no_saturation_or_hue():
    f = feats(blank(colour=(128, 128, 128)))
    assert f["saturation_mean"] == 0 and f["hue_entropy"] == 0
    assert f["value_mean"] == pytest.approx(128 / 255, abs=0.01)


def test_skin_tone_is_found():
    f = feats(blank(colour=(230, 180, 150)))
    assert f["skin_share"] == 1


def test_pure_red_lands_in_first_hue_bin():
    f = feats(blank(colour=(255, 0, 0)))
    assert f["hue_0"] == 1 and f["hue_30"] == 0


def test_palette_counts_sorted_and_complete():
    counts = colour.palette_counts(palette_blocks(3))
    assert len(counts) == 3 and counts.sum() == 128 * 128
    assert list(counts) == sorted(counts, reverse=True)


def test_palette_counts_of_runs_equal_a_plain_count():
    # Runs of one colour, colours coming back after others, and single pixels.
    rng = np.random.default_rng(3)
    colours = rng.integers(0, 256, (6, 3), dtype=np.uint8)
    pixels = colours[np.repeat(rng.integers(0, 6, 400), rng.integers(1, 30, 400))]
    keys = [tuple(int(v) >> (8 - colour.BITS) for v in p) for p in pixels]
    _, want = np.unique(keys, axis=0, return_counts=True)
    got = colour._palette_counts(pixels, colour.BITS)
    assert list(got) == sorted(want, reverse=True)
