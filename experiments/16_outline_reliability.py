"""16: on which pictures are the "outlines" outlines? (#27, point 4)

The line features read a mask of thin dark strokes (:func:`animefeat.features.lines.line_mask`).
On cel art those strokes are outlines between flat fills; on shaded art and photographs
the same mask also takes hair strands, ripples and shading lines, and a reason such as
"outlines cover 27% of the picture" misdescribes the picture. The page and the library
leave out every reason read from that mask when fewer than
:data:`~animefeat.features.lines.OUTLINE_MIN_SHARE` of its pixels bound flat paint
(:func:`~animefeat.features.lines.outline_share`).

This experiment measures that share on up to ``--per-cell`` images of every (source,
label) cell, at the shipped model's working side, and reports per cell its quartiles and
the share of pictures whose outline reasons are kept. A contact sheet shows the mask on
the pictures nearest the threshold on either side, so a person can judge where it falls.

    python experiments/16_outline_reliability.py [--per-cell 80] [--seed 0]
"""

import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _common import parser, save_figure, shipped_side, write_json
from joblib import Parallel, delayed

from animefeat.data import read_dataset
from animefeat.features.lines import OUTLINE_MIN_SHARE, line_mask, outline_share, reads_as_outlines
from animefeat.preprocess import load_for_features, working_copy

SHEET = 12


def measure(path, side):
    work = working_copy(load_for_features(path, side=side), side=side)
    return outline_share(work)


def sheet(paths, shares, side):
    """The mask (pink) on the pictures nearest the threshold, kept above, dropped below."""
    order = np.argsort(np.abs(shares - OUTLINE_MIN_SHARE))
    read = reads_as_outlines(shares)
    kept = [i for i in order if read[i]][:SHEET // 2]
    dropped = [i for i in order if not read[i]][:SHEET // 2]
    fig, axes = plt.subplots(2, SHEET // 2, figsize=(2.4 * SHEET // 2, 5.4))
    for row, picks, word in ((0, kept, "kept"), (1, dropped, "dropped")):
        for ax, i in zip(axes[row], picks):
            work = working_copy(load_for_features(paths[i], side=side), side=side)
            shown = work.rgb.copy()
            shown[line_mask(work)] = (230, 30, 90)
            ax.imshow(shown)
            ax.set_title(f"{word} {shares[i]:.2f}", fontsize=8)
        for ax in axes[row]:
            ax.axis("off")
    fig.tight_layout()
    return fig


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--per-cell", type=int, default=80)
    args = p.parse_args()
    started = time.time()
    side = shipped_side()
    data = read_dataset(args.data)
    rng = np.random.default_rng(args.seed)
    cells = {}
    for i, key in enumerate(zip(data.sources, data.labels)):
        cells.setdefault(key, []).append(i)
    picked = {key: sorted(rng.permutation(idx)[:args.per_cell].tolist())
              for key, idx in sorted(cells.items())}
    order = [i for idx in picked.values() for i in idx]
    values = Parallel(n_jobs=args.jobs)(delayed(measure)(data.paths[i], side) for i in order)
    share = dict(zip(order, values))
    rows = []
    for (source, label), idx in picked.items():
        v = np.array([share[i] for i in idx], dtype=np.float64)
        measured = v[np.isfinite(v)]
        q = np.percentile(measured, [25, 50, 75]) if len(measured) else [np.nan] * 3
        rows.append({"source": source, "label": label, "n": len(v),
                     "without_lines": int(len(v) - len(measured)),
                     "quartiles": [round(float(x), 3) for x in q],
                     "kept": round(float(np.mean(reads_as_outlines(measured))), 3)
                     if len(measured) else None})
        print(f"{source:20s} {label:8s} n={len(v):3d} quartiles {rows[-1]['quartiles']} "
              f"outline reasons kept on {rows[-1]['kept']}")
    drawings = [i for i in order if data.labels[i] != "photo" and np.isfinite(share[i])]
    photos = [i for i in order if data.labels[i] == "photo" and np.isfinite(share[i])]
    summary = {
        label: round(float(np.mean(reads_as_outlines([share[i] for i in idx]))), 3)
        for label, idx in (("drawings", drawings), ("photos", photos)) if idx}
    by_label = {lab: round(float(np.mean(reads_as_outlines([share[i] for i in drawings
                                                           if data.labels[i] == lab]))), 3)
                for lab in ("anime", "cartoon")}
    print("outline reasons kept:", summary, by_label)
    measured = [i for i in order if np.isfinite(share[i])]
    fig = sheet([data.paths[i] for i in measured], np.array([share[i] for i in measured]), side)
    save_figure(fig, args.out, "16_outline_reliability_sheet")
    write_json(args.out, "16_outline_reliability", {
        "threshold": OUTLINE_MIN_SHARE, "side": side, "per_cell": args.per_cell,
        "seed": args.seed, "kept": {**summary, **by_label}, "cells": rows}, started)


if __name__ == "__main__":
    main()
