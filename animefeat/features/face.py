"""Face family: is there a face, and what are the proportions of its eyes?

Anime faces have eyes that are very large relative to the face, set wide and low;
western cartoon faces vary, but are closer to human proportions or reduce eyes to
dots. We find faces with OpenCV's LBP frontal-face cascade (the copy scikit-image ships)
and eyes with OpenCV's Haar eye cascade (inside the opencv wheel): no download. Where no
face or no eye is found, the proportions are NaN ("not measurable"); the gradient-boosted
model handles missing values natively.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np
from skimage.data import lbp_frontal_face_cascade_filename

from ..preprocess import as_working_copy
from ._util import grey_uint8

__all__ = ["NAMES", "detect_face", "face_features"]

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
    "area_share",
    "aspect",
    "eyes_found",
    "eye_height_ratio",
    "eye_width_ratio",
    "eye_spacing",
    "eye_area_share",
    "eye_y",
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
    """Find the largest frontal face and up to two eyes inside it.

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
        # Eyes sit in the upper part of the face box and are at most half its width
        # (even anime eyes): the larger scales, which cost a third of the eye search,
        # would only find false eyes.
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


def face_features(image):
    """Face presence and eye proportions.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or WorkingCopy

    Returns
    -------
    features : ndarray of shape (len(NAMES),), float64
        ``found``: 1 if a face was found. ``area_share``: face box area over image
        area. ``aspect``: face height / width. ``eyes_found``: 0, 1 or 2.
        ``eye_height_ratio``/``eye_width_ratio``: mean eye box size relative to the
        face box. ``eye_spacing``: distance between eye centres over face width.
        ``eye_area_share``: eye boxes' area over face area. ``eye_y``: eye centre
        height within the face box (0 top, 1 bottom). NaN where not measurable.
    """
    work = as_working_copy(image)
    face, eyes = detect_face(work)
    nan = float("nan")
    if face is None:
        return np.array([0.0, 0.0, nan, 0.0, nan, nan, nan, nan, nan])
    _, y, w, h = face
    area = w * h
    eye_h = eye_w = spacing = eye_area = eye_y = nan
    if eyes:
        eye_h = float(np.mean([e[3] for e in eyes])) / h
        eye_w = float(np.mean([e[2] for e in eyes])) / w
        eye_area = sum(e[2] * e[3] for e in eyes) / area
        eye_y = float(np.mean([e[1] + e[3] / 2 for e in eyes]) - y) / h
        if len(eyes) == 2:
            (x0, _, w0, _), (x1, _, w1, _) = eyes
            spacing = ((x1 + w1 / 2) - (x0 + w0 / 2)) / w
    return np.array([
        1.0, area / work.grey.size, h / w, float(len(eyes)),
        eye_h, eye_w, spacing, eye_area, eye_y,
    ], dtype=np.float64)
