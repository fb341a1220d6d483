"""The one exception hierarchy of animefeat.

Every error that bad input can cause is an :class:`AnimefeatError`, so callers
(the CLI, the web app, user code) need a single ``except`` clause. Each subclass
also derives from the built-in exception a Python user would expect, so code
catching ``ValueError`` or ``TypeError`` keeps working.

::

    AnimefeatError
    ├── ImageNotFoundError     (FileNotFoundError) a path that names no file
    ├── ImageDecodeError       (ValueError)  bytes that are not a decodable image
    ├── UnsupportedInputError  (TypeError)   a type or format we do not read (SVG, PDF, ...)
    ├── ImageTooLargeError     (ValueError)  over a byte, pixel or frame limit
    ├── ImageShapeError        (ValueError)  too small or too elongated to describe
    └── ModelError             (RuntimeError) a model file that is missing, foreign or mismatched
"""

__all__ = [
    "AnimefeatError",
    "ImageDecodeError",
    "ImageNotFoundError",
    "ImageShapeError",
    "ImageTooLargeError",
    "ModelError",
    "UnsupportedInputError",
]


class AnimefeatError(Exception):
    """Base class of every error raised by animefeat on bad input or bad model files."""


class ImageNotFoundError(AnimefeatError, FileNotFoundError):
    """A path was given but no readable file is there."""


class ImageDecodeError(AnimefeatError, ValueError):
    """The input claims to be an image but cannot be decoded (empty, truncated, corrupt)."""


class UnsupportedInputError(AnimefeatError, TypeError):
    """The input is of a type or file format that animefeat does not read."""


class ImageTooLargeError(AnimefeatError, ValueError):
    """The input exceeds a configured limit (bytes, pixels or animation frames)."""


class ImageShapeError(AnimefeatError, ValueError):
    """The image is too small or too elongated for the structural features."""


class ModelError(AnimefeatError, RuntimeError):
    """A model file is missing, untrusted, tampered with, or does not match this version."""
