import cv2
import numpy as np
import pytest
from synth import blank, checkerboard, stripes

from animefeat.features import edges
from animefeat.preprocess import working_copy


def feats(image):
    return dict(zip(edges.NAMES, edges.edge_features(image)))


def test_no_edges_in_flat_image():
    f = feats(blank())
    assert f["density"] == 0 and f["gradient_mean"] == 0


@pytest.mark.parametrize("cells", [2, 4, 8])
def test_density_matches_number_of_boundaries(cells):
    # 2 (cells - 1) full-length boundaries, each one or two Canny pixels wide (a
    # centred step can tie in non-maximum suppression); Canny loses a few pixels at
    # each X-shaped crossing, hence the lower bound of 80%.
    density = feats(checkerboard(cells))["density"]
    lines = 2 * (cells - 1)
    assert 0.8 * lines / 128 <= density <= 2 * lines / 128


def test_vertical_stripes_have_horizontal_gradients():
    f = feats(stripes(width=4))
    assert f["orientation_0"] > 0.9


def test_orientation_histogram_sums_to_one():
    f = feats(stripes(width=4).transpose(1, 0, 2).copy())
    total = sum(f[f"orientation_{round(i * 22.5)}"] for i in range(8))
    assert abs(total - 1) < 1e-9 and f["orientation_90"] > 0.9


def test_straight_lines_are_straight_and_circles_are_not():
    # A diamond: four straight (diagonal, so pixel-stepped) edges. An upright square
    # would fill its own bounding box, and the working copy peels such a frame whole.
    diamond = blank()
    cv2.fillPoly(diamond, [np.array([[64, 24], [104, 64], [64, 104], [24, 64]])], (0, 0, 0))
    circle = blank()
    yy, xx = np.mgrid[:128, :128]
    circle[(yy - 64) ** 2 + (xx - 64) ** 2 < 15 ** 2] = 0
    assert feats(diamond)["straight_share"] > 0.85
    assert feats(circle)["straight_share"] < 0.5


def test_accepts_working_copy():
    img = stripes(width=3)
    np.testing.assert_array_equal(edges.edge_features(img), edges.edge_features(working_copy(img)))


@pytest.mark.parametrize("degrees, expected_bin", [(0, 0), (10, 0), (12, 1), (45, 2), (90, 4),
                                                   (170, 0), (-30, 7), (135, 6)])
def test_orientation_bin_of_a_gradient_direction(degrees, expected_bin):
    # Bins are centred on 0, 22.5, ... degrees and directions are taken modulo 180.
    gx = np.full((2, 3), np.cos(np.radians(degrees)))
    gy = np.full((2, 3), np.sin(np.radians(degrees)))
    on_edge = np.zeros((2, 3), bool)
    on_edge[0, :2] = True
    magnitude = np.arange(6.0).reshape(2, 3)
    hist, gradient_sum = edges._orientations(on_edge, ~on_edge, gx, gy, magnitude)
    assert hist[expected_bin] == 2 and hist.sum() == 2
    assert gradient_sum == 2 + 3 + 4 + 5  # over the foreground only


def test_coarse_laplacian_is_the_mean_absolute_laplacian():
    grey = np.random.default_rng(0).integers(0, 256, (96, 128)).astype(np.uint8)
    *_, half, quarter = edges._coarse_stats(grey)
    small = cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    assert half == np.abs(cv2.Laplacian(small, cv2.CV_64F)).mean() / 255.0
    assert quarter > 0


def test_orientation_bin_equals_the_arctangent_rule_at_and_near_bin_edges():
    from numba import njit

    @njit
    def arctangent_rule(gx, gy):
        angle = np.degrees(np.arctan2(gy, gx)) % 180.0
        return int((angle + 11.25) // 22.5) % 8

    rng = np.random.default_rng(0)
    scaled = rng.standard_normal((20000, 2)) * 10.0 ** rng.uniform(-6, 2, (20000, 1))
    cases = [tuple(v) for v in scaled]
    # On each bin edge (both half-planes), a few ulps and 1e-13 to 1e-6 radians off it.
    for edge in np.concatenate([edges._BOUNDARIES, edges._BOUNDARIES + np.pi]):
        for off in (0.0, 1e-16, -1e-16, 1e-13, -1e-13, 1e-8, -1e-8, 1e-6, -1e-6):
            x, y = np.cos(edge + off), np.sin(edge + off)
            cases += [(x, y), (np.nextafter(x, 2.0), y), (x, np.nextafter(y, -2.0))]
    cases += [(x, y) for x in (0.0, -0.0, 1.0, -1.0) for y in (0.0, -0.0, 1.0, -1.0)]
    got = [edges._orientation_bin(gx, gy, edges._BOUNDARY_COS, edges._BOUNDARY_SIN)
           for gx, gy in cases]
    assert got == [arctangent_rule(gx, gy) for gx, gy in cases]


def _straightness_by_the_formula(points, sizes):
    """Straight points, points and lengths: the rule as documented, in floating point."""
    straight = total = 0
    lengths = []
    start = 0
    for size in sizes:
        contour = points[start:start + size].astype(np.float64)
        steps = np.diff(np.vstack([contour[-1:], contour]), axis=0)
        # cv2.arcLength: float32 steps, summed one by one in float64.
        length = 0.0
        for step in np.sqrt((steps ** 2).sum(1).astype(np.float32)):
            length += float(step)
        length /= 2
        if length >= 5:
            lengths.append(length)
            total += size
            if size > 2 * edges.STRAIGHT_SPAN:
                for k in range(size):
                    before = contour[(k - edges.STRAIGHT_SPAN) % size]
                    after = contour[(k + edges.STRAIGHT_SPAN) % size]
                    chord = after - before
                    norm = np.hypot(*chord)
                    offset = contour[k] - before
                    cross = chord[0] * offset[1] - chord[1] * offset[0]
                    distance = abs(cross) / max(norm, 1.0)
                    straight += bool(norm > edges.STRAIGHT_SPAN
                                     and distance <= edges.STRAIGHT_TOLERANCE)
        start += size
    return straight, total, lengths


def test_straight_tolerance_keeps_the_integer_test_small():
    # 16 * deviation**2 <= 9 * chord**2 for 0.75: far from int64's range.
    numerator, denominator = edges._TOLERANCE_RATIO
    assert numerator / denominator == edges.STRAIGHT_TOLERANCE
    assert denominator <= 1024


def test_straightness_follows_the_documented_rule():
    rng = np.random.default_rng(5)
    for _ in range(50):
        sizes = rng.integers(1, 60, 8).astype(np.intp)
        # Random walks of 8-neighbour steps: contours as findContours traces them.
        steps = rng.integers(-1, 2, (int(sizes.sum()), 2))
        points = (64 + np.cumsum(steps, axis=0)).astype(np.int32)
        straight, total, lengths = edges._straightness(points, sizes)
        want = _straightness_by_the_formula(points, sizes)
        assert (straight, total) == want[:2]
        assert list(lengths) == want[2]
