import numpy as np
import pytest

from animefeat.explain import describe, explain_vector


class Linear:
    """A known model: log-odds = 2 * x0 - 1 * x1 (x2 ignored)."""

    def predict_proba(self, X):
        z = 2 * X[:, 0] - X[:, 1]
        p = 1 / (1 + np.exp(-z))
        return np.column_stack([1 - p, p])


def test_contributions_are_log_odds_changes():
    out = explain_vector(Linear(), np.array([1.0, 2.0, 5.0]), np.zeros(3), ["a.x", "b.y", "c.z"])
    got = {c.feature: c.contribution for c in out}
    assert got == pytest.approx({"b.y": -2.0, "a.x": 2.0})  # c.z changed nothing: left out
    assert out[0].text.endswith("typical of anime") or out[0].text.endswith("typical of cartoons")


def test_sorted_by_size_and_cut_to_top():
    out = explain_vector(Linear(), np.array([3.0, 1.0, 0.0]), np.zeros(3), ["a", "b", "c"], top=1)
    assert [c.feature for c in out] == ["a"] and out[0].contribution == pytest.approx(6.0)


def test_words_for_a_known_feature():
    assert describe("lines.thickness_median", 3.14) == "outlines 3.1 px thick"
    assert describe("colour.colours_90", 12) == "12 colours cover 90% of the drawing"


def test_words_for_patterned_feature():
    assert describe("edges.orientation_45", 0.25) == "25% of edges run at 45 degrees"


def test_not_measurable():
    assert describe("face.eye_spacing", float("nan")) == "eye spacing not measurable"


def test_every_feature_has_words():
    import animefeat as af

    for name in af.feature_names():
        assert not describe(name, 0.5).startswith(name), name
