import re

import numpy as np
import pytest

import animefeat as af
from animefeat.explain import EVIDENCE, Contribution, contributions, describe, grouped
from animefeat.model import Prediction

NAMES = ["lines.share", "colour.flat_share", "edges.density"]


def test_contributions_keep_the_effects_that_moved_the_answer():
    out = contributions(np.array([2.0, -2.0, 0.0]), np.array([1.0, 2.0, 5.0]), NAMES, side=256)
    got = {c.feature: c.contribution for c in out}
    # edges.density changed nothing: left out.
    assert got == pytest.approx({"colour.flat_share": -2.0, "lines.share": 2.0})


def test_each_reason_says_its_side_and_evidence():
    out = {c.feature: c for c in contributions(np.array([2.0, -2.0, 0.0]),
                                               np.array([1.0, 2.0, 5.0]), NAMES, side=256)}
    assert (out["lines.share"].side, out["lines.share"].evidence) == ("anime", "lines")
    assert (out["colour.flat_share"].side, out["colour.flat_share"].evidence) == (
        "cartoon", "palette")


def test_sorted_by_size_and_cut_to_top():
    out = contributions(np.array([6.0, -1.0, 0.0]), np.array([3.0, 1.0, 0.0]), NAMES,
                        side=256, top=1)
    assert [c.feature for c in out] == ["lines.share"]
    assert out[0].contribution == pytest.approx(6.0)


def test_lengths_are_said_at_the_side_they_were_measured_at():
    assert "picture 128 px across" in describe("lines.thickness_median", 2.0, side=128)


def _reason(feature, contribution):
    return Contribution(feature, 0.5, contribution, feature,
                        side="anime" if contribution > 0 else "cartoon")


def test_grouped_puts_the_answers_side_first_strongest_first():
    explanation = [_reason("a", 3.0), _reason("b", -2.0), _reason("c", 1.0),
                   _reason("d", -0.5)]
    groups = grouped(explanation, "cartoon")
    assert [(side, [c.feature for c in items]) for side, items in groups] == [
        ("cartoon", ["b", "d"]), ("anime", ["a", "c"])]
    assert [side for side, _ in grouped(explanation[:1], "cartoon")] == ["anime"]


def test_words_for_a_known_feature():
    assert describe("lines.thickness_median", 3.14, side=256) == (
        "outlines about 3.1 px thick (picture 256 px across)")
    assert describe("colour.colours_90", 12, side=256) == "12 colours cover 90% of the picture"


def test_an_entropy_is_said_as_a_count():
    # 2 bits: as varied as 4 equally common colours.
    assert describe("colour.palette_entropy", 2.0, side=256) == (
        "colours used as evenly as 4 equally common colours")


def test_words_for_patterned_feature():
    assert describe("edges.orientation_45", 0.25, side=256) == "25% of edges run at 45 degrees"


def test_not_measurable():
    assert describe("face.eye_spacing", float("nan"), side=256) == "eye spacing not measurable"


def test_a_feature_without_words_is_an_error():
    with pytest.raises(KeyError, match="no words"):
        describe("lines.made_up", 0.5, side=256)


# A number a person can read has a unit: a percentage, pixels, degrees, or a count of
# things (colours, contours, regions, faces, eyes, stroke ends, highlights, patterns,
# directions, hues, neighbours, pixels). A bare decimal ("gradient strength 0.083") fails.
_UNIT = re.compile(r"(\d+(\.\d+)?)(%| px| degrees| colours| main directions| separate contours"
                   r"| colour regions| drawn faces| eyes| stroke ends| small bright highlights"
                   r"| equally common| flat colours| of their| neighbours| pixels)")


@pytest.mark.parametrize("name", af.feature_names())
@pytest.mark.parametrize("value", [0.0, 0.37, 2.5])
def test_every_feature_has_words_with_units(name, value):
    text = describe(name, value, side=256)
    assert name not in text
    numbers = re.findall(r"\d+(?:\.\d+)?", text)
    with_unit = _UNIT.findall(text)
    assert len(numbers) == len(with_unit), f"{name}: a number without a unit in {text!r}"


@pytest.mark.parametrize("name", af.feature_names())
def test_every_family_has_evidence_to_show(name):
    assert name.split(".", 1)[0] in EVIDENCE


def _prediction(p_anime, is_drawing=True):
    return Prediction(label="anime" if p_anime >= 0.5 else "cartoon",
                      probabilities={"anime": p_anime, "cartoon": 1 - p_anime},
                      is_drawing=is_drawing, drawing_probability=0.9 if is_drawing else 0.1)


@pytest.mark.parametrize(("p", "confident", "verdict"), [
    (0.9, True, "Anime"), (0.2, True, "Cartoon"),
    (0.6, False, "Not sure: a little more like anime"),
    (0.4, False, "Not sure: a little more like a cartoon"),
    (0.51, False, "Not sure: as much like anime as like a cartoon"),
])
def test_verdict_says_how_sure(p, confident, verdict):
    pred = _prediction(p)
    assert pred.confident is confident and pred.verdict == verdict
    assert pred.to_dict()["confident"] is confident


def test_a_photo_gets_no_verdict():
    pred = _prediction(0.95, is_drawing=False)
    assert not pred.confident
    assert pred.verdict == "Photo"
    assert pred.to_dict()["verdict"] == "Photo" and pred.to_dict()["is_drawing"] is False


def test_the_patch_map_puts_each_share_around_its_patch_and_keeps_the_total():
    from animefeat.explain import patch_map

    heat = patch_map([2.0, -1.0], [(20, 30), (80, 60)], [16.0, 32.0], (100, 120))
    assert heat.shape == (100, 120)
    assert heat.sum() == pytest.approx(1.0, abs=1e-9)
    assert np.unravel_index(heat.argmax(), heat.shape) == (30, 20)  # (row, column)
    assert np.unravel_index(heat.argmin(), heat.shape) == (60, 80)
    # The small patch's share stays within about its own window.
    assert heat[30, 20 + 16] < 0.05 * heat[30, 20]


def test_the_patch_map_of_no_patches_is_zero():
    from animefeat.explain import patch_map

    assert not patch_map([], np.zeros((0, 2)), [], (10, 12)).any()


@pytest.mark.parametrize(("p", "sure_from", "verdict"), [
    (0.95, 0.9, "Anime"),
    (0.80, 0.9, "Probably anime (80%)"),
    (0.34, 0.9, "Probably cartoon (66%)"),
    (0.60, 0.9, "Not sure: a little more like anime"),
    (0.70, 0.66, "Anime"),
])
def test_the_wording_follows_the_confidence_the_card_trusts(p, sure_from, verdict):
    pred = _prediction(p)
    pred = type(pred)(**{**pred.__dict__, "sure_from": sure_from})
    assert pred.verdict == verdict
    assert pred.confident is (verdict in ("Anime", "Cartoon"))


def test_a_reason_says_where_its_value_sits_against_each_style():
    from animefeat.explain import contributions

    ranges = {"lines.share": {"anime": [0.05, 0.15], "cartoon": [0.25, 0.40]}}
    [c] = contributions([-1.0], [0.30], ["lines.share"], side=256, yardsticks=ranges)
    assert c.text == ("outlines cover 30% of the picture: anime art here is usually "
                      "5%-15%, cartoons 25%-40%")


def test_a_value_where_both_styles_usually_sit_is_no_reason():
    from animefeat.explain import contributions

    ranges = {"lines.share": {"anime": [0.05, 0.30], "cartoon": [0.20, 0.40]},
              "lines.darkness": {"anime": [0.2, 0.4], "cartoon": [0.7, 0.9]}}
    reasons = contributions([-2.0, -1.0], [0.25, 0.8], ["lines.share", "lines.darkness"],
                            side=256, yardsticks=ranges)
    assert [c.feature for c in reasons] == ["lines.darkness"]


def test_a_reason_that_does_not_survive_a_re_encode_is_dropped():
    # lines.share pushed +2 on the picture and -1 on its re-encoded copy: no reason;
    # colour.flat_share kept 80% of its push: it stands.
    from animefeat.explain import steady_effects

    effect, again = np.array([2.0, -1.0, 0.0]), np.array([-1.0, -0.8, 0.0])
    steady = steady_effects(effect, again)
    out = contributions(effect, np.array([1.0, 2.0, 5.0]), NAMES, side=256, steady=steady)
    assert [c.feature for c in out] == ["colour.flat_share"]


@pytest.mark.parametrize(("effect", "again", "steady"), [
    (2.0, 1.0, True),     # half of the push, same way: the bound itself
    (2.0, 0.9, False),    # less than half
    (-2.0, -3.0, True),   # stronger on the copy
    (1.0, -1.0, False),   # the other way
])
def test_steady_means_the_same_way_with_half_the_push(effect, again, steady):
    from animefeat.explain import steady_effects

    assert bool(steady_effects(np.array([effect]), np.array([again]))[0]) is steady


def test_no_reason_from_the_line_mask_where_the_lines_are_not_outlines():
    # Two pictures: lines that bound flat paint (share 0.8) and hair and shading
    # strands (0.1). The line mask's reasons go on the second only; lines.black_share
    # (near-black pixels, not the mask) and the other families stay.
    from animefeat.explain import outlined_effects

    names = ["lines.share", "lines.black_share", "edges.density", "shading.outline_value"]
    allowed = outlined_effects(names, np.array([0.8, 0.1]))
    assert allowed.tolist() == [[True, True, True, True], [False, True, True, False]]
    out = contributions(np.array([3.0, 2.0, 1.0, 0.5]), np.array([0.3, 0.1, 0.2, 0.4]), names,
                        side=256, steady=allowed[1])
    assert [c.feature for c in out] == ["lines.black_share", "edges.density"]


def test_a_picture_without_lines_gives_no_line_mask_reason():
    from animefeat.explain import outlined_effects

    assert outlined_effects(["lines.share"], np.array([np.nan])).tolist() == [[False]]
