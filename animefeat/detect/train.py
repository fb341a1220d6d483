"""Train the drawn-face detector from a labelled folder (``manifest.csv`` layout).

    python -m animefeat.detect.train ../shared/datasets/anime-cartoon

Positives are the face crops of the ``faces`` source (anime crops as they are, cartoon
avatars cut to the square around the head), each seen several times through small
rotations, scalings, shifts, mirror images, contrast changes and blur. Negatives are
windows from photographs (scenes and human faces), from painted TV frames and film
stills, and parts of the face crops themselves (an eye, a cheek: a face is found whole
or not at all). A linear SVM is fitted, the photographs are scanned for the windows it
wrongly accepts (hard negatives), and it is fitted again. Its threshold is chosen on
validation images (training faces pasted into training scenes) for at most
:data:`TARGET_FALSE_PER_IMAGE` false faces per image, and a logistic fit on validation
windows maps its scores to [0, 1].

One face crop in five (by a hash of its file name, :func:`held_out`) is never used here: it is
the test set of ``experiments/08_faces.py``.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.svm import LinearSVC

from .._trees import flatten_booster
from ..data import read_dataset
from ..io import load_image
from .detector import (
    DEFAULT_DETECTOR,
    WINDOW,
    FaceDetector,
    detection_copy,
    proposal_features,
    window_features,
)

__all__ = ["face_crop", "held_out", "iou", "match", "paste_faces", "train_detector"]

#: False faces per validation image the threshold allows.
TARGET_FALSE_PER_IMAGE = 0.1
#: Pasted faces' long side, in pixels of the background image.
PASTE_SIZES = (40, 300)
#: Sources whose windows are negatives: photographs and painted scenes.
NEGATIVE_SOURCES = ("scene-photos", "dexter-frames", "scooby-frames", "ghibli-stills")
#: Photographs are scanned for hard negatives (drawings may hold faces nobody marked).
MINING_LABEL = "photo"
AUGMENTED_COPIES = 6
SVM_C = 0.01
MINING_ROUNDS = 3
#: Share of validation faces stage 1 must propose.
PROPOSAL_RECALL = 0.95
STAGE2_ITER = 300
#: Jittered copies of each face crop among the second stage's positives.
STAGE2_COPIES = 4


def held_out(path):
    """Whether an image is kept out of training: one in five, by a hash of its file name."""
    digest = hashlib.sha256(Path(path).name.encode()).hexdigest()
    return int(digest[:8], 16) % 5 == 0


def face_crop(image, label):
    """The square around the drawn head of a face-crop image.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
    label : str
        ``"anime"`` crops are tight already (their centre square is kept); ``"cartoon"``
        avatars stand on a white page, so the square around their non-white pixels.

    Returns
    -------
    crop : ndarray of shape (s, s, 3), uint8
    """
    h, w = image.shape[:2]
    if label == "cartoon":
        ink = np.argwhere(image.min(axis=2) < 235)
        if len(ink):
            (top, left), (bottom, right) = ink.min(axis=0), ink.max(axis=0) + 1
            side = max(bottom - top, right - left)
            cy, cx = (top + bottom) // 2, (left + right) // 2
            y0, x0 = max(0, cy - side // 2), max(0, cx - side // 2)
            crop = image[y0:y0 + side, x0:x0 + side]
            return _pad_square(crop)
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    return image[y0:y0 + side, x0:x0 + side]


def _pad_square(crop):
    h, w = crop.shape[:2]
    side = max(h, w)
    out = np.full((side, side, 3), 255, np.uint8)
    out[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = crop
    return out


def _jitter(grey, rng, *, size=WINDOW):
    """A randomly rotated, scaled, shifted, mirrored, re-contrasted window of ``grey``
    (grey or RGB)."""
    h, w = grey.shape[:2]
    angle = rng.uniform(-12, 12)
    scale = size / h * rng.uniform(0.9, 1.1)
    shift = rng.uniform(-0.06, 0.06, 2) * size
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += (size / 2 - w / 2) + shift
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    out = cv2.warpAffine(grey, m, (size, size), flags=interpolation,
                         borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    if out.ndim == 3:
        # Colour jitter: hair and skin come in every colour; a small shift per channel.
        out = out.astype(np.float32) + rng.uniform(-15, 15, 3)
    gain, offset = rng.uniform(0.7, 1.3), rng.uniform(-30, 30)
    out = np.clip(out.astype(np.float32) * gain + offset, 0, 255)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (3, 3), rng.uniform(0.5, 1.0))
    return np.ascontiguousarray(out.astype(np.uint8))


def _grey(image):
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def _random_windows(grey, n, rng, *, smallest=0.1, largest=1.0):
    """``n`` random square windows, resized to WINDOW, of side smallest..largest x short side."""
    h, w = grey.shape
    out = []
    for _ in range(n):
        side = int(min(h, w) * rng.uniform(smallest, largest))
        if side < 8:
            continue
        y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        window = grey[y:y + side, x:x + side]
        out.append(cv2.resize(window, (WINDOW, WINDOW), interpolation=cv2.INTER_AREA))
    return out


def _part_windows(grey, n, rng):
    """Windows on a part of a face crop (an eye, a cheek): 30-55% of its side."""
    return _random_windows(grey, n, rng, smallest=0.3, largest=0.55)


def iou(a, b):
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def match(found, truth, *, min_iou=0.4):
    """Greedy matching of found boxes (best first) to true boxes.

    Returns
    -------
    hits : int
        True boxes matched by a found box with IoU >= ``min_iou``.
    false : int
        Found boxes matching no true box.
    """
    used = set()
    false = 0
    for box in found:
        best, best_iou = None, min_iou
        for k, t in enumerate(truth):
            overlap = iou(box, t)
            if k not in used and overlap >= best_iou:
                best, best_iou = k, overlap
        if best is None:
            false += 1
        else:
            used.add(best)
    return len(used), false


def paste_faces(background, faces, rng, *, sizes=PASTE_SIZES):
    """Paste face crops at random places and sizes into a background.

    Parameters
    ----------
    background : ndarray of shape (H, W, 3), uint8
    faces : sequence of ndarray of shape (s, s, 3), uint8
        Square face crops; each is pasted once, where it fits without overlapping an
        earlier one (skipped otherwise).
    rng : numpy.random.Generator
    sizes : (int, int)
        Smallest and largest pasted side in pixels (capped by the background).

    Returns
    -------
    image : ndarray of shape (H, W, 3), uint8
    boxes : list of tuple of 4 int
        ``(x, y, w, h)`` of each pasted face.
    """
    image = background.copy()
    h, w = image.shape[:2]
    boxes = []
    for face in faces:
        largest = min(sizes[1], int(0.9 * min(h, w)))
        if largest < sizes[0]:
            break
        side = int(np.exp(rng.uniform(np.log(sizes[0]), np.log(largest))))
        for _ in range(20):
            x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
            if all(iou((x, y, side, side), b) == 0 for b in boxes):
                interpolation = cv2.INTER_AREA if side < face.shape[0] else cv2.INTER_LINEAR
                image[y:y + side, x:x + side] = cv2.resize(face, (side, side),
                                                           interpolation=interpolation)
                boxes.append((x, y, side, side))
                break
    return image, boxes


def _composites(backgrounds, faces, rng, *, per_image=2):
    """Validation images: ``per_image`` faces pasted into each background."""
    out = []
    order = rng.permutation(len(faces))
    k = 0
    for background in backgrounds:
        chosen = [faces[order[(k + i) % len(faces)]] for i in range(per_image)]
        k += per_image
        out.append(paste_faces(background, chosen, rng))
    return out


def _fit_svm(X, y, seed):
    svm = LinearSVC(C=SVM_C, class_weight="balanced", random_state=seed, max_iter=5000)
    svm.fit(X, y)
    return svm.coef_.ravel().astype(np.float32), float(svm.intercept_[0])


def _detector(weights, bias, propose=0.0, booster=None, accept=0.5, card=None):
    return FaceDetector(weights=weights, bias=bias, propose=propose, booster=booster,
                        accept=accept, card=card or {})


def _proposals(detector, images, threshold, rng=None):
    """Proposals on (image, true boxes) pairs: features, SVM scores, and IoU with the truth.

    Returns
    -------
    runs : list of (boxes in input pixels, svm scores, features, truth)
    """
    runs = []
    for image, truth in images:
        rgb, grey, scale = detection_copy(image)
        boxes, scores = detector.propose_boxes(grey, threshold=threshold)
        features = proposal_features(rgb, grey, boxes, scores)
        runs.append((boxes / scale, scores, features, truth))
    return runs


def _labelled(runs, *, positive_iou=0.5, negative_iou=0.2):
    """Second-stage rows from proposals: clear hits (1), clear misses (0); the rest dropped."""
    X, y = [], []
    for boxes, _, features, truth in runs:
        for box, row in zip(boxes, features):
            best = max((iou(box, t) for t in truth), default=0.0)
            if best >= positive_iou or best < negative_iou:
                X.append(row)
                y.append(float(best >= positive_iou))
    return np.array(X).reshape(len(X), -1), np.array(y)


def _random_rows(image, weights, bias, rng, n):
    """Second-stage rows of ``n`` random square windows of an image's detection copy."""
    rgb, grey, _ = detection_copy(image)
    h, w = grey.shape
    boxes = []
    for _ in range(n):
        side = int(rng.uniform(WINDOW, min(h, w) + 1))
        boxes.append((int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1)),
                      side, side))
    windows = [cv2.resize(grey[y:y + s, x:x + s], (WINDOW, WINDOW), interpolation=cv2.INTER_AREA)
               for x, y, s, _ in boxes]
    scores = window_features(windows) @ weights + bias
    return proposal_features(rgb, grey, np.array(boxes), scores)


def _jittered_proposals(crops, weights, bias, rng, copies):
    """Second-stage rows of jittered face crops, each described as a proposal."""
    rows = []
    for crop in crops:
        for _ in range(copies):
            rgb = _jitter(crop, rng, size=48)
            grey = _grey(rgb)
            window = cv2.resize(grey, (WINDOW, WINDOW), interpolation=cv2.INTER_AREA)
            score = float(window_features([window])[0] @ weights + bias)
            rows.append(proposal_features(rgb, grey, np.array([[0, 0, 48, 48]]), [score])[0])
    return np.array(rows)


def train_detector(data, *, seed=0, progress=print):
    """Train the detector on a labelled folder.

    Parameters
    ----------
    data : str or Path
        Folder with ``manifest.csv`` (the ``faces`` source for positives).
    seed : int
    progress : callable
        Called with a line of text at each step.

    Returns
    -------
    detector : FaceDetector
        Its ``card`` records the data hashes and validation numbers.
    """
    rng = np.random.default_rng(seed)
    dataset = read_dataset(data)
    rows = list(zip(dataset.paths, dataset.labels, dataset.sources))
    train_rows = [r for r in rows if not held_out(r[0])]
    faces = [(p, label) for p, label, s in train_rows
             if s == "faces" and label in ("anime", "cartoon")]
    rng.shuffle(faces)
    n_validation = len(faces) // 10
    validation_faces, fit_faces = faces[:n_validation], faces[n_validation:]
    fit_crops = [face_crop(load_image(p), label) for p, label in fit_faces]
    val_crops = [face_crop(load_image(p), label) for p, label in validation_faces]

    scenes = [(p, s) for p, label, s in train_rows if s in NEGATIVE_SOURCES]
    rng.shuffle(scenes)
    n_val_scenes = max(1, len(scenes) // 10)
    validation_scenes, fit_scenes = scenes[:n_val_scenes], scenes[n_val_scenes:]
    validation_paths = {p for p, _ in validation_scenes}
    photos = [p for p, label, s in train_rows
              if label == MINING_LABEL and p not in validation_paths]
    scene_photos = [p for p, s in fit_scenes if s == "scene-photos"]
    drawn_scenes = [p for p, s in fit_scenes if s != "scene-photos"]

    # Stage 1: the linear SVM over 32 x 32 HOG windows.
    positives, negatives = [], []
    for crop in fit_crops:
        grey = _grey(crop)
        positives += [_jitter(grey, rng) for _ in range(AUGMENTED_COPIES)]
        negatives += _part_windows(grey, 2, rng)
    for path, _ in fit_scenes:
        negatives += _random_windows(_grey(load_image(path, max_side=640)), 8, rng)
    for path, label, source in train_rows:
        if source == "faces" and label == "photo":
            grey = _grey(load_image(path, max_side=640))
            negatives += _random_windows(grey, 4, rng, smallest=0.5)
    progress(f"stage 1: {len(positives)} positive and {len(negatives)} negative windows")
    X = window_features(positives + negatives)
    y = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
    weights, bias = _fit_svm(X, y, seed)
    hard = 0
    for _ in range(MINING_ROUNDS):
        # Hard negatives: windows of photographs the SVM accepts.
        mining = _detector(weights, bias)
        found = []
        for path in photos:
            _, grey, _ = detection_copy(load_image(path, max_side=640))
            boxes, _ = mining.propose_boxes(grey, threshold=-0.5, limit=10)
            for x, y0, w, h in boxes.astype(int):
                found.append(cv2.resize(grey[y0:y0 + h, x:x + w], (WINDOW, WINDOW),
                                        interpolation=cv2.INTER_AREA))
        progress(f"stage 1: {len(found)} hard negatives from {len(photos)} photographs")
        hard += len(found)
        X = np.vstack([X, window_features(found)])
        y = np.r_[y, np.zeros(len(found))]
        weights, bias = _fit_svm(X, y, seed)

    # Stage 1's proposal threshold: the score that keeps PROPOSAL_RECALL of the
    # validation faces among the proposals.
    validation = _composites([load_image(p, max_side=640) for p, _ in validation_scenes],
                             val_crops, rng)
    stage1 = _detector(weights, bias)
    runs = _proposals(stage1, validation, threshold=-2.0)
    propose = _proposal_threshold(runs)
    progress(f"stage 1: proposals from SVM score {propose:.3f}")

    # Stage 2: gradient boosting on the proposals' finer description. Positives: jittered
    # face crops and the proposals that hit a face pasted into a photograph; negatives:
    # proposals on photographs (faces pasted there mark what is not a face) and on
    # painted scenes, and random windows of painted scenes.
    stage1 = _detector(weights, bias, propose=propose)
    pasted = _composites([load_image(p, max_side=640) for p in scene_photos], fit_crops, rng)
    X2, y2 = _labelled(_proposals(stage1, pasted, propose))
    X_jit = _jittered_proposals(fit_crops, weights, bias, rng, STAGE2_COPIES)
    # Painted scenes give random windows, not proposals: their proposals are often the
    # characters' faces, which nobody marked.
    X_drawn = np.vstack([_random_rows(load_image(p, max_side=640), weights, bias, rng, 6)
                         for p in drawn_scenes])
    y_drawn = np.zeros(len(X_drawn))
    photo_runs = [(load_image(p, max_side=640), []) for p in photos if p not in set(scene_photos)]
    X_photo, y_photo = _labelled(_proposals(stage1, photo_runs, propose))
    X2 = np.vstack([X2, X_jit, X_drawn, X_photo])
    y2 = np.r_[y2, np.ones(len(X_jit)), y_drawn, y_photo]
    progress(f"stage 2: {int(y2.sum())} positive and {int((1 - y2).sum())} negative proposals")
    booster = HistGradientBoostingClassifier(
        max_iter=STAGE2_ITER, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=20,
        class_weight="balanced", random_state=seed).fit(X2, y2)
    flat = flatten_booster(booster)

    # Acceptance threshold and the detector's numbers, on the validation composites whose
    # background is a photograph: there, every face found that was not pasted is false
    # (painted scenes hold faces of their own that nobody marked).
    detector = _detector(weights, bias, propose=propose, booster=flat)
    found = []
    for (image, truth), (_, source) in zip(validation, validation_scenes):
        if source != "scene-photos":
            continue
        rgb, grey, scale = detection_copy(image)
        boxes, p = detector.detect_copy(rgb, grey, accept=0.0)
        found.append((boxes / scale, p, truth))
    accept, recall, false_rate = _choose_threshold(found)
    progress(f"stage 2: accept from {accept:.3f}: validation recall {recall:.1%}, "
             f"{false_rate:.2f} false faces per image")

    card = {
        "name": "drawn-faces",
        "method": "stage 1: HOG (32x32 window, 8-px cells, 9 orientations) + linear SVM over "
                  "one image pyramid, non-maximum suppression; stage 2: gradient boosting "
                  "on finer HOG, a colour grid and the SVM score of each proposal",
        "trained": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "data": {"folder": Path(data).name, "manifest_sha256": dataset.manifest_sha256,
                 "positive_names_sha256": _digest(fit_faces),
                 "held_out_rule": "int(sha256(file name)[:8], 16) % 5 == 0: never trained on",
                 "positives": len(fit_faces), "stage1_positive_windows": len(positives),
                 "stage1_negative_windows": len(negatives), "stage1_hard_negatives": hard,
                 "stage2_rows": len(y2), "stage2_positives": int(y2.sum())},
        "hyperparameters": {"C": SVM_C, "augmented_copies": AUGMENTED_COPIES, "seed": seed,
                            "mining_rounds": MINING_ROUNDS, "stage2_iterations": STAGE2_ITER,
                            "stage2_copies": STAGE2_COPIES,
                            "proposal_recall": PROPOSAL_RECALL,
                            "negative_sources": list(NEGATIVE_SOURCES),
                            "target_false_per_image": TARGET_FALSE_PER_IMAGE},
        "validation": {"images": len(found), "backgrounds": "scene-photos", "recall": recall,
                       "false_per_image": false_rate, "propose": propose, "accept": accept},
        "versions": {"numpy": np.__version__, "opencv": cv2.__version__,
                     "scikit-learn": sklearn.__version__},
    }
    return _detector(weights, bias, propose=propose, booster=flat, accept=accept, card=card)


def _proposal_threshold(runs):
    """The highest SVM score that still proposes PROPOSAL_RECALL of the true faces."""
    best = []
    for boxes, scores, _, truth in runs:
        for t in truth:
            hits = [s for b, s in zip(boxes, scores) if iou(b, t) >= 0.4]
            best.append(max(hits, default=-np.inf))
    best = np.sort(best)
    k = int(np.floor((1 - PROPOSAL_RECALL) * len(best)))
    return float(best[k]) if np.isfinite(best[k]) else float(best[np.isfinite(best)].min())


def _digest(rows):
    """Hash of the sorted file names trained on."""
    h = hashlib.sha256()
    for name in sorted(Path(path).name for path, _ in rows):
        h.update(name.encode() + b"\n")
    return h.hexdigest()


def _choose_threshold(found):
    """The lowest SVM threshold with at most TARGET_FALSE_PER_IMAGE false faces per image."""
    candidates = np.unique(np.concatenate([s for _, s, _ in found] + [np.zeros(1)]))
    best = (float(candidates.max()) + 1e-6, 0.0, 0.0)
    n_true = sum(len(t) for _, _, t in found)
    for threshold in candidates[::-1]:
        hits = false = 0
        for boxes, scores, truth in found:
            h, f = match(boxes[scores >= threshold], truth)
            hits += h
            false += f
        if false / len(found) > TARGET_FALSE_PER_IMAGE:
            break
        best = (float(threshold), hits / max(n_true, 1), false / len(found))
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="labelled folder (manifest.csv)")
    parser.add_argument("--out", type=Path, default=DEFAULT_DETECTOR)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    detector = train_detector(args.data, seed=args.seed)
    detector.save(args.out)
    args.out.with_suffix(".json").write_text(json.dumps(detector.card, indent=2) + "\n")
    print(f"wrote {args.out} and its card")


if __name__ == "__main__":
    main()
