"""Synthetic images with known answers, shared by the tests."""

from __future__ import annotations

import io
import itertools

import cv2
import numpy as np
from PIL import Image

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


def blank(height=128, width=128, colour=WHITE):
    """A flat image: no edges, no lines, one colour."""
    return np.full((height, width, 3), colour, dtype=np.uint8)


def stripes(*, width, spacing=24, size=128, colour=BLACK, background=WHITE):
    """Vertical lines of exactly ``width`` pixels every ``spacing`` pixels."""
    img = blank(size, size, background)
    for x in range(spacing // 2, size - width, spacing):
        img[:, x:x + width] = colour
    return img


def palette_blocks(n_colours, *, size=128, seed=0):
    """A grid of ``n_colours`` well-separated flat colours, each on (nearly) equal area.

    Cell (i, j) of an n x n grid gets colour (i + j) mod n, so every row and column
    holds every colour: no border line is flat, nothing is trimmed.
    """
    rng = np.random.default_rng(seed)
    colours = np.unique(rng.choice(np.arange(16, 256, 40), size=(n_colours * 8, 3)), axis=0)
    colours = colours[rng.permutation(len(colours))[:n_colours]]
    cell = np.minimum(np.arange(size) * n_colours // size, n_colours - 1)
    return colours[(cell[:, None] + cell[None, :]) % n_colours].astype(np.uint8)


def gradient(size=128):
    """A smooth diagonal colour ramp: all shading, no flat fill."""
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    img = np.stack([x * 200 + 30, y * 200 + 30, (x + y) * 100 + 30], axis=-1)
    return img.round().astype(np.uint8)


def cartoon(seed=0, size=160):
    """Flat fills with bold dark outlines: a western-cartoon-like drawing."""
    rng = np.random.default_rng(seed)
    img = blank(size, size)
    for _ in range(4):
        centre = tuple(int(v) for v in rng.integers(30, size - 30, 2))
        radius = int(rng.integers(15, 35))
        colour = tuple(int(v) for v in rng.choice([40, 120, 200, 240], 3))
        cv2.circle(img, centre, radius, colour, -1)
        cv2.circle(img, centre, radius, BLACK, int(rng.integers(4, 6)))
    return img


def anime(seed=0, size=160):
    """Soft shaded regions with thin, light outlines: an anime-like drawing."""
    rng = np.random.default_rng(seed)
    # A ramp in a random direction and palette, so seeds are not near-duplicates.
    img = gradient(size)[:, :, rng.permutation(3)]
    img = np.rot90(img, k=int(rng.integers(4))).copy()
    for _ in range(12):
        p0 = tuple(int(v) for v in rng.integers(0, size, 2))
        p1 = tuple(int(v) for v in rng.integers(0, size, 2))
        cv2.line(img, p0, p1, (90, 60, 80), 1, cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (3, 3), 0)
    noise = rng.normal(0, 4, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def photo(seed=0, size=160):
    """Smooth noise at several scales: a photograph-like texture."""
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size, 3))
    for scale in (4, 16, 64):
        small = rng.normal(0, 40, (size // scale + 1, size // scale + 1, 3))
        img += cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(img + 128, 0, 255).astype(np.uint8)


def face(*, eye_size=20, size=200):
    """A drawn frontal face: skin oval, two dark eyes of ``eye_size`` px, mouth."""
    img = blank(size, size)
    c = size // 2
    cv2.ellipse(img, (c, c), (size // 3, int(size / 2.4)), 0, 0, 360, (230, 190, 160), -1)
    cv2.ellipse(img, (c, c), (size // 3, int(size / 2.4)), 0, 0, 360, BLACK, 2)
    for dx in (-size // 7, size // 7):
        cv2.ellipse(img, (c + dx, c - size // 12), (eye_size // 2, eye_size // 2), 0, 0, 360,
                    (40, 30, 30), -1)
    cv2.line(img, (c - size // 10, c + size // 5), (c + size // 10, c + size // 5), BLACK, 2)
    return img


def anime_face(*, size=200, eye=0.16):
    """An anime-style head: hair behind and over the brow, a pale face, two large eyes
    (``eye`` x ``size`` wide) each with a white highlight, a small mouth."""
    img = blank(size, size)
    c = size // 2
    hair, skin = (110, 70, 50), (250, 220, 200)
    cv2.ellipse(img, (c, int(c * 0.9)), (int(size * 0.46), int(size * 0.46)), 0, 0, 360, hair, -1)
    cv2.ellipse(img, (c, int(c * 1.1)), (int(size * 0.33), int(size * 0.38)), 0, 0, 360, skin, -1)
    cv2.ellipse(img, (c, int(c * 0.55)), (int(size * 0.40), int(size * 0.2)), 0, 0, 360, hair, -1)
    e = int(size * eye)
    for dx in (-int(size * 0.15), int(size * 0.15)):
        cv2.ellipse(img, (c + dx, int(c * 1.05)), (e // 2, int(e * 0.7)), 0, 0, 360,
                    (60, 40, 90), -1)
        cv2.circle(img, (c + dx - e // 6, int(c * 1.05) - e // 4), max(2, e // 6), WHITE, -1)
    cv2.line(img, (c - size // 20, int(c * 1.5)), (c + size // 20, int(c * 1.5)), (150, 60, 60), 2)
    return img


def shaded_strands(*, size=256, n=25, seed=0):
    """Thin dark strands (hair, ripples) over grey paint shaded and grained everywhere:
    lines for the line mask, but no flat paint beside them at a working side of 256 px
    or less."""
    y, x = np.mgrid[:size, :size]
    rng = np.random.default_rng(seed)
    grey = 140 + 60 * np.sin(x / 5.0) * np.cos(y / 8.0) + rng.normal(0, 8, (size, size))
    img = np.repeat(np.clip(grey, 0, 255).round().astype(np.uint8)[..., None], 3, axis=2)
    for x0, dx in zip(rng.integers(0, size, n), rng.integers(-40, 40, n)):
        cv2.line(img, (int(x0), 0), (int(x0 + dx), size - 1), (20, 20, 20), 1)
    return img


def pasted(image, *, at, side, shape=(320, 480)):
    """``image`` resized to ``side`` px and pasted with its top-left corner at ``at``
    (x, y) into a flat pale-green background of ``shape``."""
    background = np.empty((*shape, 3), np.uint8)
    background[:] = (200, 230, 200)
    x, y = at
    background[y:y + side, x:x + side] = cv2.resize(image, (side, side),
                                                    interpolation=cv2.INTER_AREA)
    return background


def encode(image, fmt="PNG", **params):
    """Encode an array (or PIL image) to bytes in ``fmt``."""
    pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
    buffer = io.BytesIO()
    pil.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def grey_bands(levels, *, size=128):
    """Vertical bands of the given grey levels, equal widths, full bleed.

    The outer bands are flat border lines, so the working copy trims them as
    letterboxing when they differ from their neighbours.
    """
    img = blank(size, size)
    bounds = np.linspace(0, size, len(levels) + 1).round().astype(int)
    for level, (a, b) in zip(levels, itertools.pairwise(bounds)):
        img[:, a:b] = level
    return img


def checkerboard(cells, *, size=128, dark=30, light=220):
    """A ``cells`` x ``cells`` grey checkerboard: 2 (cells - 1) straight boundaries."""
    index = np.minimum(np.arange(size) * cells // size, cells - 1)
    board = np.where((index[:, None] + index[None, :]) % 2, dark, light).astype(np.uint8)
    return np.stack([board] * 3, axis=-1)

