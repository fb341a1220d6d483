"""The drawn-face detector: a linear HOG filter proposes, a boosted classifier confirms.

How it works, in one paragraph: the image is scaled so that its long side is
:data:`DETECT_SIDE` pixels. OpenCV's ``HOGDescriptor.detectMultiScale`` slides a
32 x 32 window over a pyramid of its grey copy (each level 1.2 times smaller, an 8-px
stride) and a linear SVM scores each window's histograms of gradient orientation
(8 x 8 cells, 324 numbers); the windows it accepts are thinned by non-maximum
suppression (of two boxes overlapping by more than :data:`NMS_OVERLAP`, the better
one stays), and the best :data:`MAX_PROPOSALS` are proposals. Each proposal is then
described in more detail (finer 6 x 6 HOG cells of a 36 x 36 copy, its colours on a
4 x 4 grid, the SVM's score) and a gradient-boosted classifier gives the probability
that it is a drawn face; faces above :attr:`FaceDetector.accept` are kept. Both
stages were trained on drawn face crops (positives) and on photographs, painted scenes
and parts of faces (negatives). The sliding window runs in OpenCV and the trees in
the compiled walk of :mod:`animefeat._trees`; no Python loop visits windows.

The weights live in a small ``.npz`` beside this module, written by
:mod:`animefeat.detect.train` together with a JSON card (data hashes, numbers).
"""

from __future__ import annotations

import json
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.special import expit

from .._trees import FlatBooster
from ..exceptions import ModelError

__all__ = [
    "DEFAULT_DETECTOR",
    "DETECT_SIDE",
    "FaceDetector",
    "detection_copy",
    "hog_descriptor",
    "load_detector",
    "proposal_features",
    "window_features",
]

#: Side of the square window the SVM scores, in pixels of the detection copy.
WINDOW = 32
#: Long side of the grey copy detection runs on: faces from WINDOW / DETECT_SIDE of the
#: long side (a tenth) up to the whole image.
DETECT_SIDE = 320
#: Pyramid step and window stride.
SCALE_STEP = 1.2
STRIDE = 8
#: Two detections overlapping more than this (intersection over union) are one face.
NMS_OVERLAP = 0.3
#: Proposals the second stage examines, best SVM scores first.
MAX_PROPOSALS = 24
#: Side of the finer copy of each proposal, and its HOG cell.
FINE_WINDOW, FINE_CELL = 36, 6
#: Colour grid of each proposal (cells per side).
COLOUR_GRID = 4

DEFAULT_DETECTOR = Path(__file__).with_name("drawn_faces.npz")

_local = threading.local()  # HOGDescriptor with an SVM set is not shared across threads


def hog_descriptor():
    """The HOG layout every window is described by (324 values for 32 x 32 px)."""
    return cv2.HOGDescriptor((WINDOW, WINDOW), (16, 16), (8, 8), (8, 8), 9)


def window_features(windows):
    """HOG descriptors of grey windows.

    Parameters
    ----------
    windows : sequence of ndarray of shape (WINDOW, WINDOW), uint8

    Returns
    -------
    X : ndarray of shape (n_windows, 324), float32
    """
    hog = hog_descriptor()
    if not len(windows):
        return np.empty((0, hog.getDescriptorSize()), np.float32)
    return np.stack([hog.compute(np.ascontiguousarray(w)).ravel() for w in windows])


def fine_descriptor():
    """The finer HOG layout of the second stage (900 values for 36 x 36 px)."""
    c = FINE_CELL
    return cv2.HOGDescriptor((FINE_WINDOW, FINE_WINDOW), (2 * c, 2 * c), (c, c), (c, c), 9)


def detection_copy(image):
    """The colour and grey copies detection runs on, and their scale.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8

    Returns
    -------
    rgb : ndarray of shape (h, w, 3), uint8
        Long side :data:`DETECT_SIDE` (short side at least :data:`WINDOW`).
    grey : ndarray of shape (h, w), uint8
    scale : float
        Copy pixels per input pixel.
    """
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    scale = DETECT_SIDE / max(h, w)
    size = (max(WINDOW, round(w * scale)), max(WINDOW, round(h * scale)))
    if size != (w, h):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, size, interpolation=interpolation)
    return image, cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), scale


def proposal_features(rgb, grey, boxes, svm_scores):
    """The second stage's description of each proposal.

    Parameters
    ----------
    rgb : ndarray of shape (h, w, 3), uint8
    grey : ndarray of shape (h, w), uint8
    boxes : ndarray of shape (n, 4)
        ``(x, y, w, h)`` in the copies' pixels.
    svm_scores : ndarray of shape (n,)

    Returns
    -------
    X : ndarray of shape (n, 900 + 3 * COLOUR_GRID**2 + 1), float64
        Fine HOG, mean HSV per grid cell (hue as OpenCV's 0-180), SVM score.
    """
    fine = fine_descriptor()
    rows = []
    for (x, y, w, h), score in zip(np.asarray(boxes, dtype=int), svm_scores):
        g = cv2.resize(grey[y:y + h, x:x + w], (FINE_WINDOW, FINE_WINDOW),
                       interpolation=cv2.INTER_AREA)
        c = cv2.resize(rgb[y:y + h, x:x + w], (COLOUR_GRID, COLOUR_GRID),
                       interpolation=cv2.INTER_AREA)
        hsv = cv2.cvtColor(c, cv2.COLOR_RGB2HSV).reshape(-1).astype(np.float64)
        rows.append(np.concatenate([fine.compute(g).ravel(), hsv, [score]]))
    n_features = fine.getDescriptorSize() + 3 * COLOUR_GRID ** 2 + 1
    return np.array(rows, dtype=np.float64).reshape(len(rows), n_features)


@dataclass(frozen=True)
class FaceDetector:
    """The two trained stages, and the card that says how they were trained.

    Parameters
    ----------
    weights : ndarray of shape (324,), float32
        First stage: the SVM score of a window is ``weights @ hog + bias``.
    bias : float
    propose : float
        Lowest SVM score proposed to the second stage.
    booster : FlatBooster or None
        Second stage: P(drawn face) of a proposal from :func:`proposal_features`.
        None: the SVM alone (its score through a logistic, for training).
    accept : float
        Lowest second-stage probability kept as a face.
    card : dict
        How it was trained (data hashes, numbers).
    """

    weights: np.ndarray
    bias: float
    propose: float
    booster: FlatBooster | None
    accept: float
    card: dict

    def _hog(self):
        cache = getattr(_local, "detectors", None)
        if cache is None:
            cache = _local.detectors = {}
        hog = cache.get(id(self))
        if hog is None:
            hog = hog_descriptor()
            hog.setSVMDetector(np.r_[self.weights, self.bias].astype(np.float32))
            cache[id(self)] = hog
        return hog

    def propose_boxes(self, grey, *, threshold=None, limit=MAX_PROPOSALS):
        """First stage: windows the SVM accepts, after non-maximum suppression.

        Parameters
        ----------
        grey : ndarray of shape (h, w), uint8
        threshold : float, optional
            Lowest SVM score; :attr:`propose` by default.
        limit : int
            At most this many, best first.

        Returns
        -------
        boxes : ndarray of shape (n, 4), float64
            ``(x, y, w, h)`` in ``grey``'s pixels, best first.
        scores : ndarray of shape (n,), float64
            SVM scores.
        """
        threshold = self.propose if threshold is None else threshold
        if min(grey.shape) < WINDOW:
            return np.empty((0, 4)), np.empty(0)
        # OpenCV scores a window as weights @ hog + the detector's last element (the
        # bias): the SVM's own score. groupThreshold 0: every window, merged below by
        # non-maximum suppression instead of OpenCV's rectangle clustering.
        boxes, scores = self._hog().detectMultiScale(
            grey, hitThreshold=float(threshold), winStride=(STRIDE, STRIDE),
            padding=(0, 0), scale=SCALE_STEP, groupThreshold=0)
        if len(boxes) == 0:
            return np.empty((0, 4)), np.empty(0)
        scores = np.ravel(scores).astype(np.float64)
        boxes = np.asarray(boxes, dtype=np.float64)
        keep = _suppress(boxes, scores)[:limit]
        return boxes[keep], scores[keep]

    def detect_copy(self, rgb, grey, *, accept=None):
        """Both stages on the detection copies.

        Parameters
        ----------
        rgb : ndarray of shape (h, w, 3), uint8
        grey : ndarray of shape (h, w), uint8
        accept : float, optional
            Lowest probability kept; :attr:`accept` by default.

        Returns
        -------
        boxes : ndarray of shape (n, 4), float64
            In the copies' pixels, most probable first.
        probabilities : ndarray of shape (n,), float64
        """
        accept = self.accept if accept is None else accept
        boxes, scores = self.propose_boxes(grey)
        if not len(boxes):
            return boxes, scores
        if self.booster is None:
            p = expit(scores)
        else:
            p = self.booster.predict_proba(proposal_features(rgb, grey, boxes, scores))
        keep = p >= accept
        boxes, p = boxes[keep], p[keep]
        order = _suppress(boxes, p)
        return boxes[order], p[order]

    def save(self, path):
        """Write the detector as ``.npz``: plain arrays and the card as JSON text."""
        trees = self.booster.to_arrays() if self.booster is not None else {}
        np.savez(path, weights=self.weights.astype(np.float32), bias=self.bias,
                 propose=self.propose, accept=self.accept, card=json.dumps(self.card),
                 **{f"booster_{k}": v for k, v in trees.items()})


def _suppress(boxes, scores):
    """Indices kept by non-maximum suppression, best score first."""
    if not len(boxes):
        return np.empty(0, dtype=int)
    # NMSBoxes keeps scores above a threshold >= 0: shifted to start at 1, all pass and
    # their order is the same.
    keep = cv2.dnn.NMSBoxes([tuple(map(int, b)) for b in boxes],
                            (scores - scores.min() + 1.0).tolist(), 0.0, NMS_OVERLAP)
    keep = np.ravel(keep).astype(int)
    return keep[np.argsort(-scores[keep], kind="stable")]


_loaded = {}
_load_lock = threading.Lock()


def load_detector(path=None):
    """Load (once) a detector written by :meth:`FaceDetector.save`.

    Parameters
    ----------
    path : str or Path, optional
        The shipped detector by default.

    Returns
    -------
    detector : FaceDetector

    Raises
    ------
    ModelError
        Missing or unreadable file, or weights of the wrong size.
    """
    path = Path(DEFAULT_DETECTOR if path is None else path)
    key = str(path.resolve())
    with _load_lock:
        if key in _loaded:
            return _loaded[key]
        try:
            # allow_pickle=False: the file holds plain arrays and text, nothing executable.
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
                booster = None
                if "booster_nodes" in data:
                    booster = FlatBooster.from_arrays(
                        data["booster_nodes"], data["booster_roots"],
                        data["booster_baseline"], data["booster_a"], data["booster_b"],
                        int(data["booster_n_features"]) if "booster_n_features" in data
                        else None)
                detector = FaceDetector(
                    weights=np.asarray(data["weights"], dtype=np.float32),
                    bias=float(data["bias"]), propose=float(data["propose"]),
                    booster=booster, accept=float(data["accept"]),
                    card=json.loads(str(data["card"])))
        except FileNotFoundError:
            raise ModelError(f"face detector {path.name!r} not found; train it with "
                             "`python -m animefeat.detect.train`") from None
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as err:
            raise ModelError(f"face detector {path.name!r} is unreadable: {err}") from None
        if detector.weights.shape != (hog_descriptor().getDescriptorSize(),):
            raise ModelError(f"face detector {path.name!r} has {detector.weights.size} "
                             "weights, not one per HOG value")
        _loaded[key] = detector
        return detector
