"""14: do camera cues tell photographs from drawings on photo sources never seen? (#26)

A drawing is painted: fills are flat to the grey level and shading comes in steps or
clean ramps. A photograph has no truly flat area (sensor noise, skin, walls, foliage,
soft focus) and its gradients follow the heavy-tailed distribution of natural scenes.
So this experiment measures, on the grey view,

- the noise residual (grey minus its 3x3 median): the share of pixels with none, its
  median, and its floor (its 7x7 mean at the quietest quarter of the picture);
- the 3x3 spread: the share of flat pixels and of grain (neither flat nor an edge);
- the gradient magnitude: the share of near-zero steps, the tail (99th over 90th
  percentile), the kurtosis of log(1 + magnitude),

at two resolutions: on the model's working copy (256 px, small images enlarged) and at
the decoded size (the reduced JPEG decode, never enlarged, where a sensor's noise
survives best). Each image has one degraded copy, as in training.

Two kinds of check, both graded as the shipped one
(:func:`animefeat.training.held_out_drawing_check`, every source left out in turn, photo
sources included; thresholds chosen without the graded source):

- *classifiers*: drawing vs photograph, gradient boosting with the drawing check's
  parameters, uncalibrated (only the ranking matters to a threshold), on the shipped
  check's structural families, the camera cues, or both;
- *novelty detectors*, which never see a photograph: a density of the drawings (Gaussian
  mixture, mean distance to the 10 nearest drawings, isolation forest) after a normal
  quantile transform; a drawing source is scored by a detector fitted without it, every
  photograph by one fitted on all drawings.

    python experiments/14_camera_cues.py
"""

import time

import cv2
import numpy as np
from _common import RESULTS, Data, parser, write_json
from joblib import Parallel, delayed
from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import QuantileTransformer, StandardScaler

from animefeat.features import feature_names
from animefeat.features._util import grey_uint8
from animefeat.model import DRAWING_PARAMS
from animefeat.preprocess import load_for_features, working_copy
from animefeat.training import drawing_held_out, held_out_drawing_check
from animefeat.training.tables import FeatureTable, degrade

SIDE = 256
#: The shipped drawing check's families (every family but the drawn-face detector's).
STRUCTURAL = ["edges", "lines", "colour", "regions", "shading", "texture", "hog"]
NAMES = ("residual_zero_share", "residual_median", "residual_floor", "flat_share",
         "grain_share", "gradient_still_share", "gradient_tail", "gradient_log_kurtosis")


def camera_cues(work):
    """The camera cues (``NAMES``) of a working copy, measured on its grey view."""
    grey = grey_uint8(work)
    residual = np.abs(grey.astype(np.float64) - cv2.medianBlur(grey, 3))
    floor = float(np.quantile(cv2.blur(residual, (7, 7)), 0.25))
    g = grey.astype(np.float64)
    mean, square = cv2.blur(g, (3, 3)), cv2.blur(g * g, (3, 3))
    spread = np.sqrt(np.maximum(square - mean * mean, 0.0))
    flat = spread < 0.5
    magnitude = cv2.magnitude(cv2.Sobel(g, cv2.CV_64F, 1, 0) / 8,
                              cv2.Sobel(g, cv2.CV_64F, 0, 1) / 8)
    p90, p99 = np.quantile(magnitude, [0.9, 0.99])
    log_mag = np.log1p(magnitude).ravel()
    centred = log_mag - log_mag.mean()
    variance = float(np.mean(centred ** 2))
    return np.array([np.mean(residual == 0), np.median(residual), floor, flat.mean(),
                     np.mean(~flat & (spread < 6.0)), np.mean(magnitude < 0.5),
                     p99 / p90 if p90 > 0 else np.nan,
                     np.mean(centred ** 4) / variance ** 2 if variance > 1e-12 else np.nan])


def _rows(path, index, seed):
    rgb = load_for_features(path, side=SIDE)
    out = []
    for image in (rgb, degrade(rgb, np.random.default_rng([seed, index]))):
        # The model's working copy, and one at the decoded size (trimmed, never resized).
        out.append(np.concatenate([camera_cues(working_copy(image, side=SIDE)),
                                   camera_cues(working_copy(image, side=max(image.shape[:2])))]))
    return out


def camera_table(data, args):
    """Rows in the order of the feature table: each image, then its degraded copy."""
    cached = (RESULTS / "cache"
              / f"camera-v2-{data.dataset.manifest_sha256[:16]}-{args.seed}.npy")
    if cached.is_file():
        return np.load(cached)
    rows = Parallel(n_jobs=args.jobs)(delayed(_rows)(str(p), i, args.seed)
                                      for i, p in enumerate(data.dataset.paths))
    X = np.array([r for pair in rows for r in pair])
    np.save(cached, X)
    return X


class _NearestDrawings:
    """Novelty score: minus the mean distance to the k nearest training rows."""

    def __init__(self, k=10):
        self.k = k

    def fit(self, X):
        self.nn_ = NearestNeighbors(n_neighbors=self.k).fit(X)
        return self

    def score_samples(self, X):
        return -self.nn_.kneighbors(X)[0].mean(axis=1)


DETECTORS = {
    "gaussian mixture (8, full)": lambda seed: GaussianMixture(
        8, covariance_type="full", reg_covar=1e-3, random_state=seed),
    "10 nearest drawings": lambda seed: _NearestDrawings(10),
    "isolation forest": lambda seed: IsolationForest(n_estimators=200, random_state=seed),
}


def novelty_held_out(X, data, table, detector, seed):
    """Held-out drawing-likeness: each drawing source by a detector fitted on the other
    drawing sources' rows (with their degraded copies), photos by one fitted on all."""
    X = np.nan_to_num(X, nan=0.0)
    origin, original = table.origin, ~table.augmented
    drawn = np.flatnonzero(data.y_drawing[origin] == 1)
    score = np.full(len(data.labels), np.nan)

    def fit_score(train, test):
        scale = make_pipeline(QuantileTransformer(output_distribution="normal",
                                                  n_quantiles=200, random_state=seed),
                              StandardScaler())
        model = DETECTORS[detector](seed).fit(scale.fit_transform(X[train]))
        score[origin[test]] = model.score_samples(scale.transform(X[test]))

    for source in np.unique(data.sources[data.drawings]):
        fit_score(drawn[data.sources[origin[drawn]] != source],
                  np.flatnonzero(original & (data.sources[origin] == source)
                                 & (data.y_drawing[origin] == 1)))
    fit_score(drawn, np.flatnonzero(original & (data.y_drawing[origin] == 0)))
    return score


def summary(report):
    return {k: report[k] for k in ("photos_flagged", "photos_flagged_per_source",
                                   "drawings_flagged", "drawings_flagged_per_source")}


def main():
    args = parser(__doc__).parse_args()
    started = time.time()
    data = Data(args, side=SIDE, families=STRUCTURAL, computed=STRUCTURAL)
    table = data.drawing_table
    cues = camera_table(data, args)
    n = len(NAMES)
    structural = table.X
    names = feature_names(STRUCTURAL)
    colour_texture = structural[:, [i for i, name in enumerate(names)
                                    if name.split(".")[0] in ("colour", "texture")]]
    views = {
        "structural (the shipped check's families)": structural,
        "camera cues at 256 px": cues[:, :n],
        "camera cues at the decoded size": cues[:, n:],
        "structural + camera cues at 256 px": np.hstack([structural, cues[:, :n]]),
        "structural + camera cues at the decoded size": np.hstack([structural, cues[:, n:]]),
    }
    report = {"protocol": "every source left out in turn, photo sources included; "
                          "thresholds chosen without the graded source",
              "cues": list(NAMES), "classifiers": {}, "novelty": {}}

    def make(_):
        return HistGradientBoostingClassifier(random_state=args.seed, **DRAWING_PARAMS)

    for name, X in views.items():
        p, _ = drawing_held_out(FeatureTable(X, table.origin, table.augmented, data.dataset),
                                data.y_drawing, groups=data.groups, seed=args.seed, make=make)
        out = summary(held_out_drawing_check(data.y_drawing, p, data.sources))
        report["classifiers"][name] = out
        print(f"{name:46} photos {out['photos_flagged']:.3f} drawings "
              f"{out['drawings_flagged']:.3f}", flush=True)
    for view, X in {"camera cues at the decoded size": cues[:, n:],
                    "colour + texture + camera cues at the decoded size":
                        np.hstack([colour_texture, cues[:, n:]])}.items():
        for detector in DETECTORS:
            score = novelty_held_out(X, data, table, detector, args.seed)
            out = summary(held_out_drawing_check(data.y_drawing, score, data.sources))
            report["novelty"][f"{detector}: {view}"] = out
            print(f"{detector}: {view:50} photos {out['photos_flagged']:.3f} drawings "
                  f"{out['drawings_flagged']:.3f}", flush=True)
    write_json(args.out, "14_camera_cues", report, started)


if __name__ == "__main__":
    main()
