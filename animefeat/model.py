"""The classifier: extractor, style head, drawing check, save/load (skops + JSON card).

A model is a :class:`FeatureExtractor` and two calibrated gradient-boosted classifiers
(``SlopeCalibratedClassifier(HistGradientBoostingClassifier)``) on its vector:

* ``style``: anime vs cartoon from the structure (lines, edges);
* ``drawing``: drawing vs photograph, so a selfie is not called a cartoon.

A model of format 3 may add the local patterns (:mod:`animefeat.stack`): dense SIFT
encoded as a Fisher vector and read by a logistic regression (``local``), and a
``combiner`` that weighs the structure's and the local patterns' log-odds into the
answer.

Files are skops archives (never pickle) with a JSON model card beside them; loading
checks the card's file hash, the feature names and the library versions, and refuses
any type outside an explicit trusted list.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import platform
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
from scipy.special import expit
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import LeaveOneGroupOut

from ._trees import compile_calibrated
from ._version import __version__
from .calibration import SlopeCalibratedClassifier
from .exceptions import AnimefeatError, ModelError
from .explain import contributions, grouped, outlined_effects, steady_effects
from .features import FAMILIES, extract_features, feature_names
from .features.lines import outline_share
from .features.local import dense_sift
from .io import image_size
from .preprocess import WORK_SIDE, WorkingCopy, load_for_features, reencoded, working_copy
from .stack import combine

__all__ = [
    "DEFAULT_MODEL",
    "AnimefeatModel",
    "Prediction",
    "calibrated_booster",
    "classify",
    "classify_many",
    "load_model",
]

#: The shipped model, inside the package so a plain ``pip install`` carries it.
DEFAULT_MODEL = Path(__file__).parent / "_data" / "anime-cartoon.skops"
#: 2: the extractor and the style head are stored apart (no Pipeline), the calibration's
#: folds come with the data at fit (LeaveOneGroupOut), no probe reference. 3: optional
#: local head and combiner (the answer from structure and local patterns together).
MODEL_FORMAT = 3
#: Formats this animefeat reads: a format-2 file is a model without a local head.
READ_FORMATS = (2, 3)
#: Bumped whenever a feature's definition changes, so old models are refused.
#: 2: median cut of our own on the foreground (regions), border trimming against the
#: outermost line's colour, LBP without skimage (ties within 1e-6), face detection on
#: the 128-px working copy. 3: faces of at least 32 px; line closing in float32;
#: reduced JPEG decode keeps the long side (not the short one) >= 256 px. 4: faces
#: detected on a 96-px copy (24-px faces, step 1.3); colourfulness from exact integer
#: moments and the mean gradient summed in one pass (last-digit changes). 5: eyes at most
#: half the face's width. 6: large images reach the working copy by a power of two (JPEGs
#: at the DCT scale whose long side stays >= 128 px, not 256; others by block averages)
#: instead of a fractional area average to 256 px. 7: faces found by the LBP frontal-face
#: cascade (step 1.2, 2 neighbours) instead of Haar's frontalface_alt2. 8: the shading
#: family (edge kinds, outline colour, highlights); the working side is the model's own
#: (recorded on its card). 9: nested borders (a frame around a page) are trimmed, the
#: page colour is taken inside the innermost one, and the line mask pads by replicating
#: the edge (a dark frame no longer reads as an outline). 10: the face family measures
#: drawn faces (animefeat's own detector) and their eyes; the human-face cascade is
#: one feature (photo_face). 11 (a trial, never shipped: its caches are stale): a frame
#: around a picture that fills it is trimmed whole when the line 2 px inside is not the
#: border's colour. 12: the same, judged on a band 6% deep (a figure's straight outer
#: stroke keeps its page); only a page keeps a margin, of its own colour, sized by the
#: picture left; and the face family keeps an eye pair only when its blobs are alike in
#: size (:mod:`animefeat.detect.eyes`).
FEATURES_VERSION = 12
LABELS = ("cartoon", "anime")  # class 0, class 1
#: P(anime) strictly between these is a lean, not a verdict (``Prediction.confident``).
UNSURE = (0.35, 0.65)
#: A plain verdict ("Anime") from the confidence at which answers on sources never seen
#: were right this often; below it the answer is hedged ("Probably anime (72%)").
SURE_ACCURACY = 0.9

# Every type a model file may contain. Anything else, e.g. a function smuggled in,
# makes loading fail before a single object is built.
TRUSTED_TYPES = [
    "animefeat.calibration.SlopeCalibratedClassifier",
    "animefeat.encode.FisherVectorEncoder",
    "animefeat.estimator.FeatureExtractor",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.decomposition._pca.PCA",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.mixture._gaussian_mixture.GaussianMixture",
    "sklearn.model_selection._split.LeaveOneGroupOut",
    "sklearn.pipeline.Pipeline",
]
# Libraries whose versions are recorded on the card and checked on load (major.minor).
CHECKED_LIBRARIES = ("scikit-learn",)
RECORDED_LIBRARIES = ("numpy", "scipy", "scikit-learn", "scikit-image", "opencv-python-headless",
                      "pillow", "skops", "joblib")

#: Sources needed before a source is held out (in calibration and evaluation): with two,
#: holding one out leaves a single source to learn from.
MIN_SOURCES_HELD_OUT = 3

DEFAULT_PARAMS = {
    "learning_rate": 0.05,
    "max_iter": 300,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 10,
    "l2_regularization": 0.0,
}


#: The drawing-vs-photo check is an easier task than the style: 300 trees (half the
#: style model's, a smaller file). Its learning rate was chosen among 0.05 and 0.1 (and
#: two leaf sizes) on grouped CV: 0.1 flags 98.3% of photos at 2% of drawings, 0.05 97.5%.
DRAWING_PARAMS = {**DEFAULT_PARAMS, "learning_rate": 0.1}


@dataclass(frozen=True)
class Prediction:
    """The answer for one image.

    Attributes
    ----------
    label : str
        ``"anime"`` or ``"cartoon"``.
    probabilities : dict
        ``{"anime": p, "cartoon": 1 - p}``, calibrated.
    is_drawing : bool
        False when the image looks like a photograph (or otherwise unlike the drawings
        the model knows); the label is then only the less wrong of the two.
    drawing_probability : float
        Calibrated probability that the image is a drawing.
    explanation : list of Contribution
        The features that moved this decision most, largest first.
    model : dict
        ``{"name": ..., "version": ...}`` of the model that answered.
    sure_from : float
        The confidence from which the answer is a plain verdict: the model's card sets it
        where its answers on sources it never saw were right at least 90% of the time
        (:data:`SURE_ACCURACY`); below it (and outside :data:`UNSURE`) the answer is
        hedged, "Probably anime (72%)".
    """

    label: str
    probabilities: dict
    is_drawing: bool
    drawing_probability: float
    explanation: list = field(default_factory=list)
    model: dict = field(default_factory=dict)
    sure_from: float = UNSURE[1]

    @property
    def confident(self):
        """A drawing, and an answer at least :attr:`sure_from` sure (a verdict, not a
        lean)."""
        p = self.probabilities["anime"]
        return self.is_drawing and max(p, 1 - p) >= max(self.sure_from, UNSURE[1])

    @property
    def verdict(self):
        """The answer in words, as a person should read it.

        ``"Anime"`` or ``"Cartoon"`` when :attr:`confident`; ``"Photo"`` when the
        picture looks like a photograph (the style answer is then a guess, kept in
        :attr:`label`); ``"Probably anime (72%)"`` between :data:`UNSURE` and
        :attr:`sure_from`; inside :data:`UNSURE`, how far to trust the lean ("Not sure:
        a little more like anime").
        """
        if not self.is_drawing:
            return "Photo"
        if self.confident:
            return self.label.capitalize()
        p = self.probabilities["anime"]
        if not UNSURE[0] < p < UNSURE[1]:
            return f"Probably {self.label} ({100 * max(p, 1 - p):.0f}%)"
        if abs(p - 0.5) < 0.05:
            return "Not sure: as much like anime as like a cartoon"
        return f"Not sure: a little more like {'anime' if p > 0.5 else 'a cartoon'}"

    def reasons(self):
        """The explanation grouped by side, the answer's side first
        (see :func:`animefeat.explain.grouped`)."""
        return grouped(self.explanation, self.label)

    def to_dict(self):
        """A JSON-serialisable dict: what the web API returns.

        ``explanation`` lists the reasons strongest first, each with the ``side`` it
        points to; ``reasons`` holds the same, grouped by side, the answer's first.
        """
        return {
            "label": self.label,
            "probabilities": dict(self.probabilities),
            "confident": self.confident,
            "verdict": self.verdict,
            "is_drawing": self.is_drawing,
            "drawing_probability": self.drawing_probability,
            "explanation": [c.to_dict() for c in self.explanation],
            "reasons": [{"side": side, "items": [c.to_dict() for c in items]}
                        for side, items in self.reasons()],
            "model": dict(self.model),
        }


def calibrated_booster(params=None, *, seed=0, by_source=False):
    """Gradient boosting with calibrated confidence, the head of both classifiers.

    Parameters
    ----------
    params : dict, optional
        ``HistGradientBoostingClassifier`` parameters; :data:`DEFAULT_PARAMS` by default.
    seed : int
        Random state of the boosting.
    by_source : bool
        Fit the calibration on leave-one-source-out scores (``LeaveOneGroupOut``: pass
        each row's source as ``groups`` to ``fit``), so that confidence reflects how
        the model does on a source it has never seen; else on stratified 5-fold scores.

    Returns
    -------
    calibrated : SlopeCalibratedClassifier
        Unfitted. Only the booster's log-odds are scaled (no intercept): calibration
        on held-out sources changes the confidence, never the answer.
    """
    booster = HistGradientBoostingClassifier(random_state=seed, **(params or DEFAULT_PARAMS))
    return SlopeCalibratedClassifier(booster, cv=LeaveOneGroupOut() if by_source else 5)


class AnimefeatModel:
    """A trained model: the feature extractor, the two heads and their card.

    Parameters
    ----------
    extractor : FeatureExtractor
        Fitted; computes the one vector both heads read (:attr:`families`, in
        registry order, at its working side).
    style : SlopeCalibratedClassifier
        Fitted anime-vs-cartoon head around gradient boosting, on the style columns;
        class 1 is anime.
    drawing : SlopeCalibratedClassifier
        Fitted drawing-vs-photo check on the drawing columns; class 1 is "drawing".
    card : dict
        The model card (see :meth:`save`): its ``hyperparameters`` name the families
        of each head.
    drawing_threshold : float
        ``is_drawing`` is ``drawing_probability >= drawing_threshold`` (chosen on
        held-out predictions in training; see :func:`animefeat.training.train`).

    Notes
    -----
    The two heads may read different families: the style head those that hold up on
    sources it never saw, the drawing check those that tell a photograph (texture, for
    one). The model computes one vector over both and gives each head its own columns.
    """

    def __init__(self, extractor, style, drawing, card, drawing_threshold=0.5, local=None,
                 combiner=None):
        if (local is None) != (combiner is None):
            raise ValueError("a local head needs its combiner, and a combiner its local head")
        self.extractor = extractor
        self.style = style
        self.drawing = drawing
        self.card = card
        self.drawing_threshold = float(drawing_threshold)
        self.local = local
        self.combiner = combiner

    @property
    def sure_from(self):
        """The confidence from which answers are plain verdicts (the card's
        ``verdict.sure_from``; :data:`UNSURE`'s edge for a card without one)."""
        return float(self.card.get("verdict", {}).get("sure_from", UNSURE[1]))

    @property
    def local_grid(self):
        """``{"step", "sizes", "min_line_share"}`` of the patches the local head reads
        (:func:`animefeat.features.local.dense_sift`), or None without one."""
        if self.local is None:
            return None
        grid = self.card["hyperparameters"]["local"]["grid"]
        # Cards before the line filter read every textured patch.
        return {"step": int(grid["step"]), "sizes": tuple(int(s) for s in grid["sizes"]),
                "min_line_share": float(grid.get("min_line_share", 0.0))}

    def patches(self, image):
        """The dense SIFT patches the local head reads (None without a local head).

        Parameters
        ----------
        image : anything :func:`animefeat.load_image` accepts, or a :meth:`working_copy`

        Returns
        -------
        patches : LocalDescriptors or None
        """
        if self.local is None:
            return None
        if not isinstance(image, WorkingCopy):
            image = load_for_features(image, side=self.side)
        return dense_sift(image, side=self.side, **self.local_grid)

    def patch_shares(self, patches):
        """Each patch's share of the answer's log-odds of anime, shape (n_patches,).

        The local head's score is ``w @ v + b`` with ``v`` the normalised Fisher vector
        ``sign(r) sqrt(|r|) / ||sign(r) sqrt(|r|)||`` of the raw vector ``r``, the mean of
        one term per patch. For one image that is ``(w / (sqrt(|r|) n)) @ r`` with
        ``n`` the norm: linear in ``r``, so each patch's share is its term times those
        per-image weights, divided by the number of patches. The shares add up to the
        score without its intercept, exactly; the approximation is that each weight
        holds the image's own normalisation fixed (a patch's share is what it adds at
        that scale, not what removing it would change). Times the combiner's weight on
        the local view, they are in the answer's log-odds.
        """
        if self.local is None or patches is None or not len(patches):
            return np.zeros(0 if patches is None else len(patches))
        w = self.local.named_steps["classify"].coef_[0]
        terms = self.local.named_steps["encode"].patch_terms(patches.descriptors)
        root = np.sqrt(np.abs(terms.mean(axis=0)))  # of the raw Fisher vector
        norm = np.linalg.norm(root)
        if norm == 0:
            return np.zeros(len(patches))
        effective = np.divide(w, root * norm, out=np.zeros_like(w), where=root > 0)
        return self.combiner.coef_[0][1] * (terms @ effective) / len(patches)

    @property
    def feature_names(self):
        """Names of the features the model computes (both heads'), in order."""
        return list(self.card["feature_names"])

    @property
    def style_families(self):
        """Feature families of the anime-vs-cartoon head (None: all)."""
        return self.card["hyperparameters"]["families"]

    @property
    def drawing_families(self):
        """Feature families of the drawing check (None: all)."""
        return self.card["hyperparameters"]["drawing_families"]

    @property
    def families(self):
        """Feature families the model computes: those of both heads (None: all)."""
        return self.extractor.families

    @functools.cached_property
    def _columns(self):
        """Column indices of the style head and of the drawing check in the vector."""
        names = self.feature_names
        return (np.array([names.index(n) for n in feature_names(self.style_families)]),
                np.array([names.index(n) for n in feature_names(self.drawing_families)]))

    @property
    def side(self):
        """Long side of the working copy the model's features are measured on."""
        return self.extractor.side

    @property
    def info(self):
        """``{"name", "version"}`` of the model."""
        return {"name": self.card.get("name", "unnamed"), "version": self.card.get("version")}

    def working_copy(self, image, *, limits=None):
        """The working copy the model measures an image on (its side, reduced decode).

        Parameters
        ----------
        image : anything :func:`animefeat.load_image` accepts
        limits : Limits, optional
            Decoding limits.

        Returns
        -------
        work : WorkingCopy
            Pass it to :meth:`predict` (and to the page's overlays) to measure once.
        """
        return working_copy(load_for_features(image, limits=limits, side=self.side),
                            side=self.side)

    def recheck(self, image):
        """The style head's features measured again on a re-encoded copy of the picture.

        A reason whose push changes on that copy is not shown (see
        :func:`animefeat.explain.steady_effects`): it measured the file, not the drawing.

        Parameters
        ----------
        image : anything :func:`load_image` accepts, or a :meth:`working_copy`

        Returns
        -------
        features : ndarray of shape (n_style_features,), float64
        """
        work = image if isinstance(image, WorkingCopy) else self.working_copy(image)
        return _recheck_row(work, self.style_families, self.side)

    def features(self, image):
        """The feature vector of one image (or of its :meth:`working_copy`)."""
        if isinstance(image, WorkingCopy):
            return extract_features(image, families=self.families, side=self.side)
        return model_features(image, self.families, side=self.side)

    @functools.cached_property
    def _boosters(self):
        """The two heads as flat copies (see :mod:`animefeat._trees`).

        scikit-learn walks 600 trees one Python call at a time; the flat copy walks
        them in one compiled loop and gives the same probabilities (tested on the
        shipped model).
        """
        heads = compile_calibrated(self.style), compile_calibrated(self.drawing)
        if None in heads:
            raise ModelError("the model's heads are not calibrated gradient boosters "
                             "that animefeat can walk; retrain it with `animefeat train`")
        return heads

    def predict_vectors(self, X, *, descriptors=None, explain=5, length_scale=None,
                        recheck=None, outlines=None):
        """Predictions for rows of precomputed features.

        Parameters
        ----------
        X : ndarray of shape (n_images, n_features)
        descriptors : sequence of ndarray, optional
            Each image's patch descriptors (``patches(image).descriptors``); required
            when the model has a local head.
        explain : int
            How many contributions each explanation lists (0 for none).
        length_scale : float or sequence of float, optional
            Per image, pixels of the picture as uploaded per working-copy pixel: the
            reasons then say lengths in the uploaded picture's pixels.
        recheck : ndarray of shape (n_images, n_style_features), optional
            Each image's :meth:`recheck` row: reasons that do not survive a re-encode of
            the picture are left out. Without it, every reason stands.
        outlines : ndarray of shape (n_images,), optional
            Each image's :func:`animefeat.features.lines.outline_share`: where its lines
            are not outlines (shaded art, photographs), no reason is read from the line
            mask (:func:`animefeat.explain.outlined_effects`).

        Returns
        -------
        predictions : list of Prediction
        """
        X = np.asarray(X, dtype=np.float64).reshape(-1, len(self.feature_names))
        head, drawing = self._boosters
        style, drawn = self._columns
        Xs = X[:, style]
        names = [self.feature_names[i] for i in style]
        p_anime = head.predict_proba(Xs)
        steady = None
        if explain:
            _, effects = head.attributions(Xs)
            if recheck is not None:
                steady = steady_effects(effects, head.attributions(
                    np.asarray(recheck, dtype=np.float64).reshape(Xs.shape))[1])
            if outlines is not None:
                allowed = outlined_effects(names, np.asarray(outlines).reshape(len(Xs)))
                steady = allowed if steady is None else steady & allowed
        local_share = None
        if self.local is not None:
            if descriptors is None or len(descriptors) != len(X):
                raise ValueError("this model also reads local patterns: pass each image's "
                                 "descriptors (see AnimefeatModel.patches)")
            # The combiner reads the booster's own log-odds (before its calibration).
            w_structure, w_local = self.combiner.coef_[0]
            local_odds = self.local.decision_function(list(descriptors))
            local_share = w_local * local_odds
            p_anime = combine(self.combiner, np.column_stack([head.raw(Xs), local_odds]))
            if explain:
                effects = w_structure * effects
        p_drawing = drawing.predict_proba(X[:, drawn])
        out = []
        for k, (x, pa, pd) in enumerate(zip(Xs, p_anime, p_drawing)):
            reasons = []
            if explain:
                local = None if local_share is None else (
                    float(local_share[k]), float(expit(local_odds[k])))
                scale = (length_scale if length_scale is None or np.isscalar(length_scale)
                         else length_scale[k])
                reasons = contributions(effects[k], x, names, top=explain, side=self.side,
                                        local=local, yardsticks=self.card.get("yardsticks"),
                                        length_scale=scale,
                                        steady=None if steady is None else steady[k])
            out.append(Prediction(
                sure_from=self.sure_from,
                label="anime" if pa >= 0.5 else "cartoon",
                probabilities={"anime": float(pa), "cartoon": float(1 - pa)},
                is_drawing=bool(pd >= self.drawing_threshold),
                drawing_probability=float(pd),
                explanation=reasons,
                model=self.info,
            ))
        return out

    def predict(self, image, *, explain=5, size=None):
        """Classify one image.

        Parameters
        ----------
        image : anything :func:`load_image` accepts, or a :meth:`working_copy`
        explain : int
            How many contributions the explanation lists.
        size : tuple of 2 int, optional
            ``(width, height)`` of the picture as uploaded, for lengths in its pixels;
            read from the image itself when it is not a working copy.

        Returns
        -------
        prediction : Prediction
        """
        if not isinstance(image, WorkingCopy):
            if hasattr(image, "read"):  # a stream is read once, for the size and the copy
                image = image.read()
            source, image = image, self.working_copy(image)  # bad input raises here
            if size is None:
                try:
                    size = image_size(source)
                except AnimefeatError:  # decodable, but no header size: lengths as measured
                    size = None
        patches = self.patches(image)
        return self.predict_vectors(
            self.features(image)[None, :], explain=explain,
            descriptors=None if patches is None else [patches.descriptors],
            length_scale=length_scale(image, size),
            recheck=self.recheck(image)[None, :] if explain else None,
            outlines=[outline_share(image)] if explain else None)[0]

    def warm_up(self):
        """Classify one small synthetic drawing, so that the first real image is fast.

        Features and model walks are compiled (numba) on their first call in a
        process: about a second when the compiled code is in numba's cache, some
        seconds the very first time on a machine. Servers call this at start-up.

        Returns
        -------
        prediction : Prediction
            The synthetic drawing's prediction.
        """
        return self.predict(_warm_up_drawing())

    # --- persistence ------------------------------------------------------------------------

    def save(self, path):
        """Write ``path`` (.skops) and the card beside it (.json).

        Parameters
        ----------
        path : str or Path
            Target file; ``.skops`` is appended when missing.

        Returns
        -------
        path : Path
            The model file written.
        """
        import skops.io as sio

        path = Path(path)
        if path.suffix != ".skops":
            path = path.with_name(path.name + ".skops")
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": MODEL_FORMAT,
            "extractor": self.extractor,
            "style": self.style,
            "drawing": self.drawing,
            "feature_names": self.feature_names,
            "drawing_threshold": self.drawing_threshold,
            "local": self.local,
            "combiner": self.combiner,
        }
        sio.dump(payload, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
        card = dict(self.card)
        card["file"] = {"name": path.name, "sha256": _sha256(path), "bytes": path.stat().st_size}
        card_path(path).write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
        self.card = card
        return path

    @classmethod
    def load(cls, path):
        """Load and verify a model file; see :func:`load_model`."""
        import skops.io as sio

        path = Path(path)
        card = verify_model_file(path)
        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as exc:
            raise ModelError(f"{path.name!r} is not a readable skops model file: {exc}") from None
        foreign = sorted(set(untrusted) - set(TRUSTED_TYPES))
        if foreign:
            raise ModelError(f"{path.name!r} contains types that are not trusted: {foreign}")
        try:
            payload = sio.load(path, trusted=list(untrusted))
        except Exception as exc:
            raise ModelError(f"{path.name!r} could not be loaded: {exc}") from None
        if not isinstance(payload, dict) or payload.get("format") not in READ_FORMATS:
            raise ModelError(f"{path.name!r} is not an animefeat model of format "
                             f"{' or '.join(map(str, READ_FORMATS))}")
        if list(payload["feature_names"]) != card["feature_names"]:
            raise ModelError("the model file and its card disagree on the feature names")
        return cls(payload["extractor"], payload["style"], payload["drawing"], card,
                   drawing_threshold=payload["drawing_threshold"],
                   local=payload.get("local"), combiner=payload.get("combiner"))


def verify_model_file(path):
    """Check a model file against its card without loading it; return the card.

    The checks of :func:`load_model` that need no unpickling: file and card present,
    the file's hash, the features version and names, the scikit-learn version. A fast
    early check for a process that hands the loading to workers.

    Raises
    ------
    ModelError
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"no model file at {str(path)!r}")
    cpath = card_path(path)
    if not cpath.is_file():
        raise ModelError(f"the model card {cpath.name!r} is missing beside {path.name!r}")
    try:
        card = json.loads(cpath.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"the model card {cpath.name!r} is not valid JSON: {exc}") from None
    _check_card(card, path)
    return card


def _warm_up_drawing():
    """A 96 x 128 drawing on a white page: outlined paint regions, so that every
    feature kernel runs (border trimming, contours, median cut, face search)."""
    image = np.full((96, 128, 3), 255, np.uint8)
    image[16:80, 20:108] = (0, 0, 0)
    image[19:77, 23:105] = (230, 120, 60)
    image[30:60, 40:70] = (0, 0, 0)
    image[32:58, 42:68] = (90, 160, 220)
    return image


def length_scale(work, size):
    """Pixels of the picture as uploaded per pixel of its working copy, or None.

    Parameters
    ----------
    work : WorkingCopy
        Made from the image as decoded (a large JPEG at a reduced DCT scale).
    size : tuple of 2 int or None
        ``(width, height)`` as uploaded (:func:`animefeat.io.image_size`).
    """
    if size is None:
        return None
    top, bottom, left, right = work.crop
    h, w = work.grey.shape
    # The decoded image's long side, from the working copy's size, scale and trim.
    decoded = max(top + bottom + h / work.scale, left + right + w / work.scale)
    return max(size) / decoded / work.scale


def model_features(image, families=None, *, side=WORK_SIDE):
    """Load an image (reduced JPEG decode) and compute the features a model uses."""
    return extract_features(load_for_features(image, side=side), families=families, side=side)


def card_path(model_path):
    """The JSON model card that belongs to a ``.skops`` file."""
    return Path(model_path).with_suffix(".json")


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _check_card(card, path):
    expected = card.get("file", {}).get("sha256")
    if expected != _sha256(path):
        raise ModelError(f"{path.name!r} does not match the hash on its card: the file was "
                         "changed after training (tampered or corrupt)")
    if card.get("features_version") != FEATURES_VERSION:
        raise ModelError(f"{path.name!r} was trained on features version "
                         f"{card.get('features_version')}, this animefeat computes version "
                         f"{FEATURES_VERSION}; retrain it with `animefeat train`")
    names = card.get("feature_names")
    hyper = card.get("hyperparameters", {})
    families = union_families(hyper.get("families"), hyper.get("drawing_families",
                                                               hyper.get("families")))
    if names != feature_names(families):
        raise ModelError(f"{path.name!r} expects other features than this animefeat computes; "
                         "retrain it with `animefeat train`")
    recorded = card.get("versions", {})
    for lib in CHECKED_LIBRARIES:
        have, want = library_version(lib), recorded.get(lib)
        if want is None or have.split(".")[:2] != want.split(".")[:2]:
            raise ModelError(f"{path.name!r} was saved with {lib} {want}, but {have} is "
                             f"installed; install {lib}=={want} or retrain the model")


def library_version(name):
    """Installed version of a distribution, or ``"absent"``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def environment():
    """Versions of Python, animefeat and every library that shapes a model."""
    versions = {"python": platform.python_version(), "animefeat": __version__}
    versions.update({lib: library_version(lib) for lib in RECORDED_LIBRARIES})
    return versions


def union_families(*lists):
    """The families of several lists together, in registry order (None: all families)."""
    if any(families is None for families in lists):
        return None
    wanted = {f for families in lists for f in families}
    return [f for f in FAMILIES if f in wanted]


def new_card(*, name, version, params, families, seed, data, metrics, side=WORK_SIDE,
             drawing_families=None):
    """A model card with the environment, date and feature names filled in.

    ``feature_names`` are those of the vector the model computes: the union of the
    style head's ``families`` and the drawing check's ``drawing_families``.
    """
    return {
        "name": name,
        "version": version,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "task": "anime vs western cartoon; drawing vs photograph",
        "labels": list(LABELS),
        "features_version": FEATURES_VERSION,
        "feature_names": feature_names(union_families(families, drawing_families)),
        "hyperparameters": {"booster": dict(params),
                            "calibration": "slope on the log-odds (no intercept), fitted on "
                                           "leave-one-source-out scores (5-fold with "
                                           "fewer than 3 sources)",
                            "families": families, "drawing_families": drawing_families,
                            "seed": seed, "working_side": side},
        "versions": environment(),
        "data": data,
        "metrics": metrics,
    }


@functools.lru_cache(maxsize=8)
def _load_cached(path):
    return AnimefeatModel.load(path)


def load_model(path=None):
    """Load a model, the shipped default when no path is given. Cached per path.

    Parameters
    ----------
    path : str or Path, optional
        A ``.skops`` file with its ``.json`` card beside it.

    Returns
    -------
    model : AnimefeatModel

    Raises
    ------
    ModelError
        Missing file or card, hash mismatch (tampered), untrusted types, other feature
        names or another scikit-learn version than the model was saved with.
    """
    resolved = Path(DEFAULT_MODEL if path is None else path).resolve()
    return _load_cached(str(resolved))


def classify(image, *, model=None, explain=5):
    """Classify one image as anime or cartoon.

    Parameters
    ----------
    image : str, bytes, file-like, PIL image, ndarray, base64 or data: URL
        Anything :func:`animefeat.load_image` accepts.
    model : AnimefeatModel or str or Path, optional
        A loaded model or a model file; the shipped model by default.
    explain : int
        How many contributions the explanation lists.

    Returns
    -------
    prediction : Prediction
    """
    return _as_model(model).predict(image, explain=explain)


def classify_many(images, *, model=None, n_jobs=None, explain=5, on_error="raise"):
    """Classify many images, extracting features in parallel.

    Parameters
    ----------
    images : iterable
        Anything :func:`animefeat.load_image` accepts, one per image.
    model : AnimefeatModel or str or Path, optional
        The shipped model by default.
    n_jobs : int, optional
        Parallel workers for feature extraction (joblib semantics).
    explain : int
        Contributions per explanation.
    on_error : {"raise", "return"}
        ``"return"`` puts the :class:`AnimefeatError` of a bad image in its place in
        the result instead of stopping.

    Returns
    -------
    predictions : list of Prediction (or AnimefeatError with ``on_error="return"``)
    """
    from joblib import Parallel, delayed

    if on_error not in ("raise", "return"):
        raise ValueError(f"on_error must be 'raise' or 'return', got {on_error!r}")
    model = _as_model(model)
    images = list(images)
    # Workers get the family names and the grid, never the model: nothing large crosses
    # processes.
    families, side, grid = model.families, model.side, model.local_grid
    style, recheck = model.style_families, bool(explain)
    if n_jobs in (None, 1) or len(images) < 2:
        rows = [_features_or_error(im, families, style, side, grid, recheck, on_error)
                for im in images]
    else:
        rows = Parallel(n_jobs=n_jobs)(
            delayed(_features_or_error)(im, families, style, side, grid, recheck, on_error)
            for im in images)
    good = [i for i, r in enumerate(rows) if not isinstance(r, AnimefeatError)]
    out = list(rows)
    if good:
        preds = model.predict_vectors(
            np.vstack([rows[i][0] for i in good]), explain=explain,
            descriptors=None if grid is None else [rows[i][1] for i in good],
            recheck=np.vstack([rows[i][2] for i in good]) if explain else None,
            outlines=[rows[i][3] for i in good] if explain else None)
        for i, pred in zip(good, preds):
            out[i] = pred
    return out


def _recheck_row(work, style_families, side):
    """The style head's features on the re-encoded working copy (see
    :meth:`AnimefeatModel.recheck`)."""
    return extract_features(reencoded(work), families=style_families, side=side)


def _features_or_error(image, families, style_families, side, grid, recheck, on_error):
    """``(feature vector, descriptors or None, recheck row or None, outline share or
    None)`` of one image, or its error; the recheck row (:func:`_recheck_row`) and the
    outline share (:func:`animefeat.features.lines.outline_share`) only with
    ``recheck``."""
    try:
        # One working copy for the features and the patches, as predict makes it.
        work = working_copy(load_for_features(image, side=side), side=side)
        vector = extract_features(work, families=families, side=side)
        descriptors = None if grid is None else dense_sift(work, side=side, **grid).descriptors
        again = _recheck_row(work, style_families, side) if recheck else None
        return vector, descriptors, again, outline_share(work) if recheck else None
    except AnimefeatError as exc:
        if on_error == "raise":
            raise
        return exc


def _as_model(model):
    if model is None or isinstance(model, (str, Path)):
        return load_model(model)
    if not isinstance(model, AnimefeatModel):
        raise TypeError(f"model must be an AnimefeatModel or a path, got {type(model).__name__}")
    return model

