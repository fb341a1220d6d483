"""Choosing a recipe (families, booster, degraded copies) on sources held out, and the
nested leave-one-source-out that scores the choice itself.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from tqdm.auto import tqdm

from ..model import DEFAULT_PARAMS
from ..stack import source_folds
from .evaluation import _default_make, _fit_predict, metrics

__all__ = ["candidate_recipes", "nested_leave_one_source_out", "select_recipe"]

#: The booster grid searched when no other candidates are given: every combination,
#: scored on sources held out (:func:`select_recipe`). Small trees and large leaves: a
#: source-specific quirk needs a deep, narrow branch to be learnt.
PARAM_GRID = {
    "learning_rate": [0.05, 0.1],
    "max_iter": [150, 300],
    "max_leaf_nodes": [7, 15],
    "min_samples_leaf": [40],
}


def candidate_recipes(*, families, grid=None, augment=(True,)):
    """Every recipe of a nested selection: feature families x booster grid x augmentation.

    Parameters
    ----------
    families : sequence of sequence of str
        Candidate family sets of the style head.
    grid : dict, optional
        Booster parameters to try (every combination, on top of :data:`DEFAULT_PARAMS`);
        :data:`PARAM_GRID` by default.
    augment : sequence of bool
        Train on the degraded copies, or not.

    Returns
    -------
    recipes : list of dict
        ``{"families": [...], "params": {...}, "augment": bool}``.
    """
    import itertools

    grid = PARAM_GRID if grid is None else grid
    keys = sorted(grid)
    return [{"families": None if f is None else list(f),
             "params": {**DEFAULT_PARAMS, **dict(zip(keys, values))},
             "augment": bool(a)}
            for f in families for values in itertools.product(*(grid[k] for k in keys))
            for a in augment]


def _recipe_table(table, recipe, of):
    # No families: every column the table holds.
    out = table if recipe["families"] is None else table.select_families(recipe["families"],
                                                                          of=of)
    return out if recipe["augment"] else out.without_augmented()


def _selection_score(report):
    return (report["mean_source_accuracy"] + report["worst_source_accuracy"]) / 2


def select_recipe(table, y, *, candidates, of=None, mask=None, seed=0, inner_folds=4,
                  progress=True):
    """The candidate recipe that does best on sources held out, among ``mask``'s sources.

    The sources are split into ``inner_folds`` groups of whole sources (a seeded
    shuffle), each group held out in turn; a recipe's score is (mean + worst) / 2 of its
    accuracy per source, with uncalibrated boosters (calibration moves no label).

    Parameters
    ----------
    table : FeatureTable
        Holds the columns of ``of`` (every family by default) and the degraded copies.
    y : ndarray of shape (n_images,), int
    candidates : list of dict
        Recipes, as :func:`candidate_recipes` makes them.
    of : sequence of str, optional
        Families whose columns ``table`` holds.
    mask : ndarray of shape (n_images,), bool, optional
        The images to choose on; every image by default.
    seed : int
    inner_folds : int or None
        Groups of sources; None holds out each source alone.
    progress : bool

    Returns
    -------
    best : dict
        The winning recipe (the first of equals), with its ``score``.
    scored : list of dict
        Every candidate with its ``score``, ``mean_source_accuracy`` and
        ``worst_source_accuracy``.
    """
    n = len(table.dataset)
    mask = np.ones(n, bool) if mask is None else np.asarray(mask)
    sources = np.asarray(table.dataset.sources)
    fold, k = source_folds(sources, mask, inner_folds, seed)
    scored = []
    for recipe in tqdm(candidates, desc="recipes", disable=not progress, leave=False):
        t = _recipe_table(table, recipe, of)
        p = np.full(n, np.nan)
        for g in range(k):
            test = np.flatnonzero(mask & (fold == g))
            train = np.flatnonzero(mask & (fold != g))
            if len(np.unique(y[train])) < 2:
                continue
            p[test] = _fit_predict(
                lambda _, r=recipe: HistGradientBoostingClassifier(random_state=seed,
                                                                   **r["params"]),
                t, y, train, test)
        report = metrics(y[mask], p[mask], sources[mask])
        scored.append({**recipe, "score": _selection_score(report),
                       "mean_source_accuracy": report["mean_source_accuracy"],
                       "worst_source_accuracy": report["worst_source_accuracy"]})
    best = max(scored, key=lambda r: r["score"])  # first wins ties
    return best, scored


def nested_leave_one_source_out(table, y, *, candidates, of=None, mask=None, seed=0,
                                inner_folds=4, progress=True):
    """Leave-one-source-out where every choice is made without the source scored.

    For each source left out, :func:`select_recipe` chooses among the candidate recipes
    on the *remaining* sources alone; the chosen recipe is then fitted, calibrated, on
    all of them and scores the source left out. Nothing about the left-out source
    shapes the model that scores it: not the families, the hyperparameters, the
    augmentation nor the calibration. This scores the procedure
    :func:`train` follows with ``candidates``.

    Parameters
    ----------
    table : FeatureTable
        Holds the columns of ``of`` (every family by default) and the degraded copies.
    y : ndarray of shape (n_images,), int
    candidates : list of dict
        Recipes, as :func:`candidate_recipes` makes them.
    of : sequence of str, optional
        Families whose columns ``table`` holds.
    mask : ndarray of shape (n_images,), bool, optional
    seed : int
    inner_folds : int or None
        Groups of whole sources held out in turn inside each fold
        (:func:`select_recipe`).
    progress : bool

    Returns
    -------
    proba : ndarray of shape (n_images,)
        Held-out probability of class 1 (NaN outside ``mask``).
    choices : dict
        Source left out -> the recipe chosen without it and its inner score.
    """
    n = len(table.dataset)
    mask = np.ones(n, bool) if mask is None else np.asarray(mask)
    sources = np.asarray(table.dataset.sources)
    proba, choices = np.full(n, np.nan), {}
    outer = [s for s in np.unique(sources[mask])
             if len(np.unique(y[mask & (sources != s)])) == 2]
    for source in tqdm(outer, desc="nested", disable=not progress):
        inner = mask & (sources != source)
        best, _ = select_recipe(table, y, candidates=candidates, of=of, mask=inner,
                                seed=seed, inner_folds=inner_folds, progress=False)
        recipe = {k: best[k] for k in ("families", "params", "augment")}
        test = np.flatnonzero(mask & (sources == source))
        proba[test] = _fit_predict(_default_make(recipe["params"], seed),
                                   _recipe_table(table, recipe, of), y,
                                   np.flatnonzero(inner), test)
        choices[str(source)] = {**recipe, "inner_score": float(best["score"]),
                                "candidates": len(candidates)}
    return proba, choices


#: The recipes the shipped model is chosen among (``animefeat train --recipes``), and that
#: its nested evaluation chooses among in every fold: the choices that earlier rounds made
#: on the reported folds (lines alone or with edges, the booster grid). Degraded copies
#: are always on: they make the model hold up to the down-scaling and re-encoding that
#: uploads go through, which no source held out can show unless it is itself small (with
#: web-small left out, the selection dropped them and web-small fell to 47.9%).
RECIPE_CANDIDATES = {
    "families": [["lines"], ["edges", "lines"]],
    "grid": {"learning_rate": [0.05, 0.1], "max_leaf_nodes": [7, 15],
             "max_iter": [300], "min_samples_leaf": [40]},
    "augment": [True],
}
