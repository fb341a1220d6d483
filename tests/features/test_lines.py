import cv2
import numpy as np
import pytest
from synth import blank, checkerboard, shaded_strands, stripes

from animefeat.features import lines
from animefeat.features._util import component_sizes
from animefeat.preprocess import working_copy


def feats(image):
    return dict(zip(lines.NAMES, lines.line_features(image)))


@pytest.mark.parametrize("width", [1, 3, 5])
def test_thickness_of_known_stroke_width(width):
    thickness = feats(stripes(width=width, size=128))["thickness_median"]
    assert thickness == pytest.approx(width, abs=0.5)


def test_thicker_strokes_measure_thicker():
    assert feats(stripes(width=5))["thickness_median"] > feats(stripes(width=1))["thickness_median"]


def test_black_lines_are_dark():
    f = feats(stripes(width=3))
    assert f["darkness"] == pytest.approx(1.0, abs=0.02)


def test_grey_lines_are_less_dark():
    f = feats(stripes(width=3, colour=(120, 120, 120)))
    assert f["darkness"] == pytest.approx(1 - 120 / 255, abs=0.03)


def test_unbroken_lines_are_continuous():
    f = feats(stripes(width=3))
    assert f["continuity"] == pytest.approx(1.0)


def test_dashed_lines_have_more_endpoints():
    dashed = stripes(width=3)
    for row in range(2, 128, 12):
        dashed[row:row + 4] = 255  # cut every line into 8-px dashes
    # Each 8-px dash skeleton has two ends: about 25 per 100 skeleton pixels.
    assert feats(dashed)["endpoints_per_100px"] > 15
    assert feats(dashed)["continuity"] < 0.2


def test_no_lines_gives_not_measurable():
    f = feats(blank())
    assert f["share"] == 0 and np.isnan(f["thickness_median"])


def test_share_of_line_pixels():
    # Two-tone chequered paper: nothing is trimmed, no single colour is a background,
    # and its 64-px cells are far wider than any stroke.
    img = checkerboard(2, dark=200, light=250)
    n = 0
    for x in range(8, 112, 16):  # clear of the image border
        img[:, x:x + 2] = 0
        n += 1
    assert feats(img)["share"] == pytest.approx(n * 2 / 128, abs=0.01)


def test_stroke_stats_of_a_band():
    # A 5-px band, its centre row as skeleton: 3 px from the nearest outside pixel
    # (less near the band's ends), two ends, one stroke of 30 px.
    mask = np.zeros((20, 40), bool)
    mask[5:10, 5:35] = True
    skeleton = np.zeros_like(mask)
    skeleton[7, 5:35] = True
    distances, endpoints = lines._stroke_stats(mask, skeleton)
    assert distances.dtype == np.float32
    assert distances.tolist() == [min(3, c - 4, 35 - c) for c in range(5, 35)]
    assert endpoints == 2
    assert component_sizes(skeleton.astype(np.intp) - 1, True).tolist() == [30]


def test_stroke_distance_ignores_the_image_border_like_opencv():
    import cv2

    mask = np.ones((9, 9), bool)
    mask[8, 8] = False
    skeleton = np.zeros_like(mask)
    skeleton[0, 0] = skeleton[4, 6] = True
    expected = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    distances, _ = lines._stroke_stats(mask, skeleton)
    assert distances.tolist() == expected[skeleton].tolist()
    assert distances[0] == np.float32(np.sqrt(128))


def test_skeleton_equals_scikit_image_on_random_masks():
    from skimage.morphology import skeletonize

    rng = np.random.default_rng(8)
    for k in range(300):
        h, w = rng.integers(1, 48, 2)
        if k % 2:
            # Blobs: thresholded smooth noise, as line masks are.
            mask = np.cumsum(np.cumsum(rng.random((h, w)) - 0.5, 0), 1) > 0
        else:
            mask = rng.random((h, w)) < rng.uniform(0.05, 0.95)
        np.testing.assert_array_equal(lines.skeletonize(mask), skeletonize(mask))


def test_skeleton_of_a_thick_bar_is_one_pixel_wide():
    mask = np.zeros((24, 48), dtype=bool)
    mask[10:15, 4:44] = True
    skeleton = lines.skeletonize(mask)
    assert not (skeleton & ~mask).any()
    assert skeleton.sum(axis=0).max() == 1  # one pixel per column
    assert skeleton.sum() >= 30  # most of the bar's length survives


@pytest.mark.parametrize("colour", [(0, 0, 0), (40, 120, 200)])
def test_a_frame_is_not_an_outline(colour):
    # Horizontal strokes on a white page inside a 20-px frame: where the strokes reach
    # the page's edge (left and right), the frame goes whole, so the working copy's
    # side columns are the page between the strokes' ends, not a dark band of frame.
    img = stripes(width=6, spacing=32, size=256).transpose(1, 0, 2).copy()
    framed = np.empty((296, 296, 3), np.uint8)
    framed[:] = colour
    framed[20:276, 20:276] = img
    work = working_copy(framed)
    assert work.grey[:, 0].mean() > 0.6 and work.grey[:, -1].mean() > 0.6
    assert feats(framed)["thickness_median"] == pytest.approx(feats(img)["thickness_median"], abs=1)


@pytest.mark.parametrize("width", [1, 3, 5])
def test_outlines_of_flat_fills_bound_flat_paint(width):
    # Cel art: flat fills inside black outlines of any width the mask finds.
    img = blank(256, 256)
    cv2.circle(img, (128, 128), 90, (250, 200, 150), -1)
    cv2.circle(img, (128, 128), 90, (0, 0, 0), width)
    cv2.rectangle(img, (40, 40), (110, 100), (80, 160, 240), -1)
    cv2.rectangle(img, (40, 40), (110, 100), (0, 0, 0), width)
    assert lines.outline_share(working_copy(img, side=256)) > 0.9


def test_strands_on_shaded_paint_are_not_outlines():
    # Thin dark strands (hair, ripples) over paint shaded everywhere: the mask finds
    # them, but no flat paint lies beside them.
    # At the shipped model's working side, where the page and the reasons measure it.
    work = working_copy(shaded_strands(), side=256)
    assert lines.line_mask(work).mean() > 0.05
    assert lines.outline_share(work) < 0.5 * lines.OUTLINE_MIN_SHARE


def test_no_lines_no_outline_share():
    assert np.isnan(lines.outline_share(blank(64, 64)))
