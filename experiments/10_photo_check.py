"""10: what each family is worth to the photo check, with the drawn-face detector's share.

For the shipped check and for variants with a family added (``--with``, default the
face family, whose drawn-face detector was trained on some of the evaluation sources)
or removed (``--without``), the held-out protocol of 01: drawings scored with their
source left out, photos by grouped 5-fold CV over the photos, each source graded at a
threshold chosen without it. Beside it, ``fitted_on_graded``: the rule before #28, one
threshold chosen on every drawing source, the graded one too.

    python experiments/10_photo_check.py [--with face] [--without shading] [--data DIR]
"""

import time

from _common import (
    Data,
    fitted_on_graded,
    parser,
    photo_check,
    shipped_drawing_families,
    shipped_evaluation,
    write_json,
)

from animefeat.features import FAMILIES
from animefeat.model import union_families
from animefeat.training import DETECTOR_FAMILIES


def main():
    p = parser(__doc__)
    p.add_argument("--with", dest="add", nargs="*", default=list(DETECTOR_FAMILIES),
                   help="families to add to the check, one variant each")
    p.add_argument("--without", nargs="*", default=[],
                   help="families to leave out of the check, one variant each")
    args = p.parse_args()
    started = time.time()
    data = Data(args)  # every family
    shipped = list(shipped_drawing_families() or FAMILIES)
    variants = {"shipped": shipped}
    variants.update({f"with {f}": union_families(shipped, [f]) for f in args.add})
    variants.update({f"without {f}": [g for g in shipped if g != f] for f in args.without})
    report = {"protocol": "as experiments/01's photo check", "variants": {}}
    for name, families in variants.items():
        if name == "shipped":
            # The card's own held-out scores (01's), not a second computation of them.
            _, shipped_data, card, held_out = shipped_evaluation(args)
            check = dict(card["drawing_check"])
            check["fitted_on_graded"] = fitted_on_graded(shipped_data, held_out["p_drawing"])
        else:
            check, _ = photo_check(data, data.full.select_families(families), args.seed)
        report["variants"][name] = {
            "families": families,
            "contaminated": bool(set(families) & set(DETECTOR_FAMILIES)),
            **{k: check[k] for k in ("photos_flagged", "photos_flagged_per_source",
                                     "drawings_flagged", "drawings_flagged_per_source",
                                     "threshold_per_source", "fitted_on_graded")}}
        print(f"{name:20} photos flagged {check['photos_flagged']:.3f} "
              f"{check['photos_flagged_per_source']}; drawings {check['drawings_flagged']:.3f}",
              flush=True)
    write_json(args.out, "10_photo_check", report, started)


if __name__ == "__main__":
    main()
