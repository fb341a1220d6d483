"""The held-out report's combined head: each source scored by a stack that never saw it."""

import numpy as np
from tabular import _table

from animefeat.training import stacked_leave_one_source_out

SMALL_LOCAL = {"n_components": 2, "pca_components": 4, "C": 1.0, "max_descriptors": 2000}
SMALL_BOOSTER = {"max_iter": 20, "min_samples_leaf": 5, "max_leaf_nodes": 7}


def _two_views(flipped, seed=0):
    """Seven sources of 20 images. Structure (one column) and local patterns (patch
    spread) both tell anime in s0-s5; in ``flipped`` both say the opposite of the label."""
    rng = np.random.default_rng(seed)
    sources = np.repeat([f"s{i}" for i in range(7)], 20)
    labels = np.tile(np.repeat(["anime", "cartoon"], 10), 7)
    looks_anime = (labels == "anime") ^ (sources == flipped)
    X = np.where(looks_anime, 1.0, -1.0)[:, None] + rng.normal(0, 0.2, (len(labels), 1))
    sets = [rng.normal(0, 1.5 if a else 0.5, (rng.integers(20, 40), 8)) for a in looks_anime]
    return _table(X, sources, labels), sets, (labels == "anime").astype(int), sources


def test_a_source_whose_views_contradict_its_labels_is_scored_wrong_when_left_out():
    table, sets, y, sources = _two_views(flipped="s4")
    recipe = {"families": None, "params": SMALL_BOOSTER, "augment": False}
    proba, weights = stacked_leave_one_source_out(
        table, y, sets, choices={s: recipe for s in np.unique(sources)}, seed=0,
        local_params=SMALL_LOCAL, inner_folds=3, progress=False)
    right = {s: ((proba["stack"][sources == s] >= 0.5) == y[sources == s]).mean()
             for s in np.unique(sources)}
    # A model that had seen s4 would have learnt its reversal; none did. The others are
    # scored by stacks that learnt the rule of the majority (s4 among their sources).
    assert right["s4"] == 0.0
    assert all(right[s] >= 0.9 for s in right if s != "s4")
    assert set(proba) == {"structure", "local", "stack"}
    assert ((proba["local"][sources == "s4"] >= 0.5) == y[sources == "s4"]).mean() == 0.0
    assert set(weights) == set(np.unique(sources))


def test_only_the_masked_images_are_scored():
    table, sets, y, sources = _two_views(flipped="s4")
    recipe = {"families": None, "params": SMALL_BOOSTER, "augment": False}
    mask = sources != "s4"
    proba, _ = stacked_leave_one_source_out(
        table, y, sets, choices={s: recipe for s in np.unique(sources[mask])}, mask=mask,
        seed=0, local_params=SMALL_LOCAL, inner_folds=3, progress=False)
    assert np.isnan(proba["stack"][~mask]).all() and np.isfinite(proba["stack"][mask]).all()


def test_stacked_cv_scores_every_image_once_out_of_fold():
    from animefeat.training import stacked_cross_validate

    table, sets, y, _ = _two_views(flipped="none")
    recipe = {"families": None, "params": SMALL_BOOSTER, "augment": False}
    proba = stacked_cross_validate(table, y, sets, recipe=recipe, groups=np.arange(len(y)),
                                   local_params=SMALL_LOCAL, inner_folds=3, progress=False)
    assert np.isfinite(proba["stack"]).all()
    assert ((proba["stack"] >= 0.5) == y).mean() >= 0.95  # both views tell them apart


def test_stacked_cv_cached_for_one_patch_grid_is_not_read_for_another(tmp_path):
    from animefeat.training import stacked_cross_validate

    table, sets, y, _ = _two_views(flipped="none")
    table.key = "table"  # a cached table: its held-out answers are kept
    # The same images described on another grid: here patches that say the opposite.
    _, other_sets, _, _ = _two_views(flipped="s0")
    recipe = {"families": None, "params": SMALL_BOOSTER, "augment": False}

    def run(sets, grid):
        return stacked_cross_validate(table, y, sets, recipe=recipe, groups=np.arange(len(y)),
                                      local_params=SMALL_LOCAL, inner_folds=3, progress=False,
                                      cache_dir=tmp_path, grid=grid)["local"]

    first = run(sets, {"step": 8, "sizes": (16, 32), "min_line_share": 0.0})
    again = run(other_sets, {"step": 8, "sizes": (16, 32), "min_line_share": 0.0})
    other = run(other_sets, {"step": 8, "sizes": (16, 32), "min_line_share": 0.03})
    np.testing.assert_array_equal(again, first)  # the same grid: read from the cache
    assert not np.array_equal(other, first)  # another grid: its own patches, fitted anew
