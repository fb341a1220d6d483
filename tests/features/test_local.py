import numpy as np
import pytest
from synth import blank, stripes

from animefeat.features.local import DESCRIPTOR_SIZE, dense_sift


def noise(size=256, seed=0):
    """Texture everywhere: no flat patch, no background, nothing trimmed."""
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def test_patches_sit_on_the_grid_for_each_size():
    # Centres every 8 px from half a patch in, for each patch size.
    image = noise()
    patches = dense_sift(image, step=8, sizes=(16, 32), side=256)
    per_size = {16: len(range(8, 256 - 8 + 1, 8)) ** 2, 32: len(range(16, 256 - 16 + 1, 8)) ** 2}
    assert len(patches) == sum(per_size.values())
    assert patches.descriptors.shape == (len(patches), DESCRIPTOR_SIZE)
    assert {16.0: per_size[16], 32.0: per_size[32]} == {
        s: int((patches.sizes == s).sum()) for s in (16.0, 32.0)}
    assert patches.positions[0].tolist() == [8.0, 8.0] and patches.shape == (256, 256)


def test_a_flat_image_has_no_patches():
    patches = dense_sift(blank(200, 200), side=256)
    assert len(patches) == 0 and patches.descriptors.shape == (0, DESCRIPTOR_SIZE)


def test_a_flat_square_in_a_picture_gives_no_patches():
    # A flat grey square at 96..160 in a textured picture: no 16-px patch that lies
    # inside it (centres 104..152) is kept; every other grid patch is.
    image = noise()
    image[96:160, 96:160] = 128
    centres = dense_sift(image, sizes=(16,), side=256).positions
    inside = np.all((centres >= 104) & (centres <= 152), axis=1)
    assert not inside.any()
    grid = len(range(8, 256 - 8 + 1, 8)) ** 2
    assert len(centres) == grid - len(range(104, 153, 8)) ** 2


def test_descriptors_tell_vertical_from_horizontal_strokes():
    vertical = stripes(width=3, spacing=12, size=256)
    horizontal = np.ascontiguousarray(vertical.transpose(1, 0, 2))
    a = dense_sift(vertical, sizes=(16,), side=256).descriptors.mean(axis=0)
    b = dense_sift(horizontal, sizes=(16,), side=256).descriptors.mean(axis=0)
    # The same histograms, with orientations turned by 90 degrees: far apart as vectors.
    assert np.linalg.norm(a - b) > 0.5 * np.linalg.norm(a)


@pytest.mark.parametrize("step", [4, 16])
def test_a_finer_grid_gives_more_patches(step):
    n = len(dense_sift(noise(), step=step, sizes=(16,), side=256))
    assert n == len(range(8, 256 - 8 + 1, step)) ** 2


@pytest.mark.parametrize("size", [16, 32])
def test_a_patch_is_described_by_its_own_window_only(size):
    # The descriptor of the patch centred at (128, 128) reads its size x size square
    # (plus the smoothing's few pixels), not the picture around it: noise redrawn
    # beyond 1.25 sizes leaves it as it was, redrawn inside changes it.
    def centre_descriptor(image):
        patches = dense_sift(image, step=8, sizes=(size,), side=256)
        at = np.flatnonzero((patches.positions == 128).all(axis=1))[0]
        return patches.descriptors[at]

    image = noise(seed=1)
    far = image.copy()
    reach = int(1.25 * size)
    outside = np.ones((256, 256), bool)
    outside[128 - reach:128 + reach, 128 - reach:128 + reach] = False
    far[outside] = noise(seed=2)[outside]
    near = image.copy()
    near[128 - size // 4:128 + size // 4, 128 - size // 4:128 + size // 4] = 0
    assert np.array_equal(centre_descriptor(far), centre_descriptor(image))
    assert not np.array_equal(centre_descriptor(near), centre_descriptor(image))


def test_flat_and_background_patches_are_kept_when_asked():
    # A textured disc filling the picture, the four corners white page (21% of the
    # area): by default the corners' patches are left out; with min_contrast=0 and
    # background=True every grid patch is kept.
    image = noise(seed=3)
    yy, xx = np.mgrid[:256, :256]
    image[(yy - 127.5) ** 2 + (xx - 127.5) ** 2 > 128 ** 2] = 255
    grid = len(range(8, 256 - 8 + 1, 8)) ** 2
    default = dense_sift(image, sizes=(16,), side=256)
    everything = dense_sift(image, sizes=(16,), min_contrast=0, background=True, side=256)
    assert 0.75 * grid < len(default) < 0.9 * grid
    assert len(everything) == grid


def test_a_working_copy_keeps_its_patches_for_the_next_reader():
    # The answer and the page's map read one copy's patches: described once.
    from animefeat.preprocess import working_copy

    work = working_copy(noise(), side=256)
    first = dense_sift(work, sizes=(16,), side=256)
    assert dense_sift(work, sizes=(16,), side=256) is first
    assert dense_sift(work, sizes=(32,), side=256) is not first  # other settings, own entry
    fresh = dense_sift(noise(), sizes=(16,), side=256)
    np.testing.assert_array_equal(fresh.descriptors, first.descriptors)


def waves_and_a_line(size=256, line_x=192):
    """Smooth grey waves (textured, with no thin dark stroke) and one black vertical
    line, 2 px wide, at ``line_x``."""
    x = np.arange(size)
    grey = (130 + 60 * np.sin(2 * np.pi * x / 64)).astype(np.uint8)
    image = np.repeat(np.repeat(grey[None, :, None], size, axis=0), 3, axis=2)
    image[:, line_x:line_x + 2] = 0
    return image


def test_the_line_filter_keeps_only_patches_over_strokes():
    # Without the filter the waves give patches everywhere; with it, only the patches
    # whose 16-px square [x - 8, x + 8) holds the line's columns 192-193 are kept.
    image = waves_and_a_line()
    every = dense_sift(image, sizes=(16,), side=256)
    on_lines = dense_sift(image, sizes=(16,), min_line_share=0.03, side=256)
    assert (every.positions[:, 0] < 150).sum() > 100
    xs = set(on_lines.positions[:, 0].tolist())
    assert xs == {192.0, 200.0}
    assert len(on_lines) == 2 * len(range(8, 256 - 8 + 1, 8))


def test_the_line_filter_reads_the_share_of_the_patch():
    # The 2-px line fills 2/16 of a 16-px patch it crosses: kept at a share of 1/8,
    # dropped at anything above.
    image = waves_and_a_line()
    assert len(dense_sift(image, sizes=(16,), min_line_share=2 / 16, side=256)) > 0
    assert len(dense_sift(image, sizes=(16,), min_line_share=2 / 16 + 0.01, side=256)) == 0
