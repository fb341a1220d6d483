import numpy as np
import pytest
from synth import blank

from animefeat.detect.train import face_crop, held_out, iou, match, paste_faces


def test_iou_of_known_boxes():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0


def test_match_counts_hits_and_false_faces():
    truth = [(0, 0, 10, 10), (50, 50, 20, 20)]
    found = [(1, 1, 10, 10), (0, 0, 10, 10), (100, 100, 5, 5)]
    # One hit on the first face (its duplicate is false), the far box false, one miss.
    assert match(found, truth) == (1, 2)


def test_pasted_faces_lie_where_reported():
    rng = np.random.default_rng(0)
    red = np.zeros((50, 50, 3), np.uint8)
    red[:] = (255, 0, 0)
    image, boxes = paste_faces(blank(300, 400), [red, red, red], rng, sizes=(40, 120))
    assert len(boxes) == 3
    for x, y, w, h in boxes:
        assert 40 <= w <= 120 and w == h
        assert (image[y:y + h, x:x + w] == (255, 0, 0)).all()
    assert all(iou(a, b) == 0 for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_held_out_is_a_fixed_fifth():
    names = [f"{i:016x}.jpg" for i in range(5000)]
    chosen = [held_out(n) for n in names]
    assert 0.17 < np.mean(chosen) < 0.23
    assert chosen == [held_out(n) for n in names]


def test_cartoon_avatar_is_cut_to_the_square_around_its_ink():
    avatar = blank(200, 200)
    avatar[40:160, 70:130] = (200, 120, 80)  # 120 tall, 60 wide
    crop = face_crop(avatar, "cartoon")
    assert crop.shape == (120, 120, 3)
    assert (crop[:, :30] == 255).all() and (crop[:, 30:90] == (200, 120, 80)).all()


def test_anime_crop_keeps_its_centre_square():
    crop = face_crop(blank(80, 100), "anime")
    assert crop.shape == (80, 80, 3)
