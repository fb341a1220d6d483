"""02: which family carries each source when that source is left out?

For every feature family, leave-one-source-out accuracy per source with that family
alone and with every shipped family but it; the difference "all minus without" is the
family's share of the decision on a source the model never saw (points lost when it is
removed). Families outside the shipped model are tried as additions ("with"). Boosters
are uncalibrated (calibration moves no label) with the shipped model's hyperparameters,
weights and augmentation.

    python experiments/02_ablation.py [--data DIR] [--jobs 2]
"""

import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _common import (
    Data,
    parser,
    save_figure,
    shipped_families,
    shipped_params,
    write_json,
)
from sklearn.ensemble import HistGradientBoostingClassifier

from animefeat.features import FAMILIES, feature_names
from animefeat.training import DETECTOR_FAMILIES, leave_one_source_out, metrics


def held_out(data, table, make, seed):
    """Leave-one-source-out accuracy per source, and their mean and worst."""
    d = data.drawings
    proba = leave_one_source_out(table, data.y, make=make, seed=seed, mask=d)
    report = metrics(data.y[d], proba[d], data.sources[d])
    return {"per_source": {s: v["accuracy"] for s, v in report["per_source"].items()},
            "mean": report["mean_source_accuracy"], "worst": report["worst_source_accuracy"]}


def main():
    args = parser(__doc__).parse_args()
    started = time.time()
    data = Data(args)  # every family, at the shipped model's side
    params, seed = shipped_params()
    shipped = shipped_families() or list(FAMILIES)
    family_of = np.array([n.split(".")[0] for n in feature_names()])

    def make(_sources):
        return HistGradientBoostingClassifier(random_state=seed, **params)

    rows = {"shipped": held_out(data, data.full.select_families(shipped), make, seed)}
    print("shipped", rows["shipped"]["mean"], flush=True)
    for family in FAMILIES:
        row = {"n_features": int((family_of == family).sum()), "in_shipped": family in shipped,
               "contaminated": family in DETECTOR_FAMILIES,
               "alone": held_out(data, data.full.select_families([family]), make, seed)}
        others = [f for f in shipped if f != family]
        if family in shipped and others:
            row["without"] = held_out(data, data.full.select_families(others), make, seed)
            row["points_lost_without"] = {
                s: 100 * (rows["shipped"]["per_source"][s] - row["without"]["per_source"][s])
                for s in rows["shipped"]["per_source"]}
        elif family not in shipped:
            row["with"] = held_out(data, data.full.select_families([*shipped, family]), make, seed)
        rows[family] = row
        print(family, round(row["alone"]["mean"], 3), flush=True)
    write_json(args.out, "02_ablation", {"params": params, "shipped_families": shipped,
                                        "side": data.side, "families": rows}, started)
    plot(rows, shipped, args.out)


def plot(rows, shipped, out):
    families = [f for f in FAMILIES if f in rows]
    sources = sorted(rows["shipped"]["per_source"])
    fig, axes = plt.subplots(1, 2, figsize=(16, 5))
    x = np.arange(len(families))
    width = 0.8 / len(sources)
    for k, s in enumerate(sources):
        axes[0].bar(x + k * width, [rows[f]["alone"]["per_source"][s] for f in families],
                    width, label=s)
        axes[1].bar(x + k * width,
                    [rows[f].get("points_lost_without", {}).get(s, 0.0) for f in families],
                    width, label=s)
    axes[0].set(title="Accuracy on the source left out, this family alone", ylim=(0, 1))
    axes[1].set(title="Points lost on the source left out without this family\n"
                      f"(shipped families: {', '.join(shipped)})", ylabel="points")
    for ax in axes:
        ax.set_xticks(x + 0.4 - width / 2, families, rotation=30)
        ax.legend(fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    axes[0].axhline(0.5, color="grey", lw=0.5)
    save_figure(fig, out, "02_ablation")


if __name__ == "__main__":
    main()
