"""09: does the answer survive re-encoding, rescaling and framing?

The same drawings, each changed the way files change between sites: re-encoded as JPEG
at quality 40, 60, 80 and 95; rescaled to 0.25x, 0.5x and 0.75x; framed by a white, a
black or a coloured border of 10% per side. For every change, the share of images whose
label flips against the label of the file as it is (goal: under 3%), the share whose
verdict reverses (a confident answer, outside 35-65%, turned into the opposite confident
answer: what a user of the page would see change), and the mean absolute change of
P(anime). Images are drawn evenly from every drawing source.

    python experiments/09_stability.py [--data DIR] [--per-source 60] [--model FILE]
"""

import io
import time

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _common import parser, save_figure, write_json
from joblib import Parallel, delayed
from PIL import Image

import animefeat as af
from animefeat.data import read_dataset
from animefeat.model import UNSURE


def jpeg(quality):
    def change(rgb):
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
        return buf.getvalue()
    return change


def rescale(factor):
    def change(rgb):
        h, w = rgb.shape[:2]
        size = (max(16, round(w * factor)), max(16, round(h * factor)))
        return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return change


def border(colour):
    def change(rgb):
        h, w = rgb.shape[:2]
        dy, dx = max(1, h // 10), max(1, w // 10)
        return cv2.copyMakeBorder(rgb, dy, dy, dx, dx, cv2.BORDER_CONSTANT, value=colour)
    return change


CHANGES = {
    "jpeg_40": jpeg(40), "jpeg_60": jpeg(60), "jpeg_80": jpeg(80), "jpeg_95": jpeg(95),
    "scale_0.25": rescale(0.25), "scale_0.5": rescale(0.5), "scale_0.75": rescale(0.75),
    "border_white": border((255, 255, 255)), "border_black": border((0, 0, 0)),
    "border_colour": border((40, 120, 200)),
}


def probabilities(path, model_path):
    """P(anime) of the file as it is, then of each change of it."""
    model = af.load_model(model_path)
    rgb = af.load_image(path)
    out = [model.predict(path, explain=0).probabilities["anime"]]
    for change in CHANGES.values():
        out.append(model.predict(change(rgb), explain=0).probabilities["anime"])
    return out


def main():
    p = parser(__doc__)
    p.add_argument("--per-source", type=int, default=60)
    p.add_argument("--model", default=None)
    args = p.parse_args()
    started = time.time()
    dataset = read_dataset(args.data)
    rng = np.random.default_rng(args.seed)
    sources = np.asarray(dataset.sources)
    drawings = np.isin(dataset.labels, ["anime", "cartoon"])
    chosen = []
    for s in np.unique(sources[drawings]):
        idx = np.flatnonzero(drawings & (sources == s))
        chosen += sorted(rng.choice(idx, min(args.per_source, len(idx)), replace=False))
    rows = Parallel(n_jobs=args.jobs)(
        delayed(probabilities)(str(dataset.paths[i]), args.model) for i in chosen)
    P = np.asarray(rows)
    base, changed = P[:, :1], P[:, 1:]
    flips = (changed >= 0.5) != (base >= 0.5)
    low, high = UNSURE
    reversals = ((base <= low) & (changed >= high)) | ((base >= high) & (changed <= low))
    src = sources[chosen]
    report = {
        "images": len(chosen), "per_source": args.per_source,
        "model": af.load_model(args.model).info,
        "flip_rate": float(flips.mean()),
        "flip_rate_per_change": {k: float(flips[:, j].mean()) for j, k in enumerate(CHANGES)},
        "mean_abs_change_per_change": {k: float(np.abs(changed[:, j] - base[:, 0]).mean())
                                       for j, k in enumerate(CHANGES)},
        "flip_rate_per_source": {s: float(flips[src == s].mean()) for s in np.unique(src)},
        "verdict_reversal_rate": float(reversals.mean()),
        "verdict_reversal_rate_per_change": {k: float(reversals[:, j].mean())
                                             for j, k in enumerate(CHANGES)},
        "goal": 0.03,
    }
    write_json(args.out, "09_stability", report, started)
    fig, ax = plt.subplots(figsize=(9, 4))
    names = list(CHANGES)
    ax.bar(names, [report["flip_rate_per_change"][k] for k in names])
    ax.axhline(0.03, color="red", ls="--", lw=0.8, label="goal: under 3%")
    ax.set(ylabel="labels flipped", title=f"Stability on {len(chosen)} drawings")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.legend()
    save_figure(fig, args.out, "09_stability")


if __name__ == "__main__":
    main()
