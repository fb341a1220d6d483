"""Eyes inside a drawn face: the pair of dark, compact blobs in the face's middle band.

A drawn eye is the darkest compact shape of a face (pupil, iris and lashes inked
darker than skin and hair highlights), and the two eyes sit side by side. Inside the
face box, scaled to :data:`FACE_SIDE` pixels, a black top-hat (how much darker each
pixel is than a closing that fills shapes up to a quarter of the face wide) shows dark
details whatever the colour of skin and hair; Otsu's threshold on the band where eyes
sit separates them, and of the connected blobs the best-matched pair (similar size,
level, apart by a sensible share of the face, either side of its middle) are the eyes.
A highlight is a bright spot (near white) inside an eye's box: the large highlights of
anime eyes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Eye", "find_eyes", "measure_eyes"]

#: Faces are examined at this side, in pixels.
FACE_SIDE = 96
#: Rows of the face box (shares of its height) where eyes are looked for.
BAND = (0.33, 0.85)
#: A blob's area as a share of the face area: from a dot to a large anime eye.
AREA_RANGE = (0.0015, 0.08)
#: Centres apart by this share of the face width (both eyes of one face).
SPACING_RANGE = (0.12, 0.75)
#: Most the pair's midpoint may sit off the face box's vertical centre (share of its
#: width): a face box is centred on the face, so two dark blobs to one side of it are
#: hair or background, even in a three-quarter view.
MAX_OFF_CENTRE = 0.18
#: Share of its bounding box a blob fills (an ellipse fills 0.79, an arc far less).
MIN_FILL = 0.35
#: The most log-ratio of a kept pair's areas: an eye beside a lock of hair fails.
MAX_LOG_AREA_RATIO = 1.0
#: Grey level (0-255) of a highlight pixel, and its share of the eye box to count.
HIGHLIGHT_LEVEL = 215
HIGHLIGHT_SHARE = 0.02


@dataclass(frozen=True)
class Eye:
    """One eye, in the face box's coordinates scaled to FACE_SIDE.

    Attributes
    ----------
    box : tuple of 4 int
        ``(x, y, w, h)``.
    area : int
        Pixels of the dark blob.
    highlight : bool
        A bright spot inside the box.
    """

    box: tuple
    area: int
    highlight: bool


def measure_eyes(face_rgb):
    """The eyes of one face crop.

    Parameters
    ----------
    face_rgb : ndarray of shape (h, w, 3), uint8
        The face box's pixels.

    Returns
    -------
    eyes : list of Eye
        Zero or two, left to right, in FACE_SIDE x FACE_SIDE coordinates.
    """
    if min(face_rgb.shape[:2]) < 8:
        return []
    face = cv2.resize(face_rgb, (FACE_SIDE, FACE_SIDE),
                      interpolation=cv2.INTER_AREA if face_rgb.shape[0] > FACE_SIDE
                      else cv2.INTER_LINEAR)
    grey = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
    size = FACE_SIDE // 4 | 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    blackhat = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, disk, borderType=cv2.BORDER_REPLICATE)
    top, bottom = (int(b * FACE_SIDE) for b in BAND)
    band = blackhat[top:bottom]
    level, _ = cv2.threshold(band, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    # Otsu on a smooth face can split noise; a blob must be clearly darker than around it.
    mask = (band >= max(level, 40)).astype(np.uint8)
    n, _, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    area_lo, area_hi = (a * FACE_SIDE * FACE_SIDE for a in AREA_RANGE)
    blobs = []
    for k in range(1, n):
        x, y, w, h, area = stats[k]
        if not area_lo <= area <= area_hi:
            continue
        # Compact: not a stroke of hair, an outline's arc or a mouth line.
        if not 0.3 <= h / w <= 2.5 or area < MIN_FILL * w * h:
            continue
        blobs.append((x, y + top, w, h, area, centroids[k][0], centroids[k][1] + top))
    pair = _best_pair(blobs)
    if pair is None or not _alike(pair):
        return []
    eyes = []
    for x, y, w, h, area, _, _ in sorted(pair, key=lambda b: b[0]):
        box = grey[y:y + h, x:x + w]
        bright = np.count_nonzero(box >= HIGHLIGHT_LEVEL)
        eyes.append(Eye(box=(int(x), int(y), int(w), int(h)), area=int(area),
                        highlight=bright >= max(1, HIGHLIGHT_SHARE * w * h)))
    return eyes


def _best_pair(blobs):
    """The two blobs most alike in size and level, at an eye's spacing apart, either
    side of the face's middle."""
    best, best_cost = None, np.inf
    for i in range(len(blobs)):
        for j in range(i + 1, len(blobs)):
            a, b = blobs[i], blobs[j]
            dx = abs(a[5] - b[5]) / FACE_SIDE
            dy = abs(a[6] - b[6]) / FACE_SIDE
            if not SPACING_RANGE[0] <= dx <= SPACING_RANGE[1] or dy > 0.12:
                continue
            if abs((a[5] + b[5]) / 2 / FACE_SIDE - 0.5) > MAX_OFF_CENTRE:
                continue
            size = abs(np.log(a[4] / b[4]))
            # Alike in size and level; larger pairs preferred (pupils over freckles).
            cost = size + 4 * dy - 0.5 * np.log((a[4] + b[4]) / FACE_SIDE ** 2)
            if cost < best_cost:
                best, best_cost = (a, b), cost
    return best


def _alike(pair):
    """Whether a pair of blobs is sized as a face's two eyes."""
    area_a, area_b = pair[0][4], pair[1][4]
    return abs(np.log(area_a / area_b)) <= MAX_LOG_AREA_RATIO


def find_eyes(image, box):
    """Eye boxes of the face at ``box`` in ``image``, in the image's pixels.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
    box : tuple of 4 float
        ``(x, y, w, h)`` of the face.

    Returns
    -------
    eyes : list of tuple of 4 float
        Zero or two boxes ``(x, y, w, h)``, left to right.
    """
    x, y, w, h = (round(v) for v in box)
    x0, y0 = max(0, x), max(0, y)
    crop = image[y0:y + h, x0:x + w]
    if crop.size == 0:
        return []
    sx, sy = crop.shape[1] / FACE_SIDE, crop.shape[0] / FACE_SIDE
    return [(x0 + ex * sx, y0 + ey * sy, ew * sx, eh * sy)
            for ex, ey, ew, eh in (e.box for e in measure_eyes(crop))]
