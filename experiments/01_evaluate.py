"""01: the shipped model's recipe, evaluated: per-source CV, leave-one-source-out,
calibration (Brier, ECE, reliability), ROC AUC, confusion matrices, the photo check.

A model cannot be scored on its own training images, so this re-runs the shipped
model's recipe (its card's hyperparameters and seed) on grouped, stratified 5-fold CV and
on leave-one-source-out.

    python experiments/01_evaluate.py [--data DIR] [--jobs 2]
"""

import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _common import (
    Data,
    parser,
    photo_check,
    save_figure,
    shipped_families,
    shipped_params,
    write_json,
)
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

from animefeat.model import calibrated_booster
from animefeat.training import cross_validate, leave_one_source_out, metrics


def main():
    args = parser(__doc__).parse_args()
    started = time.time()
    data = Data(args, families=shipped_families())
    params, seed = shipped_params()

    def make():
        return calibrated_booster(params, seed=seed)

    d = data.drawings
    cv = cross_validate(data.table, data.y, make=make, groups=data.groups, mask=d, seed=seed)
    loso = leave_one_source_out(data.table, data.y, make=make, seed=seed, mask=d)
    report = {
        "protocol": "grouped (near-duplicate) stratified (source x label) 5-fold CV; "
                    "leave-one-source-out; shipped hyperparameters",
        "params": params,
        "cv": metrics(data.y[d], cv[d], data.sources[d]),
        "leave_one_source_out": metrics(data.y[d], loso[d], data.sources[d]),
        "drawing_check": photo_check(data, data.table, seed),
    }
    write_json(args.out, "01_evaluate", report, started)
    plot(data, cv, loso, args.out)


def plot(data, cv, loso, out):
    d = data.drawings
    sources = sorted(set(data.sources[d]))
    fig, axes = plt.subplots(1, 3 + len(sources), figsize=(5 * (3 + len(sources)), 4.5))
    ax_roc, ax_rel, ax_loso = axes[:3]
    for name, proba in (("CV", cv), ("leave-one-source-out", loso)):
        for source in sources:
            sel = d & (data.sources == source)
            fpr, tpr, _ = roc_curve(data.y[sel], proba[sel])
            ax_roc.plot(fpr, tpr, ls="-" if name == "CV" else "--", label=f"{source} ({name})")
    ax_roc.plot([0, 1], [0, 1], color="grey", lw=0.5)
    ax_roc.set(title="ROC, anime = positive", xlabel="false positive rate",
               ylabel="true positive rate")
    ax_roc.legend(fontsize=8)
    for source in sources:
        sel = d & (data.sources == source)
        frac, mean = calibration_curve(data.y[sel], cv[sel], n_bins=10, strategy="quantile")
        ax_rel.plot(mean, frac, marker="o", label=source)
    ax_rel.plot([0, 1], [0, 1], color="grey", lw=0.5)
    ax_rel.set(title="Reliability (CV)", xlabel="predicted P(anime)", ylabel="observed share anime")
    ax_rel.legend(fontsize=8)
    acc_cv = [((cv[d & (data.sources == s)] >= 0.5) == data.y[d & (data.sources == s)]).mean()
              for s in sources]
    acc_lo = [((loso[d & (data.sources == s)] >= 0.5) == data.y[d & (data.sources == s)]).mean()
              for s in sources]
    x = np.arange(len(sources))
    ax_loso.bar(x - 0.2, acc_cv, 0.4, label="5-fold CV")
    ax_loso.bar(x + 0.2, acc_lo, 0.4, label="source held out")
    ax_loso.set(xticks=x, xticklabels=sources, ylim=(0.5, 1), title="Accuracy per source")
    ax_loso.legend(fontsize=8)
    for ax, source in zip(axes[3:], sources):
        sel = d & (data.sources == source)
        cm = np.zeros((2, 2), int)
        for t, p in zip(data.y[sel], cv[sel] >= 0.5):
            cm[t, int(p)] += 1
        ax.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=14)
        ax.set(title=f"Confusion, {source} (CV)", xticks=[0, 1], yticks=[0, 1],
               xticklabels=["cartoon", "anime"], yticklabels=["cartoon", "anime"],
               xlabel="predicted", ylabel="true")
    save_figure(fig, out, "01_evaluate")


if __name__ == "__main__":
    main()
