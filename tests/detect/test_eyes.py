import cv2
import numpy as np
import pytest
from synth import anime_face, blank, face

from animefeat.detect.eyes import FACE_SIDE, find_eyes, measure_eyes


def test_two_eyes_of_a_drawn_face_left_to_right():
    eyes = measure_eyes(face(eye_size=20, size=200))
    assert len(eyes) == 2 and eyes[0].box[0] < eyes[1].box[0]


@pytest.mark.parametrize("eye_size", [16, 24, 32])
def test_eye_height_is_the_drawn_eye_height(eye_size):
    # Eyes are discs of eye_size px in a 200-px face; measured on a FACE_SIDE copy.
    eyes = measure_eyes(face(eye_size=eye_size, size=200))
    expected = eye_size * FACE_SIDE / 200
    assert [e.box[3] for e in eyes] == pytest.approx([expected, expected], abs=2)


def test_spacing_is_the_drawn_spacing():
    # synth.face sets the eye centres size / 7 either side of the middle.
    eyes = measure_eyes(face(size=210))
    centres = [e.box[0] + e.box[2] / 2 for e in eyes]
    assert centres[1] - centres[0] == pytest.approx(2 * 30 * FACE_SIDE / 210, abs=1.5)


def test_highlights_are_seen_in_anime_eyes_only():
    assert all(e.highlight for e in measure_eyes(anime_face()))
    assert not any(e.highlight for e in measure_eyes(face()))


def test_no_eyes_in_a_blank_face():
    assert measure_eyes(blank(120, 120)) == []


def test_one_eye_is_no_pair():
    img = face(size=200)
    cv2.rectangle(img, (100, 60), (140, 110), (230, 190, 160), -1)  # paint out the right eye
    assert measure_eyes(img) == []


def test_find_eyes_maps_to_image_pixels():
    image = blank(300, 400)
    image[50:250, 100:300] = face(size=200)
    eyes = find_eyes(image, (100.0, 50.0, 200.0, 200.0))
    # Left eye: a 20-px disc centred at (100 - 28, 100 - 16) in the face, the face's
    # corner at (100, 50) in the image: (172, 134).
    x, y, w, h = eyes[0]
    assert (x + w / 2, y + h / 2) == pytest.approx((172, 134), abs=3)
    assert np.all(np.array(eyes) >= 0)


def test_two_dark_blobs_to_one_side_of_the_face_are_not_its_eyes():
    # A pair of eyes shifted a quarter of the face to the left: hair or background.
    img = blank(200, 200, (230, 190, 160))
    for cx in (20, 70):
        cv2.circle(img, (cx, 110), 10, (40, 30, 30), -1)
    assert measure_eyes(img) == []


def test_the_same_blobs_either_side_of_the_middle_are_its_eyes():
    img = blank(200, 200, (230, 190, 160))
    for cx in (75, 125):
        cv2.circle(img, (cx, 110), 10, (40, 30, 30), -1)
    assert len(measure_eyes(img)) == 2


def test_dark_blobs_at_the_top_of_the_face_box_are_hair_not_eyes():
    img = blank(200, 200, (230, 190, 160))
    for cx in (75, 125):
        cv2.circle(img, (cx, 45), 10, (40, 30, 30), -1)  # a fifth of the way down
    assert measure_eyes(img) == []


def test_a_pair_of_unlike_sizes_is_no_pair():
    # The right eye drawn with four times the left's area (e: the most allowed): an eye
    # beside a lock of hair, not two eyes.
    img = face(size=200)
    cv2.circle(img, (128, 83), 20, (40, 30, 30), -1)
    assert measure_eyes(img) == []


def test_a_pair_a_little_unlike_is_kept():
    img = face(size=200)
    cv2.circle(img, (128, 83), 13, (40, 30, 30), -1)  # 1.7 times the left eye's area
    assert len(measure_eyes(img)) == 2
