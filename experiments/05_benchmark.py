"""05: where the time goes, per stage, against the decode floor, on one core.

For synthetic drawings at about 256, 512, 1024 and 2048 px on the long side, encoded as
JPEG and PNG, times (median of repeats): ``cv2.imdecode`` of the same bytes (the floor),
our ``load_image`` (full and reduced JPEG decode), the working copy, each feature
family, the model (with and without explanation), and end-to-end ``classify``.

    python experiments/05_benchmark.py [--repeats 15]
"""

import os

# One core, decided before numpy and OpenCV start their thread pools.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import io
import time

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _common import RESULTS, save_figure, write_json
from PIL import Image
from threadpoolctl import threadpool_limits

import animefeat as af
from animefeat.features import FAMILIES
from animefeat.preprocess import WORK_SIDE, working_copy

SIZES = (256, 512, 1024, 2048)


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


def timeit(fn, repeats):
    fn()  # warm caches (cascades, allocators)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1000.0


def main():
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--images", type=int, default=1200,
                   help="folder size for the throughput run")
    args = p.parse_args()
    started = time.time()
    model = af.load_model()
    rows = []
    with threadpool_limits(limits=1):
        cv2.setNumThreads(1)
        for fmt in ("JPEG", "PNG"):
            for side in SIZES:
                data = encode(drawing(side), fmt)
                rgb = af.load_image(data)
                work = working_copy(rgb)
                x = af.extract_features(work)
                row = {"format": fmt, "side": side, "bytes": len(data),
                       "floor_cv2_imdecode": timeit(
                           lambda d=data: cv2.imdecode(np.frombuffer(d, np.uint8),
                                                       cv2.IMREAD_COLOR), args.repeats),
                       "load_image": timeit(lambda d=data: af.load_image(d), args.repeats),
                       "load_image_reduced": timeit(
                           lambda d=data: af.load_image(d, max_side=2 * WORK_SIDE), args.repeats),
                       "working_copy": timeit(lambda r=rgb: working_copy(r), args.repeats)}
                for family, (fn, _) in FAMILIES.items():
                    # Each family on a fresh working copy, minus the copy itself: no shared cache.
                    total = timeit(lambda r=rgb, f=fn: f(working_copy(r)), args.repeats)
                    row[f"family.{family}"] = max(total - row["working_copy"], 0.0)
                row["model"] = timeit(lambda v=x: model.predict_vectors(v[None], explain=0),
                                      args.repeats)
                row["model_with_explanation"] = timeit(
                    lambda v=x: model.predict_vectors(v[None], explain=5), args.repeats)
                row["classify_end_to_end"] = timeit(lambda d=data: af.classify(d, model=model),
                                                    args.repeats)
                row["ratio_end_to_end_over_floor"] = (row["classify_end_to_end"]
                                                      / row["floor_cv2_imdecode"])
                rows.append(row)
                print(f"{fmt:4} {side:5}px floor {row['floor_cv2_imdecode']:7.2f} ms  "
                      f"classify {row['classify_end_to_end']:7.2f} ms  "
                      f"ratio {row['ratio_end_to_end_over_floor']:.1f}", flush=True)
    from pathlib import Path

    out = Path(args.out)
    write_json(out, "05_benchmark", {"unit": "milliseconds, median, one core",
                                     "rows": rows, "throughput": throughput(args.images)},
               started)
    plot(rows, out)


def throughput(n_images):
    """Images/s of ``animefeat classify`` on a folder of 512-px JPEGs, by --jobs.

    One OpenCV thread per process, so ``-j 1`` really is one core. The times include
    starting Python and loading the model in every worker (a few seconds), which a
    folder of 100,000 images amortises.
    """
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n_images):
            Path(tmp, f"{i:05d}.jpg").write_bytes(encode(drawing(512, seed=i), "JPEG"))
        for jobs in (1, 2):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "animefeat", "classify", tmp, "-j", str(jobs),
                            "--format", "csv", "-o", str(Path(tmp, "out.csv"))], check=True,
                           env={**os.environ, "OMP_NUM_THREADS": "1",
                                "OPENCV_FOR_THREADS_NUM": "1"})
            seconds = time.perf_counter() - t
            out[f"jobs_{jobs}"] = {"images": n_images, "seconds": round(seconds, 2),
                                   "images_per_second": round(n_images / seconds, 1)}
            print(f"classify -j {jobs}: {n_images / seconds:.1f} images/s", flush=True)
    return out


def plot(rows, out):
    stages = ["load_image_reduced", "working_copy", *[f"family.{f}" for f in FAMILIES],
              "model_with_explanation"]
    fig, axes = plt.subplots(1, 2, figsize=(14, 5), sharey=True)
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
        ax.set(xticks=x, xticklabels=[f"{r['side']} px" for r in sel],
               title=f"{fmt}: time per image by stage (one core)", ylabel="ms")
        ax.grid(axis="y", alpha=0.3)
    axes[1].legend(fontsize=8, loc="upper left")
    save_figure(fig, out, "05_benchmark")


if __name__ == "__main__":
    main()
