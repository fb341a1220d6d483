"""10: what each family is worth to the photo check, against what it costs.

The drawing-vs-photo check reads every family, and the face family (the drawn-face
detector and the human-face cascade) is most of the per-image time. For the shipped
check and for the check without each family named, the same held-out protocol as 01
(drawings scored with their source left out, photos by grouped 5-fold CV over the
photos; threshold at most 2% of every drawing source flagged): photos flagged overall
and per photo source, drawings flagged per source.

    python experiments/10_photo_check.py [--without face shading] [--data DIR] [--jobs 2]
"""

import time

from _common import Data, parser, photo_check, shipped_drawing_families, write_json

from animefeat.features import FAMILIES


def main():
    p = parser(__doc__)
    p.add_argument("--without", nargs="+", default=["face"],
                   help="families to leave out of the check, one variant each")
    args = p.parse_args()
    started = time.time()
    data = Data(args)
    shipped = list(shipped_drawing_families() or FAMILIES)
    variants = {"shipped": shipped}
    variants.update({f"without {f}": [g for g in shipped if g != f] for f in args.without})
    report = {"protocol": "as experiments/01's photo check", "variants": {}}
    for name, families in variants.items():
        check, _ = photo_check(data, data.full.select_families(families), args.seed)
        report["variants"][name] = {"families": families, **{
            k: check[k] for k in ("threshold", "photos_flagged", "photos_flagged_per_source",
                                  "drawings_flagged_per_source")}}
        print(f"{name:20} photos flagged {check['photos_flagged']:.3f} "
              f"{check['photos_flagged_per_source']}", flush=True)
    write_json(args.out, "10_photo_check", report, started)


if __name__ == "__main__":
    main()
