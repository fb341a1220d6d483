"""Write the results table of experiments/README.md from experiments/results/*.json.

    python experiments/summarise.py
"""

import json
import re
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def pct(x):
    return "–" if x is None else f"{100 * x:.1f}%"


def load(name):
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def ece_conf(block):
    """The confidence ECE of a metrics block, or a dash for results written before it."""
    return f"{block['ece_confidence']:.3f}" if "ece_confidence" in block else "–"


#: Sources from one course dataset family, with the same framing (#25 asks that they be
#: reported as related: each left out, the other two are still in training).
RELATED = ("dexter-frames", "flintstones-frames", "scooby-frames")


def stacked_table(ev):
    """The shipped combination (structure + local patterns) left out by source, beside
    each view alone (Markdown rows)."""
    st, check, cv = ev["stacked_leave_one_source_out"], ev["drawing_check"], ev["cv"]
    nested = ev.get("nested_leave_one_source_out") or ev["leave_one_source_out"]
    local = st["views"]["local"]
    cv = st.get("cv", cv)
    lines = ["| source left out | images | **structure + local patterns (shipped)** | "
             "structure alone (nested) | local patterns alone | recall anime | recall cartoon "
             "| ECE of confidence | confident mistakes | drawings called photos | "
             "pooled CV |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s, m in st["per_source"].items():
        name = f"{s} (related)" if s in RELATED else s
        lines.append(
            f"| {name} | {m['n']} | **{pct(m['accuracy'])}** | "
            f"{pct(nested['per_source'][s]['accuracy'])} | "
            f"{pct(local['per_source'][s]['accuracy'])} | {pct(m['recall_1'])} | "
            f"{pct(m['recall_0'])} | {ece_conf(m)} | {pct(m['confident_mistakes'])} | "
            f"{pct(check['drawings_flagged_per_source'].get(s))} | "
            f"{pct(cv['per_source'][s]['accuracy'])} |")
    p = st["pooled"]

    def mean_worst(block):
        return (f"{pct(block['mean_source_accuracy'])} (worst "
                f"{pct(block['worst_source_accuracy'])})")

    lines.append(f"| **mean over sources** | {p['n']} | **{mean_worst(st)}** | "
                 f"{mean_worst(nested)} | {mean_worst(local)} | {pct(p['recall_1'])} | "
                 f"{pct(p['recall_0'])} | {ece_conf(p)} | {pct(p['confident_mistakes'])} | "
                 f"{pct(check['drawings_flagged'])} | {pct(cv['pooled']['accuracy'])} |")
    related = [st["per_source"][s]["accuracy"] for s in RELATED if s in st["per_source"]]
    if related:
        others = [m["accuracy"] for s, m in st["per_source"].items() if s not in RELATED]
        lines += ["", f"The related sources ({', '.join(RELATED)}: one course dataset, the "
                  "same framing; each left out, the other two stay in training) average "
                  f"{pct(sum(related) / len(related))}; the other "
                  f"{len(others)} sources {pct(sum(others) / len(others))}."]
    weights = st.get("combiner_weights", {})
    if weights:
        ws = [w["structure"] for w in weights.values()]
        wl = [w["local"] for w in weights.values()]
        lines += ["", "Weights the combiner learnt on the log-odds (per fold, min to max): "
                  f"structure {min(ws):.2f} to {max(ws):.2f}, local patterns "
                  f"{min(wl):.2f} to {max(wl):.2f}."]
    return lines


def evaluation_table(ev):
    """Leave-one-source-out per source first (nested and fast), the goals, then pooled
    CV (Markdown)."""
    fast, cv, check = ev["leave_one_source_out"], ev["cv"], ev["drawing_check"]
    if "stacked_leave_one_source_out" in ev:
        return "\n".join(stacked_table(ev) + _rest(ev, fast, check, nested_choices=True))
    lo = ev.get("nested_leave_one_source_out") or fast
    nested = "nested_leave_one_source_out" in ev
    lines = ["| source left out | images | accuracy" + (" (nested) | fast | gap" if nested
                                                       else "") +
             " | recall anime | recall cartoon | ECE of confidence | confident mistakes | "
             "drawings called photos | pooled CV |",
             "|---|---|---|" + ("---|---|" if nested else "") + "---|---|---|---|---|---|"]
    for s, m in lo["per_source"].items():
        both = (f" | {pct(fast['per_source'][s]['accuracy'])} | "
                f"{100 * (fast['per_source'][s]['accuracy'] - m['accuracy']):+.1f}"
                if nested else "")
        lines.append(
            f"| {s} | {m['n']} | {pct(m['accuracy'])}{both} | {pct(m['recall_1'])} | "
            f"{pct(m['recall_0'])} | {ece_conf(m)} | "
            f"{pct(m['confident_mistakes'])} | "
            f"{pct(check['drawings_flagged_per_source'].get(s))} | "
            f"{pct(cv['per_source'][s]['accuracy'])} |")
    p = lo["pooled"]
    both = (f" | {pct(fast['mean_source_accuracy'])} (worst "
            f"{pct(fast['worst_source_accuracy'])}) | "
            f"{100 * (fast['mean_source_accuracy'] - lo['mean_source_accuracy']):+.1f}"
            if nested else "")
    lines.append(f"| **mean over sources** | {p['n']} | **{pct(lo['mean_source_accuracy'])}** "
                 f"(worst {pct(lo['worst_source_accuracy'])}){both} | {pct(p['recall_1'])} | "
                 f"{pct(p['recall_0'])} | {ece_conf(p)} | "
                 f"{pct(p['confident_mistakes'])} | {pct(check['drawings_flagged'])} | "
                 f"{pct(cv['pooled']['accuracy'])} |")
    return "\n".join(lines + _rest(ev, fast, check, nested_choices=nested))


def _rest(ev, fast, check, *, nested_choices):
    """What follows the table: the recipes chosen, the photo check, confidence, goals."""
    lines = []
    lo = ev.get("nested_leave_one_source_out") or fast
    if nested_choices and "choices" in lo:
        chosen = {}
        for c in lo.get("choices", {}).values():
            key = (f"{'+'.join(c['families'])}, learning rate {c['params']['learning_rate']}, "
                   f"{c['params']['max_leaf_nodes']} leaves, "
                   f"{'with' if c['augment'] else 'without'} degraded copies")
            chosen[key] = chosen.get(key, 0) + 1
        lines += ["", "Recipes the nested selection chose (folds): " + "; ".join(
            f"{k} ({n})" for k, n in sorted(chosen.items(), key=lambda kv: -kv[1])) + "."]
    photos = ", ".join(f"{k} {pct(v)}" for k, v in check["photos_flagged_per_source"].items())
    how = check.get("protocol", "drawings scored with their source left out, photos by "
                                "grouped 5-fold CV over the photos").split("; families")[0]
    lines += ["", f"Photo check ({how}; each source graded at a threshold chosen "
              f"without it): photos flagged {pct(check['photos_flagged'])} ({photos}); "
              f"drawings flagged {pct(check['drawings_flagged'])} pooled, worst "
              f"{pct(max(check['drawings_flagged_per_source'].values()))}."]
    if "drawing_check_before" in ev:
        b = ev["drawing_check_before"]
        lines += ["", "Graded as before (one threshold chosen on every drawing source, the "
                  f"graded one too): photos flagged {pct(b['photos_flagged'])}, drawings "
                  f"{pct(b['drawings_flagged'])} pooled, worst "
                  f"{pct(max(b['drawings_flagged_per_source'].values()))}."]
    if "drawing_check_tradeoff" in ev:
        lines += ["", "Thresholds for the photo check, on the same held-out scores: "
                  + "; ".join(
            f"{name}: photos flagged {pct(r['photos_flagged'])}, worst drawing source "
            f"{pct(r['worst_drawing_source_flagged'])}"
            for name, r in ev["drawing_check_tradeoff"].items()) + "."]
    if "confidence_on_left_out" in ev:
        c = ev["confidence_on_left_out"]
        lines += ["", f"Confidence of the answers on left-out sources: median {pct(c['p50'])}, "
                  f"90th percentile {pct(c['p90'])}."]
    if "verdicts_on_left_out" in ev:
        v = ev["verdicts_on_left_out"]
        per = ", ".join(f"{k} {pct(r['verdict_share'])} ({pct(r['verdict_accuracy'])} right)"
                        for k, r in v.items() if k != "pooled")
        lines += ["", "Verdicts on left-out sources (P(anime) outside 35-65%; the page says "
                  f"\"Not sure\" for the rest): {pct(v['pooled']['verdict_share'])} of the "
                  f"answers, right {pct(v['pooled']['verdict_accuracy'])} of the time; per "
                  f"source: {per}."]
    if "goals" in ev:
        lines += ["", "| goal | target | measured | met |", "|---|---|---|---|"]
        for k, g in ev["goals"].items():
            lines.append(f"| {k} | {g['goal']} | {g['measured']:.3f} | "
                         f"{'yes' if g['met'] else '**no**'} |")
    return lines


def peer_table(ev, peer):
    """03: the shipped model, the CNN from scratch and the pretrained CNN, each source
    left out; the pretrained features as a photo check."""
    ours = ev.get("stacked_leave_one_source_out") or ev["leave_one_source_out"]
    columns = [("animefeat (shipped)", ours)]
    if "leave_one_source_out" in peer:
        columns.append((f"CNN from scratch ({peer['epochs']} epochs)",
                        peer["leave_one_source_out"]))
    if "pretrained" in peer:
        columns.append(("ImageNet CNN, frozen", peer["pretrained"]["leave_one_source_out"]))
    lines = ["### 03 CNN peers (`python experiments/03_cnn_peer.py [--pretrained]`)", ""]
    if "architecture" in peer:
        lines += [f"From scratch: {peer['architecture']}, {peer['augmentation']}.", ""]
    if "pretrained" in peer:
        lines += [f"Pretrained: {peer['pretrained']['model']}.", ""]
    lines += ["| source left out | " + " | ".join(c for c, _ in columns) + " |",
              "|---|" + "---|" * len(columns)]
    # A peer's last run may predate some sources: "-" there, and its mean and worst are
    # over the sources it has.
    for s in ours["per_source"]:
        lines.append(f"| {s} | " + " | ".join(
            pct(b["per_source"][s]["accuracy"]) if s in b["per_source"] else "-"
            for _, b in columns) + " |")
    lines.append("| **mean / worst** | " + " | ".join(
        f"{pct(np.mean(acc))} / {pct(min(acc))}" for acc in
        ([v["accuracy"] for v in b["per_source"].values()] for _, b in columns)) + " |")
    for name, b in columns:
        if len(b["per_source"]) < len(ours["per_source"]):
            lines += ["", f"{name}: its last run covers {len(b['per_source'])} of these "
                          f"sources ({', '.join(b['per_source'])}); its mean and worst are "
                          "over those."]
    if "pretrained" in peer:
        c = peer["pretrained"]["photo_check"]
        per = ", ".join(f"{s} {pct(v)}" for s, v in c["photos_flagged_per_source"].items())
        lines += ["", f"The frozen ImageNet features as a photo check, every source left out "
                      f"(photo sources too): photos flagged {pct(c['photos_flagged'])} ({per}); "
                      f"drawings {pct(c['drawings_flagged'])} pooled, worst "
                      f"{pct(max(c['drawings_flagged_per_source'].values()))}."]
    return [*lines, "", "CPU latency: the benchmark (05) below.", ""]


#: The head of a table of photo checks, one :func:`check_row` each.
CHECK_HEAD = ["| check | photos flagged | faces (photos) | scene-photos | drawings flagged | "
              "worst drawing source |", "|---|---|---|---|---|---|"]


def check_row(name, c):
    """One photo check's row under :data:`CHECK_HEAD`: photos flagged, pooled and per photo
    source, drawings flagged, pooled and at the worst drawing source."""
    per = c["photos_flagged_per_source"]
    worst = max(c["drawings_flagged_per_source"].items(), key=lambda kv: kv[1])
    return (f"| {name} | {pct(c['photos_flagged'])} | {pct(per.get('faces', float('nan')))} | "
            f"{pct(per.get('scene-photos', float('nan')))} | "
            f"{pct(c['drawings_flagged'])} | {worst[0]} {pct(worst[1])} |")


def photo_check_table(pc):
    """10: each check's summary row, then every source left out in turn: the share it
    flags (photos should be, drawings should not) at the threshold chosen without it."""
    lines = ["### 10 the photo check, every source left out "
             "(`python experiments/10_photo_check.py`)", "",
             "Same protocol as 01's photo check: a photo source is scored by a check that "
             "learnt photographs from the other photo source only, and each source is graded "
             "at a threshold chosen without it; *contaminated*: reads the drawn-face detector, "
             "trained on some of these sources. Added ms: the families the check reads "
             "beyond the style head's, on a 512-px drawing, one core (goal 2 ms).", "",
             *CHECK_HEAD]
    lines += [check_row(f"{k} (*contaminated*)" if r.get("contaminated") else k, r)
              for k, r in pc["variants"].items()]
    names = list(pc["variants"])
    lines += ["", "| source left out | kind | " + " | ".join(
        f"{k}: flagged (threshold)" for k in names) + " |",
        "|---|---|" + "---|" * len(names)]
    first = pc["variants"][names[0]]
    rows = [(s, "photo") for s in first["photos_flagged_per_source"]]
    rows += [(s, "drawing") for s in first["drawings_flagged_per_source"]]
    for source, kind in rows:
        key = f"{kind}s_flagged_per_source"
        cells = [f"{pct(r[key][source])} ({r['threshold_per_source'][source]:.3f})"
                 for r in pc["variants"].values()]
        lines.append(f"| {source} | {kind} | " + " | ".join(cells) + " |")
    lines += ["", "Added ms at 512 px: " + ", ".join(
        f"{k} {r['added_ms_512']:.1f}" for k, r in pc["variants"].items()) + ".", ""]
    return lines


def camera_table(cam):
    """14: the camera cues, as classifiers and as novelty detectors."""
    lines = ["### 14 camera cues as a photo check (`python experiments/14_camera_cues.py`)", "",
             "Every source left out, photo sources included; thresholds chosen without the "
             "graded source.", "", *CHECK_HEAD]
    for kind in ("classifiers", "novelty"):
        lines += [check_row(f"{'novelty: ' if kind == 'novelty' else ''}{name}", c)
                  for name, c in cam[kind].items()]
    return [*lines, ""]


def table():
    lines = []
    ev = load("01_evaluate")
    if ev:
        lines += ["### 01 evaluation (`python experiments/01_evaluate.py`)", "",
                  evaluation_table(ev), "", "![evaluation](results/01_evaluate.png)", ""]
    peer = load("03_cnn_peer")
    if peer and ev:
        lines += peer_table(ev, peer)
    ab = load("02_ablation")
    if ab and "shipped" in ab["families"]:
        rows = ab["families"]
        sources = sorted(rows["shipped"]["per_source"])
        lines += ["### 02 which family carries each left-out source "
                  "(`python experiments/02_ablation.py`)", "",
                  f"Leave-one-source-out accuracy, uncalibrated boosters; shipped families: "
                  f"{', '.join(ab['shipped_families'])}.", "",
                  "| features | mean | worst | " + " | ".join(sources) + " |",
                  "|---|---|---|" + "---|" * len(sources)]

        def row(name, r):
            return (f"| {name} | {pct(r['mean'])} | {pct(r['worst'])} | "
                    + " | ".join(pct(r["per_source"][s]) for s in sources) + " |")

        lines.append(row("**shipped**", rows["shipped"]))
        for fam, r in rows.items():
            if fam == "shipped":
                continue
            mark = " (*contaminated*: its detector trained on some of these sources)" if r.get(
                "contaminated") else ""
            lines.append(row(f"{fam} alone{mark}", r["alone"]))
            if "with" in r:
                lines.append(row(f"shipped + {fam}{mark}", r["with"]))
            if "without" in r:
                lines.append(row(f"shipped without {fam}", r["without"]))
        lines += ["", "![ablation](results/02_ablation.png)", ""]
    st = load("09_stability")
    if st:
        lines += ["### 09 stability (`python experiments/09_stability.py`)", "",
                  f"{st['images']} drawings ({st['per_source']} per source): labels flipped "
                  f"{pct(st['flip_rate'])} overall (goal under {pct(st['goal'])})"
                  + (f"; verdicts reversed (a confident answer turned into the opposite "
                     f"confident answer) {pct(st['verdict_reversal_rate'])}"
                     if "verdict_reversal_rate" in st else "") + ".", "",
                  "| change | labels flipped | verdicts reversed | mean change of P(anime) |",
                  "|---|---|---|---|"]
        reversed_ = st.get("verdict_reversal_rate_per_change", {})
        for k, v in st["flip_rate_per_change"].items():
            lines.append(f"| {k} | {pct(v)} | {pct(reversed_.get(k))} | "
                         f"{st['mean_abs_change_per_change'][k]:.3f} |")
        lines += ["", "Per source: " + ", ".join(
            f"{k} {pct(v)}" for k, v in st["flip_rate_per_source"].items()) + ".", "",
            "![stability](results/09_stability.png)", ""]
    fc = load("08_faces")
    if fc:
        lines += ["### 08 drawn faces (`python experiments/08_faces.py`)", "",
                  "Held-out face crops pasted at known places into held-out pictures "
                  "(a face counts as found at IoU >= 0.4):", "",
                  "| background | pictures | faces | recall | precision "
                  "| false faces per picture |",
                  "|---|---|---|---|---|---|"]
        for k, r in fc["pasted"]["per_background"].items():
            lines.append(f"| {k} | {r['images']} | {r['faces']} | {pct(r['recall'])} | "
                         f"{pct(r['precision'])} | {r['false_per_image']:.2f} |")
        a = fc["pasted"]["all"]
        lines += [f"| **all** | {a['images']} | {a['faces']} | **{pct(a['recall'])}** | – | "
                  f"{a['false_per_image']:.2f} |", "",
                  "Recall by face size: " + ", ".join(
                      f"{k} {pct(r['recall'])}" for k, r in fc["pasted"]["by_size"].items())
                  + f" ({fc['pasted']['held_out_crops']} held-out crops; goal 85% recall at "
                  "0.1 false faces per picture)."]
        lines += ["", "Pictures with a drawn face found (goal 70% on character art): " + ", ".join(
            f"{k} {pct(r['found_share'])}" for k, r in fc["found_share"].items()) + ".", "",
            f"Detection on a 512-px picture: median {fc['timing']['median_ms']:.1f} ms "
            f"(90th percentile {fc['timing']['p90_ms']:.1f} ms; goal 4 ms).", ""]
        lo = fc["loso"]
        lines += ["Style model, leave-one-source-out, with and without the face family: "
                  + "; ".join(f"{k.replace('_', ' ')}: mean {pct(r['mean_source_accuracy'])}, "
                              f"worst {pct(r['worst_source_accuracy'])}" for k, r in lo.items())
                  + ".", "", "![contact sheet](results/08_faces_sheet.png)", ""]
    pc = load("10_photo_check")
    if pc:
        lines += photo_check_table(pc)
    ld = load("11_local_descriptors")
    if ld:
        variants = ld["variants"]
        sources = list(next(iter(variants.values()))["leave_one_source_out"]["per_source"])
        lines += ["### 11 the local patterns alone, variants "
                  "(`python experiments/11_local_descriptors.py`)", "",
                  "Dense grey SIFT, Fisher vector, logistic regression; encoder and classifier "
                  "fitted on the other sources in every fold; (mean + worst) / 2 decides "
                  "(on the reported folds: not nested).", "",
                  "| variant | patches per image | mean | worst | score | "
                  + " | ".join(sources) + " |",
                  "|---|---|---|---|---|" + "---|" * len(sources)]
        for name, v in sorted(variants.items(), key=lambda kv: -kv[1]["score"]):
            lo = v["leave_one_source_out"]
            lines.append(f"| {name} | {v['patches_per_image']['median']:.0f} | "
                         f"{pct(lo['mean_source_accuracy'])} | "
                         f"{pct(lo['worst_source_accuracy'])} | {pct(v['score'])} | "
                         + " | ".join(pct(lo["per_source"][s]["accuracy"]) for s in sources)
                         + " |")
        lines.append("")
    sk = load("12_stack")
    if sk:
        views = sk["leave_one_source_out"]
        lines += ["### 12 structure and local patterns combined (`python experiments/12_stack.py`)",
                  "", f"Local settings {sk['local']}, no degraded copies for the local head "
                  "(the shipped model has them: experiments/01).", "",
                  "| source left out | structure (nested) | local patterns | combined |",
                  "|---|---|---|---|"]
        for src in views["stack"]["per_source"]:
            lines.append(f"| {src} | " + " | ".join(
                pct(views[v]["per_source"][src]["accuracy"])
                for v in ("structure", "local", "stack")) + " |")
        lines.append("| **mean / worst** | " + " | ".join(
            f"{pct(views[v]['mean_source_accuracy'])} / {pct(views[v]['worst_source_accuracy'])}"
            for v in ("structure", "local", "stack")) + " |")
        lines.append("")
    pl = load("13_photo_local")
    if pl:
        c = pl["drawing_check"]
        per = ", ".join(f"{s} {pct(v)}" for s, v in c["photos_flagged_per_source"].items())
        lines += ["### 13 the local patterns as a photo check "
                  "(`python experiments/13_photo_local.py`)", "",
                  f"Every source left out, photo sources included: photos flagged "
                  f"{pct(c['photos_flagged'])} ({per}); drawings flagged "
                  f"{pct(c['drawings_flagged'])} pooled, worst "
                  f"{pct(max(c['drawings_flagged_per_source'].values()))}.", ""]
    rules = load("15_combining_rules")
    if rules:
        lines += ["### 15 fixed combining rules against the fitted combiner "
                  "(`python experiments/15_combining_rules.py`)", "",
                  "| rule | mean | worst |", "|---|---|---|"]
        lines += [f"| {name} | {pct(r['mean_source_accuracy'])} | "
                  f"{pct(r['worst_source_accuracy'])} |" for name, r in rules["rules"].items()]
        lines.append("")
        if "gates" in rules:
            lines += ["Gated combiners, each source scored by one fitted on the other "
                      "sources' held-out views (a screen: those views came from heads that "
                      "saw the graded source):", "",
                      "| combiner | mean | worst |", "|---|---|---|"]
            lines += [f"| {name} | {pct(r['mean_source_accuracy'])} | "
                      f"{pct(r['worst_source_accuracy'])} |"
                      for name, r in rules["gates"].items()]
            lines.append("")
    cue = load("17_human_face_cue")
    if cue:
        fires = cue["cascade_fires"]
        lines += ["### 17 the human-face cascade in the photo check "
                  "(`python experiments/17_human_face_cue.py`)", "",
                  "It fires on " + ", ".join(f"{cell} {pct(v)}" for cell, v in fires.items()
                                             if v >= 0.01) + "; under 1% elsewhere.", "",
                  "Checks of uncalibrated boosters (only the comparison between rows holds):",
                  "", *CHECK_HEAD]
        lines += [check_row(name, v) for name, v in cue["variants"].items()]
        sk = cue["scikit_image_photos"]
        lines += ["", f"The shipped model on scikit-image's {len(sk)} colour photographs: "
                  + "; ".join(f"{name} {a['verdict']}" for name, a in sk.items()) + ".", ""]
    cam = load("14_camera_cues")
    if cam:
        lines += camera_table(cam)
    ol = load("16_outline_reliability")
    if ol:
        kept = ol["kept"]
        lines += ["### 16 where the lines are outlines "
                  "(`python experiments/16_outline_reliability.py`)", "",
                  f"Reasons from the line mask are read where at least "
                  f"{ol['threshold']:.2f} of its pixels bound flat paint: kept on "
                  f"{pct(kept['cartoon'])} of cartoons, {pct(kept['anime'])} of anime "
                  f"drawings, {pct(kept['photos'])} of photographs "
                  f"({ol['per_cell']} per cell at most, {ol['side']} px).", "",
                  "| source | label | quartiles of the share | mask's reasons kept |",
                  "|---|---|---|---|"]
        lines += [f"| {c['source']} | {c['label']} | "
                  + " / ".join(f"{q:.2f}" for q in c["quartiles"])
                  + f" | {pct(c['kept'])} |" for c in ol["cells"]]
        lines += ["", "![the pictures nearest the threshold]"
                  "(results/16_outline_reliability_sheet.png)", ""]
    lc = load("04_learning_curve")
    if lc:
        for model, points in lc["curves"].items():
            if not points:
                continue
            sources = [k for k in next(iter(points.values())) if k != "train_images"]
            lines += [f"### 04 learning curve, {model} (`python experiments/04_learning_curve.py`)",
                      "", "| training images | " + " | ".join(sources) + " |",
                      "|---|" + "---|" * len(sources)]
            for v in points.values():
                lines.append(f"| {v['train_images']:.0f} | "
                             + " | ".join(pct(v[s]) for s in sources) + " |")
            lines.append("")
        lines += ["![learning curve](results/04_learning_curve.png)", ""]
    bm = load("05_benchmark")
    if bm:
        cnn = "cnn_peer_end_to_end" in bm["rows"][0]
        lines += ["### 05 benchmark (`python experiments/05_benchmark.py`), ms per image, one core",
                  "", "| format | side | floor: cv2.imdecode | load_image (reduced) | "
                  "working copy + features | "
                  "model + explanation | classify end to end | end-to-end / floor |"
                  + (" CNN peer end to end |" if cnn else ""),
                  "|---|---|---|---|---|---|---|---|" + ("---|" if cnn else "")]
        for r in bm["rows"]:
            feats = r["working_copy"] + r["features"]
            lines.append(f"| {r['format']} | {r['side']} | {r['floor_cv2_imdecode']:.2f} | "
                         f"{r['load_image_reduced']:.2f} | {feats:.1f} | "
                         f"{r['model_with_explanation']:.1f} | {r['classify_end_to_end']:.1f} | "
                         f"{r['ratio_end_to_end_over_floor']:.1f} |"
                         + (f" {r['cnn_peer_end_to_end']:.1f} |" if cnn else ""))
        r = next(r for r in bm["rows"] if r["format"] == "JPEG" and r["side"] == 512)
        stages = ["load_image_reduced", "working_copy",
                  *[k for k in r if k.startswith("family.")],
                  *[k for k in ("local.patches", "local.encode_and_score", "recheck") if k in r],
                  "model_with_explanation"]
        lines += ["", "Stages at 512 px (JPEG), ms (each family with its own intermediates, "
                  "so they add up to more than the features column): "
                  + ", ".join(f"{k.replace('family.', '')} {r[k]:.2f}" for k in stages) + "."]
        if "model_with_explanation_after_features" in r:
            lines += ["", f"Alone, the stages add up to {sum(r[k] for k in stages):.2f} ms "
                      f"({sum(r[k] for k in stages) / r['floor_cv2_imdecode']:.1f}x the floor); "
                      f"end to end they take {r['classify_end_to_end']:.2f} ms, each finding the "
                      "caches filled by the others: the model with its explanation takes "
                      f"{r['model_with_explanation']:.2f} ms alone and "
                      f"{r['model_with_explanation_after_features']:.2f} ms right after the "
                      "features."]
        turns = [r for r in bm["rows"] if "ratio_interleaved" in r]
        if turns:
            lines += ["", "The floor's own loop repeats one decode back to back, which keeps its "
                      "tables, code and branch history warm. Taking turns (decode, classify, "
                      "decode, ...) puts both in the same state; floor / classify / ratio, ms: "
                      + "; ".join(f"{t['format']} {t['side']}: {t['floor_interleaved']:.2f} / "
                                  f"{t['classify_interleaved']:.2f} / "
                                  f"{t['ratio_interleaved']:.1f}x" for t in turns) + "."]
        real = bm.get("real_images")
        if real:
            cnn_real = all("cnn" in g for g in real.values())
            lines += ["", "On the labelled folder's own files (the synthetic drawings above have "
                      "flat fills, on which the face searches give up early), medians over "
                      "images, ms:", "",
                      "| source/label | images | long side | drawn faces found | floor | "
                      "classify | end-to-end / floor | face family |"
                      + (" CNN peer |" if cnn_real else ""),
                      "|---|---|---|---|---|---|---|---|" + ("---|" if cnn_real else "")]
            for name, g in real.items():
                lines.append(f"| {name} | {g['images']} | {g['long_side_median']:.0f} | "
                             f"{g['faces_found']} | {g['floor']:.2f} | {g['classify']:.1f} | "
                             f"{g['ratio_median']:.0f} | {g['family.face']:.2f} |"
                             + (f" {g['cnn']:.1f} |" if cnn_real else ""))
        tp = bm.get("throughput")
        if tp:
            def rate(j):
                t = tp[f"jobs_{j}"]
                return (f"-j {j}: {t['images_per_second']} images/s overall, "
                        f"{t['marginal_images_per_second']} images/s marginal")
            gain = (tp["jobs_2"]["marginal_images_per_second"]
                    / tp["jobs_1"]["marginal_images_per_second"])
            lines += ["", f"Throughput of `animefeat classify` on {tp['jobs_1']['images']} "
                      "JPEGs of 512 px (overall: process start and model loads included; "
                      f"marginal: after the fixed cost, measured on "
                      f"{tp['jobs_1'].get('fixed_images', 16)} images, median of "
                      f"{tp['jobs_1'].get('rounds', 1)} interleaved rounds: "
                      f"{tp['jobs_1']['fixed_seconds']} s at -j 1, "
                      f"{tp['jobs_2']['fixed_seconds']} s at -j 2): {rate(1)}; {rate(2)}; "
                      f"{gain:.2f}x from the second core."]
            if "dask_local_2" in tp:
                t = tp["dask_local_2"]
                lines += ["", "The same job on a Dask `LocalCluster` of two single-threaded "
                          f"workers (`--scheduler local -j 2`): {t['images_per_second']} "
                          f"images/s overall, {t['marginal_images_per_second']} images/s "
                          f"marginal, {t['fixed_seconds']} s fixed."]
        mem = bm.get("memory")
        if mem:
            lines += ["", f"A folder of {mem['images']:,} JPEGs at -j 2: {mem['seconds']:.0f} s "
                      f"({mem['images_per_second']} images/s), {mem['rows_written']:,} rows "
                      "written; resident memory of the main process and its workers once "
                      "started (past the first quarter of the run, all workers alive): "
                      f"{mem['rss_mib_steady']['min']} to {mem['rss_mib_steady']['max']} MiB."]
        lines += ["", "![benchmark](results/05_benchmark.png)", ""]
    lt = load("06_load_test")
    if lt:
        lines += ["### 06 load test (`python experiments/06_load_test.py`)", "",
                  f"{lt['clients']} clients, {lt['waitress_threads']} waitress threads, "
                  f"{lt['seconds']} s on 127.0.0.1: {lt['requests']} requests "
                  f"({lt['requests_per_second']}/s), latency p50 {lt['latency_ms']['p50']:.0f} ms, "
                  f"p95 {lt['latency_ms']['p95']:.0f} ms, p99 {lt['latency_ms']['p99']:.0f} ms; "
                  f"by status {lt['by_status']}; 5xx: {lt['server_5xx']}, dropped connections: "
                  f"{lt['dropped_connections']}, wrong answers: {lt['wrong_answers']}; server RSS "
                  f"peak {lt['server_rss_mib']['peak']:.0f} MiB (first quarter "
                  f"{lt['server_rss_mib']['first_quarter_mean']:.0f}, last quarter "
                  f"{lt['server_rss_mib']['last_quarter_mean']:.0f}).", ""]
    ins = load("07_instructions")
    if ins:
        counts = ins["instructions"]
        floor = counts["floor_cv2_imdecode"]
        lines += ["### 07 instructions (`python experiments/07_instructions.py`), 512-px JPEG",
                  "", "Counted by callgrind, per call (exact and repeatable, unlike times):", "",
                  "| stage | instructions (M) | / floor |", "|---|---|---|"]
        lines += [f"| {name} | {n / 1e6:.2f} | {n / floor:.2f} |" for name, n in counts.items()]
        lines += ["", f"Each family on its own working copy, so the families' sum "
                  f"({ins['families_sum'] / 1e6:.2f} M) counts the shared intermediates "
                  "more than once.", ""]
    return "\n".join(lines)


def _replace(path, start, end, body):
    text = path.read_text()
    block = f"{start}\n{body}\n{end}"
    path.write_text(re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text,
                           flags=re.S))
    print(f"updated {path}")


def main():
    _replace(HERE / "README.md", START, END, table())
    ev = load("01_evaluate")
    if ev:
        # The project README leads with the same leave-one-source-out table.
        _replace(HERE.parent / "README.md", "<!-- loso:start -->", "<!-- loso:end -->",
                 evaluation_table(ev))


if __name__ == "__main__":
    main()
