import numpy as np
import pytest
from synth import cartoon

import animefeat as af
from animefeat.features import FAMILIES


def test_names_are_prefixed_and_unique():
    names = af.feature_names()
    assert len(names) == len(set(names))
    assert all(n.split(".", 1)[0] in FAMILIES for n in names)


def test_vector_length_matches_names():
    x = af.extract_features(cartoon())
    assert x.dtype == np.float64 and x.shape == (len(af.feature_names()),)


def test_family_subset_is_a_slice_of_the_full_vector():
    img = cartoon()
    full = dict(zip(af.feature_names(), af.extract_features(img)))
    part = af.extract_features(img, families=["lines", "edges"])
    names = af.feature_names(["lines", "edges"])
    assert names[0].startswith("edges.")  # registry order, not request order
    np.testing.assert_array_equal(part, [full[n] for n in names])


def test_unknown_family():
    with pytest.raises(ValueError, match="unknown feature families"):
        af.feature_names(["glitter"])


def test_accepts_any_source(tmp_path):
    from synth import encode

    path = tmp_path / "c.png"
    path.write_bytes(encode(cartoon()))
    np.testing.assert_array_equal(af.extract_features(str(path)), af.extract_features(cartoon()))


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_features_do_not_depend_on_resolution(factor):
    import cv2

    families = ["edges", "lines", "colour", "regions"]
    names = af.feature_names(families)
    diffs = []
    for seed in range(4):
        img = cartoon(seed=seed, size=256)
        resized = cv2.resize(img, None, fx=factor, fy=factor,
                             interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
        diffs.append(np.abs(af.extract_features(img, families=families)
                            - af.extract_features(resized, families=families)))
    # Typical (median over drawings) change of the features a person would read in an
    # explanation: shares, ratios and thicknesses at the working scale stay close.
    typical = np.median(diffs, axis=0)
    for key, tol in [("edges.density", 0.03), ("lines.share", 0.03),
                     ("lines.thickness_median", 1.0), ("colour.saturation_mean", 0.03),
                     ("colour.value_mean", 0.02), ("colour.flat_share", 0.08),
                     # Anti-aliased outlines fall to one paint or another: looser.
                     ("regions.large_region_share", 0.08)]:
        assert typical[names.index(key)] <= tol, (key, typical[names.index(key)])


def test_masked_equals_boolean_indexing():
    from animefeat.features._util import masked

    rng = np.random.default_rng(0)
    mask = rng.random((7, 9)) > 0.5
    grey, rgb = rng.random((7, 9)), rng.integers(0, 256, (7, 9, 3))
    np.testing.assert_array_equal(masked(grey, mask), grey[mask])
    np.testing.assert_array_equal(masked(rgb, mask), rgb[mask])
    # 8-bit RGB takes the 4-byte-word gather; a non-contiguous view goes through it too.
    rgb8 = rgb.astype(np.uint8)
    np.testing.assert_array_equal(masked(rgb8, mask), rgb8[mask])
    np.testing.assert_array_equal(masked(rgb8[:, ::-1], mask), rgb8[:, ::-1][mask])
    empty = np.zeros_like(mask)
    assert masked(rgb8, empty).shape == (0, 3)
