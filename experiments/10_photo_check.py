"""10: what each family is worth to the photo check, with the drawn-face detector's share.

For the shipped check and for variants with a family added (``--with``, default the face
family, whose drawn-face detector was trained on some of the evaluation sources) or
removed (``--without``), or reading only the families named (``--only``, one variant per
use: for example the style head's own, which cost the check nothing), the held-out
protocol of 01: every source left out in turn, photo sources too (a photo source is
scored by a check that learnt photographs from the other photo source only), each source
graded at a threshold chosen without it. Beside it, ``fitted_on_graded``: the rule
before #28, one threshold chosen on every drawing source, the graded one too. Per
variant, the check's cost: the median time, on one core and a 512-px drawing, of the
families it reads that the style head does not (issue #26's budget is 2 ms).

    python experiments/10_photo_check.py [--with face] [--without shading]
        [--only edges lines hog] [--data DIR]
"""

import time
from dataclasses import replace

import cv2
from _common import (
    Data,
    drawing,
    fitted_on_graded,
    parser,
    photo_check,
    shipped_drawing_families,
    shipped_evaluation,
    shipped_families,
    shipped_side,
    timeit,
    write_json,
)
from threadpoolctl import threadpool_limits

from animefeat.features import FAMILIES, extract_features
from animefeat.model import union_families
from animefeat.preprocess import working_copy
from animefeat.training import DETECTOR_FAMILIES


def added_ms(families, style_families, *, repeats=31):
    """Median ms, one core, of the families the check reads beyond the style head's, on a
    512-px drawing's working copy (each time with an empty cache: it pays for what it
    would share with the style head, so this is an upper bound)."""
    extra = [f for f in families if f not in style_families]
    if not extra:
        return 0.0
    work = working_copy(drawing(512), side=shipped_side())
    # One core for OpenCV too, then its pool back as it was: the held-out checks that
    # follow fit in parallel.
    threads = cv2.getNumThreads()
    try:
        with threadpool_limits(limits=1):
            cv2.setNumThreads(1)
            return timeit(lambda: extract_features(replace(work, cache={}), families=extra),
                          repeats)
    finally:
        cv2.setNumThreads(threads)


def main():
    p = parser(__doc__)
    p.add_argument("--with", dest="add", nargs="*", default=list(DETECTOR_FAMILIES),
                   help="families to add to the check, one variant each")
    p.add_argument("--without", nargs="*", default=[],
                   help="families to leave out of the check, one variant each")
    p.add_argument("--only", nargs="+", action="append", default=[],
                   help="the families a variant of the check reads (repeat for more variants)")
    args = p.parse_args()
    started = time.time()
    data = Data(args)  # every family
    shipped = list(shipped_drawing_families() or FAMILIES)
    style = list(shipped_families() or FAMILIES)
    variants = {"shipped": shipped}
    variants.update({f"with {f}": union_families(shipped, [f]) for f in args.add})
    variants.update({f"without {f}": [g for g in shipped if g != f] for f in args.without})
    variants.update({f"only {'+'.join(fams)}": list(fams) for fams in args.only})
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
            "added_ms_512": added_ms(families, style),
            **{k: check[k] for k in ("photos_flagged", "photos_flagged_per_source",
                                     "drawings_flagged", "drawings_flagged_per_source",
                                     "threshold_per_source", "fitted_on_graded")}}
        print(f"{name:20} photos flagged {check['photos_flagged']:.3f} "
              f"{check['photos_flagged_per_source']}; drawings {check['drawings_flagged']:.3f}; "
              f"{report['variants'][name]['added_ms_512']:.1f} ms",
              flush=True)
    write_json(args.out, "10_photo_check", report, started)


if __name__ == "__main__":
    main()
