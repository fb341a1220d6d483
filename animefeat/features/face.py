"""Face family: is there a drawn face, and what are the proportions of its eyes?

Anime faces have eyes that are very large relative to the face, set wide and low, with
big highlights; western cartoon faces reduce eyes to dots or ovals, or draw them close
to human proportions. Drawn faces are found by animefeat's own detector
(:mod:`animefeat.detect`, trained on drawn face crops) and their eyes as the pair of
dark blobs in the face's middle band (:mod:`animefeat.detect.eyes`). Where no face or no
eye pair is found, the proportions are NaN ("not measurable"); the gradient-boosted
model handles missing values natively. ``photo_face`` is OpenCV's human frontal-face
cascade: it does not find drawn faces, but tells the photo check that a person was
photographed.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np
from skimage.data import lbp_frontal_face_cascade_filename

from ..detect.detector import detection_copy, load_detector
from ..detect.eyes import FACE_SIDE, measure_eyes
from ..preprocess import as_working_copy
from ._util import grey_uint8

__all__ = ["NAMES", "detect_face", "drawn_faces", "face_features"]

# Detection runs on a 96-px copy of the working copy, for faces of at least 24 px (a
# quarter of the long side). The face family barely moves the style decision, but the
# photo check needs it (a selfie has a face): photos flagged at 2% of drawings
# (experiments/02, training data) 97.7% with it, 96.2% without. The LBP cascade
# (integer features, 50 KB) took half the time of Haar's frontalface_alt2 (540 KB) on
# the synthetic drawing and 40% on dataset images, and at step 1.2 and 2 neighbours
# finds as many photo faces (70% against 72% at Haar's step 1.3 and 3 neighbours) but
# fewer cartoon faces (40% against 55%); the photo check rose from 97.5% to 97.7%.
DETECT_SIDE = 96
SCALE_FACTOR = 1.2
MIN_NEIGHBOURS = 2
MIN_FACE = 24

NAMES = (
    "found",
    "count",
    "area_share",
    "score",
    "eyes_found",
    "eye_height_ratio",
    "eye_width_ratio",
    "eye_spacing",
    "eye_area_share",
    "eye_y",
    "eye_highlight",
    "photo_face",
)

_local = threading.local()  # CascadeClassifier is not thread-safe: one per thread


def _lbp_face_cascade():
    """OpenCV's LBP frontal-face cascade, from scikit-image's data.

    scikit-image's copy misspells one tag (``featuhreParams``), under which OpenCV
    looks for the LBP feature parameters; it is read from memory with the tag mended.
    """
    with open(lbp_frontal_face_cascade_filename(), encoding="utf-8") as fh:
        text = fh.read().replace("featuhreParams>", "featureParams>")
    storage = cv2.FileStorage(text, cv2.FILE_STORAGE_READ | cv2.FILE_STORAGE_MEMORY)
    cascade = cv2.CascadeClassifier()
    cascade.read(storage.getFirstTopLevelNode())
    return cascade


def _cascades():
    if not hasattr(_local, "face"):
        _local.face = _lbp_face_cascade()
        _local.eye = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_eye.xml")
        if _local.face.empty() or _local.eye.empty():
            raise RuntimeError("the face or eye cascade is missing: install "
                               "opencv-python-headless<5 and scikit-image")
    return _local.face, _local.eye


def detect_face(image):
    """Find the largest human frontal face (OpenCV's LBP cascade) and up to two eyes.

    A photograph cue for the drawing check; drawn faces are :func:`drawn_faces`.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy

    Returns
    -------
    face : tuple of 4 float or None
        ``(x, y, width, height)`` in working-copy pixels.
    eyes : list of tuple of 4 float
        Eye boxes ``(x, y, width, height)`` in working-copy pixels, left to right.
    """
    work = as_working_copy(image)
    if "face" in work.cache:
        return work.cache["face"]
    grey = grey_uint8(work)
    factor = DETECT_SIDE / max(grey.shape)
    # Area averaging when shrinking (the working copy is larger), linear when growing.
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    view = grey if factor == 1 else cv2.resize(grey, None, fx=factor, fy=factor,
                                               interpolation=interpolation)
    view = cv2.equalizeHist(view)
    face_cascade, eye_cascade = _cascades()
    faces = face_cascade.detectMultiScale(view, scaleFactor=SCALE_FACTOR,
                                          minNeighbors=MIN_NEIGHBOURS,
                                          minSize=(MIN_FACE, MIN_FACE))
    result = (None, [])
    if len(faces):
        x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
        # Eyes sit in the upper part of the face box and are at most half its width.
        roi = view[y:y + int(h * 0.65), x:x + w]
        smallest, largest = max(8, w // 10), max(8, w // 2)
        eyes = eye_cascade.detectMultiScale(roi, scaleFactor=1.1, minNeighbors=3,
                                            minSize=(smallest, smallest),
                                            maxSize=(largest, largest))
        eyes = sorted(eyes, key=lambda e: e[2] * e[3], reverse=True)[:2]
        eyes = sorted(((ex + x, ey + y, ew, eh) for ex, ey, ew, eh in eyes), key=lambda e: e[0])
        result = (tuple(float(v) / factor for v in (x, y, w, h)),
                  [tuple(float(v) / factor for v in e) for e in eyes])
    work.cache["face"] = result
    return result


def drawn_faces(image):
    """Drawn faces in the working copy, by animefeat's detector, best first.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy

    Returns
    -------
    boxes : ndarray of shape (n, 4), float64
        ``(x, y, w, h)`` in working-copy pixels.
    probabilities : ndarray of shape (n,), float64
    """
    work = as_working_copy(image)
    if "drawn_faces" not in work.cache:
        rgb, grey, scale = detection_copy(work.rgb)
        boxes, p = load_detector().detect_copy(rgb, grey)
        work.cache["drawn_faces"] = (boxes / scale, p)
    return work.cache["drawn_faces"]


def face_features(image):
    """Drawn-face presence and eye proportions.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy

    Returns
    -------
    features : ndarray of shape (len(NAMES),), float64
        ``found``: 1 if a drawn face was found. ``count``: faces found.
        ``area_share``: the best face's box area over the image area. ``score``: its
        probability (0 without a face). Eyes of the best face: ``eyes_found`` (0 or 2),
        ``eye_height_ratio``/``eye_width_ratio`` (mean eye box size relative to the
        face box), ``eye_spacing`` (distance between eye centres over the face width),
        ``eye_area_share`` (the eyes' dark pixels over the face area), ``eye_y`` (eye
        centre height in the face box, 0 top, 1 bottom), ``eye_highlight`` (share of
        the eyes holding a highlight). NaN where not measurable. ``photo_face``: 1 if
        the human frontal-face cascade fires.
    """
    work = as_working_copy(image)
    boxes, p = drawn_faces(work)
    photo_face = float(detect_face(work)[0] is not None)
    nan = float("nan")
    if not len(boxes):
        return np.array([0.0, 0.0, 0.0, 0.0, 0.0] + [nan] * 6 + [photo_face])
    x, y, w, h = (round(v) for v in boxes[0])
    crop = work.rgb[max(0, y):y + h, max(0, x):x + w]
    eyes = measure_eyes(crop)
    eye = [nan] * 6
    if eyes:
        (x0, y0, w0, h0), (x1, y1, w1, h1) = (e.box for e in eyes)
        side = float(FACE_SIDE)
        eye = [(h0 + h1) / 2 / side, (w0 + w1) / 2 / side,
               ((x1 + w1 / 2) - (x0 + w0 / 2)) / side,
               sum(e.area for e in eyes) / side ** 2,
               ((y0 + h0 / 2) + (y1 + h1 / 2)) / 2 / side,
               float(np.mean([e.highlight for e in eyes]))]
    area_share = boxes[0][2] * boxes[0][3] / work.grey.size
    return np.array([1.0, float(len(boxes)), area_share, float(p[0]), float(len(eyes)),
                     *eye, photo_face], dtype=np.float64)
