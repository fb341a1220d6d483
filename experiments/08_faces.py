"""08: does the drawn-face detector find faces, and do faces help the style model?

(a) Recall and false faces against known boxes: held-out face crops (never trained on,
    see ``animefeat.detect.train.held_out``) pasted at random places and sizes (40-300
    px) into held-out images of every background source, two per image; a face counts
    as found when a detection overlaps it by IoU >= 0.4. Goal: recall >= 85% at <= 0.1
    false faces per image. Painted scenes and character art hold faces of their own
    that nobody marked, so a "false" face there is often a real one: the photographs
    (scene-photos) are the clean measure of false faces, and the contact sheet of (b)
    shows what the detector finds on art.
(b) On real character art (newgame-art, onepiece-art, simpsons-art), the share of
    images with a face found (goal >= 70%), other sources for comparison, and a
    contact sheet of 48 detections (PNG) so a person can judge precision.
(c) The style model's leave-one-source-out accuracy with and without the face family
    (the shipped recipe's families, booster and calibration).
(d) Cost: median detection time on a 512-px image, one core.

    python experiments/08_faces.py [--data DIR] [--per-source 80] [--seed 0]
"""

import itertools
import time

import cv2
import matplotlib

matplotlib.use("Agg")
import numpy as np
from _common import Data, parser, shipped_families, shipped_params, write_json
from PIL import Image

import animefeat as af
from animefeat.data import read_dataset
from animefeat.detect.detector import load_detector
from animefeat.detect.train import face_crop, held_out, iou, match, paste_faces
from animefeat.features import FAMILIES, feature_names
from animefeat.training import leave_one_source_out, metrics
from animefeat.training.evaluation import _default_make

BACKGROUNDS = ("scene-photos", "dexter-frames", "scooby-frames", "ghibli-stills",
               "newgame-art", "onepiece-art", "simpsons-art")
ART = ("newgame-art", "onepiece-art", "simpsons-art")
OTHERS = ("dexter-frames", "scooby-frames", "ghibli-stills", "web-small", "scene-photos")
SIZE_BINS = (40, 60, 90, 140, 200, 301)
SHEET = 48


def evenly(items, n):
    """``n`` items spread evenly over ``items`` (all of them if fewer)."""
    if len(items) <= n:
        return list(items)
    return [items[i] for i in np.linspace(0, len(items) - 1, n).astype(int)]


def pasted_recall(dataset, per_source, rng):
    crops = [face_crop(af.load_image(p), label)
             for p, label, s in zip(dataset.paths, dataset.labels, dataset.sources)
             if s == "faces" and label in ("anime", "cartoon") and held_out(p)]
    order = rng.permutation(len(crops))
    k = 0
    per_background, sizes = {}, []
    for source in BACKGROUNDS:
        paths = evenly([p for p, s in zip(dataset.paths, dataset.sources)
                        if s == source and held_out(p)], per_source)
        hits = false = n_true = 0
        for path in paths:
            chosen = [crops[order[(k + i) % len(crops)]] for i in range(2)]
            k += 2
            image, truth = paste_faces(af.load_image(path), chosen, rng)
            found = [f.box for f in af.detect_faces(image)]
            h, f = match(found, truth)
            hits, false, n_true = hits + h, false + f, n_true + len(truth)
            for box in truth:
                sizes.append((box[2], any(iou(b, box) >= 0.4 for b in found)))
        per_background[source] = {
            "images": len(paths), "faces": n_true, "recall": hits / max(n_true, 1),
            "false_per_image": false / max(len(paths), 1),
            "precision": hits / max(hits + false, 1)}
    total = {key: sum(v[key] for v in per_background.values()) for key in ("images", "faces")}
    recall = sum(v["recall"] * v["faces"] for v in per_background.values()) / total["faces"]
    false = sum(v["false_per_image"] * v["images"] for v in per_background.values())
    sizes = np.array(sizes, dtype=float)
    by_size = {}
    for lo, hi in itertools.pairwise(SIZE_BINS):
        sel = (sizes[:, 0] >= lo) & (sizes[:, 0] < hi)
        by_size[f"{lo}-{hi - 1} px"] = {"faces": int(sel.sum()),
                                        "recall": float(sizes[sel, 1].mean()) if sel.any()
                                        else None}
    return {"per_background": per_background, "by_size": by_size,
            "all": {**total, "recall": recall, "false_per_image": false / total["images"]},
            "held_out_crops": len(crops)}


def found_share(dataset, per_source, out, rng):
    shares, detections = {}, []
    for source in ART + OTHERS:
        paths = evenly([p for p, s in zip(dataset.paths, dataset.sources) if s == source],
                       per_source)
        n_found = 0
        for path in paths:
            image = af.load_image(path)
            faces = af.detect_faces(image)
            n_found += bool(faces)
            if source in ART:
                detections += [(image, f) for f in faces[:2]]
        shares[source] = {"images": len(paths), "found_share": n_found / max(len(paths), 1)}
    sheet = [detections[i] for i in sorted(rng.choice(len(detections), min(SHEET, len(detections)),
                                                      replace=False))]
    path = contact_sheet(sheet, out / "08_faces_sheet.png")
    return shares, path


def contact_sheet(detections, path, *, tile=128, columns=8):
    """The detected faces with a margin around each, box in green, eyes in red."""
    rows = []
    for start in range(0, len(detections), columns):
        tiles = []
        for image, face in detections[start:start + columns]:
            x, y, w, h = face.box
            pad = 0.25 * w
            x0, y0 = int(max(0, x - pad)), int(max(0, y - pad))
            x1, y1 = int(min(image.shape[1], x + w + pad)), int(min(image.shape[0], y + h + pad))
            crop = np.ascontiguousarray(image[y0:y1, x0:x1])
            s = tile / max(crop.shape[:2])
            size = (max(1, round(crop.shape[1] * s)), max(1, round(crop.shape[0] * s)))
            crop = cv2.resize(crop, size)
            canvas = np.full((tile, tile, 3), 255, np.uint8)
            canvas[:crop.shape[0], :crop.shape[1]] = crop
            for b, colour in [(face.box, (0, 200, 0))] + [(e, (230, 0, 0)) for e in face.eyes]:
                bx, by, bw, bh = b
                cv2.rectangle(canvas, (int((bx - x0) * s), int((by - y0) * s)),
                              (int((bx + bw - x0) * s), int((by + bh - y0) * s)), colour, 1)
            cv2.putText(canvas, f"{face.score:.2f}", (3, tile - 5), cv2.FONT_HERSHEY_SIMPLEX,
                        0.4, (0, 0, 0), 1, cv2.LINE_AA)
            tiles.append(canvas)
        tiles += [np.full((tile, tile, 3), 255, np.uint8)] * (columns - len(tiles))
        rows.append(np.hstack(tiles))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.vstack(rows)).save(path)
    print(f"wrote {path}")
    return path


def loso_with_and_without_faces(args):
    families = shipped_families() or list(FAMILIES)
    with_face = sorted(set(families) | {"face"}, key=list(FAMILIES).index)
    without = [f for f in families if f != "face"] or ["lines"]
    params, seed = shipped_params()
    out = {}
    for name, fams in (("without_face", without), ("with_face", with_face)):
        data = Data(args, families=fams)
        m = data.drawings
        proba = leave_one_source_out(data.table, data.y, make=_default_make(params, seed), mask=m)
        report = metrics(data.y[m], proba[m], data.sources[m])
        out[name] = {"families": fams, "n_features": len(feature_names(fams)),
                     "mean_source_accuracy": report["mean_source_accuracy"],
                     "worst_source_accuracy": report["worst_source_accuracy"],
                     "per_source": {s: r["accuracy"] for s, r in report["per_source"].items()}}
        print(name, fams, f"{report['mean_source_accuracy']:.1%}",
              f"worst {report['worst_source_accuracy']:.1%}")
    return out


def timing(dataset, n=20):
    paths = evenly([p for p, s in zip(dataset.paths, dataset.sources)
                    if s in ("newgame-art", "dexter-frames", "ghibli-stills")], n)
    images = [cv2.resize(af.load_image(p), (512, 384), interpolation=cv2.INTER_AREA)
              for p in paths]
    cv2.setNumThreads(1)
    af.detect_faces(images[0])  # load the detector, compile the tree walk
    times = []
    for image in images * 3:
        t = time.perf_counter()
        af.detect_faces(image)
        times.append(time.perf_counter() - t)
    return {"images": len(images), "side": 512, "median_ms": 1e3 * float(np.median(times)),
            "p90_ms": 1e3 * float(np.percentile(times, 90))}


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--per-source", type=int, default=80)
    p.add_argument("--skip-loso", action="store_true", help="skip (c), the slow part")
    args = p.parse_args()
    started = time.time()
    dataset = read_dataset(args.data)
    rng = np.random.default_rng(args.seed)
    detector = load_detector()
    payload = {"detector": detector.card, "pasted": pasted_recall(dataset, args.per_source, rng)}
    shares, sheet = found_share(dataset, args.per_source, args.out, rng)
    payload["found_share"] = shares
    payload["contact_sheet"] = sheet.name
    payload["timing"] = timing(dataset)
    if not args.skip_loso:
        payload["loso"] = loso_with_and_without_faces(args)
    write_json(args.out, "08_faces", payload, started)
    a = payload["pasted"]["all"]
    print(f"pasted: recall {a['recall']:.1%}, {a['false_per_image']:.2f} false faces per image")
    for source, v in payload["pasted"]["per_background"].items():
        print(f"  {source}: recall {v['recall']:.1%}, {v['false_per_image']:.2f} false/image")
    for source, v in shares.items():
        print(f"found in {source}: {v['found_share']:.1%}")
    print(f"detection on 512 px: median {payload['timing']['median_ms']:.1f} ms")


if __name__ == "__main__":
    main()
