"""12: structure and local patterns combined, every drawing source left out (issue #25).

For every drawing source left out, on the other sources alone:

* the structural booster is the recipe the shipped model's nested selection chose
  without that source (read from the card's cached nested evaluation, experiments/01);
* the local head (:func:`animefeat.stack.local_head`: PCA and mixture of dense grey SIFT,
  Fisher vector, logistic regression) is fitted, codebook included;
* the combiner (:func:`animefeat.stack.fit_stack`) learns how to weigh the two views'
  log-odds from out-of-fold log-odds, the training sources held out in 4 groups.

Then the three score the source left out: structure alone, local patterns alone, and
the combination. Nothing of the left-out source shapes any of them. Each fold's
held-out answers are cached in ``results/cache``.

    python experiments/12_stack.py [--background keep]
"""

import hashlib
import json
import time

import numpy as np
from _common import RESULTS, parser, shipped_evaluation, write_json
from scipy.special import expit
from sklearn.ensemble import HistGradientBoostingClassifier
from tqdm.auto import tqdm

from animefeat.stack import LOCAL_PARAMS, fit_stack, local_head
from animefeat.training import (
    _recipe_table,
    descriptor_sets,
    metrics,
    source_weights,
    trainable,
)

VERSION = 1


def structure_fitter(table, y, images, seed, params):
    """``fit_structure`` for :func:`fit_stack`: a booster on the rows of ``images[train]``
    (with their degraded copies when the table holds them), log-odds of the originals
    of ``images[test]``."""
    sources = np.asarray(table.dataset.sources)

    def fit(train, test):
        rows = np.isin(table.origin, images[train])
        origin = table.origin[rows]
        booster = HistGradientBoostingClassifier(random_state=seed, **params).fit(
            trainable(table.X[rows], sources[origin]), y[origin],
            sample_weight=source_weights(sources[origin], y[origin]))
        if test is None:
            return booster, None
        keep = np.isin(table.origin, images[test]) & ~table.augmented
        # Table rows are in dataset order, as images[test] is (sorted).
        return booster, booster.decision_function(table.X[keep])
    return fit


def main():
    p = parser(__doc__)
    p.add_argument("--inner-folds", type=int, default=4)
    args = p.parse_args()
    started = time.time()
    recipe, data, _, held_out = shipped_evaluation(args)
    choices = held_out["choices"]
    sets = descriptor_sets(data.dataset, side=data.side, n_jobs=args.jobs,
                           cache_dir=RESULTS / "cache")
    y, sources, drawn = data.y, data.sources, data.drawings
    p_views = {v: np.full(len(y), np.nan) for v in ("structure", "local", "stack")}
    weights = {}
    for source in tqdm(sorted(choices), desc="sources left out"):
        chosen = choices[source]
        key = hashlib.sha256(json.dumps({
            "table": data.full.key, "source": source, "recipe": chosen, "seed": args.seed,
            "local": LOCAL_PARAMS, "inner": args.inner_folds, "v": VERSION},
            sort_keys=True).encode()).hexdigest()[:16]
        cached = RESULTS / "cache" / f"stack-{key}.npz"
        test = np.flatnonzero(drawn & (sources == source))
        if cached.is_file():
            with np.load(cached) as z:
                views, coef = z["views"], z["coef"]
        else:
            train = np.flatnonzero(drawn & (sources != source))
            table = _recipe_table(data.full, chosen, recipe["table_families"])
            fit = structure_fitter(table, y, train, args.seed, chosen["params"])
            stack, _ = fit_stack(
                fit, [sets[i] for i in train], y[train], sources[train],
                local=local_head(seed=args.seed, **LOCAL_PARAMS),
                weight=source_weights(sources[train], y[train]),
                inner_folds=args.inner_folds, seed=args.seed)
            keep = np.isin(table.origin, test) & ~table.augmented
            log_odds = stack.log_odds(table.X[keep], [sets[i] for i in test])
            views = np.column_stack([expit(log_odds), stack.predict_proba_anime(
                table.X[keep], [sets[i] for i in test])])
            coef = np.r_[stack.combiner.coef_[0], stack.combiner.intercept_]
            np.savez(cached, views=views, coef=coef)
        for k, v in enumerate(("structure", "local", "stack")):
            p_views[v][test] = views[:, k]
        weights[source] = {"structure": float(coef[0]), "local": float(coef[1]),
                           "intercept": float(coef[2])}
        tqdm.write(f"{source}: " + ", ".join(
            f"{v} {((p_views[v][test] >= 0.5) == y[test]).mean():.3f}" for v in p_views))
    reports = {v: metrics(y[drawn], p[drawn], sources[drawn]) for v, p in p_views.items()}
    write_json(args.out, "12_stack", {
        "protocol": "leave-one-source-out over the drawing sources. In each fold, on the "
                    "other sources only: the structural recipe chosen by the nested "
                    "selection without the source, the local head (codebook included) "
                    "and the combiner (logistic regression on the two log-odds, fitted on "
                    f"out-of-fold log-odds of {args.inner_folds} groups of whole sources). "
                    "Structure and local probabilities are uncalibrated (accuracy only); "
                    "the stack's is the combiner's.",
        "local": LOCAL_PARAMS, "structure_choices": choices,
        "combiner_weights": weights,
        "leave_one_source_out": reports}, started)


if __name__ == "__main__":
    main()
