"""Per-prediction explanations: which features pushed this decision, in words.

A feature's contribution is its share of the decision's log-odds, positive towards
anime, negative towards cartoon: along the image's path through each tree, every
split credits its feature with the change from the mean answer below the node to the
mean below the branch taken (path attributions; see :mod:`animefeat._trees`). The
shares and the mean answer add up to the answer, so the winning side's reasons
outweigh the others'. It is about what the model did on this image, not a global
importance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .features import lines, shading

__all__ = ["EVIDENCE", "FROM_LINE_MASK", "Contribution", "contributions", "describe",
           "format_value", "grouped", "has_template", "outlined_effects", "patch_map",
           "steady_effects", "yardstick"]

#: The features read from the line mask (:func:`animefeat.features.lines.line_mask`):
#: no reasons on a picture whose lines are not outlines (:func:`outlined_effects`).
FROM_LINE_MASK = frozenset(
    [f"lines.{n}" for n in lines.NAMES if n != "black_share"]
    + [f"shading.{n}" for n in shading.NAMES if n.startswith("outline_")])

# Plain-language templates: what a person can check by looking, with a unit. Fields:
# {v} the value, {pct} the value as a percentage, {n2} 2 ** value (an entropy in bits said
# as "as varied as n equally common things"), {px} a length in pixels (of the picture as
# uploaded where its size is known, else of the working copy, said by {where}),
# {side} the working copy's long side, {yesno} "a"/"no", {suffix} the name's tail.
_TEMPLATES = {
    "edges.density": "{pct} of the picture is edges",
    "edges.gradient_mean": "{pct} average contrast between neighbouring pixels",
    "edges.orientation_entropy": "edges run in about {n2:.0f} main directions",
    "edges.straight_share": "{pct} of the contour length runs straight",
    "edges.contour_length_mean": "contours on average {pct} of the picture long",
    "edges.contours_per_kpx": "{v:.1f} separate contours per 1000 pixels",
    "edges.density_half": "{pct} of the picture is edges at half size",
    "edges.density_quarter": "{pct} of the picture is edges at quarter size",
    "edges.laplacian_half": "{pct} fine-detail contrast at half size",
    "edges.laplacian_quarter": "{pct} fine-detail contrast at quarter size",
    "lines.share": "outlines cover {pct} of the picture",
    "lines.thickness_median": "outlines about {px:.1f} px thick{where}",
    "lines.thickness_iqr": "outline thickness varies by {px:.1f} px along the strokes{where}",
    "lines.thickness_p90": "the boldest outlines {px:.1f} px thick{where}",
    "lines.darkness": "outlines {pct} dark (100%: black)",
    "lines.contrast": "outlines {pct} darker than the colour around them",
    "lines.continuity": "{pct} of the line work in long unbroken strokes",
    "lines.endpoints_per_100px": "{v:.1f} stroke ends per 100 px of line",
    "lines.black_share": "{pct} of the picture near-black",
    "colour.colours_90": "{v:.0f} colours cover 90% of the picture",
    "colour.colours_95": "{v:.0f} colours cover 95% of the picture",
    "colour.colours_99": "{v:.0f} colours cover 99% of the picture",
    "colour.palette_entropy": "colours used as evenly as {n2:.0f} equally common colours",
    "colour.flat_share": "{pct} of the picture in flat colour fills",
    "colour.shading_share": "{pct} of the picture in soft shading",
    "colour.saturation_mean": "colours {pct} saturated on average",
    "colour.saturation_std": "saturation varies by {pct}",
    "colour.value_mean": "{pct} average brightness",
    "colour.value_std": "brightness varies by {pct}",
    "colour.hue_entropy": "hues as varied as {n2:.0f} equally common hues",
    "colour.skin_share": "{pct} of the picture in skin tones",
    "colour.skin_value_mean": "skin tones {pct} bright",
    "colour.skin_saturation_mean": "skin tones {pct} saturated",
    "regions.residual_8": "8 flat colours miss the picture by {pct} on average",
    "regions.residual_4": "4 flat colours miss the picture by {pct} on average",
    "regions.regions_per_kpx": "{v:.1f} colour regions per 1000 pixels",
    "regions.large_region_share": "{pct} of the picture in large single-colour regions",
    "regions.largest_region_share": "the largest colour region covers {pct}",
    "regions.speck_share": "{pct} of the picture in tiny specks of colour",
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
    "local.patterns": "strokes and details, patch by patch, look {pct} anime on their own",
}
_PATTERN_TEMPLATES = {
    "edges.orientation_": "{pct} of edges run at {suffix} degrees",
    "colour.hue_": "{pct} of the picture in saturated colour of hue {suffix} degrees",
    "texture.lbp_": "{pct} of pixels with {suffix} of their 8 neighbours at least as bright "
                    "(corners and line ends)",
    "hog.mean_": "edges at {suffix} degrees, {pct} of full strength on average",
    "hog.std_": "the strength of edges at {suffix} degrees varies by {pct} across the picture",
}
# Where each family's reasons were measured, for the page to highlight: the outline
# pixels, the edge pixels, the palette, the shadow steps, the face and eye boxes.
EVIDENCE = {"lines": "lines", "edges": "edges", "hog": "edges", "texture": "edges",
            "colour": "palette", "regions": "palette", "shading": "shading", "face": "faces",
            "local": "patches"}
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


def describe(feature, value, *, side, length_scale=None):
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
    length_scale : float, optional
        Pixels of the picture as uploaded per working-copy pixel: lengths are then said
        in the uploaded picture's pixels (else in the working copy's, with its size).

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
              "n2": 2.0 ** value, "px": value * (length_scale or 1.0), "side": side,
              "where": "" if length_scale else f" (picture {side} px across)"}
    template = _TEMPLATES.get(feature)
    if template is None:
        for prefix, pattern in _PATTERN_TEMPLATES.items():
            if feature.startswith(prefix):
                template = pattern
                fields["suffix"] = feature[len(prefix):]
                break
    return template.format(**fields)


def format_value(feature, value, *, side, length_scale=None):
    """A feature's value in the unit its words use ("27%", "1.2 px", "12.8"), for a
    yardstick beside it.

    Parameters
    ----------
    feature : str
    value : float
    side : int
        The working copy's long side (lengths are in its pixels).
    length_scale : float, optional
        As in :func:`describe`.

    Returns
    -------
    text : str
    """
    template = _TEMPLATES.get(feature) or next(
        (t for prefix, t in _PATTERN_TEMPLATES.items() if feature.startswith(prefix)), "{v}")
    if "{pct}" in template:
        return f"{100 * value:.0f}%"
    if "{px" in template:
        return f"{value * (length_scale or 1.0):.1f} px"
    if "{n2" in template:
        return f"{2.0 ** value:.0f}"
    return f"{value:.1f}"


def yardstick(feature, value, ranges, *, side, length_scale=None):
    """Where a value sits against what each style usually measures, or None when it sits
    where both styles do (a value in the overlap is no reason for either).

    Parameters
    ----------
    feature : str
    value : float
    ranges : dict
        ``{"anime": [low, high], "cartoon": [low, high]}``: the middle half (25th to
        75th percentile) of each style's training drawings (the model card's
        ``yardsticks``).
    side : int
    length_scale : float, optional
        As in :func:`describe` (a length range is then what the styles measure at this
        picture's size).

    Returns
    -------
    text : str or None
        ``"anime art here is usually 0.8-1.5 px, cartoons 2.0-4.0 px"``; ``""`` when
        the value is not measurable; None in the overlap.
    """
    if value is None or not np.isfinite(value):
        return ""
    inside = [low <= value <= high for low, high in (ranges["anime"], ranges["cartoon"])]
    if all(inside):
        return None

    def span(style):
        low, high = ranges[style]
        return "-".join(format_value(feature, v, side=side, length_scale=length_scale)
                        for v in (low, high))

    return f"anime art here is usually {span('anime')}, cartoons {span('cartoon')}"


def contributions(effect, x, names, *, side, top=5, local=None, yardsticks=None,
                  length_scale=None, steady=None):
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
    local : (float, float), optional
        The local patterns' share of the log-odds and their own P(anime)
        (:mod:`animefeat.stack`): one more reason, ``local.patterns``, ranked with the
        features by its share.
    yardsticks : dict, optional
        Feature -> each style's usual range (the card's ``yardsticks``): a reason gets
        its yardstick in words, and a value where both styles usually sit is left out
        (see :func:`yardstick`).
    length_scale : float, optional
        Uploaded-picture pixels per working-copy pixel (see :func:`describe`).
    steady : ndarray of shape (n_features,), bool, optional
        False where the measurement is not reliable on this picture (its push changes
        when the picture is re-encoded, see :func:`steady_effects`): that feature is
        no reason, whatever its effect.

    Returns
    -------
    contributions : list of Contribution
        Largest absolute contribution first; features that changed nothing are left out.
    """
    x = np.asarray(x, dtype=np.float64)
    names = list(names)
    effect = np.asarray(effect, dtype=np.float64)
    steady = np.ones(len(names), bool) if steady is None else np.asarray(steady, bool)
    if local is not None:
        x = np.r_[x, local[1]]
        effect = np.r_[effect, local[0]]
        names.append("local.patterns")
        steady = np.r_[steady, True]
    order = np.argsort(-np.abs(effect), kind="stable")
    out = []
    for i in order:
        if len(out) == top or abs(effect[i]) < 1e-9:
            break
        if not steady[i]:
            continue  # moves with a re-encode: not a measurement of this drawing
        value = float(x[i]) if np.isfinite(x[i]) else None
        text = describe(names[i], x[i], side=side, length_scale=length_scale)
        if yardsticks and names[i] in yardsticks:
            against = yardstick(names[i], value, yardsticks[names[i]], side=side,
                                length_scale=length_scale)
            if against is None:
                continue  # where both styles usually sit: no reason for either
            text = f"{text}: {against}" if against else text
        out.append(Contribution(names[i], value, float(effect[i]), text,
                                side="anime" if effect[i] > 0 else "cartoon",
                                evidence=EVIDENCE.get(names[i].split(".", 1)[0], "")))
    return out


#: A reason stands when, on the re-encoded picture, its feature pushes the same way with
#: at least this share of its effect.
STEADY_SHARE = 0.5


def steady_effects(effect, recheck_effect, *, share=STEADY_SHARE):
    """Which effects survive a re-encode of the picture.

    Parameters
    ----------
    effect, recheck_effect : ndarray of shape (..., n_features)
        Each feature's effect on the log-odds, on the picture and on its re-encoded
        copy (:func:`animefeat.preprocess.reencoded`).
    share : float
        Least share of the effect the copy must keep, in the same direction.

    Returns
    -------
    steady : ndarray of shape (..., n_features), bool
    """
    effect, recheck_effect = np.asarray(effect), np.asarray(recheck_effect)
    return ((np.sign(effect) == np.sign(recheck_effect))
            & (np.abs(recheck_effect) >= share * np.abs(effect)))


def outlined_effects(names, shares):
    """Which effects may be reasons, given how far each picture's lines are outlines.

    Parameters
    ----------
    names : sequence of str
        The features, in the effects' order.
    shares : ndarray of shape (n_images,)
        Each picture's :func:`animefeat.features.lines.outline_share` (NaN: no lines).
        Where :func:`animefeat.features.lines.reads_as_outlines` says no, the line mask
        is mostly texture, hair and shading lines: the features in
        :data:`FROM_LINE_MASK` are no reasons on that picture.

    Returns
    -------
    allowed : ndarray of shape (n_images, n_features), bool
    """
    from_mask = np.array([name in FROM_LINE_MASK for name in names], dtype=bool)
    outlined = lines.reads_as_outlines(shares)
    return ~from_mask[None, :] | outlined[:, None]


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


def patch_map(shares, positions, sizes, shape):
    """Where the picture looks anime or cartoon: the patches' shares as a smooth map.

    Parameters
    ----------
    shares : ndarray of shape (n_patches,)
        Each patch's share of the log-odds of anime
        (:meth:`animefeat.model.AnimefeatModel.patch_shares`).
    positions : ndarray of shape (n_patches, 2)
        Patch centres ``(x, y)`` in pixels of the working copy.
    sizes : ndarray of shape (n_patches,)
        Patch diameters in pixels.
    shape : tuple of 2 int
        ``(h, w)`` of the working copy.

    Returns
    -------
    heat : ndarray of shape (h, w), float64
        Positive towards anime, negative towards cartoon. Each share is spread over its
        patch by a Gaussian of a quarter of the patch's size (reflected at the border),
        so the map adds up to the sum of the shares.
    """
    import cv2

    h, w = shape
    heat = np.zeros((h, w))
    shares = np.asarray(shares, dtype=np.float64)
    positions = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
    sizes = np.asarray(sizes, dtype=np.float64)
    for size in np.unique(sizes):
        sel = sizes == size
        layer = np.zeros((h, w))
        cols = np.clip(np.rint(positions[sel, 0]).astype(int), 0, w - 1)
        rows = np.clip(np.rint(positions[sel, 1]).astype(int), 0, h - 1)
        np.add.at(layer, (rows, cols), shares[sel])
        heat += cv2.GaussianBlur(layer, (0, 0), sigmaX=size / 4, borderType=cv2.BORDER_REFLECT)
    return heat
