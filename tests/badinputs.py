"""The bad-input corpus: every kind of file a user or an attacker may send.

Generated, never stored: ``corpus()`` returns ``(name, payload, outcome)`` triples, where
payload is bytes (a file's content) or str (text sent to the JSON API / ``load_image``)
and outcome is ``"error"`` (must raise an ``AnimefeatError``), ``"ok"`` (must load), or
``"either"`` (a cut that may leave every pixel intact: an error or a correct image).

    python tests/badinputs.py OUTDIR     # write the corpus as files, for manual use
"""

from __future__ import annotations

import base64
import io
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def _encode(img, fmt, **params):
    buf = io.BytesIO()
    (img if isinstance(img, Image.Image) else Image.fromarray(img)).save(buf, fmt, **params)
    return buf.getvalue()


def _chunk(kind, body):
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def png_bomb(width=50_000, height=50_000):
    """A few hundred bytes of PNG whose header declares ``width x height`` pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + _chunk(b"IEND", b""))


def _drawing(h=64, w=64):
    rng = np.random.default_rng(0)
    img = np.full((h, w, 3), 255, np.uint8)
    img[h // 4:3 * h // 4, w // 4:3 * w // 4] = rng.integers(0, 255, 3)
    return img


def _exif_jpeg(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _encode(_drawing(40, 60), "JPEG", exif=exif)


def _malformed_exif():
    data = bytearray(_encode(_drawing(), "JPEG"))
    segment = b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xff" + b"\x00" * 20
    data[2:2] = b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment
    return bytes(data)


def _animated_gif(n_frames):
    frames = [Image.fromarray(np.full((32, 32, 3), i % 256, np.uint8)).convert("P")
              for i in range(n_frames)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=20)
    return buf.getvalue()


def corpus():
    rng = np.random.default_rng(1)
    items = [("zero-bytes", b"", "error")]
    for fmt in ("JPEG", "PNG", "GIF"):
        full = _encode(_drawing(), fmt)
        for cut in (8, 40, len(full) // 2):
            items.append((f"truncated-{fmt.lower()}-{cut}", full[:cut], "error"))
        # Cutting the last 8 bytes may only lose the end marker (PNG's IEND chunk).
        items.append((f"truncated-{fmt.lower()}-end", full[:-8], "either"))
    garbage = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    items += [
        ("png-header-garbage-body", b"\x89PNG\r\n\x1a\n" + garbage, "error"),
        ("jpeg-header-garbage-body", b"\xff\xd8\xff\xe0" + garbage, "error"),
        ("gif-header-garbage-body", b"GIF89a" + garbage, "error"),
        ("text-as-jpg", b"just some notes\n" * 20, "error"),
        ("html-as-png", b"<!DOCTYPE html><html><body>hi</body></html>", "error"),
        ("svg-as-png", b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>', "error"),
        ("xml-svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "error"),
        ("pdf-as-jpg", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "error"),
        ("zip-as-png", b"PK\x03\x04" + garbage[:100], "error"),
        ("decompression-bomb", png_bomb(), "error"),
        ("one-pixel", _encode(_drawing(1, 1), "PNG"), "error"),
        ("one-by-20000", _encode(np.zeros((1, 20000, 3), np.uint8), "PNG"), "error"),
        ("sixteen-bit-png", _encode(Image.fromarray(
            (np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)), "PNG"), "ok"),
        ("cmyk-jpeg", _encode(Image.new("CMYK", (64, 64), (0, 128, 255, 0)), "JPEG"), "ok"),
        ("palette-transparency", _encode(Image.fromarray(_drawing()).convert("P"), "PNG",
                                         transparency=0), "ok"),
        ("grey-alpha", _encode(Image.new("LA", (64, 64), (90, 128)), "PNG"), "ok"),
        ("animated-gif-500-frames", _animated_gif(500), "ok"),
        ("malformed-exif", _malformed_exif(), "ok"),
    ]
    items += [(f"exif-orientation-{o}", _exif_jpeg(o), "ok") for o in range(1, 9)]
    good = base64.b64encode(_encode(_drawing(), "PNG")).decode()
    items += [
        ("base64-bad-padding", good[:-3] + "=a", "error"),
        ("base64-wrong-prefix", "data:text/html;base64," + good, "error"),
        ("base64-non-ascii", "data:image/png;base64," + good[:20] + "é漢" + good[20:], "error"),
        ("base64-of-garbage", base64.b64encode(garbage[:300]).decode(), "error"),
        ("data-url-not-base64", "data:image/png," + good, "error"),
        ("base64-good", good, "ok"),
        ("data-url-good", "data:image/png;base64," + good, "ok"),
    ]
    return items


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bad-inputs")
    out.mkdir(parents=True, exist_ok=True)
    for name, payload, _ in corpus():
        data = payload.encode() if isinstance(payload, str) else payload
        (out / f"{name}.bin").write_bytes(data)
    print(f"wrote {len(corpus())} files to {out}")
