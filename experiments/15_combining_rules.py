"""15: does a fixed rule combine the two views as well as the fitted combiner? (#25)

On the shipped model's held-out views (experiments/01: for every drawing source left
out, the structure's and the local patterns' P(anime) from heads that never saw it, and
the combiner's), rules that need no fitting are scored beside the fitted combiner: the
mean of the two probabilities, their summed log-odds, the more confident view, and the
structure counted twice. They are chosen after seeing these folds, so a rule that won
would flatter itself; one that loses says the combiner's weights are not the problem.

    python experiments/15_combining_rules.py
"""

import time

import numpy as np
from _common import parser, shipped_evaluation, shipped_stack, write_json
from scipy.special import expit, logit

from animefeat.training import metrics


def rules(structure, local):
    """Each rule's P(anime) from the two views' held-out P(anime)."""
    odds_s, odds_l = (logit(np.clip(p, 1e-6, 1 - 1e-6)) for p in (structure, local))
    return {"summed log-odds": expit(odds_s + odds_l),
            "structure counted twice": expit(2 * odds_s + odds_l)}


def main():
    args = parser(__doc__).parse_args()
    started = time.time()
    recipe, data, _, held_out = shipped_evaluation(args)
    _, proba = shipped_stack(args, recipe, data, held_out)
    d = data.drawings
    y, sources = data.y[d], data.sources[d]
    scored = {"fitted combiner (shipped)": proba["stack"][d],
              "structure alone": proba["structure"][d], "local alone": proba["local"][d],
              **rules(proba["structure"][d], proba["local"][d])}
    report = {}
    for name, p in scored.items():
        m = metrics(y, p, sources)
        report[name] = {"mean_source_accuracy": m["mean_source_accuracy"],
                        "worst_source_accuracy": m["worst_source_accuracy"],
                        "per_source": {s: v["accuracy"] for s, v in m["per_source"].items()}}
        print(f"{name:28} {m['mean_source_accuracy']:.3f} / {m['worst_source_accuracy']:.3f}")
    write_json(args.out, "15_combining_rules", {
        "protocol": "the shipped model's held-out views (experiments/01), combined by rules "
                    "that fit nothing", "rules": report}, started)


if __name__ == "__main__":
    main()
