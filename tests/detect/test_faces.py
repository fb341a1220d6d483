import numpy as np
import pytest
from synth import anime_face, blank, encode, face, pasted

import animefeat as af
from animefeat.detect import Face, detect_faces
from animefeat.detect.train import iou


@pytest.mark.parametrize("drawing", [anime_face, face])
@pytest.mark.parametrize(("at", "side"), [((200, 100), 60), ((60, 150), 120), ((300, 20), 160)])
def test_a_pasted_face_is_found_where_it_was_pasted(drawing, at, side):
    faces = detect_faces(pasted(drawing(), at=at, side=side))
    assert faces, "no face found"
    assert iou(faces[0].box, (*at, side, side)) >= 0.4


def test_a_blank_image_has_no_face():
    assert detect_faces(blank(240, 320)) == []


def test_noise_has_no_face():
    noise = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    assert detect_faces(noise) == []


def test_boxes_are_in_the_input_images_pixels():
    image = pasted(anime_face(), at=(200, 100), side=80)
    double = np.repeat(np.repeat(image, 2, axis=0), 2, axis=1)
    small, large = detect_faces(image)[0], detect_faces(double)[0]
    np.testing.assert_allclose(np.array(large.box) / 2, small.box, atol=8)


def test_eyes_lie_inside_the_face_in_input_pixels():
    found = detect_faces(pasted(anime_face(), at=(150, 80), side=150))[0]
    x, y, w, h = found.box
    assert len(found.eyes) == 2
    for ex, ey, ew, eh in found.eyes:
        assert x <= ex and ex + ew <= x + w and y <= ey and ey + eh <= y + h
    assert found.eyes[0][0] < found.eyes[1][0]  # left to right


def test_score_is_a_probability():
    found = detect_faces(pasted(face(), at=(200, 100), side=100))
    assert all(0.0 <= f.score <= 1.0 for f in found) and isinstance(found[0], Face)


def test_any_loadable_source_is_accepted():
    data = encode(pasted(anime_face(), at=(200, 100), side=100))
    assert detect_faces(data)[0].box == detect_faces(af.load_image(data))[0].box


def test_bad_input_is_an_animefeat_error():
    with pytest.raises(af.AnimefeatError):
        detect_faces(b"not an image")


def test_to_dict_is_json_ready():
    f = Face(box=(1.04, 2.0, 30.0, 30.0), score=0.912345, eyes=[(5.0, 6.0, 4.0, 3.0)])
    assert f.to_dict() == {"box": [1.0, 2.0, 30.0, 30.0], "score": 0.9123,
                           "eyes": [[5.0, 6.0, 4.0, 3.0]]}


def test_detect_faces_is_public():
    assert af.detect_faces is detect_faces and "detect_faces" in af.__all__
