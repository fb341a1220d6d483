"""What the page draws over a picture for each kind of reason: masks, palette, faces.

Page rendering (PNG data URLs, RGBA colours, boxes in shares of the shown picture), kept
beside the page: the library measures, this module draws what it measured.
"""

from __future__ import annotations

import base64
import io

import cv2
import numpy as np
from PIL import Image

from animefeat.detect import detect_faces
from animefeat.explain import patch_map
from animefeat.features.edges import canny
from animefeat.features.lines import line_mask, outline_share, reads_as_outlines
from animefeat.features.regions import quantise
from animefeat.features.shading import edge_kinds

__all__ = ["visual_evidence"]


def visual_evidence(work, image, *, image_shape=None, model=None):
    """What the page draws over the image for each kind of reason.

    Parameters
    ----------
    work : WorkingCopy
        The working copy the features were computed on.
    image : ndarray of shape (H, W, 3), uint8
        The image as loaded: its faces are :func:`animefeat.detect_faces`' own, so that
        the page and the library agree.
    image_shape : tuple, optional
        (H, W) of the image as shown; boxes are given as shares of it. Defaults to the
        original size implied by the working copy.
    model : AnimefeatModel, optional
        With a local head, ``patches`` maps where the picture looks anime or cartoon.

    Returns
    -------
    evidence : dict
        ``box``: ``[x, y, w, h]`` in [0, 1] of the shown image, the region the masks
        cover (the trimmed drawing). ``lines``, ``edges``, ``shading``: PNG data URLs
        of that region at the working copy's resolution, transparent but for the
        outline pixels, the edge pixels and the shadow steps. ``outlines``: how far
        the lines are outlines, ``{"share": s, "reasons": bool}`` (the share of line
        pixels that bound flat paint, :func:`animefeat.features.lines.outline_share`,
        None without lines; ``reasons`` False where no reason is read from them, as in
        the prediction). ``palette``: the main
        colours, ``[{"rgb": "#rrggbb", "share": s}, ...]``, most used first.
        ``faces``: ``[{"box": [x, y, w, h], "score": p, "eyes": [[x, y, w, h], ...]}]``
        in shares of the shown image. ``patches`` (only with a model that reads local
        patterns): a PNG data URL of the region, purple where patches pull towards
        anime, orange towards cartoon, more opaque where they pull harder.
    """
    top, bottom, left, right = work.crop
    h, w = work.grey.shape
    core_h, core_w = h / work.scale, w / work.scale
    height, width = image_shape or (top + core_h + bottom, left + core_w + right)

    def box(b):
        x, y, bw, bh = (float(v) / work.scale for v in b)
        return [round((left + x) / width, 4), round((top + y) / height, 4),
                round(bw / width, 4), round(bh / height, 4)]

    def png(mask, colour=None):
        # A mask in one colour, or (colour None) an RGBA picture as it is.
        if colour is None:
            rgba = mask
        else:
            rgba = np.zeros((h, w, 4), np.uint8)
            rgba[mask] = colour
        buffer = io.BytesIO()
        Image.fromarray(rgba).save(buffer, format="PNG", optimize=True)
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()

    kinds, rows, cols = edge_kinds(work)
    shadows = np.zeros((h, w), np.uint8)
    shadows[rows[kinds["shadow"]], cols[kinds["shadow"]]] = 1
    # Grown a little: one-pixel steps would vanish when the page scales the mask down.
    shadows = cv2.dilate(shadows, np.ones((3, 3), np.uint8)) > 0
    indices, painted = quantise(work, n_colours=8)
    used = np.bincount(indices[indices >= 0], minlength=1)
    palette = []
    for k in np.argsort(-used):
        if used[k] == 0:
            break
        ys, xs = np.nonzero(indices == k)
        r, g, b = (round(float(c)) for c in painted[ys[0], xs[0]])
        palette.append({"rgb": f"#{r:02x}{g:02x}{b:02x}",
                        "share": round(float(used[k] / used.sum()), 4)})
    # What a library user gets from af.detect_faces(image): the same faces and eyes.
    ih, iw = image.shape[:2]

    def share(b):
        x, y, bw, bh = b
        return [round(x / iw, 4), round(y / ih, 4), round(bw / iw, 4), round(bh / ih, 4)]

    faces = [{"box": share(f.box), "score": round(f.score, 4),
              "eyes": [share(e) for e in f.eyes]} for f in detect_faces(image)]
    outlined = outline_share(work)
    out = {
        "box": box((0, 0, w, h)),
        "lines": png(line_mask(work), (230, 30, 90, 255)),
        "outlines": {"share": None if np.isnan(outlined) else round(outlined, 4),
                     "reasons": bool(reads_as_outlines(outlined))},
        "edges": png(canny(work) & work.foreground, (0, 150, 255, 255)),
        "shading": png(shadows, (255, 170, 0, 255)),
        "palette": palette,
        "faces": faces,
    }
    if model is not None and model.local is not None:
        out["patches"] = _patch_png(work, model, png)
    return out


# The page's two style colours (style.css: --anime, --cartoon).
_ANIME_RGB, _CARTOON_RGB = (123, 31, 162), (179, 80, 0)


def _patch_png(work, model, png):
    """The local patterns' map (:func:`animefeat.explain.patch_map`) as a PNG data URL."""
    patches = model.patches(work)
    heat = patch_map(model.patch_shares(patches), patches.positions, patches.sizes,
                     work.grey.shape)
    peak = np.abs(heat).max()
    rgba = np.zeros((*heat.shape, 4), np.uint8)
    if peak > 0:
        strength = np.abs(heat) / peak
        rgba[..., :3] = np.where((heat > 0)[..., None], _ANIME_RGB, _CARTOON_RGB)
        # Faint pulls (under a tenth of the strongest) are left clear.
        rgba[..., 3] = np.where(strength >= 0.1, 40 + 180 * strength, 0).astype(np.uint8)
    return png(rgba)
