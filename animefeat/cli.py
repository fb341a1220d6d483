"""The ``animefeat`` command: classify, extract, train, evaluate, serve."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
from pathlib import Path

import numpy as np

from ._version import __version__
from .exceptions import AnimefeatError
from .explain import grouped
from .preprocess import WORK_SIDE

__all__ = ["main"]

EXIT_OK, EXIT_SOME_FAILED, EXIT_ERROR = 0, 1, 2


def main(argv=None):
    """Entry point of the ``animefeat`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except AnimefeatError as exc:
        print(f"animefeat: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("animefeat: interrupted", file=sys.stderr)
        return 130


def _parser():
    parser = argparse.ArgumentParser(
        prog="animefeat", description="Tell anime from western cartoon art, explainably.")
    parser.add_argument("--version", action="version", version=f"animefeat {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("classify", help="classify image files and folders")
    _add_inputs(p)
    p.add_argument("--format", choices=["table", "csv", "jsonl"], default="table",
                   help="output format (default: table)")
    p.add_argument("--output", "-o", type=Path, help="write here instead of standard output")
    p.add_argument("--explain", type=int, default=3, metavar="N",
                   help="reasons per image in csv/jsonl output (default: 3)")
    p.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    p.set_defaults(func=_classify)

    p = sub.add_parser("extract", help="write the feature matrix of images to .npz or .parquet")
    _add_inputs(p)
    p.add_argument("--out", "-o", type=Path, required=True, help="target .npz or .parquet")
    p.add_argument("--families", nargs="+", help="feature families (default: all)")
    p.set_defaults(func=_extract)

    p = sub.add_parser("train", help="train a model from a labelled folder")
    p.add_argument("data", type=Path, help="folder with manifest.csv or <label>/ sub-folders")
    p.add_argument("--out", "-o", type=Path, required=True, help="model file (.skops)")
    p.add_argument("--name", default="anime-cartoon")
    p.add_argument("--model-version", default="1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-search", action="store_true", help="skip the hyperparameter search")
    p.add_argument("--no-augment", action="store_true", help="no degraded training copies")
    p.add_argument("--no-evaluate", action="store_true",
                   help="skip the held-out metrics on the card")
    p.add_argument("--families", nargs="+",
                   help="feature families of the anime/cartoon head (default: all)")
    p.add_argument("--drawing-families", nargs="+",
                   help="feature families of the drawing-vs-photo check (default: all but "
                        "face, whose detector was trained on evaluation sources)")
    p.add_argument("--recipes", action="store_true",
                   help="choose the style head's families, booster and degraded copies among "
                        "the shipped candidates (animefeat.training.RECIPE_CANDIDATES) on "
                        "sources held out, instead of --families and the booster grid")
    p.add_argument("--local", action="store_true",
                   help="also read local patterns (dense SIFT as a Fisher vector), combined "
                        "with the structure by weights learnt on sources held out")
    p.add_argument("--nested", action="store_true",
                   help="also evaluate that choice by nested leave-one-source-out (every "
                        "choice made without the source scored; slow) and put it on the card")
    p.add_argument("--drop-unknown-labels", action="store_true",
                   help="leave out images whose label is not anime, cartoon or photo "
                        "(default: refuse them)")
    p.add_argument("--side", type=int, default=WORK_SIDE,
                   help=f"long side of the working copy, px (default {WORK_SIDE})")
    p.add_argument("--jobs", "-j", type=int, default=1, help="parallel workers")
    p.add_argument("--cache", type=Path, help="feature cache folder")
    p.set_defaults(func=_train)

    p = sub.add_parser("evaluate", help="accuracy of a model on a labelled folder")
    p.add_argument("data", type=Path)
    p.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    p.add_argument("--jobs", "-j", type=int, default=1)
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("serve", help="serve the web page and JSON API with waitress")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    p.add_argument("--max-upload-mb", type=float, default=16.0,
                   help="largest request body; larger gets 413 (default: 16)")
    p.add_argument("--max-pixels", type=int, default=50_000_000,
                   help="largest width x height, checked before decoding (default: 50e6)")
    p.add_argument("--timeout", type=int, default=30,
                   help="seconds a client connection may stay idle/slow (default: 30)")
    p.set_defaults(func=_serve)
    return parser


def _add_inputs(p):
    p.add_argument("paths", nargs="+", help="image files or folders; '-' reads paths from stdin")
    p.add_argument("--glob", default="*", help="file name pattern inside folders (default: *)")
    p.add_argument("--jobs", "-j", type=int, default=1, help="parallel workers (default: 1)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask cluster: a scheduler address (tcp://host:8786) or "
                        "'local' for a LocalCluster on this machine (needs the [dask] extra)")


@contextlib.contextmanager
def _backend(args):
    """joblib's default backend, or Dask's when --scheduler names a cluster."""
    if not getattr(args, "scheduler", None):
        yield args.jobs
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise AnimefeatError("--scheduler needs Dask: pip install 'animefeat[dask]'") from None
    from joblib import parallel_config

    if args.scheduler == "local":
        cluster = LocalCluster(n_workers=max(args.jobs, 1), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        cluster, client = None, Client(args.scheduler)
    try:
        with parallel_config(backend="dask"):
            # Every worker of the cluster takes part, whatever --jobs says.
            yield -1
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _expand(args):
    from .data import iter_image_files

    raw = []
    for item in args.paths:
        if item == "-":
            raw.extend(line.strip() for line in sys.stdin if line.strip())
        else:
            raw.append(item)
    return [str(p) for p in iter_image_files(raw, pattern=args.glob)]


def _progress(total):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="img", file=sys.stderr, disable=total < 20 or None)


def _classify(args):
    from joblib import Parallel, delayed

    from .model import DEFAULT_MODEL, load_model, verify_model_file

    # Fail early, with a clear ModelError, on a bad model file. With workers, only they
    # need the model: here its card and hash are checked, not loaded (a second or more).
    if args.jobs == 1 and not getattr(args, "scheduler", None):
        load_model(args.model)
    else:
        verify_model_file(args.model or DEFAULT_MODEL)
    model_path = str(args.model) if args.model else None
    paths = _expand(args)
    out = open(args.output, "w", newline="") if args.output else sys.stdout
    writer = _Writer(args.format, out, args.explain)
    failed = 0
    # Workers classify whole blocks (features, model and explanation: each worker loads
    # the model once), so the main process only writes rows and nothing serial throttles
    # the workers. Results stream back in order as blocks finish (no barrier between
    # batches), and only a few blocks per worker are in flight: memory stays flat for
    # 100,000 files.
    block = 16
    bar = _progress(len(paths))
    try:
        with _backend(args) as n_jobs:
            parallel = Parallel(n_jobs=n_jobs, return_as="generator", pre_dispatch="4*n_jobs")
            starts = range(0, len(paths), block)
            results = parallel(delayed(_classify_block)(paths[i:i + block], model_path,
                                                        args.explain) for i in starts)
            for start, block_results in zip(starts, results):
                part = paths[start:start + block]
                for path, result in zip(part, block_results):
                    if isinstance(result, str):
                        failed += 1
                        writer.error(path, result)
                    else:
                        writer.row(path, result)
                bar.update(len(part))
    finally:
        bar.close()
        writer.close()
        if args.output:
            out.close()
    if failed:
        print(f"animefeat: {failed} of {len(paths)} files failed", file=sys.stderr)
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _classify_block(paths, model_path, explain):
    """Predictions (or error messages) for a few files, in a worker process."""
    from .model import classify_many, load_model

    results = classify_many(paths, model=load_model(model_path), explain=explain,
                            on_error="return")  # the model is cached per process
    return [str(r) if isinstance(r, AnimefeatError) else r for r in results]


class _Writer:
    """One row per file in the chosen format; errors go in their row."""

    COLUMNS = ("path", "verdict", "label", "confident", "p_anime", "p_cartoon", "is_drawing",
               "p_drawing", "reasons", "error")

    def __init__(self, fmt, out, explain):
        self.fmt, self.out, self.explain = fmt, out, explain
        if fmt == "csv":
            self.csv = csv.writer(out)
            self.csv.writerow(self.COLUMNS)
        elif fmt == "table":
            out.write(f"{'label':8} {'p_anime':>7} {'drawing':>7}  path\n")

    def row(self, path, pred):
        reasons = " | ".join(
            f"points to {side}: " + "; ".join(c.text for c in items)
            for side, items in grouped(pred.explanation[:self.explain], pred.label))
        if self.fmt == "jsonl":
            self.out.write(json.dumps({"path": path, **pred.to_dict()}) + "\n")
        elif self.fmt == "csv":
            verdict = "PHOTO" if not pred.is_drawing else pred.verdict
            self.csv.writerow([path, verdict, pred.label, pred.confident,
                               f"{pred.probabilities['anime']:.4f}",
                               f"{pred.probabilities['cartoon']:.4f}", pred.is_drawing,
                               f"{pred.drawing_probability:.4f}", reasons, ""])
        else:
            flag = "yes" if pred.is_drawing else "no"
            # "anime?": a lean between 35% and 65%, not a verdict; PHOTO: no style answer.
            label = ("PHOTO" if not pred.is_drawing
                     else pred.label if pred.confident else f"{pred.label}?")
            self.out.write(f"{label:8} {pred.probabilities['anime']:7.3f} {flag:>7}  "
                           f"{path}\n")

    def error(self, path, message):
        if self.fmt == "jsonl":
            self.out.write(json.dumps({"path": path, "error": message}) + "\n")
        elif self.fmt == "csv":
            self.csv.writerow([path, "", "", "", "", "", "", "", "", message])
        else:
            self.out.write(f"{'ERROR':8} {'':7} {'':7}  {path}: {message}\n")

    def close(self):
        self.out.flush()


def _extract(args):
    from .estimator import FeatureExtractor

    paths = _expand(args)
    bar = _progress(len(paths))
    parts = []
    with _backend(args) as n_jobs:
        extractor = FeatureExtractor(families=args.families, n_jobs=n_jobs, on_error="nan").fit()
        for start in range(0, len(paths), 256):
            parts.append(extractor.transform(paths[start:start + 256]))
            bar.update(len(paths[start:start + 256]))
    bar.close()
    X = np.vstack(parts) if parts else np.zeros((0, extractor.n_features_out_))
    names = [str(n) for n in extractor.get_feature_names_out()]
    failed = int(np.isnan(X).all(axis=1).sum())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise AnimefeatError("writing .parquet needs pyarrow (pip install pyarrow); "
                                 "or write .npz") from None
        table = pa.table({"path": paths, **{n: X[:, i] for i, n in enumerate(names)}})
        pq.write_table(table, args.out)
    else:
        np.savez_compressed(args.out, X=X, feature_names=np.array(names),
                            paths=np.array(paths))
    print(f"wrote {X.shape[0]} x {X.shape[1]} features to {args.out}", file=sys.stderr)
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _train(args):
    from .data import read_dataset
    from .training import DRAWING_FAMILIES, RECIPE_CANDIDATES, train

    data = read_dataset(args.data,
                        unknown_labels="drop" if args.drop_unknown_labels else "error")
    model = train(data, name=args.name, version=args.model_version, seed=args.seed,
                  families=args.families, search=not args.no_search,
                  augment=not args.no_augment, evaluate=not args.no_evaluate,
                  n_jobs=args.jobs, cache_dir=args.cache, side=args.side,
                  drawing_families=args.drawing_families or DRAWING_FAMILIES,
                  candidates=RECIPE_CANDIDATES if args.recipes else None,
                  nested=args.nested, local=args.local)
    path = model.save(args.out)
    summary = {"model": str(path), "metrics": model.card["metrics"]}
    print(json.dumps(summary, indent=2))
    return EXIT_OK


def _evaluate(args):
    from .data import read_dataset
    from .model import load_model
    from .training import metrics

    model = load_model(args.model)
    dataset = read_dataset(args.data)
    labels = np.asarray(dataset.labels)
    keep = np.isin(labels, ["anime", "cartoon"])
    sub = dataset.subset(keep)
    preds = _classify_paths(model, [str(p) for p in sub.paths], args.jobs)
    ok = np.array([p is not None for p in preds])
    proba = np.array([p.probabilities["anime"] if p is not None else np.nan for p in preds])
    y = (labels[keep] == "anime").astype(int)
    report = metrics(y[ok], proba[ok], np.asarray(sub.sources)[ok])
    report["failed"] = int((~ok).sum())
    print(json.dumps(report, indent=2))
    return EXIT_OK


def _classify_paths(model, paths, jobs):
    from .model import classify_many

    results = classify_many(paths, model=model, n_jobs=jobs, explain=0, on_error="return")
    return [None if isinstance(r, AnimefeatError) else r for r in results]


def _serve(args):
    from animefeat_web import create_app
    from waitress import serve

    from .io import Limits

    app = create_app({"MODEL_PATH": str(args.model) if args.model else None,
                      "MAX_CONTENT_LENGTH": int(args.max_upload_mb * 1024 * 1024),
                      "IMAGE_LIMITS": Limits(max_pixels=args.max_pixels)})
    print(f"animefeat: serving on http://{args.host}:{args.port}", file=sys.stderr)
    # channel_timeout drops slow or idle clients. Flask answers over-limit bodies with a
    # JSON 413; waitress's own (plain-text) limit sits above it, against absurd bodies.
    serve(app, host=args.host, port=args.port, threads=args.threads,
          channel_timeout=args.timeout,
          max_request_body_size=2 * app.config["MAX_CONTENT_LENGTH"] + 2**20)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
