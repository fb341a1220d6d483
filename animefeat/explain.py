"""Per-prediction explanations: which features pushed this decision, in words.

A feature's contribution is how far the decision's log-odds move when that one
feature is replaced by its typical value in the training data (the median), all
others kept: positive pushes towards anime, negative towards cartoon. It needs only
one batched call to the model, so it costs a few milliseconds, and it is exact about
what the model did on this image (not a global importance).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Contribution", "contributions", "describe", "explain_vector", "probe_matrix",
           "visual_evidence"]

# Plain-language templates: how to say a feature's value. Values are at the working
# copy's scale (long side 128 px), which is what the model sees.
_TEMPLATES = {
    "edges.density": "{pct} of the drawing is edges",
    "edges.gradient_mean": "mean contrast of {v:.2f} between neighbouring pixels",
    "edges.orientation_entropy": "edge directions spread {v:.2f} bits",
    "edges.straight_share": "{pct} of contour length runs in straight lines",
    "edges.contour_length_mean": "contours on average {pct} of the picture long",
    "edges.contours_per_kpx": "{v:.1f} separate contours per 1000 pixels",
    "edges.density_half": "{pct} edges at half scale",
    "edges.density_quarter": "{pct} edges at quarter scale",
    "edges.laplacian_half": "fine detail {v:.3f} at half scale",
    "edges.laplacian_quarter": "fine detail {v:.3f} at quarter scale",
    "lines.share": "outlines cover {pct} of the drawing",
    "lines.thickness_median": "outlines {v:.1f} px thick",
    "lines.thickness_iqr": "outline thickness varies by {v:.1f} px",
    "lines.thickness_p90": "the boldest outlines {v:.1f} px thick",
    "lines.darkness": "outlines {pct} dark",
    "lines.contrast": "outlines stand {v:.2f} darker than their surroundings",
    "lines.continuity": "{pct} of the line work in long unbroken strokes",
    "lines.endpoints_per_100px": "{v:.1f} stroke ends per 100 px of line",
    "lines.black_share": "{pct} near-black pixels",
    "colour.colours_90": "{v:.0f} colours cover 90% of the drawing",
    "colour.colours_95": "{v:.0f} colours cover 95% of the drawing",
    "colour.colours_99": "{v:.0f} colours cover 99% of the drawing",
    "colour.palette_entropy": "palette entropy {v:.1f} bits",
    "colour.flat_share": "{pct} flat colour fills",
    "colour.shading_share": "{pct} soft shading",
    "colour.saturation_mean": "mean saturation {pct}",
    "colour.saturation_std": "saturation varies by {pct}",
    "colour.value_mean": "mean brightness {pct}",
    "colour.value_std": "brightness varies by {pct}",
    "colour.hue_entropy": "hues spread {v:.2f} bits",
    "colour.skin_share": "{pct} skin tones",
    "colour.skin_value_mean": "skin brightness {pct}",
    "colour.skin_saturation_mean": "skin saturation {pct}",
    "regions.residual_8": "8 flat colours miss by {pct} on average",
    "regions.residual_4": "4 flat colours miss by {pct} on average",
    "regions.regions_per_kpx": "{v:.1f} colour regions per 1000 pixels",
    "regions.large_region_share": "{pct} in large single-colour regions",
    "regions.largest_region_share": "the largest colour region covers {pct}",
    "regions.speck_share": "{pct} in tiny specks of colour",
    "regions.colourfulness": "colourfulness {v:.2f}",
    "shading.shadow_edge_share": "{pct} of the edges are shadow steps inside one colour "
                                 "(cel shading)",
    "shading.paint_edge_share": "{pct} of the edges are changes of colour without an outline",
    "shading.outline_edge_share": "{pct} of the edges are drawn outlines",
    "shading.outline_black_share": "{pct} of the outline pixels are black",
    "shading.outline_saturation": "outlines {pct} saturated (coloured rather than black)",
    "shading.outline_value": "outlines at {pct} brightness",
    "shading.highlights_per_kpx": "{v:.1f} small bright highlights per 1000 pixels",
    "texture.lbp_entropy": "micro-texture spread {v:.2f} bits",
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
    "colour.hue_": "{pct} saturated colour with hue near {suffix} degrees",
    "texture.lbp_": "{pct} of pixels with micro-pattern {suffix}",
    "hog.mean_": "gradient strength {v:.3f} at {suffix} degrees",
    "hog.std_": "gradient strength varies {v:.3f} at {suffix} degrees",
}


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
        The value and its effect in words.
    """

    feature: str
    value: float | None
    contribution: float
    text: str

    def to_dict(self):
        """A JSON-serialisable dict."""
        return asdict(self)


def describe(feature, value):
    """Say a feature's value in words.

    Parameters
    ----------
    feature : str
        ``"family.feature"``.
    value : float
        NaN means "not measurable".

    Returns
    -------
    text : str
    """
    if value is None or not np.isfinite(value):
        return f"{feature.split('.', 1)[1].replace('_', ' ')} not measurable"
    fields = {"v": value, "pct": f"{100 * value:.0f}%", "yesno": "a" if value >= 0.5 else "no"}
    template = _TEMPLATES.get(feature)
    if template is None:
        for prefix, pattern in _PATTERN_TEMPLATES.items():
            if feature.startswith(prefix):
                template = pattern
                fields["suffix"] = feature[len(prefix):]
                break
    if template is None:
        return f"{feature} = {value:.3g}"
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
    probes = probe_matrix(x, reference)
    return contributions(classifier.predict_proba(probes)[:, 1], x, names, top=top)


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


def contributions(p, x, names, *, top=5):
    """Contributions from the model's P(anime) on :func:`probe_matrix` rows.

    Parameters
    ----------
    p : ndarray of shape (n_features + 1,)
        P(anime) of ``x`` (first) and of each probe.
    x : ndarray of shape (n_features,)
    names : sequence of str
    top : int

    Returns
    -------
    contributions : list of Contribution
        Largest absolute contribution first; features that changed nothing are left out.
    """
    x = np.asarray(x, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    logit = np.log(p / (1 - p))
    effect = logit[0] - logit[1:]
    order = np.argsort(-np.abs(effect), kind="stable")[:top]
    out = []
    for i in order:
        if abs(effect[i]) < 1e-9:
            break
        side = "anime" if effect[i] > 0 else "cartoons"
        value = float(x[i]) if np.isfinite(x[i]) else None
        out.append(Contribution(names[i], value, float(effect[i]),
                                f"{describe(names[i], x[i])}, typical of {side}"))
    return out


def visual_evidence(work, *, image_shape=None):
    """What the page draws over the image: face and eye boxes, and the line map.

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
        ``face``: ``[x, y, w, h]`` in [0, 1] of the shown image, or None; ``eyes``: a
        list of such boxes; ``lines``: a PNG data URL, transparent but for the outline
        pixels, covering ``lines_box`` (the trimmed region, as ``[x, y, w, h]``).
    """
    import base64
    import io

    from PIL import Image

    from .features.face import detect_face
    from .features.lines import line_mask

    top, bottom, left, right = work.crop
    h, w = work.grey.shape
    core_h, core_w = h / work.scale, w / work.scale
    height, width = image_shape or (top + core_h + bottom, left + core_w + right)

    def box(b):
        x, y, bw, bh = (v / work.scale for v in b)
        return [round((left + x) / width, 4), round((top + y) / height, 4),
                round(bw / width, 4), round(bh / height, 4)]

    face, eyes = detect_face(work)
    mask = line_mask(work)
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[mask] = (230, 30, 90, 255)
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG", optimize=True)
    return {
        "face": box(face) if face else None,
        "eyes": [box(e) for e in eyes],
        "lines": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(),
        "lines_box": box((0, 0, w, h)),
    }
