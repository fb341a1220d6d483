"""04: learning curve: accuracy per source against the number of training images,
ours and (with ``--cnn``, needs torch) the CNN peer, on the same grouped folds.

Each fold's training images are subsampled (stratified on source x label, fixed seed) to
a share of their number; the test fold stays whole.

    python experiments/04_learning_curve.py [--cnn] [--epochs 8] [--cnn-folds 1]

The CNN costs minutes per training on two cores, so ``--cnn-folds`` and ``--cnn-shares``
limit it to the first folds and a few shares (the JSON records which).
"""

import importlib
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _common import Data, parser, save_figure, shipped_families, shipped_params, write_json
from sklearn.ensemble import HistGradientBoostingClassifier

from animefeat.training.evaluation import _fit_predict, _folds

SHARES = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0)


def subsample(idx, strata, share, rng):
    keep = []
    for s in np.unique(strata[idx]):
        members = idx[strata[idx] == s]
        n = max(2, round(share * len(members)))
        keep.append(rng.choice(members, size=min(n, len(members)), replace=False))
    return np.sort(np.concatenate(keep))


def main():
    p = parser(__doc__)
    p.add_argument("--cnn", action="store_true", help="also train the CNN peer (slow)")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--cnn-folds", type=int, default=5, help="CNN on the first N folds only")
    p.add_argument("--cnn-shares", type=float, nargs="+", default=list(SHARES))
    args = p.parse_args()
    started = time.time()
    data = Data(args, families=shipped_families())
    params, seed = shipped_params()
    d = np.flatnonzero(data.drawings)
    strata = np.array([f"{s}|{lab}" for s, lab in zip(data.sources, data.labels)])
    folds = _folds(data.labels[d], data.sources[d], data.groups[d], 5, seed)
    sources = np.unique(data.sources[d])
    curves = {"animefeat": {}, "cnn": {}}
    if args.cnn:
        import torch

        peer = importlib.import_module("03_cnn_peer")
        images = peer.preload([data.dataset.paths[i] for i in d])
        position = {i: k for k, i in enumerate(d)}
    for share in SHARES:
        rng = np.random.default_rng(seed)
        hits = {m: {s: [] for s in sources} for m in curves}
        n_train = []
        for fold, (train, test) in enumerate(folds):
            tr = subsample(d[train], strata, share, rng)
            n_train.append(len(tr))
            te = d[test]
            proba = _fit_predict(lambda _: HistGradientBoostingClassifier(random_state=seed,
                                                                         **params),
                                 data.table, data.y, tr, te)
            for s in sources:
                sel = data.sources[te] == s
                hits["animefeat"][s].append(((proba[sel] >= 0.5) == data.y[te][sel]).mean())
            if args.cnn and fold < args.cnn_folds and share in args.cnn_shares:
                local_tr = np.array([position[i] for i in tr])
                local_te = np.array([position[i] for i in te])
                cnn = peer.fit_predict(torch, images, data.y[d], local_tr, local_te,
                                       args.epochs, seed)
                for s in sources:
                    sel = data.sources[te] == s
                    hits["cnn"][s].append(((cnn[sel] >= 0.5) == data.y[te][sel]).mean())
        for m in curves:
            if hits[m][sources[0]]:
                curves[m][str(share)] = {"train_images": float(np.mean(n_train)),
                                         **{s: float(np.mean(v)) for s, v in hits[m].items()}}
        print(share, {m: curves[m].get(str(share)) for m in curves}, flush=True)
    cnn_setup = ({"epochs": args.epochs, "folds": args.cnn_folds, "shares": args.cnn_shares}
                 if args.cnn else None)
    write_json(args.out, "04_learning_curve", {"params": params, "curves": curves,
                                               "cnn": cnn_setup}, started)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m, style in (("animefeat", "-o"), ("cnn", "--s")):
        for k, s in enumerate(sources):
            pts = curves[m]
            if pts:
                ax.plot([v["train_images"] for v in pts.values()], [v[s] for v in pts.values()],
                        style, color=f"C{k}", label=f"{m}, {s}")
    ax.set(xscale="log", xlabel="training images", ylabel="accuracy (grouped 5-fold CV)",
           title="Learning curve", ylim=(0.5, 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, args.out, "04_learning_curve")


if __name__ == "__main__":
    main()
