"""15: does a fixed rule combine the two views as well as the fitted combiner? (#25)

On the shipped model's held-out views (experiments/01: for every drawing source left
out, the structure's and the local patterns' P(anime) from heads that never saw it, and
the combiner's), rules that need no fitting are scored beside the fitted combiner: the
mean of the two probabilities, their summed log-odds, the more confident view, and the
structure counted twice. They are chosen after seeing these folds, so a rule that won
would flatter itself; one that loses says the combiner's weights are not the problem.

Then *gated* combiners, which could trust the structure more on some kinds of picture
(the local patterns call cartoon TV frames with painted backgrounds anime): a logistic
regression on the two log-odds, one structural feature ``g`` (standardised) and their
products with it, for a few features chosen beforehand for what they say about the
picture (outlines, flat paint, large regions, shading). They are fitted on the held-out
views of the *other* sources and score the source left out (a second leave-one-source-out
on these views); the same protocol without a gate is their baseline. The views of the
other sources came from heads that saw the graded source, so this screens a gate rather
than measuring one.

    python experiments/15_combining_rules.py
"""

import time

import numpy as np
from _common import parser, shipped_evaluation, shipped_stack, write_json
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression

from animefeat.features import feature_names
from animefeat.training import metrics, source_weights

#: The structural features a gate may read, chosen before looking at the folds.
GATES = ("lines.share", "lines.black_share", "shading.outline_edge_share",
         "colour.flat_share", "colour.shading_share", "regions.large_region_share",
         "regions.largest_region_share", "edges.density")


def rules(structure, local):
    """Each rule's P(anime) from the two views' held-out P(anime)."""
    odds_s, odds_l = (logit(np.clip(p, 1e-6, 1 - 1e-6)) for p in (structure, local))
    return {"summed log-odds": expit(odds_s + odds_l),
            "structure counted twice": expit(2 * odds_s + odds_l)}


def gated(structure, local, y, sources, gate=None):
    """Held-out P(anime) of a logistic regression on the two log-odds (and, with
    ``gate``, the gate and its products with them), each source scored by one fitted on
    the other sources' views, every (source, label) cell weighing alike."""
    odds_s, odds_l = (logit(np.clip(p, 1e-6, 1 - 1e-6)) for p in (structure, local))
    weight = source_weights(sources, y)
    out = np.empty(len(y))
    for source in np.unique(sources):
        test = sources == source
        columns = [odds_s, odds_l]
        if gate is not None:
            # The gate is centred and scaled on the fold's own sources, so the graded
            # source never shapes its own design.
            g = (gate - gate[~test].mean()) / (gate[~test].std() or 1.0)
            columns += [g, odds_s * g, odds_l * g]
        design = np.column_stack(columns)
        mu, sd = design[~test].mean(0), design[~test].std(0) + 1e-12
        fitted = LogisticRegression(max_iter=2000).fit(
            (design[~test] - mu) / sd, y[~test], sample_weight=weight[~test])
        out[test] = fitted.predict_proba((design[test] - mu) / sd)[:, 1]
    return out


def scores(y, proba, sources, name):
    """Mean, worst and per-source accuracy of held-out P(anime), printed as it goes."""
    m = metrics(y, proba, sources)
    print(f"{name:40} {m['mean_source_accuracy']:.3f} / {m['worst_source_accuracy']:.3f}")
    return {"mean_source_accuracy": m["mean_source_accuracy"],
            "worst_source_accuracy": m["worst_source_accuracy"],
            "per_source": {s: v["accuracy"] for s, v in m["per_source"].items()}}


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
    X = data.image_rows()[d]
    names = feature_names(recipe["table_families"])
    screened = {"no gate (baseline of the screen)": gated(scored["structure alone"],
                                                          scored["local alone"], y, sources)}
    for g in GATES:
        screened[f"gate {g}"] = gated(scored["structure alone"], scored["local alone"], y,
                                      sources, X[:, names.index(g)])
    gates = {name: scores(y, p, sources, name) for name, p in screened.items()}
    report = {name: scores(y, p, sources, name) for name, p in scored.items()}
    write_json(args.out, "15_combining_rules", {
        "protocol": "the shipped model's held-out views (experiments/01), combined by rules "
                    "that fit nothing", "rules": report,
        "gated_protocol": "logistic regression on the two held-out log-odds (and a gate "
                          "feature with its products), each source scored by one fitted on "
                          "the other sources' held-out views", "gates": gates}, started)


if __name__ == "__main__":
    main()
