import numpy as np
from synth import anime_face, blank, pasted

from animefeat.detect.eyes import FACE_SIDE, Eye
from animefeat.features import face as face_family


def feats(image):
    return dict(zip(face_family.NAMES, face_family.face_features(image)))


def test_no_face_in_blank_image():
    f = feats(blank())
    assert f["found"] == 0 and f["count"] == 0 and f["eyes_found"] == 0
    assert np.isnan(f["eye_height_ratio"]) and np.isnan(f["eye_highlight"])


def test_vector_length_without_face():
    assert face_family.face_features(blank()).shape == (len(face_family.NAMES),)


def test_a_drawn_face_is_found_with_its_eyes():
    f = feats(pasted(anime_face(), at=(150, 80), side=150))
    assert f["found"] == 1 and f["count"] >= 1 and f["eyes_found"] == 2
    assert f["score"] > 0.5 and f["eye_highlight"] == 1.0


def test_large_eyes_measure_larger_than_small_ones():
    small = feats(pasted(anime_face(eye=0.10), at=(150, 80), side=150))
    large = feats(pasted(anime_face(eye=0.20), at=(150, 80), side=150))
    assert large["eye_height_ratio"] > 1.5 * small["eye_height_ratio"]


def test_proportions_are_relative_to_the_face(monkeypatch):
    # Detection and eye finding are tested in tests/detect; here the arithmetic. The
    # face box (40 x 40 at (10, 20)) is cut from the working copy and measured at
    # FACE_SIDE: eyes 10 x 8 with centres 30 px apart at height 40, one highlight.
    image = blank(128, 128)
    monkeypatch.setattr(face_family, "drawn_faces",
                        lambda work: (np.array([[10.0, 20.0, 40.0, 40.0]]), np.array([0.8])))
    eyes = [Eye(box=(20, 36, 10, 8), area=60, highlight=True),
            Eye(box=(50, 36, 10, 8), area=70, highlight=False)]
    monkeypatch.setattr(face_family, "measure_eyes", lambda crop: eyes)
    f = feats(image)
    side = FACE_SIDE
    assert f["found"] == 1 and f["count"] == 1 and f["score"] == 0.8
    assert f["area_share"] == 1600 / 128 ** 2
    assert f["eye_height_ratio"] == 8 / side and f["eye_width_ratio"] == 10 / side
    assert f["eye_spacing"] == 30 / side and f["eye_area_share"] == 130 / side ** 2
    assert f["eye_y"] == 40 / side and f["eye_highlight"] == 0.5


def test_lbp_face_cascade_loads_from_scikit_image():
    # scikit-image's copy misspells the tag that holds the LBP parameters; read as is,
    # OpenCV's classifier comes out empty.
    cascade = face_family._lbp_face_cascade()
    assert not cascade.empty() and cascade.getOriginalWindowSize() == (24, 24)


def test_human_face_cascade_finds_the_face_in_a_photograph():
    # scikit-image's astronaut portrait (Eileen Collins), cut around her head: her face
    # spans about x 170-270, y 60-180 of the full picture, nothing else is a face.
    from skimage import data

    from animefeat.preprocess import as_working_copy

    crop = data.astronaut()[20:240, 140:360]
    work = as_working_copy(crop)
    box = face_family.detect_face(work)[0]
    assert box is not None
    x, y, w, h = (v / work.scale for v in box)
    centre = (140 + x + w / 2, 20 + y + h / 2)
    assert 170 <= centre[0] <= 270 and 60 <= centre[1] <= 180
    assert feats(crop)["photo_face"] == 1.0


def test_human_face_cascade_does_not_take_a_drawn_face_for_a_person():
    assert feats(pasted(anime_face(), at=(150, 80), side=150))["photo_face"] == 0.0
