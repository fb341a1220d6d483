"""Per-prediction explanations: which features pushed this decision, in words.

A feature's contribution is its share of the decision's log-odds, positive towards
anime, negative towards cartoon: along the image's path through each tree, every
split credits its feature with the change from the mean answer below the node to the
mean below the branch taken (path attributions; see :mod:`animefeat._trees`). The
shares and the mean answer add up to the answer, so the winning side's reasons
outweigh the others'. It is about what the model did on this image, not a global
importance. Models whose trees are out of reach are explained by probes instead
(:func:`probe_effects`: each feature in turn set to its training median).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["EVIDENCE", "Contribution", "contributions", "describe", "explain_vector",
           "grouped", "has_template", "probe_effects", "probe_matrix", "visual_evidence"]

# Plain-language templates: what a person can check by looking, with a unit. Fields:
# {v} the value, {pct} the value as a percentage, {n2} 2 ** value (an entropy in bits said
# as "as varied as n equally common things"), {px} a length in pixels of the working copy,
# {side} the working copy's long side, {yesno} "a"/"no", {suffix} the name's tail.
_TEMPLATES = {
    "edges.density": "{pct} of the drawing is edges",
    "edges.gradient_mean": "{pct} average contrast between neighbouring pixels",
    "edges.orientation_entropy": "edges run in about {n2:.0f} main directions",
    "edges.straight_share": "{pct} of the contour length runs straight",
    "edges.contour_length_mean": "contours on average {pct} of the picture long",
    "edges.contours_per_kpx": "{v:.1f} separate contours per 1000 pixels",
    "edges.density_half": "{pct} of the drawing is edges at half size",
    "edges.density_quarter": "{pct} of the drawing is edges at quarter size",
    "edges.laplacian_half": "{pct} fine-detail contrast at half size",
    "edges.laplacian_quarter": "{pct} fine-detail contrast at quarter size",
    "lines.share": "outlines cover {pct} of the drawing",
    "lines.thickness_median": "outlines about {px:.1f} px thick (picture {side} px across)",
    "lines.thickness_iqr": "outline thickness varies by {px:.1f} px along the strokes "
                           "(picture {side} px across)",
    "lines.thickness_p90": "the boldest outlines {px:.1f} px thick (picture {side} px across)",
    "lines.darkness": "outlines {pct} dark (100%: black)",
    "lines.contrast": "outlines {pct} darker than the colour around them",
    "lines.continuity": "{pct} of the line work in long unbroken strokes",
    "lines.endpoints_per_100px": "{v:.1f} stroke ends per 100 px of line",
    "lines.black_share": "{pct} of the drawing near-black",
    "colour.colours_90": "{v:.0f} colours cover 90% of the drawing",
    "colour.colours_95": "{v:.0f} colours cover 95% of the drawing",
    "colour.colours_99": "{v:.0f} colours cover 99% of the drawing",
    "colour.palette_entropy": "colours used as evenly as {n2:.0f} equally common colours",
    "colour.flat_share": "{pct} of the drawing in flat colour fills",
    "colour.shading_share": "{pct} of the drawing in soft shading",
    "colour.saturation_mean": "colours {pct} saturated on average",
    "colour.saturation_std": "saturation varies by {pct}",
    "colour.value_mean": "{pct} average brightness",
    "colour.value_std": "brightness varies by {pct}",
    "colour.hue_entropy": "hues as varied as {n2:.0f} equally common hues",
    "colour.skin_share": "{pct} of the drawing in skin tones",
    "colour.skin_value_mean": "skin tones {pct} bright",
    "colour.skin_saturation_mean": "skin tones {pct} saturated",
    "regions.residual_8": "8 flat colours miss the picture by {pct} on average",
    "regions.residual_4": "4 flat colours miss the picture by {pct} on average",
    "regions.regions_per_kpx": "{v:.1f} colour regions per 1000 pixels",
    "regions.large_region_share": "{pct} of the drawing in large single-colour regions",
    "regions.largest_region_share": "the largest colour region covers {pct}",
    "regions.speck_share": "{pct} of the drawing in tiny specks of colour",
    "regions.colourfulness": "{pct} colourfulness (100%: as colourful as images get)",
    "shading.shadow_edge_share": "{pct} of the edges are shadow steps inside one colour "
                                 "(cel shading)",
    "shading.paint_edge_share": "{pct} of the edges are changes of colour without an outline",
    "shading.outline_edge_share": "{pct} of the edges are drawn outlines",
    "shading.outline_black_share": "{pct} of the outline pixels are black",
    "shading.outline_saturation": "outlines {pct} saturated (coloured rather than black)",
    "shading.outline_value": "outlines at {pct} brightness",
    "shading.highlights_per_kpx": "{v:.1f} small bright highlights per 1000 pixels",
    "texture.lbp_entropy": "fine texture as varied as {n2:.0f} equally common patterns",
    "texture.lbp_0": "{pct} of pixels are bright dots",
    "texture.lbp_4": "{pct} of pixels lie on straight edges",
    "texture.lbp_8": "{pct} of pixels lie in flat areas or dark dots",
    "texture.lbp_9": "{pct} of pixels in irregular, noisy texture",
    "face.found": "{yesno} drawn face found",
    "face.count": "{v:.0f} drawn faces found",
    "face.area_share": "the face covers {pct} of the picture",
    "face.score": "face detector {pct} sure of the face",
    "face.eyes_found": "{v:.0f} eyes found in the face",
    "face.eye_height_ratio": "eyes {pct} of the face height",
    "face.eye_width_ratio": "eyes {pct} of the face width",
    "face.eye_spacing": "eyes {pct} of the face width apart",
    "face.eye_area_share": "eyes cover {pct} of the face",
    "face.eye_y": "eyes {pct} of the way down the face",
    "face.eye_highlight": "{pct} of the eyes hold a bright highlight",
    "face.photo_face": "{yesno} human face of a photograph found",
}
_PATTERN_TEMPLATES = {
    "edges.orientation_": "{pct} of edges run at {suffix} degrees",
    "colour.hue_": "{pct} of the drawing in saturated colour of hue {suffix} degrees",
    "texture.lbp_": "{pct} of pixels with {suffix} of their 8 neighbours at least as bright "
                    "(corners and line ends)",
    "hog.mean_": "edges at {suffix} degrees, {pct} of full strength on average",
    "hog.std_": "the strength of edges at {suffix} degrees varies by {pct} across the picture",
}
# Where each family's reasons were measured, for the page to highlight: the outline
# pixels, the edge pixels, the palette, the shadow steps, the face and eye boxes.
EVIDENCE = {"lines": "lines", "edges": "edges", "hog": "edges", "texture": "edges",
            "colour": "palette", "regions": "palette", "shading": "shading", "face": "faces"}
#: Features whose values are lengths in working-copy pixels.
_LENGTHS = {"lines.thickness_median", "lines.thickness_iqr", "lines.thickness_p90"}


@dataclass(frozen=True)
class Contribution:
    """One feature's part in one decision.

    Attributes
    ----------
    feature : str
        ``"family.feature"``.
    value : float or None
        The measured value (None when not measurable).
    contribution : float
        Change in log-odds of "anime" that this value caused (positive: towards anime).
    text : str
        The value in plain words, with its unit ("outlines about 2.5 px thick ...").
    side : str
        ``"anime"`` or ``"cartoon"``: the answer this value points to.
    evidence : str
        What the page highlights for it: ``"lines"``, ``"edges"``, ``"palette"``,
        ``"shading"`` or ``"faces"``.
    """

    feature: str
    value: float | None
    contribution: float
    text: str
    side: str = ""
    evidence: str = ""

    def to_dict(self):
        """A JSON-serialisable dict."""
        return asdict(self)


def has_template(feature):
    """Whether :func:`describe` has words for ``feature``."""
    return feature in _TEMPLATES or any(feature.startswith(p) for p in _PATTERN_TEMPLATES)


def describe(feature, value, *, side=256):
    """Say a feature's value in plain words, with its unit.

    Parameters
    ----------
    feature : str
        ``"family.feature"``.
    value : float
        NaN means "not measurable".
    side : int
        Long side of the working copy the value was measured on (lengths are in its
        pixels).

    Returns
    -------
    text : str

    Raises
    ------
    KeyError
        No template for ``feature`` (every feature animefeat computes has one; tested).
    """
    if not has_template(feature):
        raise KeyError(f"no words for the feature {feature!r}")
    if value is None or not np.isfinite(value):
        return f"{feature.split('.', 1)[1].replace('_', ' ')} not measurable"
    fields = {"v": value, "pct": f"{100 * value:.0f}%", "yesno": "a" if value >= 0.5 else "no",
              "n2": 2.0 ** value, "px": value, "side": side}
    template = _TEMPLATES.get(feature)
    if template is None:
        for prefix, pattern in _PATTERN_TEMPLATES.items():
            if feature.startswith(prefix):
                template = pattern
                fields["suffix"] = feature[len(prefix):]
                break
    return template.format(**fields)


def explain_vector(classifier, x, reference, names, *, top=5):
    """The features that moved one decision most.

    Parameters
    ----------
    classifier : estimator with ``predict_proba``
        Fitted on feature vectors; column 1 is the probability of anime.
    x : ndarray of shape (n_features,)
        The image's feature vector.
    reference : ndarray of shape (n_features,)
        Typical values (training medians) that stand in for each feature in turn.
    names : sequence of str
        Feature names.
    top : int
        How many contributions to return.

    Returns
    -------
    contributions : list of Contribution
        Largest absolute contribution first.
    """
    effect = probe_effects(lambda X: classifier.predict_proba(X)[:, 1], x[None, :], reference)
    return contributions(effect[0], x, names, top=top)


def probe_effects(predict, X, reference):
    """Each feature's effect on the log-odds, by probes: the change when it alone takes
    its reference value. For models whose trees are out of reach.

    Parameters
    ----------
    predict : callable
        Rows of shape (n, n_features) to P(anime) of shape (n,).
    X : ndarray of shape (n_samples, n_features)
    reference : ndarray of shape (n_features,)

    Returns
    -------
    effects : ndarray of shape (n_samples, n_features)
    """
    X = np.asarray(X, dtype=np.float64)
    # One model call for every image and every probe: the per-call overhead of a
    # booster's trees dominates single-image latency, not the rows.
    probes = np.vstack([probe_matrix(x, reference) for x in X])
    p = np.clip(predict(probes).reshape(len(X), -1), 1e-12, 1 - 1e-12)
    logit = np.log(p / (1 - p))
    return logit[:, :1] - logit[:, 1:]


def probe_matrix(x, reference):
    """``x`` itself, then ``x`` with each feature in turn set to its reference value.

    Returns
    -------
    probes : ndarray of shape (n_features + 1, n_features)
    """
    x = np.asarray(x, dtype=np.float64)
    probes = np.repeat(x[None, :], len(x) + 1, axis=0)
    idx = np.arange(len(x))
    probes[idx + 1, idx] = reference
    return probes


def contributions(effect, x, names, *, top=5, side=256):
    """The ``top`` largest effects on the log-odds of anime, as reasons.

    Parameters
    ----------
    effect : ndarray of shape (n_features,)
        Each feature's effect on the log-odds of anime (positive: towards anime), as
        :meth:`animefeat._trees.FlatBooster.attributions` gives them.
    x : ndarray of shape (n_features,)
    names : sequence of str
    top : int
    side : int
        The working copy's long side (for lengths in words).

    Returns
    -------
    contributions : list of Contribution
        Largest absolute contribution first; features that changed nothing are left out.
    """
    x = np.asarray(x, dtype=np.float64)
    effect = np.asarray(effect, dtype=np.float64)
    order = np.argsort(-np.abs(effect), kind="stable")[:top]
    out = []
    for i in order:
        if abs(effect[i]) < 1e-9:
            break
        value = float(x[i]) if np.isfinite(x[i]) else None
        out.append(Contribution(names[i], value, float(effect[i]),
                                describe(names[i], x[i], side=side),
                                side="anime" if effect[i] > 0 else "cartoon",
                                evidence=EVIDENCE.get(names[i].split(".", 1)[0], "")))
    return out


def grouped(explanation, label):
    """Reasons grouped by the answer they point to, the winning side first.

    Parameters
    ----------
    explanation : list of Contribution
        Largest first, as :func:`contributions` returns them.
    label : str
        The answer (``"anime"`` or ``"cartoon"``).

    Returns
    -------
    groups : list of (str, list of Contribution)
        ``[(label, reasons for it), (other, reasons against it)]``, strongest first
        within each; a side with no reason is left out.
    """
    other = "cartoon" if label == "anime" else "anime"
    return [(s, [c for c in explanation if c.side == s]) for s in (label, other)
            if any(c.side == s for c in explanation)]


def visual_evidence(work, *, image_shape=None):
    """What the page draws over the image for each kind of reason.

    Parameters
    ----------
    work : WorkingCopy
        The working copy the features were computed on.
    image_shape : tuple, optional
        (H, W) of the image as shown; boxes are given as shares of it. Defaults to the
        original size implied by the working copy.

    Returns
    -------
    evidence : dict
        ``box``: ``[x, y, w, h]`` in [0, 1] of the shown image, the region the masks
        cover (the trimmed drawing). ``lines``, ``edges``, ``shading``: PNG data URLs
        of that region at the working copy's resolution, transparent but for the
        outline pixels, the edge pixels and the shadow steps. ``palette``: the main
        colours, ``[{"rgb": "#rrggbb", "share": s}, ...]``, most used first.
        ``faces``: ``[{"box": [x, y, w, h], "score": p, "eyes": [[x, y, w, h], ...]}]``
        in shares of the shown image.
    """
    import base64
    import io

    import cv2
    from PIL import Image

    from .detect.eyes import find_eyes
    from .features.edges import canny
    from .features.face import drawn_faces
    from .features.lines import line_mask
    from .features.regions import quantise
    from .features.shading import edge_kinds

    top, bottom, left, right = work.crop
    h, w = work.grey.shape
    core_h, core_w = h / work.scale, w / work.scale
    height, width = image_shape or (top + core_h + bottom, left + core_w + right)

    def box(b):
        x, y, bw, bh = (float(v) / work.scale for v in b)
        return [round((left + x) / width, 4), round((top + y) / height, 4),
                round(bw / width, 4), round(bh / height, 4)]

    def png(mask, colour):
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
    boxes, p = drawn_faces(work)
    faces = [{"box": box(f), "score": round(float(q), 4),
              "eyes": [box(e) for e in find_eyes(work.rgb, tuple(f))]}
             for f, q in zip(boxes, p)]
    return {
        "box": box((0, 0, w, h)),
        "lines": png(line_mask(work), (230, 30, 90, 255)),
        "edges": png(canny(work) & work.foreground, (0, 150, 255, 255)),
        "shading": png(shadows, (255, 170, 0, 255)),
        "palette": palette,
        "faces": faces,
    }
