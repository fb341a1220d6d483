"""07: instructions per stage, counted by valgrind's callgrind, against the decode floor.

Wall-clock times on this machine drift by about ±30% within minutes (experiments/05),
so a change of a few percent is lost in them. Instruction counts are exact and repeat
to the instruction: they say how much work each stage does, though not how fast the
processor does it (a stage that misses the caches costs more time per instruction).

For the 512-px JPEG drawing of experiments/05 (``_common.drawing``), this counts, per
call averaged over ``--repeats`` calls after a warm-up: ``cv2.imdecode`` of the bytes (the floor),
``load_for_features``, the working copy, each feature family on a working copy with an
empty cache, the model with its explanation, and ``classify`` end to end.

    python experiments/07_instructions.py [--repeats 20]

It starts itself again under ``valgrind --tool=callgrind`` (about four minutes here: valgrind
runs Python some fifty times slower), which must be on the PATH.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from _common import RESULTS, drawing, encode, write_json

_CHILD = "ANIMEFEAT_CALLGRIND_CHILD"


def main():
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args()
    if os.environ.get(_CHILD):
        run_stages(args.repeats)
        return
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        sys.exit("07 needs valgrind (apt-get install valgrind)")
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        out_file = Path(tmp) / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                        f"--callgrind-out-file={out_file}", sys.executable,
                        str(Path(__file__).resolve()), "--repeats", str(args.repeats)],
                       env={**os.environ, _CHILD: "1"}, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        counts = read_dumps(Path(tmp))
    # Each stage's dump also holds the dump command's own start-up: the empty stage's count.
    empty = counts.pop("empty")
    per_call = {name: (n - empty) / args.repeats for name, n in counts.items()}
    floor = per_call["floor_cv2_imdecode"]
    families = sum(v for k, v in per_call.items() if k.startswith("family."))
    for name, n in per_call.items():
        print(f"{name:28s} {n / 1e6:7.3f} M instructions  {n / floor:5.2f}x the floor")
    write_json(args.out, "07_instructions", {
        "unit": "instructions per call (callgrind), 512-px JPEG drawing of experiments/05",
        "repeats": args.repeats, "instructions": per_call,
        "ratio_classify_over_floor": per_call["classify"] / floor,
        "families_sum": families}, started)


def run_stages(repeats):
    """Under callgrind: each stage ``repeats`` times, between two dumps of the counts."""
    import cv2
    import numpy as np

    import animefeat as af
    from animefeat.features import FAMILIES
    from animefeat.preprocess import load_for_features, working_copy

    cv2.setNumThreads(1)
    data = encode(drawing(512), "JPEG")
    encoded = np.frombuffer(data, np.uint8)
    model = af.load_model()
    model.warm_up()
    rgb = load_for_features(data, side=model.side)
    work = working_copy(rgb, side=model.side)
    x = af.extract_features(work, families=model.families)
    for _ in range(3):
        model.predict(data)
    pid = str(os.getpid())

    def control(*flags):
        subprocess.run(["callgrind_control", *flags, pid], check=True, capture_output=True)

    def stage(name, fn, make=lambda: None):
        items = [make() for _ in range(repeats)]  # prepared before the counting starts
        control("-d", f"before:{name}")
        for item in items:
            fn(item)
        control("-d", f"stage:{name}")

    control("-i", "on")
    stage("empty", lambda _: None)
    stage("floor_cv2_imdecode", lambda _: cv2.imdecode(encoded, cv2.IMREAD_COLOR))
    stage("load_for_features", lambda _: load_for_features(data, side=model.side))
    stage("working_copy", lambda _: working_copy(rgb, side=model.side))
    for family in model.families or FAMILIES:
        stage(f"family.{family}", FAMILIES[family][0], lambda: replace(work, cache={}))
    local = None
    if model.local is not None:
        stage("local.patches", lambda w: model.patches(w), lambda: replace(work, cache={}))
        local = [model.patches(work).descriptors]
        stage("local.encode_and_score", lambda _: model.local.decision_function(local))
    stage("model_with_explanation",
          lambda _: model.predict_vectors(x[None], explain=5, descriptors=local))
    stage("classify", lambda _: model.predict(data))


def read_dumps(folder):
    """``{stage: instructions}`` from the dump files that end a stage, in stage order."""
    counts = {}
    paths = sorted(folder.glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
    for path in paths:
        text = path.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: dump stage:(\S+)", text, re.MULTILINE)
        total = re.search(r"^summary: (\d+)", text, re.MULTILINE)
        if trigger and total:
            counts[trigger.group(1)] = int(total.group(1))
    return counts


if __name__ == "__main__":
    main()
