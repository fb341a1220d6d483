"""The model with a local head (format 3): save/load, the combined answer, its reasons and
the patch shares. Trained on synthetic drawings; scored on seeds it never saw."""

import copy

import pytest
from scipy.special import expit
from synth import anime, cartoon, encode

import animefeat as af
from animefeat.model import AnimefeatModel, load_model


@pytest.fixture(scope="module")
def model(local_model_path):
    return load_model(local_model_path)


def test_the_local_head_and_combiner_survive_save_and_load(model, local_model_path):
    assert model.local is not None and model.combiner is not None
    assert model.local_grid == {"step": 8, "sizes": (16, 32), "min_line_share": 0.03}
    card = model.card["hyperparameters"]
    assert card["local"]["n_components"] == 4
    assert set(card["combiner_weights"]) == {"structure", "local", "intercept"}


def test_a_card_from_before_the_line_filter_reads_every_textured_patch(model):
    # Cards written before min_line_share existed keep their patches: no line filter.
    old = copy.copy(model)
    old.card = copy.deepcopy(model.card)
    del old.card["hyperparameters"]["local"]["grid"]["min_line_share"]
    assert old.local_grid == {"step": 8, "sizes": (16, 32), "min_line_share": 0.0}


def test_the_answer_is_the_combiner_on_both_views(model):
    image = anime(seed=901)
    work = model.working_copy(encode(image))
    x = model.features(work)[None, :]
    d = model.patches(work).descriptors
    head, _ = model._boosters
    style, _ = model._columns
    w = model.combiner.coef_[0]
    expected = expit(w[0] * head.raw(x[:, style])[0]
                     + w[1] * model.local.decision_function([d])[0]
                     + model.combiner.intercept_[0])
    assert model.predict(work).probabilities["anime"] == pytest.approx(expected, rel=1e-12)


def test_unseen_synthetic_drawings_are_told_apart(model):
    images = [anime(seed=s) for s in range(900, 905)] + [cartoon(seed=s)
                                                          for s in range(900, 905)]
    labels = [p.label for p in af.classify_many([encode(i) for i in images], model=model)]
    assert labels == ["anime"] * 5 + ["cartoon"] * 5


def test_classify_many_gives_what_predict_gives(model):
    images = [encode(anime(seed=910)), encode(cartoon(seed=911))]
    many = af.classify_many(images, model=model, n_jobs=2)
    # The same computation in another process: equal up to the last bits of the sums
    # (a worker's BLAS may add in another order).
    for p, image in zip(many, images):
        alone = model.predict(image).probabilities
        assert p.probabilities.keys() == alone.keys()
        assert all(p.probabilities[k] == pytest.approx(alone[k], rel=1e-12, abs=1e-15)
                   for k in alone)


def test_the_local_patterns_are_a_reason_with_their_share(model):
    work = model.working_copy(encode(anime(seed=920)))
    pred = model.predict(work, explain=50)
    local = [c for c in pred.explanation if c.feature == "local.patterns"]
    assert len(local) == 1 and local[0].evidence == "patches"
    d = model.patches(work).descriptors
    odds = model.local.decision_function([d])[0]
    assert local[0].contribution == pytest.approx(model.combiner.coef_[0][1] * odds)
    assert local[0].value == pytest.approx(expit(odds))


def test_patch_shares_add_up_to_the_local_part_of_the_answer(model):
    # Exact: the shares sum to the combiner's weight times the local score without
    # its intercept.
    work = model.working_copy(encode(cartoon(seed=930)))
    patches = model.patches(work)
    shares = model.patch_shares(patches)
    assert shares.shape == (len(patches),)
    classify = model.local.named_steps["classify"]
    score = classify.decision_function(
        model.local.named_steps["encode"].transform([patches.descriptors]))[0]
    assert shares.sum() == pytest.approx(
        model.combiner.coef_[0][1] * (score - classify.intercept_[0]), rel=1e-9)


def test_vectors_without_descriptors_are_refused(model):
    x = model.features(encode(anime(seed=940)))[None, :]
    with pytest.raises(ValueError, match="local patterns"):
        model.predict_vectors(x)


def test_a_local_head_without_a_combiner_is_refused(model):
    with pytest.raises(ValueError, match="combiner"):
        AnimefeatModel(model.extractor, model.style, model.drawing, model.card,
                       local=model.local)


def test_the_card_reports_the_stack_held_out_by_source(model):
    block = model.card["metrics"]["stacked_leave_one_source_out"]
    assert set(block["per_source"]) == {"s0", "s1", "s2", "s3"}
    assert set(block["views"]) == {"structure", "local"}
    assert set(block["combiner_weights"]) == {"s0", "s1", "s2", "s3"}


def test_answers_take_their_verdict_level_from_the_card(model):
    level = model.card["verdict"]
    assert 0.65 <= level["sure_from"] <= 1.0 and level["accuracy"] == 0.9
    pred = model.predict(encode(anime(seed=970)))
    assert pred.sure_from == level["sure_from"]
