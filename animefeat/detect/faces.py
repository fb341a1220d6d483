"""Public face detection: :func:`detect_faces` and :class:`Face`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..io import load_image
from .detector import detection_copy, load_detector

__all__ = ["Face", "detect_faces"]


@dataclass(frozen=True)
class Face:
    """A drawn face.

    Attributes
    ----------
    box : tuple of 4 float
        ``(x, y, w, h)`` in the input image's pixels.
    score : float
        Confidence in [0, 1] that the box holds a drawn face.
    eyes : list of tuple of 4 float
        Eye boxes ``(x, y, w, h)`` in the same pixels, left to right.
    """

    box: tuple
    score: float
    eyes: list = field(default_factory=list)

    def to_dict(self):
        """JSON-ready: ``{"box": [x, y, w, h], "score": s, "eyes": [[x, y, w, h], ...]}``."""
        return {"box": [round(v, 1) for v in self.box], "score": round(self.score, 4),
                "eyes": [[round(v, 1) for v in e] for e in self.eyes]}


def detect_faces(image, *, max_faces=10, detector=None):
    """Find drawn faces and their eyes.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, or anything :func:`load_image` accepts
    max_faces : int
        At most this many faces, best first.
    detector : FaceDetector, optional
        The shipped detector by default (:func:`~animefeat.detect.detector.load_detector`).

    Returns
    -------
    faces : list of Face
        Best first; empty when no face is found.

    Raises
    ------
    AnimefeatError
        The image cannot be loaded, or the detector file is missing (``ModelError``).
    """
    from .eyes import find_eyes

    image = image if _is_rgb(image) else load_image(image)
    detector = detector or load_detector()
    rgb, grey, scale = detection_copy(image)
    boxes, probabilities = detector.detect_copy(rgb, grey)
    faces = []
    for box, p in zip(boxes[:max_faces], probabilities):
        box = tuple(float(v) / scale for v in box)
        faces.append(Face(box=box, score=float(p), eyes=find_eyes(image, box)))
    return faces


def _is_rgb(image):
    return (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
            and image.shape[2] == 3)
