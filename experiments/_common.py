"""What the numbered experiment scripts share: arguments, data, cached features, output."""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

import animefeat
from animefeat.data import read_dataset
from animefeat.model import (
    DEFAULT_MODEL,
    card_path,
    environment,
    load_model,
    union_families,
)
from animefeat.preprocess import WORK_SIDE
from animefeat.stack import LOCAL_PARAMS
from animefeat.training import (
    descriptor_sets,
    drawing_check_metrics,
    drawing_held_out,
    drawing_threshold,
    evaluate_recipe,
    feature_table,
    held_out_drawing_check,
    metrics,
    near_duplicate_groups,
    stacked_cross_validate,
    stacked_leave_one_source_out,
    stacked_report,
)

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "datasets" / "anime-cartoon"
RESULTS = HERE / "results"


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled folder")
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    p.add_argument("--jobs", "-j", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    return p


def _shipped_hyperparameters():
    return json.loads(card_path(DEFAULT_MODEL).read_text())["hyperparameters"]


def shipped_params():
    """The booster parameters and seed recorded on the shipped model's card."""
    hyper = _shipped_hyperparameters()
    return hyper["booster"], hyper["seed"]


def shipped_families():
    """The feature families the shipped model uses (None: all)."""
    return _shipped_hyperparameters()["families"]


def shipped_drawing_families():
    """The feature families of the shipped model's drawing check (None: all)."""
    hyper = _shipped_hyperparameters()
    return hyper.get("drawing_families", hyper["families"])


def shipped_side():
    """The working side the shipped model's features are measured at."""
    return _shipped_hyperparameters().get("working_side", WORK_SIDE)


def shipped_card():
    """The shipped model's card."""
    return json.loads(card_path(DEFAULT_MODEL).read_text())


def shipped_recipe():
    """Everything :func:`animefeat.training.evaluate_recipe` needs to redo the card's
    evaluation: the families of both heads, the booster, the seed, the nested candidates,
    and the families the training table held (so that the cached table is found)."""
    card = shipped_card()
    hyper = card["hyperparameters"]
    nested = card["metrics"].get("nested_leave_one_source_out", {}).get("candidates")
    table = union_families(hyper["families"], hyper["drawing_families"],
                           *(nested or {}).get("families", []))
    return {"families": hyper["families"], "drawing_families": hyper["drawing_families"],
            "params": hyper["booster"], "seed": hyper["seed"], "nested": nested,
            "table_families": table}


class Data:
    """Dataset, cached feature table, labels and near-duplicate groups.

    ``table`` holds the columns of ``families`` (all by default) and ``drawing_table``
    those of the shipped drawing check, cut from one cached table of every family
    (``full``), so that experiments on different families share it.
    """

    def __init__(self, args, *, families=None, side=None, computed=None):
        self.dataset = read_dataset(args.data)
        self.side = shipped_side() if side is None else side
        self.computed = computed
        full = feature_table(self.dataset, families=computed, seed=args.seed,
                             n_jobs=args.jobs, cache_dir=RESULTS / "cache", side=self.side)
        self.full = full
        self.table = full.select_families(families, of=computed)
        self.drawing_table = full.select_families(shipped_drawing_families(), of=computed)
        self.labels = np.asarray(self.dataset.labels)
        self.sources = np.asarray(self.dataset.sources)
        self.drawings = np.isin(self.labels, ["anime", "cartoon"])
        self.y = (self.labels == "anime").astype(int)
        self.y_drawing = self.drawings.astype(int)
        cached = RESULTS / "cache" / f"groups-{self.dataset.manifest_sha256[:16]}.npy"
        if cached.is_file():
            self.groups = np.load(cached)
        else:
            self.groups = near_duplicate_groups(self.dataset.paths)
            cached.parent.mkdir(parents=True, exist_ok=True)
            np.save(cached, self.groups)

    def image_rows(self):
        """Each dataset image's own row of ``full`` (its degraded copy left out), in the
        dataset's order: shape (n_images, n_features)."""
        rows = self.full.without_augmented()
        return rows.X[np.argsort(rows.origin)]


def write_json(out, name, payload, started):
    out.mkdir(parents=True, exist_ok=True)
    payload = {"experiment": name, "seconds": round(time.time() - started, 1),
               "animefeat": animefeat.__version__, "environment": environment(), **payload}
    path = out / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {path}")
    return path


def save_figure(fig, out, name):
    """Lay out ``fig`` and write it as ``out/name.png``."""
    fig.tight_layout()
    path = out / f"{name}.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")
    return path


def shipped_evaluation(args):
    """The shipped card's evaluation redone (:func:`~animefeat.training.evaluate_recipe`;
    read from the cache that training left when it used ``results/cache``).

    Returns
    -------
    recipe : dict
        :func:`shipped_recipe`.
    data : Data
        With the training table's families.
    report, held_out : dict
        As :func:`~animefeat.training.evaluate_recipe` returns them.
    """
    recipe = shipped_recipe()
    data = Data(args, families=recipe["families"], computed=recipe["table_families"])
    report, held_out = evaluate_recipe(
        data.full, of=recipe["table_families"], families=recipe["families"],
        drawing_families=recipe["drawing_families"], params=recipe["params"],
        seed=recipe["seed"], nested=recipe["nested"], groups=data.groups,
        cache_dir=RESULTS / "cache")
    return recipe, data, report, held_out


def shipped_stack(args, recipe, data, held_out):
    """The card's combined head (structure and local patterns) with each source left out
    (:func:`~animefeat.training.stacked_leave_one_source_out`, read from the cache that
    training left), or None for a model without a local head.

    Returns
    -------
    report : dict or None
        :func:`~animefeat.training.metrics` of the stack, with ``views`` (structure and
        local patterns alone) and ``combiner_weights``.
    proba : dict or None
        ``structure``, ``local``, ``stack``: held-out P(anime) per image.
    """
    local = shipped_card()["hyperparameters"].get("local")
    if not local:
        return None, None
    # The patches the shipped local head reads, its line filter included (as the model
    # reads its card).
    grid = load_model().local_grid
    cache = RESULTS / "cache"
    sets = descriptor_sets(data.dataset, side=data.side, n_jobs=args.jobs, cache_dir=cache,
                           **grid)
    copies = (descriptor_sets(data.dataset, side=data.side, n_jobs=args.jobs, cache_dir=cache,
                              degraded=True, seed=recipe["seed"], **grid)
              if local.get("degraded_copies") else None)
    choices = held_out["choices"] or {
        str(s): {"families": recipe["families"], "params": recipe["params"], "augment": True}
        for s in np.unique(data.sources[data.drawings])}
    proba, weights = stacked_leave_one_source_out(
        data.full, data.y, sets, choices=choices, of=recipe["table_families"],
        mask=data.drawings, seed=recipe["seed"], cache_dir=cache, copies=copies,
        local_params={k: local[k] for k in LOCAL_PARAMS}, grid=grid)
    d = data.drawings
    report = stacked_report(data.y[d], {v: p[d] for v, p in proba.items()}, data.sources[d])
    report["combiner_weights"] = weights
    # Pooled CV of the same combination, on the shipped structural recipe.
    cv = stacked_cross_validate(
        data.full, data.y, sets, groups=data.groups, of=recipe["table_families"],
        recipe={"families": recipe["families"], "params": recipe["params"], "augment": True},
        mask=data.drawings, seed=recipe["seed"], cache_dir=cache, copies=copies,
        local_params={k: local[k] for k in LOCAL_PARAMS}, grid=grid)
    report["cv"] = metrics(data.y[d], cv["stack"][d], data.sources[d])
    return report, proba


def photo_check(data, table, seed):
    """The drawing-vs-photo check held out as in training
    (:func:`~animefeat.training.drawing_held_out`, the shipped drawing booster's recipe),
    each source measured at a threshold chosen without it
    (:func:`~animefeat.training.held_out_drawing_check`); beside it, as ``fitted_on_graded``,
    the rule before: one threshold chosen on every drawing source, the graded one too.

    Returns
    -------
    report : dict
    proba : ndarray of shape (n_images,)
        Held-out P(drawing) of every image.
    """
    proba, protocol = drawing_held_out(table, data.y_drawing, groups=data.groups, seed=seed)
    report = held_out_drawing_check(data.y_drawing, proba, data.sources)
    report["protocol"] = protocol
    report["fitted_on_graded"] = fitted_on_graded(data, proba)
    return report, proba


def fitted_on_graded(data, proba):
    """The photo check as it was graded before: one threshold chosen on the held-out
    scores of every drawing source, the graded source among them."""
    threshold = drawing_threshold(data.y_drawing, proba, sources=data.sources)
    return drawing_check_metrics(data.y_drawing, proba, data.sources, threshold)


def drawing(side, seed=0):
    """A cartoon-like test drawing with flat fills, outlines and a gradient sky."""
    rng = np.random.default_rng(seed)
    h, w = int(side * 0.75), side
    y = np.linspace(0, 1, h)[:, None, None]
    img = (np.array([120, 170, 230]) * (1 - y) + np.array([230, 240, 250]) * y)
    img = np.repeat(img, w, axis=1).astype(np.uint8).copy()
    for _ in range(12):
        c = tuple(int(v) for v in rng.integers(0, [w, h]))
        r = int(rng.integers(side // 20, side // 6))
        colour = tuple(int(v) for v in rng.integers(30, 250, 3))
        cv2.circle(img, c, r, colour, -1, cv2.LINE_AA)
        cv2.circle(img, c, r, (20, 20, 20), max(1, side // 150), cv2.LINE_AA)
    return img


def encode(img, fmt):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def interleaved(fns, repeats):
    """Median ms of each of ``fns`` when they take turns, each right after the others."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, spent in zip(fns, times):
            t = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - t)
    return [float(np.median(spent)) * 1000.0 for spent in times]


def timeit_after(prepare, fn, repeats):
    """Median ms of ``fn()`` run right after ``prepare()``, which is not counted."""
    return interleaved([prepare, fn], repeats)[1]


def timeit(fn, repeats):
    """Median ms of ``fn()``, after one untimed call (cascades, allocators)."""
    return interleaved([fn], repeats)[0]
