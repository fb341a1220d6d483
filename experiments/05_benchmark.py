"""05: where the time goes, per stage, against the decode floor, on one core.

For synthetic drawings at 256, 512, 1024 and 2048 px on the long side, and at 500 and
1000 px (powers of two take the fastest paths of libjpeg and OpenCV all the way down to
the working copy; most pictures are of other sizes), encoded as JPEG and PNG, times
(median of repeats): ``cv2.imdecode`` of the same bytes (the floor), our ``load_image``
(full and reduced JPEG decode), the working copy, each feature family, the model (with
and without explanation), end-to-end ``classify``, and, where PyTorch is installed, the CNN
peer of 03 on the same bytes (decode, resize to 128 px, forward pass; untrained weights
cost the same as trained ones). The floor and ``classify`` are also timed taking turns
(decode, classify, decode, ...), so that neither runs with caches and branch history
trained by repeating itself.

Then the throughput of ``animefeat classify`` on a folder of 512-px JPEGs at ``-j 1``
and ``-j 2``: overall (process start and worker model loads included), the fixed cost
(a run on 64 images), and the marginal rate (the remaining images over the remaining
time, which is what a folder of 100,000 images sees); the same on a Dask LocalCluster
when Dask is installed; with ``--memory-images N``, the memory of a long run.

    python experiments/05_benchmark.py [--repeats 31] [--images 3000] [--memory-images 20000]
"""

import os

# One core, decided before numpy and OpenCV start their thread pools.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import io
import time
from dataclasses import replace
from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _common import (
    DEFAULT_DATA,
    RESULTS,
    drawing,
    encode,
    interleaved,
    save_figure,
    timeit,
    timeit_after,
    write_json,
)
from PIL import Image
from threadpoolctl import threadpool_limits

import animefeat as af
from animefeat.features import FAMILIES, extract_features
from animefeat.preprocess import load_for_features, working_copy

SIZES = (256, 500, 512, 1000, 1024, 2048)


def floor(data):
    """The floor: OpenCV's decode of the encoded bytes, nothing else."""
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def main():
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=31)
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--images", type=int, default=3000,
                   help="folder size for the throughput run")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help="labelled folder whose own images are also timed (skipped if absent)")
    p.add_argument("--per-group", type=int, default=20,
                   help="images per source and label for the real-image timing")
    p.add_argument("--memory-images", type=int, default=0,
                   help="also classify a folder this big at -j 2 (hard links to 50 JPEGs) "
                        "and sample the memory of all its processes (Linux)")
    args = p.parse_args()
    started = time.time()
    model = af.load_model()
    cnn = _cnn()
    rows = []
    with threadpool_limits(limits=1):
        cv2.setNumThreads(1)
        for fmt in ("JPEG", "PNG"):
            for side in SIZES:
                data = encode(drawing(side), fmt)
                rgb = af.load_image(data)
                work = working_copy(rgb, side=model.side)
                x = af.extract_features(work, families=model.families)
                row = {"format": fmt, "side": side, "bytes": len(data),
                       "floor_cv2_imdecode": timeit(lambda d=data: floor(d), args.repeats),
                       "load_image": timeit(lambda d=data: af.load_image(d), args.repeats),
                       "load_image_reduced": timeit(
                           lambda d=data: load_for_features(d, side=model.side), args.repeats),
                       "working_copy": timeit(lambda r=rgb: working_copy(r, side=model.side),
                                                    args.repeats)}
                for family in model.families or FAMILIES:
                    fn = FAMILIES[family][0]
                    # Each family on the working copy with an empty cache: it pays for the
                    # intermediates it shares with others (grey levels, edge map), so the
                    # families add up to a little more than all features at once.
                    row[f"family.{family}"] = timeit(
                        lambda f=fn, w=work: f(replace(w, cache={})), args.repeats)
                row["features"] = timeit(
                    lambda w=work: extract_features(replace(w, cache={}),
                                                    families=model.families), args.repeats)
                local = None
                if model.local is not None:
                    # The local patterns: dense SIFT on the working copy, then the
                    # encoder and the logistic regression.
                    patches = model.patches(work)
                    local = [patches.descriptors]
                    # An empty cache each time: the copy keeps the patches it was asked for.
                    row["local.patches"] = timeit(
                        lambda w=work: model.patches(replace(w, cache={})), args.repeats)
                    row["local.encode_and_score"] = timeit(
                        lambda d=local: model.local.decision_function(d), args.repeats)
                    row["local.patches_per_image"] = len(patches)
                # The reasons' check: the style head's features on a re-encoded copy.
                row["recheck"] = timeit(lambda w=work: model.recheck(replace(w, cache={})),
                                        args.repeats)
                row["model"] = timeit(
                    lambda v=x, d=local: model.predict_vectors(v[None], explain=0, descriptors=d),
                    args.repeats)
                row["model_with_explanation"] = timeit(
                    lambda v=x, d=local: model.predict_vectors(v[None], explain=5, descriptors=d),
                    args.repeats)
                # The same right after the features, as in classify: their data has
                # pushed the model's trees out of the caches.
                row["model_with_explanation_after_features"] = timeit_after(
                    lambda w=work: extract_features(replace(w, cache={}),
                                                    families=model.families),
                    lambda v=x, d=local: model.predict_vectors(v[None], explain=5, descriptors=d),
                    args.repeats)
                row["classify_end_to_end"] = timeit(lambda d=data: af.classify(d, model=model),
                                                    args.repeats)
                row["ratio_end_to_end_over_floor"] = (row["classify_end_to_end"]
                                                      / row["floor_cv2_imdecode"])
                # The floor above repeats one decode back to back, so its tables, code
                # and branch history stay warm; classify's stages push each other out.
                # Taking turns puts both in the same state.
                floor_turns, classify_turns = interleaved(
                    [lambda d=data: floor(d), lambda d=data: af.classify(d, model=model)],
                    args.repeats)
                row["floor_interleaved"] = floor_turns
                row["classify_interleaved"] = classify_turns
                row["ratio_interleaved"] = classify_turns / floor_turns
                if cnn is not None:
                    row["cnn_peer_end_to_end"] = timeit(lambda d=data: cnn(d), args.repeats)
                rows.append(row)
                print(f"{fmt:4} {side:5}px floor {row['floor_cv2_imdecode']:7.2f} ms  "
                      f"classify {row['classify_end_to_end']:7.2f} ms  "
                      f"ratio {row['ratio_end_to_end_over_floor']:.1f}  "
                      f"(taking turns: {row['ratio_interleaved']:.1f})", flush=True)
        real = real_images(args.data, model, args.per_group, cnn)
    out = Path(args.out)
    write_json(out, "05_benchmark", {"unit": "milliseconds, median, one core",
                                     "model_families": list(model.families or FAMILIES),
                                     "cnn_peer": "measured" if cnn else "torch not installed",
                                     # skops imports PyTorch, when installed, as it loads a
                                     # model: about 1.5 s more on every process start.
                                     "torch_installed": cnn is not None,
                                     "rows": rows, "real_images": real,
                                     "throughput": throughput(args.images),
                                     "memory": memory(args.memory_images)},
               started)
    plot(rows, out, model.families or list(FAMILIES))


def real_images(folder, model, per_group, cnn, repeats=7):
    """``classify`` on the labelled folder's own files, against their decode floor.

    The synthetic drawings above have flat fills, on which the face searches reject
    most windows at once; real images (and faces, whose eyes are then searched) cost
    more. ``faces_found``: images where the drawn-face detector found a face. For
    every source and label, ``per_group`` files spread over the manifest:
    the median over images of each image's median time.
    """
    if not Path(folder, "manifest.csv").is_file():
        print(f"no labelled folder at {folder}: real images not timed")
        return None
    from animefeat.data import read_dataset
    from animefeat.features import face

    dataset = read_dataset(folder)
    groups = {}
    for path, source, label in zip(dataset.paths, dataset.sources, dataset.labels):
        groups.setdefault(f"{source}/{label}", []).append(path)
    out = {}
    for name, paths in sorted(groups.items()):
        picked = paths[::max(1, len(paths) // per_group)][:per_group]
        rows = {"floor": [], "classify": [], "family.face": [], "cnn": [], "faces_found": 0,
                "long_side": []}
        for path in picked:
            data = Path(path).read_bytes()
            work = working_copy(load_for_features(data, side=model.side), side=model.side)
            rows["faces_found"] += len(face.drawn_faces(work)[0]) > 0
            rows["long_side"].append(max(Image.open(io.BytesIO(data)).size))  # header only
            rows["floor"].append(timeit(lambda d=data: floor(d), repeats))
            rows["classify"].append(timeit(lambda d=data: af.classify(d, model=model), repeats))
            rows["family.face"].append(timeit(
                lambda w=work: face.face_features(replace(w, cache={})), repeats))
            if cnn is not None:
                rows["cnn"].append(timeit(lambda d=data: cnn(d), repeats))
        out[name] = {"images": len(picked), "faces_found": rows["faces_found"],
                     "long_side_median": float(np.median(rows["long_side"])),
                     **{k: float(np.median(rows[k])) for k in
                        ("floor", "classify", "family.face", "cnn") if rows[k]},
                     "ratio_median": float(np.median(np.array(rows["classify"])
                                                     / np.array(rows["floor"])))}
        print(f"{name:20} {out[name]}", flush=True)
    return out


def _cnn():
    """The 03 CNN peer's per-image cost on given bytes, or None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    import importlib

    torch.set_num_threads(1)
    peer = importlib.import_module("03_cnn_peer")
    net = peer.build(torch).eval()

    return lambda data: peer.predict_one(torch, net, data)


def throughput(n_images, rounds=3, fixed_images=64):
    """Images/s of ``animefeat classify`` on a folder of 512-px JPEGs, by --jobs.

    One OpenCV thread per process, so ``-j 1`` really is one core. A run on
    ``fixed_images`` images (four blocks, so that every worker starts and loads the
    model) measures the fixed cost (starting Python, importing, loading the model in the
    main process and in every worker); the marginal rate is the rest of the big folder
    over the rest of the time, which is what a folder of 100,000 images sees. The
    machine's speed drifts over minutes, so the runs of all settings take turns,
    ``rounds`` times, and each time is the median of its rounds.
    """
    import subprocess
    import tempfile

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for n in (fixed_images, n_images):
            folder = Path(tmp, f"n{n}")
            folder.mkdir()
            for i in range(n):
                Path(folder, f"{i:05d}.jpg").write_bytes(encode(drawing(512, seed=i), "JPEG"))
            folders[n] = folder
        runs = {"jobs_1": ["-j", "1"], "jobs_2": ["-j", "2"]}
        if _has_dask():
            # The same job on a Dask LocalCluster of two single-threaded worker processes.
            runs["dask_local_2"] = ["-j", "2", "--scheduler", "local"]
        seconds = {(name, n): [] for name in runs for n in folders}
        for _ in range(rounds):
            for name, flags in runs.items():
                for n, folder in folders.items():
                    t = time.perf_counter()
                    subprocess.run(_classify_command(folder, Path(tmp, "out.csv"), *flags),
                                   check=True, env=ONE_THREAD_ENV)
                    seconds[name, n].append(time.perf_counter() - t)
        for name, flags in runs.items():
            big = float(np.median(seconds[name, n_images]))
            fixed = float(np.median(seconds[name, fixed_images]))
            out[name] = {
                "images": n_images, "rounds": rounds, "fixed_images": fixed_images,
                "seconds": round(big, 2),
                "images_per_second": round(n_images / big, 1),
                "marginal_images_per_second": round((n_images - fixed_images) / (big - fixed), 1),
                "fixed_seconds": round(fixed, 2)}
            print(f"classify {' '.join(flags)}: {out[name]}", flush=True)
    return out


# One BLAS/OpenMP and one OpenCV thread per process, so that -j N means N cores.
ONE_THREAD_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENCV_FOR_THREADS_NUM": "1"}


def _classify_command(folder, out_csv, *flags):
    """``animefeat classify`` of a folder to CSV, as a user would run it."""
    import sys

    return [sys.executable, "-m", "animefeat", "classify", str(folder), *flags,
            "--format", "csv", "-o", str(out_csv)]


def memory(n_images):
    """Resident memory over a long ``classify -j 2`` run: main process and workers."""
    if not n_images:
        return None
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        sources = []
        for i in range(50):
            sources.append(Path(tmp, f"src{i:02d}.jpg"))
            sources[-1].write_bytes(encode(drawing(512, seed=i), "JPEG"))
        for i in range(n_images):
            folder = Path(tmp, "imgs", f"{i // 1000:03d}")
            folder.mkdir(parents=True, exist_ok=True)
            os.link(sources[i % 50], folder / f"{i:06d}.jpg")
        t = time.perf_counter()
        proc = subprocess.Popen(_classify_command(Path(tmp, "imgs"), Path(tmp, "out.csv"),
                                                  "-j", "2"),
                                stderr=subprocess.DEVNULL, env=ONE_THREAD_ENV)
        samples = []
        while proc.poll() is None:
            samples.append([round(time.perf_counter() - t, 1), *_tree_rss_mib(proc.pid)])
            time.sleep(2)
        seconds = time.perf_counter() - t
        rows = sum(1 for _ in open(Path(tmp, "out.csv"))) - 1
    # The steady state: past the first quarter of the run (start-up, model loads) and
    # while every worker is alive (a sample taken as they exit reads only the main one).
    workers = max(n for _, _, n in samples)
    steady = [m for s, m, n in samples if s > seconds / 4 and n == workers and m]
    steady = steady or [m for _, m, _ in samples if m]
    print(f"memory run: {n_images} images in {seconds:.0f} s, RSS {min(steady)}-{max(steady)} MiB")
    return {"images": n_images, "rows_written": rows, "seconds": round(seconds, 1),
            "images_per_second": round(n_images / seconds, 1),
            "rss_mib_steady": {"min": min(steady), "max": max(steady)},
            "samples_seconds_mib_processes": samples}


def _tree_rss_mib(pid):
    """Resident memory of a process and all its descendants, in MiB (from /proc), and
    how many processes that is."""
    total, todo, count = 0, [pid], 0
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
            count += 1
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            continue
    return total // 1024, count


def _has_dask():
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def plot(rows, out, families):
    stages = ["load_image_reduced", "working_copy", *[f"family.{f}" for f in families],
              "model_with_explanation"]
    fig, (*axes, detail) = plt.subplots(1, 3, figsize=(18, 5.5))
    for ax, fmt in zip(axes, ("JPEG", "PNG")):
        sel = [r for r in rows if r["format"] == fmt]
        x = np.arange(len(sel))
        bottom = np.zeros(len(sel))
        for k, stage in enumerate(stages):
            vals = np.array([r[stage] for r in sel])
            ax.bar(x, vals, 0.6, bottom=bottom, label=stage, color=f"C{k % 10}")
            bottom += vals
        ax.plot(x, [r["floor_cv2_imdecode"] for r in sel], "k_", ms=40, mew=2,
                label="floor: cv2.imdecode")
        ax.plot(x, [5 * r["floor_cv2_imdecode"] for r in sel], "k_", ms=40, mew=1, alpha=0.4,
                label="goal: 5 x floor")
        ax.plot(x, [r["classify_end_to_end"] for r in sel], "ko", ms=6,
                label="classify, end to end (families share intermediates)")
        top = max(bottom.max(), max(r["classify_end_to_end"] for r in sel))
        if "cnn_peer_end_to_end" in sel[0]:
            ax.plot(x, [r["cnn_peer_end_to_end"] for r in sel], "rx", ms=10,
                    label="CNN peer, end to end")
            top = max(top, max(r["cnn_peer_end_to_end"] for r in sel))
        # Each panel on its own scale: the goal line of a 2048-px PNG would flatten the rest.
        ax.set_ylim(0, 1.15 * top)
        ax.set(xticks=x, xticklabels=[f"{r['side']} px" for r in sel],
               title=f"{fmt}: time per image by stage (one core)", ylabel="ms")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=7, loc="upper left")
    # The goal's case in detail: each stage of a 512-px JPEG against the floor and 5x it.
    r = next(r for r in rows if r["format"] == "JPEG" and r["side"] == 512)
    y = np.arange(len(stages))
    detail.barh(y, [r[s] for s in stages], color=[f"C{k % 10}" for k in range(len(stages))])
    detail.set(yticks=y, yticklabels=[s.replace("family.", "") for s in stages],
               xlabel="ms", title="512-px JPEG: each stage alone (warm)")
    detail.invert_yaxis()
    for value, style, label in ((r["floor_cv2_imdecode"], "k-", "floor"),
                                (5 * r["floor_cv2_imdecode"], "k--", "goal: 5 x floor"),
                                (sum(r[s] for s in stages), "b:", "sum of the stages"),
                                (r["classify_end_to_end"], "r-", "classify, end to end")):
        detail.axvline(value, color=style[0], ls=style[1:], lw=1.2, label=f"{label} {value:.2f}")
    detail.legend(fontsize=7, loc="lower right")
    detail.grid(axis="x", alpha=0.3)
    save_figure(fig, out, "05_benchmark")


if __name__ == "__main__":
    main()
