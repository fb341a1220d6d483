import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from synth import anime, cartoon, encode, photo

import animefeat as af
from animefeat.model import DEFAULT_MODEL, TRUSTED_TYPES, card_path


@pytest.fixture(scope="module")
def tiny(tiny_model_path):
    return af.load_model(tiny_model_path)


def test_pipeline_learns_the_synthetic_styles(tiny):
    preds = [tiny.predict(img) for img in (anime(seed=100), cartoon(seed=100))]
    assert [p.label for p in preds] == ["anime", "cartoon"]


def test_prediction_contents(tiny):
    pred = af.classify(cartoon(seed=101), model=tiny)
    assert pred.label in ("anime", "cartoon")
    assert pred.probabilities["anime"] + pred.probabilities["cartoon"] == pytest.approx(1.0)
    assert 0 <= pred.drawing_probability <= 1
    assert pred.model == {"name": "tiny", "version": "0"}
    assert 1 <= len(pred.explanation) <= 5


def test_prediction_serialises_to_json(tiny):
    d = af.classify(cartoon(seed=101), model=tiny).to_dict()
    again = json.loads(json.dumps(d))
    assert set(again) == {"label", "probabilities", "confident", "verdict", "is_drawing",
                          "drawing_probability", "explanation", "reasons", "model"}
    assert set(again["explanation"][0]) == {"feature", "value", "contribution", "text",
                                            "side", "evidence"}


def test_photo_is_flagged_as_not_a_drawing(tiny):
    assert not af.classify(photo(seed=103), model=tiny).is_drawing


def test_classify_many_matches_classify(tiny):
    images = [anime(seed=104), cartoon(seed=105)]
    many = af.classify_many(images, model=tiny, n_jobs=2)
    single = [af.classify(im, model=tiny) for im in images]
    assert [p.probabilities for p in many] == [p.probabilities for p in single]


def test_classify_many_returns_errors_in_place(tiny):
    out = af.classify_many([b"junk", cartoon(seed=106)], model=tiny, on_error="return")
    assert isinstance(out[0], af.ImageDecodeError) and isinstance(out[1], af.Prediction)


def test_the_drawing_check_reads_no_detector_trained_on_evaluation_sources(tiny):
    from animefeat.training import DETECTOR_FAMILIES

    assert not set(DETECTOR_FAMILIES) & set(tiny.drawing_families)


def test_classify_accepts_a_path_to_a_model(tiny_model_path):
    assert af.classify(encode(cartoon(seed=107)), model=tiny_model_path).label == "cartoon"


def test_save_load_round_trip_predicts_identically(tiny, tmp_path):
    path = tiny.save(tmp_path / "copy.skops")
    again = af.model.AnimefeatModel.load(path)
    x = tiny.features(anime(seed=108))[None, :]
    assert again.predict_vectors(x)[0].probabilities == tiny.predict_vectors(x)[0].probabilities


def test_card_records_versions_names_and_data(tiny_model_path):
    card = json.loads(card_path(tiny_model_path).read_text())
    assert card["feature_names"] == af.feature_names()
    assert {"python", "numpy", "scikit-learn", "skops"} <= set(card["versions"])
    assert card["data"]["counts"] == {"default": {"anime": 12, "cartoon": 12, "photo": 12}}
    assert "cv" in card["metrics"]


def _copy(src, dst_dir):
    dst = dst_dir / src.name
    shutil.copy(src, dst)
    shutil.copy(card_path(src), card_path(dst))
    return dst


def test_tampered_file_is_refused(tiny_model_path, tmp_path):
    path = _copy(tiny_model_path, tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(af.ModelError, match="tampered"):
        af.model.AnimefeatModel.load(path)


def test_missing_card_is_refused(tiny_model_path, tmp_path):
    path = _copy(tiny_model_path, tmp_path)
    card_path(path).unlink()
    with pytest.raises(af.ModelError, match="card"):
        af.model.AnimefeatModel.load(path)


def test_other_feature_names_are_refused(tiny_model_path, tmp_path):
    path = _copy(tiny_model_path, tmp_path)
    card = json.loads(card_path(path).read_text())
    card["feature_names"] = card["feature_names"][:-1]
    card_path(path).write_text(json.dumps(card))
    with pytest.raises(af.ModelError, match="other features"):
        af.model.AnimefeatModel.load(path)


def test_other_sklearn_version_is_refused(tiny_model_path, tmp_path):
    path = _copy(tiny_model_path, tmp_path)
    card = json.loads(card_path(path).read_text())
    card["versions"]["scikit-learn"] = "0.1.0"
    card_path(path).write_text(json.dumps(card))
    with pytest.raises(af.ModelError, match="scikit-learn"):
        af.model.AnimefeatModel.load(path)


def test_untrusted_types_are_refused_before_loading(tmp_path):
    # A skops file holding a function from os: loading it with our trusted list must
    # refuse, and the function must never run.
    import hashlib
    import os

    import skops.io as sio

    path = tmp_path / "evil.skops"
    sio.dump({"format": 1, "payload": os.system}, path)
    card = {"file": {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
            "features_version": af.model.FEATURES_VERSION, "feature_names": af.feature_names(),
            "hyperparameters": {"families": None},
            "versions": af.model.environment()}
    card_path(path).write_text(json.dumps(card))
    with pytest.raises(af.ModelError, match="not trusted"):
        af.model.AnimefeatModel.load(path)


def test_trusted_list_is_explicit():
    assert all("." in t for t in TRUSTED_TYPES)
    assert not any(t.startswith(("builtins.", "os.", "posix.")) for t in TRUSTED_TYPES)


def test_missing_file():
    with pytest.raises(af.ModelError, match="no model file"):
        af.load_model("/nonexistent/model.skops")


@pytest.fixture(scope="module")
def shipped():
    if not DEFAULT_MODEL.is_file():
        pytest.skip("the shipped model is not built")
    return af.load_model()


def _split_rows(head, n_features):
    """Rows placed exactly on the split thresholds of a fitted booster, and rows of NaN:
    the values where ``<=`` and ``<``, or the missing-value branch, part ways."""
    thresholds = {f: [] for f in range(n_features)}
    for predictor in head.estimator_._predictors:
        nodes = predictor[0].nodes
        splits = nodes[~nodes["is_leaf"].astype(bool)]
        for feature, threshold in zip(splits["feature_idx"], splits["num_threshold"]):
            thresholds[int(feature)].append(float(threshold))
    rng = np.random.default_rng(0)
    X = np.full((200, n_features), np.nan)
    for f, own in thresholds.items():
        if own:
            # Each feature on one of its own thresholds; a quarter of the rows missing.
            X[:, f] = rng.choice(own, size=len(X))
            X[rng.random(len(X)) < 0.25, f] = np.nan
    return X


def test_shipped_model_walks_its_trees_as_scikit_learn(shipped, shared_data):
    from animefeat.data import read_dataset

    data = read_dataset(shared_data)
    # Real rows (the equality of two walks of the same trees, not an accuracy), then rows
    # on the split thresholds and with missing values.
    picks = [data.paths[i] for i in range(0, len(data), len(data) // 12)][:12]
    real = np.vstack([shipped.features(p) for p in picks])
    style, drawn = shipped._columns
    flat_style, flat_drawing = shipped._boosters
    for head, flat, columns in ((shipped.style, flat_style, style),
                                (shipped.drawing, flat_drawing, drawn)):
        X = np.vstack([real[:, columns], _split_rows(head, len(columns))])
        np.testing.assert_allclose(flat.predict_proba(X), head.predict_proba(X)[:, 1],
                                   rtol=0, atol=1e-12)


def test_shipped_model_reads_nothing_learnt_from_evaluation_sources(shipped):
    from animefeat.training import DETECTOR_FAMILIES

    assert not set(DETECTOR_FAMILIES) & set(shipped.families)


def test_shipped_photo_check_reads_the_training_default(shipped):
    # The rebuild command in models/README.md passes no --drawing-families.
    from animefeat.training import DRAWING_FAMILIES

    assert shipped.drawing_families == DRAWING_FAMILIES


def test_shipped_card_reports_the_honest_protocol(shipped):
    metrics = shipped.card["metrics"]
    nested = metrics["nested_leave_one_source_out"]
    # Every source left out got a recipe chosen without it.
    assert set(nested["choices"]) == set(metrics["leave_one_source_out"]["per_source"])
    check = metrics["drawing_check"]
    assert set(check["threshold_per_source"]) >= set(check["drawings_flagged_per_source"])


def test_flat_boosters_give_scikit_learn_answers(tiny):
    x = tiny.features(anime(seed=120))[None, :]
    from animefeat._trees import FlatBooster

    flat_head, flat_drawing = tiny._boosters
    assert isinstance(flat_head, FlatBooster) and isinstance(flat_drawing, FlatBooster)
    style, drawn = tiny._columns
    assert flat_head.predict_proba(x[:, style])[0] == pytest.approx(
        tiny.style.predict_proba(x[:, style])[0, 1], abs=1e-12)
    assert flat_drawing.predict_proba(x[:, drawn])[0] == pytest.approx(
        tiny.drawing.predict_proba(x[:, drawn])[0, 1], abs=1e-12)


def test_a_model_whose_heads_cannot_be_walked_is_refused(tiny):
    from sklearn.linear_model import LogisticRegression

    from animefeat.model import AnimefeatModel

    x = tiny.features(cartoon(seed=121))[None, :]
    style, _ = tiny._columns
    other = LogisticRegression().fit(np.nan_to_num(np.vstack([x[:, style]] * 2)), [0, 1])
    odd = AnimefeatModel(tiny.extractor, other, tiny.drawing, tiny.card,
                         drawing_threshold=tiny.drawing_threshold)
    with pytest.raises(af.ModelError, match="not calibrated gradient boosters"):
        odd.predict_vectors(x)


def test_warm_up_compiles_every_kernel(tiny_model_path):
    # In a fresh process: other tests must not have compiled the kernels already.
    script = f"""
import importlib, pkgutil
from numba.core.dispatcher import Dispatcher
import animefeat, animefeat.features
model = animefeat.load_model({str(tiny_model_path)!r})
model.warm_up()
names = [m.name for m in pkgutil.walk_packages(animefeat.__path__, "animefeat.")
         if m.name != "animefeat.__main__"]
kernels = [(n, k) for n in names for k, v in vars(importlib.import_module(n)).items()
           if isinstance(v, Dispatcher)]
kernels = {{f"{{n}}.{{k}}": getattr(importlib.import_module(n), k) for n, k in kernels}}
# Helpers called only from other kernels are compiled into them, not on their own.
helpers = {{name for name in kernels for other in kernels.values()
           if name.rsplit(".", 1)[1] in other.py_func.__code__.co_names}}
idle = [name for name, k in kernels.items() if name not in helpers and not k.signatures]
print(len(kernels), idle)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.split(maxsplit=1)
    assert int(out[0]) >= 8 and out[1].strip() == "[]"


@pytest.fixture(scope="module")
def split_model(tiny_folder):
    """A tiny model whose heads read different families, at its own working side."""
    from animefeat.training import train

    return train(tiny_folder, name="split", version="0", families=["lines"],
                 drawing_families=["colour", "texture"], side=96, search=False,
                 augment=False, evaluate=False, progress=False)


def test_heads_read_their_own_families(split_model):
    assert split_model.families == ["lines", "colour", "texture"]  # registry order
    assert split_model.style_families == ["lines"]
    assert split_model.feature_names == af.feature_names(["lines", "colour", "texture"])
    # The explanation speaks of the style head's features only.
    pred = split_model.predict(cartoon(seed=130))
    assert all(c.feature.startswith("lines.") for c in pred.explanation)


def test_model_measures_at_its_own_side(split_model):
    image = anime(seed=131, size=300)
    expected = af.extract_features(af.load_image(encode(image)), families=split_model.families,
                                   side=96)
    assert split_model.features(encode(image)) == pytest.approx(expected, nan_ok=True)
    assert split_model.side == 96 and split_model.card["hyperparameters"]["working_side"] == 96


def test_split_model_round_trips_through_its_file(split_model, tmp_path):
    path = split_model.save(tmp_path / "split.skops")
    again = af.load_model(path)
    assert again.families == split_model.families and again.side == 96
    x = split_model.features(cartoon(seed=132))[None, :]
    assert (again.predict_vectors(x)[0].probabilities
            == split_model.predict_vectors(x)[0].probabilities)


def test_lengths_are_said_in_the_uploaded_pictures_pixels(tiny):
    # The same drawing at 160 px and at 640 px (4x): a length reason reads 4x longer on
    # the larger upload, with no "(picture 256 px across)" working-copy aside.
    from synth import cartoon, encode

    from animefeat.model import length_scale

    small = cartoon(seed=1040)
    large = np.repeat(np.repeat(small, 4, axis=0), 4, axis=1)
    scales = []
    for image in (small, large):
        work = tiny.working_copy(encode(image))
        scales.append(length_scale(work, image.shape[1::-1]))
    assert scales[1] == pytest.approx(4 * scales[0], rel=0.02)
    names = ["lines.thickness_median"]
    from animefeat.explain import contributions

    [c] = contributions([1.0], [2.0], names, side=256, length_scale=scales[1])
    assert c.text == f"outlines about {2.0 * scales[1]:.1f} px thick"
    [c] = contributions([1.0], [2.0], names, side=256)
    assert c.text == "outlines about 2.0 px thick (picture 256 px across)"


def _style_row(model, image):
    style, _ = model._columns
    return model.features(model.working_copy(encode(image)))[style]


def test_every_reason_is_steady_against_its_own_measurement(tiny):
    x = tiny.features(tiny.working_copy(encode(anime(seed=120))))[None, :]
    style, _ = tiny._columns
    plain = tiny.predict_vectors(x)[0].explanation
    checked = tiny.predict_vectors(x, recheck=x[:, style])[0].explanation
    assert [c.feature for c in checked] == [c.feature for c in plain]


def test_reasons_that_a_re_measure_reverses_are_dropped(tiny):
    # The "re-encoded copy" measures as a cartoon: the reasons it reverses go, the
    # others stay in their order.
    x = tiny.features(tiny.working_copy(encode(anime(seed=121))))[None, :]
    plain = [c.feature for c in tiny.predict_vectors(x, explain=20)[0].explanation]
    other = _style_row(tiny, cartoon(seed=121))[None, :]
    checked = [c.feature for c in tiny.predict_vectors(x, explain=20,
                                                       recheck=other)[0].explanation]
    assert len(checked) < len(plain)
    assert checked == [f for f in plain if f in checked]


def test_no_line_mask_reason_where_the_lines_are_not_outlines(shipped):
    # The same row, its lines once outlines of flat paint and once strands on shaded
    # paint (outline share 0.05): the second keeps every reason but those of the mask.
    # (The shipped model: its head reads the lines, the tiny one's only edges.)
    from animefeat.explain import FROM_LINE_MASK

    work = shipped.working_copy(encode(cartoon(seed=124)))
    x, patches = shipped.features(work)[None, :], [shipped.patches(work).descriptors]

    def reasons(share):
        return [c.feature for c in shipped.predict_vectors(
            x, descriptors=patches, explain=40, outlines=[share])[0].explanation]

    outlined, strands = reasons(0.9), reasons(0.05)
    assert any(f in FROM_LINE_MASK for f in outlined)
    assert strands == [f for f in outlined if f not in FROM_LINE_MASK]


def test_classify_many_gives_the_reasons_classify_gives(tiny):
    images = [encode(anime(seed=122)), encode(cartoon(seed=123))]
    many = af.classify_many(images, model=tiny)
    single = [af.classify(im, model=tiny) for im in images]
    assert ([[c.text for c in p.explanation] for p in many]
            == [[c.text for c in p.explanation] for p in single])
