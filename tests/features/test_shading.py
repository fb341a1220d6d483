import numpy as np
import pytest
from synth import blank, stripes

from animefeat.features import shading


def feats(image):
    return dict(zip(shading.NAMES, shading.shading_features(image)))


def halves(left, right, size=128):
    """Two flat paints side by side, full bleed: one vertical edge, no outline."""
    img = np.empty((size, size, 3), np.uint8)
    img[:, : size // 2] = left
    img[:, size // 2:] = right
    return img


def test_a_darker_step_of_one_paint_is_a_shadow_edge():
    f = feats(halves((200, 60, 60), (120, 36, 36)))  # one red hue, two values
    # Where the step meets the image border, the dark side reads as a short outline.
    assert f["shadow_edge_share"] == pytest.approx(1.0, abs=0.03)
    assert f["paint_edge_share"] == 0.0 and f["outline_edge_share"] < 0.03


def test_two_different_paints_make_a_paint_edge():
    # Red against a darker blue: an edge in grey (Canny sees brightness steps only).
    f = feats(halves((230, 80, 80), (30, 30, 170)))
    assert f["paint_edge_share"] == pytest.approx(1.0, abs=0.03)
    assert f["shadow_edge_share"] == 0.0


def test_paints_of_one_brightness_make_no_edge():
    # The limit of a grey edge map, documented here: red and blue of equal luma.
    f = feats(halves((200, 60, 60), (60, 60, 200)))
    assert np.isnan(f["paint_edge_share"])


def test_black_outlines_are_outline_edges_and_black():
    f = feats(stripes(width=3))
    assert f["outline_edge_share"] == pytest.approx(1.0)
    assert f["outline_black_share"] == pytest.approx(1.0)
    assert f["outline_saturation"] == pytest.approx(0.0, abs=0.01)


def test_brown_outlines_are_coloured_not_black():
    brown = (90, 50, 30)
    f = feats(stripes(width=3, colour=brown))
    assert f["outline_black_share"] == 0.0
    # HSV saturation of the stroke's core: (max - min) / max; its anti-aliased rim, where
    # it meets the white page, is paler, so the mean over the outline is a little lower.
    assert f["outline_saturation"] == pytest.approx((90 - 30) / 90, abs=0.12)
    assert f["outline_value"] == pytest.approx(90 / 255, abs=0.12)


@pytest.mark.parametrize("n", [4, 9])
def test_highlights_are_counted_per_thousand_pixels(n):
    # Full-bleed dark blue shaded 0 to 40 levels across and down: no flat border to
    # trim, no background, so every pixel is foreground.
    ramp = np.linspace(0, 40, 128)
    img = (np.array([30, 40, 120])[None, None, :] + ramp[:, None, None]
           + ramp[None, :, None]).astype(np.uint8)
    side = int(np.sqrt(n))
    for i in range(side):
        for j in range(side):
            y, x = 20 + 30 * i, 20 + 30 * j
            img[y:y + 2, x:x + 2] = 255  # a 2x2 white speck
    assert feats(img)["highlights_per_kpx"] == pytest.approx(1000 * n / 128 ** 2, rel=0.01)


def test_a_blank_image_has_no_edges_to_classify():
    f = feats(blank())
    assert np.isnan(f["shadow_edge_share"]) and np.isnan(f["outline_black_share"])
    assert f["highlights_per_kpx"] == 0.0
