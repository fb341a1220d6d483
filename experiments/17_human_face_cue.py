"""17: does OpenCV's human-face cascade help the photo check on photo sources never seen? (#26)

The face family's ``photo_face`` column is OpenCV's frontal-face cascade for people. It
was not learnt from our data (unlike the drawn-face detector, which saw the ``faces``
crops), so it may join the photo check without contaminating its evaluation. This
prints, per source and label, how often it fires, then scores the photo check with the
shipped check's families, with that column beside them, and with the whole face family
(contaminated: an upper bound), under the held-out protocol of experiments/01 (every
source left out in turn, photo sources too; each drawing source graded at a threshold
chosen without it). The boosters are the check's, uncalibrated: only the ranking sets
a threshold, and skipping the 5-fold calibration makes each variant six times cheaper.

Last, a sanity check on photographs from no source of ours: the shipped model's answer
for the five colour photographs that scikit-image's wheel carries (astronaut, chelsea,
coffee, rocket, the left view of the stereo motorcycle).

    python experiments/17_human_face_cue.py
"""

import time

import numpy as np
import skimage.data
from _common import Data, parser, shipped_drawing_families, write_json
from sklearn.ensemble import HistGradientBoostingClassifier

import animefeat
from animefeat.features import feature_names
from animefeat.model import DRAWING_PARAMS
from animefeat.training import drawing_held_out, held_out_drawing_check


def main():
    args = parser(__doc__).parse_args()
    started = time.time()
    data = Data(args)  # every family
    names = feature_names(None)
    shipped = [names.index(n) for n in feature_names(list(shipped_drawing_families()))]
    cue = names.index("face.photo_face")
    face = [i for i, n in enumerate(names) if n.startswith("face.")]
    variants = {"shipped families": shipped,
                "with the human-face cascade": [*shipped, cue],
                "with the face family (contaminated)": shipped + face}
    fires = data.image_rows()[:, cue] > 0
    fired = {}
    for source in np.unique(data.sources):
        for label in np.unique(data.labels[data.sources == source]):
            cell = (data.sources == source) & (data.labels == label)
            fired[f"{source}/{label}"] = float(fires[cell].mean())
            print(f"{source:20} {label:8} cascade fires on {fires[cell].mean():.1%}")
    seed = args.seed
    report = {}
    for name, columns in variants.items():
        proba, protocol = drawing_held_out(
            data.full.select(columns), data.y_drawing, groups=data.groups, seed=seed,
            make=lambda _: HistGradientBoostingClassifier(**DRAWING_PARAMS,
                                                          random_state=seed))
        check = held_out_drawing_check(data.y_drawing, proba, data.sources)
        report[name] = {k: check[k] for k in ("photos_flagged", "photos_flagged_per_source",
                                              "drawings_flagged",
                                              "drawings_flagged_per_source")}
        worst = max(check["drawings_flagged_per_source"].items(), key=lambda kv: kv[1])
        print(f"{name:38} photos flagged {check['photos_flagged']:.1%} "
              f"{check['photos_flagged_per_source']}; drawings {check['drawings_flagged']:.2%}, "
              f"worst {worst[0]} {worst[1]:.1%}", flush=True)
    photos = {"astronaut": skimage.data.astronaut(), "chelsea": skimage.data.chelsea(),
              "coffee": skimage.data.coffee(), "rocket": skimage.data.rocket(),
              "motorcycle": skimage.data.stereo_motorcycle()[0]}
    model = animefeat.load_model()
    answers = {}
    for name, image in photos.items():
        prediction = animefeat.classify(image, model=model)
        answers[name] = {"is_drawing": bool(prediction.is_drawing),
                         "verdict": prediction.verdict}
        print(f"scikit-image's {name}: {prediction.verdict}")
    write_json(args.out, "17_human_face_cue", {
        "protocol": protocol + "; uncalibrated boosters with the drawing check's parameters",
        "cascade_fires": fired, "variants": report,
        "scikit_image_photos": answers}, started)


if __name__ == "__main__":
    main()
