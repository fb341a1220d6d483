"""12: structure and local patterns combined, every drawing source left out (issue #25).

For every drawing source left out, on the other sources alone
(:func:`animefeat.training.stacked_leave_one_source_out`):

* the structural booster is the recipe the shipped model's nested selection chose
  without that source (from the card's cached nested evaluation, experiments/01);
* the local head (:func:`animefeat.stack.local_head`: PCA and mixture of dense grey SIFT,
  Fisher vector, logistic regression) is fitted, codebook included;
* the combiner learns how to weigh the two views' log-odds from out-of-fold log-odds,
  the training sources held out in 4 groups.

Then the three score the source left out: structure alone, local patterns alone, and
the combination. Nothing of the left-out source shapes any of them. Each fold's
held-out answers are cached in ``results/cache``.

    python experiments/12_stack.py
"""

import time

from _common import RESULTS, parser, shipped_evaluation, write_json

from animefeat.stack import LOCAL_GRID, LOCAL_PARAMS
from animefeat.training import descriptor_sets, metrics, stacked_leave_one_source_out


def main():
    p = parser(__doc__)
    p.add_argument("--inner-folds", type=int, default=4)
    args = p.parse_args()
    started = time.time()
    recipe, data, _, held_out = shipped_evaluation(args)
    sets = descriptor_sets(data.dataset, side=data.side, n_jobs=args.jobs,
                           cache_dir=RESULTS / "cache", **LOCAL_GRID)
    proba, weights = stacked_leave_one_source_out(
        data.full, data.y, sets, choices=held_out["choices"], of=recipe["table_families"],
        mask=data.drawings, seed=args.seed, inner_folds=args.inner_folds,
        cache_dir=RESULTS / "cache")
    d = data.drawings
    reports = {v: metrics(data.y[d], p[d], data.sources[d]) for v, p in proba.items()}
    for view, report in reports.items():
        print(f"{view}: mean {report['mean_source_accuracy']:.3f}, "
              f"worst {report['worst_source_accuracy']:.3f}")
    write_json(args.out, "12_stack", {
        "protocol": "leave-one-source-out over the drawing sources. In each fold, on the "
                    "other sources only: the structural recipe chosen by the nested "
                    "selection without the source, the local head (codebook included) "
                    "and the combiner (logistic regression on the two log-odds, fitted on "
                    f"out-of-fold log-odds of {args.inner_folds} groups of whole sources). "
                    "Structure and local probabilities are uncalibrated (accuracy only); "
                    "the stack's is the combiner's.",
        "local": LOCAL_PARAMS, "grid": {k: list(v) if isinstance(v, tuple) else v
                                        for k, v in LOCAL_GRID.items()},
        "structure_choices": held_out["choices"], "combiner_weights": weights,
        "leave_one_source_out": reports}, started)


if __name__ == "__main__":
    main()
