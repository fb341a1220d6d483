import numpy as np
import pytest

from animefeat.features._util import component_sizes, masked_mean


def test_diagonal_pixels_join_only_with_eight_connectivity():
    grid = np.full((3, 3), -1, dtype=np.intp)
    grid[0, 0] = grid[1, 1] = grid[2, 2] = 0
    assert component_sizes(grid, False).tolist() == [1, 1, 1]
    assert component_sizes(grid, True).tolist() == [3]


def test_equal_labels_only_join_their_own_kind():
    # Two labels side by side, and negative pixels that belong to no region.
    grid = np.array([[0, 0, 1, -1],
                     [0, 1, 1, -1],
                     [-1, -1, 0, 0]], dtype=np.intp)
    assert component_sizes(grid, False).tolist() == [3, 3, 2]
    assert component_sizes(grid, True).tolist() == [3, 3, 2]
    assert (grid >= 0).sum() == 8  # the input is left as it was


@pytest.mark.parametrize("eight", [False, True])
def test_component_sizes_equal_scikit_image_labels(eight):
    from skimage.measure import label

    rng = np.random.default_rng(1)
    grid = np.where(rng.random((40, 50)) < 0.8, rng.integers(0, 3, (40, 50)), -1)
    expected = np.bincount(label(grid + 1, background=0, connectivity=2 if eight else 1)
                           .ravel())[1:]
    assert sorted(component_sizes(grid.astype(np.intp), eight)) == sorted(expected)


def test_masked_mean_is_the_mean_of_the_selected_values():
    values = np.arange(12.0).reshape(3, 4)
    mask = values % 3 == 0  # 0, 3, 6, 9
    assert masked_mean(values, mask) == 4.5


def test_masked_mean_of_nothing_is_nan():
    assert np.isnan(masked_mean(np.ones((4, 4)), np.zeros((4, 4), bool)))
