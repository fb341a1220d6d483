"""Recipe selection on held-out sources and its nested evaluation."""

import numpy as np
from tabular import _clean_style_data, _shortcut_data, _table

from animefeat.features import feature_names
from animefeat.training import candidate_recipes, nested_leave_one_source_out, select_recipe


def test_select_recipe_picks_the_candidate_right_on_sources_held_out():
    X, sources, labels = _clean_style_data()
    y = (labels == "anime").astype(int)
    # A booster whose leaves need more rows than there are cannot split: it answers
    # 0.5 everywhere, which is right on half of every balanced source. The other learns
    # the clean column and is right everywhere.
    candidates = candidate_recipes(families=[None], augment=[True],
                                   grid={"min_samples_leaf": [10_000, 5], "max_iter": [20]})
    best, results = select_recipe(_table(X, sources, labels), y, candidates=candidates,
                                  of=None, progress=False)
    scores = {r["params"]["min_samples_leaf"]: r["score"] for r in results}
    assert scores == {10_000: 0.5, 5: 1.0}
    assert best["params"]["min_samples_leaf"] == 5


def test_nested_selection_never_lets_the_scored_source_shape_a_choice():
    # "edges" holds a shortcut, right in s1-s3 and inverted in s4; "lines" the style,
    # right on 80% of every source. Chosen without s4, the shortcut wins (perfect on
    # s1-s3) and s4 is scored by it: 0% right. A selection that saw s4 would have chosen
    # the style (the shortcut's worst source is 0%) and flattered s4 with 80%.
    X, sources, labels = _shortcut_data(seed=4)
    y = (labels == "anime").astype(int)
    style = np.where(y == 1, 1.0, -1.0) * np.where(np.arange(len(y)) % 5 == 0, -1, 1)
    n_edges, n_lines = len(feature_names(["edges"])), len(feature_names(["lines"]))
    wide = np.c_[np.repeat(X[:, [1]], n_edges, axis=1), np.repeat(style[:, None], n_lines,
                                                                   axis=1)]
    table = _table(wide, sources, labels)
    candidates = candidate_recipes(families=[["lines"], ["edges"]], grid={"max_iter": [20]},
                                   augment=[True])
    proba, choices = nested_leave_one_source_out(table, y, candidates=candidates,
                                                 of=["edges", "lines"], inner_folds=None,
                                                 progress=False)
    assert choices["s4"]["families"] == ["edges"] and choices["s4"]["inner_score"] == 1.0
    assert ((proba[sources == "s4"] >= 0.5) == y[sources == "s4"]).mean() == 0.0
    assert all(choices[s]["families"] == ["lines"] for s in ("s1", "s2", "s3"))


def test_nested_selection_picks_by_inner_sources_and_reports_the_choice():
    X, sources, labels = _clean_style_data(seed=2)
    noise = np.random.default_rng(5).normal(size=(len(X), 1))
    y = (labels == "anime").astype(int)
    names = feature_names(["lines", "edges"])
    # "lines" columns hold the clean style, "edges" columns pure noise.
    n_lines = len(feature_names(["lines"]))
    wide = np.c_[np.repeat(noise, len(names) - n_lines, axis=1), np.repeat(X, n_lines, axis=1)]
    table = _table(wide, sources, labels)
    candidates = candidate_recipes(families=[["edges"], ["lines"]], grid={"max_iter": [20]},
                                   augment=[True])
    proba, choices = nested_leave_one_source_out(table, y, candidates=candidates,
                                                 of=["edges", "lines"], inner_folds=3,
                                                 progress=False)
    assert set(choices) == {"s1", "s2", "s3", "s4"}
    assert all(c["families"] == ["lines"] and c["inner_score"] == 1.0
               for c in choices.values())
    assert ((proba >= 0.5) == y).all()
