"""animefeat: tell anime from western cartoon art with explainable structural features.

>>> import animefeat as af
>>> image = af.load_image("drawing.png")            # doctest: +SKIP
>>> af.extract_features(image).shape                # doctest: +SKIP
>>> af.classify(image).label                        # doctest: +SKIP
>>> af.detect_faces(image)[0].box                   # doctest: +SKIP
"""

from . import exceptions
from ._version import __version__
from .detect import Face, detect_faces
from .estimator import FeatureExtractor
from .exceptions import (
    AnimefeatError,
    ImageDecodeError,
    ImageNotFoundError,
    ImageShapeError,
    ImageTooLargeError,
    ModelError,
    UnsupportedInputError,
)
from .explain import Contribution
from .features import extract_features, feature_names
from .io import Limits, frame_count, load_frames, load_image
from .model import AnimefeatModel, Prediction, classify, classify_many, load_model

__all__ = [
    "AnimefeatError",
    "AnimefeatModel",
    "Contribution",
    "Face",
    "FeatureExtractor",
    "ImageDecodeError",
    "ImageNotFoundError",
    "ImageShapeError",
    "ImageTooLargeError",
    "Limits",
    "ModelError",
    "Prediction",
    "UnsupportedInputError",
    "__version__",
    "classify",
    "classify_many",
    "detect_faces",
    "exceptions",
    "extract_features",
    "feature_names",
    "frame_count",
    "load_frames",
    "load_image",
    "load_model",
]
