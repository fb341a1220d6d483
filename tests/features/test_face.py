import numpy as np
from synth import blank, face

from animefeat import load_image
from animefeat.data import read_dataset
from animefeat.features import face as face_family


def feats(image):
    return dict(zip(face_family.NAMES, face_family.face_features(image)))


def test_no_face_in_blank_image():
    f = feats(blank())
    assert f["found"] == 0 and f["eyes_found"] == 0 and np.isnan(f["eye_height_ratio"])


def test_vector_length_without_face():
    assert face_family.face_features(blank()).shape == (len(face_family.NAMES),)


def test_proportions_are_relative_to_face_box(monkeypatch):
    # The detector is the cascade's business; the proportions are ours. A fixed
    # detection checks the arithmetic: face 40x50 at (10, 20), eyes 8x6 at 30 px apart.
    box = ((10.0, 20.0, 40.0, 50.0), [(15.0, 35.0, 8.0, 6.0), (45.0, 35.0, 8.0, 6.0)])
    monkeypatch.setattr(face_family, "detect_face", lambda image: box)
    f = feats(face())
    assert f["found"] == 1 and f["eyes_found"] == 2
    assert f["eye_height_ratio"] == 6 / 50 and f["eye_width_ratio"] == 8 / 40
    assert f["eye_spacing"] == 30 / 40
    assert f["eye_area_share"] == 2 * 48 / 2000
    assert f["eye_y"] == (38 - 20) / 50
    assert f["aspect"] == 50 / 40


def test_lbp_face_cascade_loads_from_scikit_image():
    # scikit-image's copy misspells the tag that holds the LBP parameters; read as is,
    # OpenCV's classifier comes out empty.
    cascade = face_family._lbp_face_cascade()
    assert not cascade.empty() and cascade.getOriginalWindowSize() == (24, 24)


def _found(shared_data, label, n=30):
    data = read_dataset(shared_data)
    paths = [p for p, lab, src in zip(data.paths, data.labels, data.sources)
             if src == "faces" and lab == label]
    return sum(feats(load_image(p))["found"] for p in paths[:n])


def test_finds_faces_in_photographs(shared_data):
    # The photo check leans on this: the cascade finds about 70% of the shared photos'
    # faces (17 of these 30).
    assert _found(shared_data, "photo") >= 12


def test_human_face_cascade_rarely_fires_on_anime_faces(shared_data):
    # Anime proportions are outside what it learnt: 4% of the shared anime faces.
    assert _found(shared_data, "anime") <= 3
