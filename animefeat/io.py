"""Image loading: anything a person would hand us -> (H, W, 3) uint8 RGB.

Pillow opens every format users upload (EXIF orientation, palettes, CMYK, 16-bit
PNG, WebP, animated GIF) and decodes all of them but two plain cases that OpenCV
decodes to the same pixels, faster: complete 8-bit RGB PNGs without transparency or
EXIF, and complete 8-bit colour JPEGs without EXIF (their header read here, which
also skips Pillow's plugin machinery: a third of a small JPEG's load time).
Limits are checked from the header, before any pixel is decoded, so a decompression
bomb costs nothing. Every failure is an :class:`~animefeat.exceptions.AnimefeatError`.

A JPEG damaged inside but complete (it ends in its end marker) is decoded as libjpeg
decodes it, damaged blocks smeared or grey, as Pillow also does for most such files;
OpenCV's libjpeg names the damage on standard error ("Corrupt JPEG data: ..."). Of 200
random four-byte corruptions of one JPEG, Pillow alone refused 3, which now load.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import math
import os
import re
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps

from .exceptions import (
    AnimefeatError,
    ImageDecodeError,
    ImageNotFoundError,
    ImageShapeError,
    ImageTooLargeError,
    UnsupportedInputError,
)

__all__ = ["BACKGROUND", "Limits", "decode_base64_image", "frame_count", "image_size",
           "load_frames", "load_image"]

#: Colour that transparent pixels are composited on. White, because transparent
#: drawings (stickers, clip art) are meant to be seen on a light page.
BACKGROUND = (255, 255, 255)


@dataclass(frozen=True)
class Limits:
    """Bounds that protect a process from hostile or absurd input.

    Parameters
    ----------
    max_bytes : int
        Largest encoded input accepted, in bytes.
    max_pixels : int
        Largest ``width * height`` accepted, read from the header before decoding.
    max_frames : int
        Most animation frames ever decoded from one file.
    min_side : int
        Smallest side, in pixels, that the structural features can describe.
    max_aspect : float
        Largest ratio of long side to short side.
    """

    max_bytes: int = 64 * 1024 * 1024
    max_pixels: int = 50_000_000
    max_frames: int = 64
    min_side: int = 16
    max_aspect: float = 20.0


DEFAULT_LIMITS = Limits()

# Signatures of files that people rename to .jpg/.png; named so the error can say what it was.
_FOREIGN_SIGNATURES = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "a Windows executable"),
)
_BASE64_RE = re.compile(r"^[A-Za-z0-9+/=_\-\s]+$")
_DATA_URL_RE = re.compile(r"^data:(?P<mime>[\w.+\-/]*)(?P<params>(;[\w.+\-]+=[\w.+\-]+)*)"
                          r"(?P<b64>;base64)?,", re.IGNORECASE)


def load_image(source, *, limits=None, max_side=None, background=BACKGROUND):
    """Load an image from any common source as an RGB array.

    Parameters
    ----------
    source : str, os.PathLike, bytes, file-like, PIL.Image.Image or ndarray
        A path; encoded bytes; a binary file object; a Pillow image; an array of
        shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), uint8, uint16, bool or
        float in [0, 1]; a base64 string; or a ``data:image/...;base64,`` URL.
    limits : Limits, optional
        Byte, pixel, frame and shape limits. Defaults to :class:`Limits()`.
    max_side : int, optional
        When given, JPEGs are decoded at a reduced scale (1/2, 1/4 or 1/8) whose
        long side is still at least ``max_side``. The features work on a small
        copy, so this saves most of the decode time of large photos.
    background : tuple of 3 int
        RGB colour that transparent pixels are composited on.

    Returns
    -------
    image : ndarray of shape (H, W, 3), dtype uint8
        RGB pixels, EXIF orientation applied; the first frame of an animation.

    Raises
    ------
    AnimefeatError
        One of its subclasses, with a message naming the problem.
    """
    limits = DEFAULT_LIMITS if limits is None else limits
    if isinstance(source, np.ndarray):
        return _check_shape(_array_to_rgb(source, background), limits)
    if isinstance(source, Image.Image):
        _check_pixels(source.size, limits)
        return _check_shape(_pil_to_rgb(source, background), limits)
    data = _read_source(source, limits)
    rgb = _decode_plain_jpeg(data, limits, max_side)
    if rgb is not None:
        return _check_shape(rgb, limits)
    opener = _open(data, limits, max_side, fast_png=True)
    with opener as im:
        if opener.rgb is not None:
            return _check_shape(opener.rgb, limits)
        return _check_shape(_pil_to_rgb(_orient(im), background), limits)


def load_frames(source, *, n_frames=4, limits=None, background=BACKGROUND):
    """Load up to ``n_frames`` evenly spaced frames of an animated image.

    Parameters
    ----------
    source : str, os.PathLike, bytes or file-like
        Any encoded source that :func:`load_image` accepts.
    n_frames : int
        How many frames to return at most; a still image gives one.
    limits : Limits, optional
        Only the first ``limits.max_frames`` frames are considered.
    background : tuple of 3 int
        RGB colour that transparent pixels are composited on.

    Returns
    -------
    frames : list of ndarray of shape (H, W, 3), dtype uint8
    """
    limits = DEFAULT_LIMITS if limits is None else limits
    if n_frames < 1:
        raise ValueError(f"n_frames must be at least 1, got {n_frames}")
    with _open(_read_source(source, limits), limits, None) as im:
        total = min(getattr(im, "n_frames", 1), limits.max_frames)
        picks = np.unique(np.linspace(0, total - 1, min(n_frames, total)).round().astype(int))
        frames = []
        for index in picks:
            try:
                im.seek(int(index))
                frame = _pil_to_rgb(_orient(im), background)
            except AnimefeatError:
                raise
            except Exception as exc:  # Pillow plugins raise many types on corrupt frames
                raise ImageDecodeError(f"frame {index} cannot be decoded: {exc}") from None
            frames.append(_check_shape(frame, limits))
        return frames


def image_size(source, *, limits=None):
    """``(width, height)`` of an image as :func:`load_image` returns it (EXIF orientation
    applied), read from its header without decoding the pixels.

    Parameters
    ----------
    source : anything :func:`load_image` accepts
    limits : Limits, optional

    Returns
    -------
    size : tuple of 2 int
    """
    if isinstance(source, np.ndarray):
        return int(source.shape[1]), int(source.shape[0])
    if isinstance(source, Image.Image):
        return source.size
    with _header(source, limits) as im:
        width, height = im.size
        try:
            orientation = im.getexif().get(0x0112, 1)
        except Exception:  # a malformed EXIF block loses only the orientation
            orientation = 1
    # Orientations 5-8 turn the picture by a quarter: width and height swap.
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def frame_count(source, *, limits=None):
    """How many frames an image holds (1 for a still; capped at ``limits.max_frames``),
    read without decoding the pixels.

    :func:`load_image` reads the first frame only: a caller says so when this is above 1.

    Parameters
    ----------
    source : str, os.PathLike, bytes or file-like
    limits : Limits, optional

    Returns
    -------
    n : int
    """
    limits = DEFAULT_LIMITS if limits is None else limits
    with _header(source, limits) as im:
        return int(min(getattr(im, "n_frames", 1), limits.max_frames))


@contextlib.contextmanager
def _header(source, limits):
    """The source opened by Pillow for its header only (no pixels decoded)."""
    limits = DEFAULT_LIMITS if limits is None else limits
    data = _read_source(source, limits)
    _reject_foreign(data)
    # A bomb or a corrupt EXIF block: load_image says so; the header reads go on.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            im = Image.open(io.BytesIO(data))
        except Exception:  # the loader gives the full story; here the header alone is read
            raise ImageDecodeError(
                f"not a recognised image ({_describe_head(data)})") from None
        with im:
            yield im


def decode_base64_image(text):
    """Bytes of a base64 string or ``data:image/...;base64,`` URL (never a path).

    For servers: text from a client must not be read as a file name.

    Parameters
    ----------
    text : str

    Returns
    -------
    data : bytes
    """
    if not isinstance(text, str):
        raise UnsupportedInputError(f"expected base64 text, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise ImageDecodeError("the base64 image text is empty")
    if stripped[:5].lower() == "data:":
        return _decode_data_url(stripped)
    if not _BASE64_RE.match(stripped):
        raise ImageDecodeError("the image text is neither base64 nor a data: URL")
    return _decode_base64(stripped)


# --- sources -> bytes -------------------------------------------------------------------------


def _read_source(source, limits):
    """Return the encoded bytes behind any supported source."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, str):
        data = _read_string(source, limits)
    elif isinstance(source, os.PathLike):
        data = _read_path(os.fspath(source), limits)
    elif hasattr(source, "read"):
        if isinstance(source, io.TextIOBase):
            raise UnsupportedInputError("the file object is open in text mode; open it with 'rb'")
        try:
            data = source.read(limits.max_bytes + 1)
        except Exception as exc:
            raise ImageDecodeError(f"the file object could not be read: {exc}") from None
        if isinstance(data, str):
            raise UnsupportedInputError("the file object is open in text mode; open it with 'rb'")
    else:
        raise UnsupportedInputError(
            f"cannot load an image from {type(source).__name__}; give a path, bytes, a binary "
            "file, a PIL image, a numpy array, base64 text or a data: URL")
    if len(data) > limits.max_bytes:
        raise ImageTooLargeError(f"the input is over the {limits.max_bytes:,}-byte limit")
    if not data:
        raise ImageDecodeError("the input is empty (0 bytes)")
    return data


def _read_path(path, limits):
    try:
        size = os.path.getsize(path)
        if size > limits.max_bytes:
            raise ImageTooLargeError(
                f"{path!r} is {size:,} bytes, over the {limits.max_bytes:,}-byte limit")
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise ImageNotFoundError(f"no such file: {path!r}") from None
    except IsADirectoryError:
        raise UnsupportedInputError(f"{path!r} is a folder, not an image file") from None
    except OSError as exc:
        raise ImageNotFoundError(f"{path!r} cannot be read: {exc.strerror or exc}") from None


def _read_string(text, limits):
    stripped = text.strip()
    if stripped[:5].lower() == "data:":
        return _decode_data_url(stripped)
    # A short string that names a file is a path, whatever characters it has.
    if len(stripped) < 4096 and "\n" not in stripped and os.path.exists(stripped):
        return _read_path(stripped, limits)
    if len(stripped) >= 16 and _BASE64_RE.match(stripped) and not _looks_like_path(stripped):
        return _decode_base64(stripped)
    if len(stripped) < 4096:
        raise ImageNotFoundError(f"no such file: {stripped!r} (and it is not base64 image data)")
    raise UnsupportedInputError("the string is neither a path, base64 image data nor a data: URL")


def _looks_like_path(text):
    return bool(re.search(r"\.(jpe?g|png|gif|webp|bmp|tiff?)$", text, re.IGNORECASE))


def _decode_data_url(url):
    match = _DATA_URL_RE.match(url)
    if match is None:
        raise ImageDecodeError("malformed data: URL; expected 'data:image/<type>;base64,<data>'")
    mime = match["mime"].lower()
    if mime and not mime.startswith("image/"):
        raise UnsupportedInputError(f"the data: URL holds {mime!r}, not an image")
    if mime == "image/svg+xml":
        raise UnsupportedInputError("SVG is a vector format; rasterise it to PNG first")
    if not match["b64"]:
        raise ImageDecodeError("the data: URL is not base64-encoded (';base64,' is missing)")
    return _decode_base64(url[match.end():])


def _decode_base64(text):
    compact = re.sub(r"\s+", "", text)
    try:
        if "-" in compact or "_" in compact:
            data = base64.urlsafe_b64decode(compact.encode("ascii"))
        else:
            data = base64.b64decode(compact.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ImageDecodeError(f"invalid base64 image data: {exc}") from None
    if not data:
        raise ImageDecodeError("the base64 data decodes to 0 bytes")
    return data


# --- bytes -> PIL image -----------------------------------------------------------------------


class _open:
    """Context manager: sniff, open lazily, check limits from the header, then decode."""

    def __init__(self, data, limits, max_side, *, fast_png=False):
        self.data = data
        self.limits = limits
        self.max_side = max_side
        self.fast_png = fast_png
        self.im = None
        self.rgb = None  # with fast_png, a plain PNG's pixels, decoded by OpenCV

    def __enter__(self):
        _reject_foreign(self.data)
        try:
            with warnings.catch_warnings():
                # We enforce our own pixel limit below, and a corrupt EXIF block only
                # loses the orientation: Pillow's warnings would be noise to users.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                warnings.filterwarnings("ignore", message="Corrupt EXIF", category=UserWarning)
                im = Image.open(io.BytesIO(self.data))
                self.im = im
                _check_pixels(im.size, self.limits)
                request = _draft_request(im.size, self.max_side)
                if request and im.format == "JPEG":
                    im.draft("RGB", request)
                if self.fast_png and im.format == "PNG" and _is_plain_png(self.data, im):
                    self.rgb = _decode_plain_png(self.data, im.size)
                if self.rgb is None:
                    im.load()
        except AnimefeatError:
            self.__exit__()
            raise
        except Image.DecompressionBombError as exc:
            self.__exit__()
            raise ImageTooLargeError(f"the image is over the pixel limit: {exc}") from None
        except Image.UnidentifiedImageError:
            self.__exit__()
            raise ImageDecodeError(
                f"not a recognised image format ({_describe_head(self.data)})") from None
        except Exception as exc:  # truncated/corrupt data: Pillow raises OSError, SyntaxError, ...
            self.__exit__()
            raise ImageDecodeError(_decode_problem(exc, self.data)) from None
        return self.im

    def __exit__(self, *exc_info):
        if self.im is not None:
            self.im.close()
            self.im = None
        return False


def _is_plain_png(data, im):
    """An 8-bit RGB PNG without transparency, animation or EXIF: pixels as stored.

    OpenCV decodes these about twice as fast as Pillow (experiments/05) to the same
    pixels; every other PNG (palette, grey, 16-bit, alpha, APNG, EXIF orientation)
    keeps Pillow's handling.
    """
    # IHDR: bit depth at byte 24, colour type (2: truecolour) at byte 25. A file that
    # does not end in IEND is truncated: Pillow explains that without OpenCV's warnings.
    return (len(data) > 26 and data[24] == 8 and data[25] == 2
            and data.endswith(b"IEND\xaeB`\x82")
            and "transparency" not in im.info and getattr(im, "n_frames", 1) == 1
            and b"eXIf" not in data)


def _decode_plain_png(data, size):
    """RGB pixels of a plain PNG decoded by OpenCV, or None to let Pillow try (and explain)."""
    return _opencv_rgb(data, cv2.IMREAD_COLOR, size)


def _opencv_rgb(data, flags, size):
    """RGB pixels that OpenCV decodes from ``data`` with ``flags``, orientation ignored
    (Pillow's path applies it); None unless they come out ``size`` = (width, height)."""
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), flags | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None or bgr.shape[:2] != (size[1], size[0]):
        return None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _draft_request(size, max_side):
    """The size to ask :meth:`PIL.Image.Image.draft` for, or None for a full decode.

    draft() keeps both sides at least the requested size: asking for the image's own
    proportions makes the *long* side the one that stays >= ``max_side``.
    """
    width, height = size
    if not max_side or max_side >= max(width, height):
        return None
    shrink = max_side / max(width, height)
    return math.ceil(width * shrink), math.ceil(height * shrink)


def _decode_problem(exc, data):
    """What went wrong in a decoder, in words a person can act on (not the decoder's
    internals, such as "24 bytes not processed" when kilobytes are missing)."""
    cut = "truncated" in str(exc).lower() or (
        bytes(data[:2]) == b"\xff\xd8" and not bytes(data[-2:]) == b"\xff\xd9")
    if cut:
        return ("the image data is corrupt or truncated: the file is cut short (its data "
                "end before the picture does: a download or copy that did not finish?)")
    return f"the image data is corrupt or truncated: {exc}"


# Start-of-frame markers of 8-bit Huffman JPEGs (baseline, extended, progressive); any
# other frame type (lossless, arithmetic, hierarchical) is left to Pillow.
_SOF_PLAIN = frozenset((0xC0, 0xC1, 0xC2))
_SOF_OTHER = frozenset((0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF))


def _plain_jpeg_size(data):
    """``(width, height)`` of a plain JPEG, or None.

    Plain: an 8-bit, 3-component (colour) Huffman JPEG without an EXIF block, whose
    data end in the end-of-image marker. Entropy-coded data never hold ``FF D9``, so a
    truncated file does not end in it; libjpeg would pad such a file with grey and
    only warn, where Pillow raises. Other JPEGs return None and go to Pillow, which
    applies EXIF orientation, converts grey and CMYK, and explains errors.
    """
    if not (data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")):
        return None
    size, pos, end = None, 2, len(data) - 4
    # Marker segments up to the first scan: FF, marker, 2-byte length (itself included).
    while pos <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the header is complete
            return size
        length = (data[pos + 2] << 8) | data[pos + 3]
        if length < 2 or marker in _SOF_OTHER:
            return None
        if marker == 0xE1 and data[pos + 4:pos + 10] == b"Exif\0\0":
            return None
        if marker in _SOF_PLAIN:
            if size is not None or pos + 10 > len(data) or data[pos + 4] != 8 or data[pos + 9] != 3:
                return None
            height = (data[pos + 5] << 8) | data[pos + 6]
            width = (data[pos + 7] << 8) | data[pos + 8]
            if not (width and height):
                return None
            size = (width, height)
        pos += 2 + length
    return None


def _decode_plain_jpeg(data, limits, max_side):
    """RGB pixels of a plain JPEG (see :func:`_plain_jpeg_size`) decoded by OpenCV,
    reduced as :meth:`PIL.JpegImagePlugin.JpegImageFile.draft` would for ``max_side``;
    None for any other input, which Pillow then decodes or explains."""
    size = _plain_jpeg_size(data)
    if size is None:
        return None
    _check_pixels(size, limits)
    width, height = size
    scale = 1
    request = _draft_request(size, max_side)
    if request:
        # Pillow's draft() rule: the largest DCT scale that keeps both sides >= request.
        fit = min(width // request[0], height // request[1])
        scale = next(s for s in (8, 4, 2, 1) if fit >= s)
    return _opencv_rgb(data, _JPEG_FLAGS[scale], (-(-width // scale), -(-height // scale)))


_JPEG_FLAGS = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2,
               4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


def _reject_foreign(data):
    for signature, what in _FOREIGN_SIGNATURES:
        if data.startswith(signature):
            raise UnsupportedInputError(f"the file is {what}, not an image")
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:8192].lower()):
        raise UnsupportedInputError("SVG is a vector format; rasterise it to PNG first")
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        raise UnsupportedInputError("the file is an HTML page, not an image")


def _describe_head(data):
    head = data[:512]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return f"{len(data):,} bytes starting {data[:8].hex(' ')}"
    return "it looks like text"


def _check_pixels(size, limits):
    width, height = size
    if width * height > limits.max_pixels:
        raise ImageTooLargeError(
            f"the image is {width}x{height} = {width * height:,} pixels, over the "
            f"{limits.max_pixels:,}-pixel limit")


def _orient(im):
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Corrupt EXIF", category=UserWarning)
            return ImageOps.exif_transpose(im)
    except Exception:  # malformed EXIF must not lose an otherwise good image
        return im


# --- PIL / numpy -> (H, W, 3) uint8 ---------------------------------------------------------


def _pil_to_rgb(im, background):
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _array_to_rgb(np.asarray(im), background, sixteen_bit=mode != "F")
    if mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    elif mode in ("LA", "La", "PA", "RGBa"):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        return _array_to_rgb(np.asarray(im), background)
    if im.mode != "RGB":
        im = im.convert("RGB")
    return np.array(im, dtype=np.uint8)


def _array_to_rgb(array, background, sixteen_bit=False):
    arr = np.asarray(array)
    if arr.dtype == object or arr.size == 0:
        raise UnsupportedInputError(f"the array is empty or not numeric (dtype {arr.dtype})")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise UnsupportedInputError(
            f"expected an array of shape (H, W), (H, W, 3) or (H, W, 4), got {arr.shape}")
    arr = _to_uint8(arr, sixteen_bit)
    if arr.shape[2] == 4:
        alpha = arr[..., 3:4].astype(np.float64) / 255.0
        bg = np.asarray(background, dtype=np.float64)
        arr = np.rint(arr[..., :3] * alpha + bg * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(arr, dtype=np.uint8)


def _to_uint8(arr, sixteen_bit):
    if arr.dtype == np.uint8:
        return arr.copy()
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise UnsupportedInputError("the float array holds NaN or infinite values")
        if arr.min() < 0 or arr.max() > 1:
            raise UnsupportedInputError(
                "float arrays must hold values in [0, 1] "
                f"(got {arr.min():.3g}..{arr.max():.3g})")
        return np.rint(arr * 255).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.integer):
        if arr.min() < 0:
            raise UnsupportedInputError("integer arrays must not hold negative values")
        if arr.dtype == np.uint16 or sixteen_bit or arr.max() > 255:
            if arr.max() > 65535:
                raise UnsupportedInputError("integer arrays must fit in 16 bits")
            # 16-bit -> 8-bit keeping the full range: 65535 / 257 == 255
            return np.rint(arr.astype(np.float64) / 257.0).astype(np.uint8)
        return arr.astype(np.uint8)
    raise UnsupportedInputError(f"unsupported array dtype {arr.dtype}")


def _check_shape(rgb, limits):
    height, width = rgb.shape[:2]
    if min(height, width) < limits.min_side:
        raise ImageShapeError(
            f"the image is {width}x{height}; both sides must be at least {limits.min_side} px")
    if max(height, width) / min(height, width) > limits.max_aspect:
        raise ImageShapeError(
            f"the image is {width}x{height}, more elongated than {limits.max_aspect:g}:1")
    return rgb
