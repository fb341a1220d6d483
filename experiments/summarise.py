"""Write the results table of experiments/README.md from experiments/results/*.json.

    python experiments/summarise.py
"""

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def pct(x):
    return "–" if x is None else f"{100 * x:.1f}%"


def load(name):
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def table():
    lines = []
    ev = load("01_evaluate")
    if ev:
        lines += ["### 01 evaluation (`python experiments/01_evaluate.py`)", "",
                  "| source | CV accuracy | CV ROC AUC | CV Brier | CV ECE | source held out |",
                  "|---|---|---|---|---|---|"]
        for s, m in ev["cv"]["per_source"].items():
            lo = ev["leave_one_source_out"]["per_source"].get(s, {})
            lines.append(f"| {s} | {pct(m['accuracy'])} | {m['roc_auc']:.3f} | "
                         f"{m['brier']:.3f} | {m['ece']:.3f} | {pct(lo.get('accuracy'))} |")
        p = ev["cv"]["pooled"]
        held_out = pct(ev["leave_one_source_out"]["pooled"]["accuracy"])
        lines.append(f"| pooled | {pct(p['accuracy'])} | {p['roc_auc']:.3f} | {p['brier']:.3f} "
                     f"| {p['ece']:.3f} | {held_out} |")
        d = ev["drawing_check"]
        per = ", ".join(f"{k} {pct(v)}" for k, v in d["drawings_flagged_per_source"].items())
        lines += ["", f"Photo check (threshold {d['threshold']:.3f} on P(drawing), chosen on "
                  f"out-of-fold predictions): photos flagged {pct(d['photos_flagged'])}, "
                  f"drawings flagged {pct(d['drawings_flagged'])} ({per}).",
                  "", "![evaluation](results/01_evaluate.png)", ""]
    peer = load("03_cnn_peer")
    if peer and ev:
        lines += ["### 03 CNN peer (`python experiments/03_cnn_peer.py`)", "",
                  f"{peer['architecture']}, {peer['epochs']} epochs, {peer['augmentation']}; "
                  "same folds.", "",
                  "| source | animefeat CV | CNN CV | animefeat source held out | "
                  "CNN source held out |", "|---|---|---|---|---|"]
        for s in ev["cv"]["per_source"]:
            lines.append(
                f"| {s} | {pct(ev['cv']['per_source'][s]['accuracy'])} | "
                f"{pct(peer['cv']['per_source'][s]['accuracy'])} | "
                f"{pct(ev['leave_one_source_out']['per_source'][s]['accuracy'])} | "
                f"{pct(peer['leave_one_source_out']['per_source'][s]['accuracy'])} |")
        lat = peer["latency_ms_one_thread"]
        lines += ["", f"CPU latency per image, one thread, decode included, as measured in that "
                  f"run: animefeat {lat['animefeat']:.1f} ms (with its explanation), CNN "
                  f"{lat['cnn']:.1f} ms. The benchmark below has the current per-stage times.", ""]
    ab = load("02_ablation")
    if ab:
        sources = sorted(ab["families"]["all"]["cv"])
        head = " | ".join(f"{s} alone (CV) | {s} without | {s} perm. importance" for s in sources)
        lines += ["### 02 ablation (`python experiments/02_ablation.py`)", "",
                  f"| family | features | {head} |",
                  "|---|---|" + "---|" * (3 * len(sources))]
        for fam, row in ab["families"].items():
            if fam == "all":
                continue
            cells = []
            for s in sources:
                cells += [pct(row["only"]["cv"][s]["accuracy"]),
                          pct(row["without"]["cv"][s]["accuracy"]),
                          f"{100 * ab['permutation_importance'][fam][s]:+.1f} pts"]
            lines.append(f"| {fam} | {row['n_features']} | " + " | ".join(cells) + " |")
        allrow = " | ".join(f"{pct(ab['families']['all']['cv'][s]['accuracy'])} | | "
                            for s in sources)
        lines += [f"| all | | {allrow}|", "", "![ablation](results/02_ablation.png)", ""]
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
        lines += ["### 05 benchmark (`python experiments/05_benchmark.py`), ms per image, one core",
                  "", "| format | side | floor: cv2.imdecode | load_image (reduced) | features | "
                  "model + explanation | classify end to end | end-to-end / floor |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in bm["rows"]:
            feats = r["working_copy"] + sum(v for k, v in r.items() if k.startswith("family."))
            lines.append(f"| {r['format']} | {r['side']} | {r['floor_cv2_imdecode']:.2f} | "
                         f"{r['load_image_reduced']:.2f} | {feats:.1f} | "
                         f"{r['model_with_explanation']:.1f} | {r['classify_end_to_end']:.1f} | "
                         f"{r['ratio_end_to_end_over_floor']:.1f} |")
        tp = bm.get("throughput")
        if tp:
            lines += ["", "Throughput of `animefeat classify` on a folder of "
                      f"{tp['jobs_1']['images']} JPEGs of 512 px (process start and model load "
                      f"included): -j 1 {tp['jobs_1']['images_per_second']} images/s, -j 2 "
                      f"{tp['jobs_2']['images_per_second']} images/s."]
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
    return "\n".join(lines)


def main():
    readme = HERE / "README.md"
    text = readme.read_text()
    block = f"{START}\n{table()}\n{END}"
    text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    readme.write_text(text)
    print(f"updated {readme}")


if __name__ == "__main__":
    main()
