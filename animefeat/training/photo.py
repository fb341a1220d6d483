"""The drawing-or-photo check: its booster, its held-out scores, its threshold chosen
without the source it is graded on.
"""

from __future__ import annotations

import numpy as np

from ..model import DRAWING_PARAMS, MIN_SOURCES_HELD_OUT, calibrated_booster
from .evaluation import _fit_predict, _folds, cross_validate

__all__ = [
    "drawing_check",
    "drawing_check_metrics",
    "drawing_held_out",
    "drawing_threshold",
    "held_out_drawing_check",
]

#: Families measured by something learnt from the evaluation sources: the drawn-face
#: detector was trained on the ``faces`` crops with hard negatives from scene-photos,
#: dexter-frames, scooby-frames and ghibli-stills, so a head that reads it is scored on
#: sources it has seen. No head is trained on them by default, and an evaluation that
#: reads them says so.
DETECTOR_FAMILIES = ("face",)
#: The drawing check's families by default: the style head's candidates (measured for
#: it anyway) and two cheap texture families, ``hog`` and ``texture``. With every source
#: left out, photo sources too (experiments/10), they flag 11.5% of photos and 0.7% of
#: drawings (worst source 5.3%) for 0.9 ms; every family but the detector's flagged 10.2%
#: and 0.5% (worst 5.1%) for 5 ms: colour, regions and shading bought the check nothing.
DRAWING_FAMILIES = ["edges", "lines", "hog", "texture"]


def drawing_held_out(table, y_drawing, *, groups, seed=0, make=None):
    """Held-out P(drawing) for every image, each from a check that never saw it.

    With three or more sources of drawings and two or more of photographs, every source
    is left out in turn, photo sources included: the check is trained on every other
    source and scores all the images of the source left out, as it will a new show's
    frames or a new kind of snapshot. A photo source is thus scored by a check that
    learnt photographs from the other photo sources only. With one photo source, its
    photos are scored by grouped 5-fold CV over the photos (every drawing in training);
    with fewer than three drawing sources, grouped 5-fold CV over everything.

    Parameters
    ----------
    table : FeatureTable
    y_drawing : ndarray of shape (n_images,), int
        1 for drawings, 0 for photos.
    groups : ndarray of shape (n_images,)
        Near-duplicate groups (for the CV fallbacks).
    seed : int
    make : callable, optional
        ``make(sources)`` returns a fresh classifier; the drawing check's recipe by
        default (:func:`drawing_check`).

    Returns
    -------
    proba : ndarray of shape (n_images,)
    protocol : str
    """
    make = make or (lambda _: drawing_check(seed=seed))
    sources = np.asarray(table.dataset.sources)
    drawn = y_drawing == 1
    if len(np.unique(sources[drawn])) < MIN_SOURCES_HELD_OUT:
        return (cross_validate(table, y_drawing, groups=groups, seed=seed, make=make),
                "grouped 5-fold CV")
    proba = np.full(len(y_drawing), np.nan)
    by_source = len(np.unique(sources[~drawn])) >= 2
    # Every source left out (photo sources too), or only the drawing sources.
    for source in np.unique(sources if by_source else sources[drawn]):
        test = np.flatnonzero((sources == source) & (True if by_source else drawn))
        train = np.flatnonzero(sources != source)
        if len(np.unique(y_drawing[train])) == 2:
            proba[test] = _fit_predict(make, table, y_drawing, train, test)
    if by_source:
        return proba, ("every source left out in turn, photo sources included: a photo "
                       "source is scored by a check that learnt photographs from the other "
                       "photo sources only")
    everything = np.arange(len(y_drawing))
    photos = np.flatnonzero(~drawn)
    labels = np.asarray(table.dataset.labels)[photos]
    for _, test in _folds(labels, sources[photos], groups[photos], 5, seed):
        rest = np.setdiff1d(everything, photos[test])
        proba[photos[test]] = _fit_predict(make, table, y_drawing, rest, photos[test])
    return proba, ("drawings: each drawing source left out (photos of every source in "
                   "training); photos: grouped 5-fold CV over the photos")


def drawing_check(*, seed=0):
    """The drawing-vs-photo check: gradient boosting, calibrated on 5 folds.

    Only its threshold decides (chosen on held-out scores so that every source of
    drawings keeps at most 2% flagged), so it is calibrated on plain folds: holding
    each of nine sources out in turn would cost nine boosters per fit for a
    probability that no decision reads.
    """
    return calibrated_booster(DRAWING_PARAMS, seed=seed)


#: Most drawings the photo check may flag, pooled over every drawing source (held out).
MAX_DRAWINGS_FLAGGED = 0.02
#: Most drawings of any one source the photo check may flag (held out): one hard source
#: (tiny painted film stills) may exceed the pooled bound without setting the threshold
#: for every other.
MAX_SOURCE_FLAGGED = 0.05


def drawing_threshold(y_drawing, proba, *, sources=None,
                      max_drawings_flagged=MAX_DRAWINGS_FLAGGED,
                      max_source_flagged=MAX_SOURCE_FLAGGED):
    """The threshold on P(drawing) that flags the most photos while flagging at most
    ``max_drawings_flagged`` of all drawings and, given their sources, at most
    ``max_source_flagged`` of any one source (on held-out probabilities).

    Parameters
    ----------
    y_drawing : ndarray of int
        1 for drawings, 0 for photos.
    proba : ndarray of float
        Held-out P(drawing); NaN rows are left out.
    sources : ndarray of str, optional
        Without them, only the pooled bound holds.
    max_drawings_flagged, max_source_flagged : float

    Returns
    -------
    threshold : float
        ``is_drawing = proba >= threshold``; 0.5 when there are no drawings.
    """
    keep = np.isfinite(proba) & (np.asarray(y_drawing) == 1)
    if not keep.any():
        return 0.5
    # Flagging is proba < t: at most k of n sorted drawings may lie below t.
    drawn = np.sort(proba[keep])
    thresholds = [float(drawn[int(np.floor(max_drawings_flagged * len(drawn)))])]
    if sources is not None:
        sources = np.asarray(sources)
        for s in np.unique(sources[keep]):
            own = np.sort(proba[keep & (sources == s)])
            thresholds.append(float(own[int(np.floor(max_source_flagged * len(own)))]))
    return min(thresholds)


def held_out_drawing_check(y_drawing, proba, sources, *,
                           max_drawings_flagged=MAX_DRAWINGS_FLAGGED,
                           max_source_flagged=MAX_SOURCE_FLAGGED):
    """How often the drawing check flags each source, at a threshold chosen without it.

    For each drawing source, the threshold is :func:`drawing_threshold` over the
    held-out scores of the *other* drawing sources, and that source's flag rate is
    measured at it: a threshold fitted on the source it is graded on would meet its
    bound by construction. Photos never shape a threshold (it is set on drawings
    alone), so each photo is measured at the threshold of all drawing sources.

    Parameters
    ----------
    y_drawing : ndarray of int
        1 for drawings, 0 for photos.
    proba : ndarray of float
        Held-out P(drawing) (NaN rows are left out).
    sources : ndarray of str
    max_drawings_flagged, max_source_flagged : float
        The bounds of :func:`drawing_threshold`.

    Returns
    -------
    report : dict
        ``photos_flagged``, ``drawings_flagged`` (pooled shares),
        ``photos_flagged_per_source``, ``drawings_flagged_per_source``,
        ``threshold_per_source`` (the threshold each source was measured at) and
        ``rule``.
    """
    y_drawing, proba, sources = np.asarray(y_drawing), np.asarray(proba), np.asarray(sources)
    keep = np.isfinite(proba)
    drawn = keep & (y_drawing == 1)
    flagged = np.zeros(len(proba), bool)
    thresholds = {}
    bounds = {"max_drawings_flagged": max_drawings_flagged,
              "max_source_flagged": max_source_flagged}
    everyone = drawing_threshold(y_drawing, proba, sources=sources, **bounds)
    for s in np.unique(sources[keep]):
        rows = keep & (sources == s)
        if (drawn & rows).any():
            others = np.where(sources == s, np.nan, proba)
            t = drawing_threshold(y_drawing, others, sources=sources, **bounds)
        else:
            t = everyone
        thresholds[str(s)] = float(t)
        flagged[rows] = proba[rows] < t
    photos = keep & (y_drawing == 0)
    out = {"rule": f"flag P(drawing) below the threshold that flags at most "
                   f"{max_drawings_flagged:.0%} of the other drawing sources' drawings pooled "
                   f"and {max_source_flagged:.0%} of any one of them",
           "photos_flagged": float(flagged[photos].mean()) if photos.any() else None,
           "drawings_flagged": float(flagged[drawn].mean()) if drawn.any() else None,
           "photos_flagged_per_source": {}, "drawings_flagged_per_source": {},
           "threshold_per_source": thresholds}
    for kind, rows in (("photos", photos), ("drawings", drawn)):
        for s in np.unique(sources[rows]):
            out[f"{kind}_flagged_per_source"][str(s)] = float(flagged[rows & (sources == s)]
                                                               .mean())
    return out


def drawing_check_metrics(y_drawing, proba, sources, threshold=0.5):
    """How often photos are flagged and drawings wrongly flagged, pooled and per source.

    Returns
    -------
    report : dict
        ``threshold``, ``photos_flagged``, ``drawings_flagged`` (pooled shares), and
        ``photos_flagged_per_source``, ``drawings_flagged_per_source``.
    """
    keep = np.isfinite(proba)
    flagged = proba < threshold
    photos = keep & (y_drawing == 0)
    drawings = keep & (y_drawing == 1)
    out = {"threshold": float(threshold),
           "photos_flagged": float(flagged[photos].mean()) if photos.any() else None,
           "drawings_flagged": float(flagged[drawings].mean()) if drawings.any() else None,
           "photos_flagged_per_source": {}, "drawings_flagged_per_source": {}}
    sources = np.asarray(sources)
    for kind, rows in (("photos", photos), ("drawings", drawings)):
        for s in np.unique(sources[rows]):
            sel = rows & (sources == s)
            out[f"{kind}_flagged_per_source"][str(s)] = float(flagged[sel].mean())
    return out
