"""The drawing-or-photo check: held-out scores and thresholds chosen without the graded source."""

import numpy as np
import pytest
from tabular import Spy, _table

from animefeat.training import drawing_held_out, drawing_threshold, held_out_drawing_check


def test_drawing_held_out_never_scores_an_image_with_its_source_or_itself_in_training():
    sources = np.repeat(["s1", "s2", "s3", "photos-a", "photos-b"], 12)
    labels = np.where(np.char.startswith(sources, "photos"), "photo", "anime")
    y_drawing = (labels != "photo").astype(int)
    table = _table(np.arange(60, dtype=float)[:, None], sources, labels)
    Spy.log = []
    drawing_held_out(table, y_drawing, groups=np.arange(60), make=lambda _: Spy())
    assert Spy.log and {i for _, scored in Spy.log for i in scored} == set(range(60))
    for trained, scored in Spy.log:
        assert not trained & scored
        # Two photo sources: every source, photos included, is scored without itself.
        assert not {sources[i] for i in scored} & {sources[i] for i in trained}


def test_with_one_photo_source_its_photos_are_scored_by_cv_over_the_photos():
    sources = np.repeat(["s1", "s2", "s3", "photos"], 12)
    labels = np.where(sources == "photos", "photo", "anime")
    y_drawing = (labels != "photo").astype(int)
    table = _table(np.arange(48, dtype=float)[:, None], sources, labels)
    Spy.log = []
    _, protocol = drawing_held_out(table, y_drawing, groups=np.arange(48),
                                   make=lambda _: Spy())
    assert "5-fold CV over the photos" in protocol
    assert {i for _, scored in Spy.log for i in scored} == set(range(48))
    for trained, scored in Spy.log:
        assert not trained & scored


def test_held_out_thresholds_are_chosen_without_the_source_they_grade():
    # Three drawing sources of 100. s3's scores sit below the others': a threshold
    # chosen on all three (2% of s3 below it) would flag 2% of s3 by construction; chosen
    # without s3, at the 2% point of s1 and s2 (0.5101), it flags every s3 drawing under
    # it: 0.3 + k * 0.44 / 99 < 0.5101 for k = 0..47, 48 of 100.
    s12 = np.linspace(0.5, 1.0, 100)
    s3 = np.linspace(0.3, 0.74, 100)
    proba = np.r_[s12, s12, s3, [0.1, 0.2]]
    sources = np.repeat(["s1", "s2", "s3", "photos"], [100, 100, 100, 2])
    y_drawing = (sources != "photos").astype(int)
    report = held_out_drawing_check(y_drawing, proba, sources)
    assert report["threshold_per_source"]["s3"] == pytest.approx(s12[2])
    assert report["drawings_flagged_per_source"]["s3"] == pytest.approx(0.48)
    # s1 is graded at the threshold of s2 and s3: 2% of their 200 drawings pooled may
    # lie below it (4), which s3's low scores set.
    assert report["threshold_per_source"]["s1"] == pytest.approx(s3[4])
    assert report["photos_flagged"] == 1.0


def test_the_threshold_holds_two_percent_pooled_and_five_in_any_source():
    # 900 easy drawings in s1 (scores 0.5..1) and 100 hard ones in s2 (0..0.5). Pooled,
    # 2% of 1000 = 20 may be flagged; s2 alone allows 5 (5%). The threshold is the
    # lower: s2's 6th score, so 5 of s2's drawings and none of s1's are flagged.
    s1 = np.linspace(0.5, 1.0, 900)
    s2 = np.linspace(0.0, 0.5, 100, endpoint=False)
    proba = np.r_[s1, s2]
    sources = np.repeat(["s1", "s2"], [900, 100])
    y = np.ones(1000, int)
    t = drawing_threshold(y, proba, sources=sources)
    assert t == pytest.approx(s2[5])
    assert (proba[sources == "s2"] < t).sum() == 5 and (proba[sources == "s1"] < t).sum() == 0
    # Without sources only the pooled bound holds: 20 drawings below it.
    assert (proba < drawing_threshold(y, proba)).sum() == 20
