"""The held-out report of a training recipe, as the model card and experiments/01 show
it: leave-one-source-out (fast and nested), the combined head with local patterns, the
photo check, pooled CV; each part cached by what it depends on.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np
from scipy.special import expit
from sklearn.ensemble import HistGradientBoostingClassifier
from tqdm.auto import tqdm

from ..model import DRAWING_PARAMS
from ..stack import LOCAL_GRID, LOCAL_PARAMS, combine, fit_stack, local_head
from .evaluation import _default_make, _folds, cross_validate, leave_one_source_out, metrics
from .photo import drawing_held_out, held_out_drawing_check
from .search import _recipe_table, candidate_recipes, nested_leave_one_source_out
from .tables import near_duplicate_groups, source_weights, trainable

__all__ = ["evaluate_recipe", "stacked_cross_validate", "stacked_leave_one_source_out",
           "stacked_report", "structure_fitter"]

#: Bumped whenever the evaluation protocol changes, so cached held-out scores are redone.
EVALUATION_VERSION = 2


def evaluate_recipe(full, *, of=None, families, drawing_families, params, augment=True,
                    seed=0, nested=None, searched=True, groups=None, cache_dir=None,
                    progress=True):
    """The held-out report of one training recipe: what the card and experiments/01 show.

    1. Leave-one-source-out of the style head with the recipe as given (the *fast*
       number: when the recipe was itself chosen on these folds, it flatters).
    2. With ``nested``, :func:`nested_leave_one_source_out`: the choice among those
       candidates made on the training sources of each fold (the honest number).
    3. The drawing check held out (:func:`drawing_held_out`), each source measured at
       a threshold chosen without it (:func:`held_out_drawing_check`).
    4. Pooled grouped 5-fold CV of the style head.

    Parameters
    ----------
    full : FeatureTable
        Rows of every image with the columns of ``of`` (its ``key`` keys the cache).
    of : sequence of str, optional
        Families whose columns ``full`` holds (all by default).
    families, drawing_families : sequence of str or None
        The two heads' families.
    params : dict
        Booster parameters of the style head.
    augment : bool
        Whether the style head trains on the degraded copies.
    seed : int
    nested : dict, optional
        Candidates of the nested selection (:func:`candidate_recipes` arguments).
    searched : bool
        Whether the recipe came from a selection on the same folds (said in the report).
    groups : ndarray, optional
        Near-duplicate groups for the CV; computed when not given.
    cache_dir : str or Path, optional
        Each part's held-out scores are kept there, keyed by the table, what that part
        depends on and :data:`EVALUATION_VERSION`: a rerun computes nothing again.
    progress : bool

    Returns
    -------
    report : dict
        ``leave_one_source_out``, ``nested_leave_one_source_out`` (with ``nested``),
        ``drawing_check``, ``cv``: :func:`metrics` blocks.
    held_out : dict
        ``p_anime`` (leave-one-source-out), ``p_anime_nested``, ``p_drawing``,
        ``p_anime_cv``, of shape (n_images,), and ``choices`` of the nested selection.
    """
    dataset = full.dataset
    labels = np.asarray(dataset.labels)
    sources = np.asarray(dataset.sources)
    drawings = np.isin(labels, ["anime", "cartoon"])
    y_anime = (labels == "anime").astype(int)
    y_drawing = drawings.astype(int)
    table = full.select_families(families, of=of)
    table = table if augment else table.without_augmented()
    drawing_table = full.select_families(drawing_families, of=of)
    make = _default_make(params, seed)

    @functools.cache
    def near_duplicates():
        # Read every image once, and only when a part is not in the cache.
        return near_duplicate_groups(dataset.paths) if groups is None else groups

    def part(name, spec, compute):
        return _cached_part(cache_dir, full, name, {**spec, "seed": seed}, compute)

    style = {"of": of, "families": families, "params": params, "augment": augment}
    held_out = {
        "p_anime": part("loso", style, lambda: {"p": leave_one_source_out(
            table, y_anime, make=make, seed=seed, mask=drawings)})["p"],
        "p_anime_cv": part("cv", style, lambda: {"p": cross_validate(
            table, y_anime, make=make, groups=near_duplicates(), mask=drawings,
            seed=seed)})["p"],
        "p_drawing": None,
        "p_anime_nested": np.full(len(labels), np.nan), "choices": {}}

    def run_drawing():
        p, protocol = drawing_held_out(drawing_table, y_drawing, groups=near_duplicates(),
                                       seed=seed)
        return {"p": p, "protocol": protocol}

    # "sources": photo sources left out too (#26); before, photos were scored by CV.
    drawing = part("drawing", {"of": of, "families": drawing_families,
                               "params": DRAWING_PARAMS, "photos": "sources"}, run_drawing)
    held_out["p_drawing"] = drawing["p"]
    if nested:
        def run_nested():
            p, choices = nested_leave_one_source_out(
                full, y_anime, of=of, mask=drawings, seed=seed,
                candidates=candidate_recipes(**nested), progress=progress)
            return {"p": p, "choices": choices}

        out = part("nested", {"of": of, "candidates": nested}, run_nested)
        held_out["p_anime_nested"], held_out["choices"] = out["p"], out["choices"]

    d = drawings
    report = {}
    if np.isfinite(held_out["p_anime"][d]).any():
        report["leave_one_source_out"] = metrics(y_anime[d], held_out["p_anime"][d], sources[d])
        report["leave_one_source_out"]["selection"] = (
            "fast: the recipe chosen on all sources, these folds' sources among them"
            if searched else "the given recipe, scored on each source left out")
    if nested:
        report["nested_leave_one_source_out"] = metrics(
            y_anime[d], held_out["p_anime_nested"][d], sources[d])
        report["nested_leave_one_source_out"]["selection"] = (
            "nested: families, booster parameters and augmentation chosen in every fold on "
            "its training sources alone (held out in groups of whole sources), then the "
            "calibrated booster fitted on them scores the source left out")
        report["nested_leave_one_source_out"]["candidates"] = nested
        report["nested_leave_one_source_out"]["choices"] = held_out["choices"]
    report["drawing_check"] = held_out_drawing_check(y_drawing, held_out["p_drawing"], sources)
    report["drawing_check"]["protocol"] = (
        f"{drawing['protocol']}; families: {drawing_families or 'all'}")
    report["cv"] = metrics(y_anime[d], held_out["p_anime_cv"][d], sources[d])
    return report, held_out


def _cached_part(cache_dir, full, name, spec, compute):
    """``compute()`` (a dict of one array ``p`` and JSON-able extras), kept in
    ``cache_dir`` under a key of the table, ``name``, ``spec`` and the protocol version."""
    path = None
    if cache_dir is not None and full.key is not None:
        key = hashlib.sha256(json.dumps({"table": full.key, "part": name, **spec,
                                         "evaluation": EVALUATION_VERSION},
                                        sort_keys=True).encode()).hexdigest()[:16]
        path = Path(cache_dir) / f"held-out-{name}-{key}.npz"
        if path.is_file():
            with np.load(path, allow_pickle=False) as z:
                return {"p": z["p"], **json.loads(str(z["extra"]))}
    out = compute()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, p=out["p"], extra=json.dumps(
            {k: v for k, v in out.items() if k != "p"}))
    return out


def structure_fitter(table, y, images, *, params, seed=0):
    """The structural booster for :func:`animefeat.stack.fit_stack`, over ``images``.

    Returns ``fit(train, test)``: an uncalibrated booster fitted on the rows of
    ``images[train]`` (their degraded copies too, when ``table`` holds them), every
    (source, label) cell weighed alike, and the log-odds of the originals of
    ``images[test]`` (None when ``test`` is None).
    """
    sources = np.asarray(table.dataset.sources)

    def fit(train, test):
        rows = np.isin(table.origin, images[train])
        origin = table.origin[rows]
        booster = HistGradientBoostingClassifier(random_state=seed, **params).fit(
            trainable(table.X[rows], sources[origin]), y[origin],
            sample_weight=source_weights(sources[origin], y[origin]))
        if test is None:
            return booster, None
        # Table rows are in dataset order, as the sorted images[test] are.
        keep = np.isin(table.origin, images[test]) & ~table.augmented
        return booster, booster.decision_function(table.X[keep])
    return fit


def stacked_leave_one_source_out(full, y, sets, *, choices, of=None, mask=None, seed=0,
                                 local_params=None, inner_folds=4, cache_dir=None,
                                 progress=True, copies=None, grid=None):
    """Leave-one-source-out of the combined style head (:mod:`animefeat.stack`).

    For each source left out, on the other sources alone: the structural booster of
    the recipe chosen without that source (``choices``, from
    :func:`nested_leave_one_source_out`), the local head (its codebook included) and
    the combiner, fitted on out-of-fold log-odds of ``inner_folds`` groups of whole
    sources. Nothing of the left-out source shapes any of them.

    Parameters
    ----------
    full : FeatureTable
        Holds the columns of ``of`` and the degraded copies.
    y : ndarray of shape (n_images,), int
    sets : list of ndarray
        Every image's descriptors (:func:`descriptor_sets`).
    choices : dict
        Source left out -> recipe (``families``, ``params``, ``augment``).
    of : sequence of str, optional
    mask : ndarray of shape (n_images,), bool, optional
    seed : int
    local_params : dict, optional
        :func:`animefeat.stack.local_head` arguments; :data:`~animefeat.stack.LOCAL_PARAMS`.
    inner_folds : int
    cache_dir : str or Path, optional
        Each fold's held-out answers are kept there (keyed by the table, the source,
        its recipe and the local settings).
    progress : bool
    copies : list of ndarray, optional
        Every image's degraded copy's descriptors (``descriptor_sets(degraded=True)``):
        the local head trains on them too (:func:`animefeat.stack.fit_stack`).
    grid : dict, optional
        The :func:`~animefeat.features.local.dense_sift` keywords ``sets`` were described
        with (:data:`~animefeat.stack.LOCAL_GRID` by default): part of the cache key, so
        answers read from the cache are those of these patches.

    Returns
    -------
    proba : dict
        ``structure``, ``local`` (each view alone, uncalibrated) and ``stack`` (the
        combiner's, calibrated): held-out P(anime), shape (n_images,), NaN outside.
    weights : dict
        Source left out -> the combiner's ``structure``, ``local`` and ``intercept``.
    """
    local_params = dict(LOCAL_PARAMS if local_params is None else local_params)
    n = len(full.dataset)
    mask = np.ones(n, bool) if mask is None else np.asarray(mask)
    sources = np.asarray(full.dataset.sources)
    proba = {v: np.full(n, np.nan) for v in ("structure", "local", "stack")}
    weights = {}
    for source in tqdm(sorted(choices), desc="stacked", disable=not progress):
        recipe = choices[source]
        test = np.flatnonzero(mask & (sources == source))

        def fold(recipe=recipe, test=test, source=source):
            train = np.flatnonzero(mask & (sources != source))
            return _stacked_fold(full, y, sets, copies, train, test, recipe=recipe, of=of,
                                 seed=seed, local_params=local_params,
                                 inner_folds=inner_folds)

        out = _cached_part(cache_dir, full, "stacked", {
            "of": of, "source": str(source), "recipe": recipe, "local": local_params,
            "inner_folds": inner_folds, "n_test": len(test), "seed": seed,
            **({"local_copies": True} if copies is not None else {}),
            "grid": _grid_key(grid)}, fold)
        for k, view in enumerate(("structure", "local", "stack")):
            proba[view][test] = out["p"][:, k]
        weights[str(source)] = out["weights"]
    return proba, weights


def _grid_key(grid):
    """A patch grid (``LOCAL_GRID`` when None) as the JSON a cache key holds."""
    grid = LOCAL_GRID if grid is None else grid
    return {k: list(v) if isinstance(v, tuple) else v for k, v in grid.items()}


def stacked_report(y, proba, sources):
    """:func:`~animefeat.training.metrics` of the combined head's held-out answers, with
    each view alone under ``views``.

    Parameters
    ----------
    y : ndarray of shape (n,), int
    proba : dict
        ``structure``, ``local``, ``stack``: P(anime) of the same ``n`` images.
    sources : ndarray of shape (n,)

    Returns
    -------
    report : dict
    """
    report = metrics(y, proba["stack"], sources)
    report["views"] = {v: metrics(y, proba[v], sources) for v in ("structure", "local")}
    return report


def _stacked_fold(full, y, sets, copies, train, test, *, recipe, of, seed, local_params,
                  inner_folds):
    """The combined head fitted on the images ``train``; its views' answers on ``test``
    (columns structure, local, stack) and the combiner's weights."""
    sources = np.asarray(full.dataset.sources)
    table = _recipe_table(full, recipe, of)
    stack, _ = fit_stack(
        structure_fitter(table, y, train, params=recipe["params"], seed=seed),
        [sets[i] for i in train], y[train], sources[train],
        local=local_head(seed=seed, **local_params),
        weight=source_weights(sources[train], y[train]),
        inner_folds=inner_folds, seed=seed,
        copies=None if copies is None else [copies[i] for i in train])
    keep = np.isin(table.origin, test) & ~table.augmented
    X_test, sets_test = table.X[keep], [sets[i] for i in test]
    log_odds = stack.log_odds(X_test, sets_test)  # the local head encodes once
    views = np.column_stack([expit(log_odds), combine(stack.combiner, log_odds)])
    coef = stack.combiner.coef_[0]
    return {"p": views, "weights": {"structure": float(coef[0]), "local": float(coef[1]),
                                    "intercept": float(stack.combiner.intercept_[0])}}


def stacked_cross_validate(full, y, sets, *, recipe, groups, of=None, mask=None, seed=0,
                           local_params=None, inner_folds=4, cache_dir=None, progress=True,
                           copies=None, grid=None, n_splits=5):
    """Pooled CV of the combined head: grouped (near-duplicates), stratified (source x
    label) folds, as :func:`~animefeat.training.cross_validate` makes them.

    Parameters
    ----------
    full, y, sets, of, mask, seed, local_params, inner_folds, cache_dir, progress, copies, grid
        As in :func:`stacked_leave_one_source_out`.
    recipe : dict
        The structural recipe (``families``, ``params``, ``augment``).
    groups : ndarray of shape (n_images,)
        Near-duplicate groups.
    n_splits : int

    Returns
    -------
    proba : dict
        ``structure``, ``local``, ``stack``: out-of-fold P(anime), NaN outside ``mask``.
    """
    local_params = dict(LOCAL_PARAMS if local_params is None else local_params)
    n = len(full.dataset)
    mask = np.ones(n, bool) if mask is None else np.asarray(mask)
    idx = np.flatnonzero(mask)
    labels = np.asarray(full.dataset.labels)[idx]
    sources = np.asarray(full.dataset.sources)[idx]

    def compute():
        p = np.full((n, 3), np.nan)
        folds = _folds(labels, sources, np.asarray(groups)[idx], n_splits, seed)
        for train, test in tqdm(folds, desc="stacked CV", disable=not progress):
            p[idx[test]] = _stacked_fold(full, y, sets, copies, idx[train], idx[test],
                                         recipe=recipe, of=of, seed=seed,
                                         local_params=local_params,
                                         inner_folds=inner_folds)["p"]
        return {"p": p}

    out = _cached_part(cache_dir, full, "stacked-cv", {
        "of": of, "recipe": recipe, "local": local_params, "inner_folds": inner_folds,
        "seed": seed, "n_splits": n_splits, "n": int(mask.sum()),
        **({"local_copies": True} if copies is not None else {}), "grid": _grid_key(grid)},
        compute)
    return {view: out["p"][:, k] for k, view in enumerate(("structure", "local", "stack"))}
