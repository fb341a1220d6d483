import base64
import io

import pytest
from animefeat_web import create_app
from synth import anime, blank, cartoon, encode

import animefeat as af


@pytest.fixture(scope="module")
def app(tiny_model_path):
    return create_app({"MODEL": af.load_model(tiny_model_path),
                       "MAX_CONTENT_LENGTH": 2 * 1024 * 1024})


@pytest.fixture
def client(app):
    return app.test_client()


def post_file(client, data, name="x.png", query=""):
    return client.post(f"/api/classify{query}", data={"image": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_health(client):
    r = client.get("/api/health")
    assert r.status_code == 200
    assert r.json["model_loaded"] is True and r.json["model"] == {"name": "tiny", "version": "0"}


def test_index_page(client):
    r = client.get("/")
    assert r.status_code == 200 and b"Anime or cartoon?" in r.data
    assert b"http" not in r.data.split(b"<body>")[0]  # no CDN in the head


@pytest.mark.parametrize("name", ["app.js", "style.css"])
def test_static_files_are_served(client, name):
    with client.get(f"/static/{name}") as r:
        assert r.status_code == 200 and len(r.data) > 100


def test_multipart_upload(client):
    r = post_file(client, encode(cartoon(seed=300)))
    assert r.status_code == 200
    assert r.json["label"] == "cartoon"
    assert set(r.json) == {"label", "probabilities", "confident", "verdict", "is_drawing",
                           "drawing_probability", "explanation", "reasons", "model", "notes"}


def test_reasons_are_grouped_by_side_the_answer_first(client):
    body = post_file(client, encode(cartoon(seed=300))).json
    sides = [group["side"] for group in body["reasons"]]
    assert sides[0] == body["label"] and len(set(sides)) == len(sides)
    for group in body["reasons"]:
        assert all(item["side"] == group["side"] for item in group["items"])
    # The same reasons as the flat explanation, nothing added or lost.
    flat = sorted(item["feature"] for g in body["reasons"] for item in g["items"])
    assert flat == sorted(c["feature"] for c in body["explanation"])


def test_favicon_is_an_svg(client):
    for path in ("/favicon.ico", "/favicon.svg"):
        r = client.get(path)
        assert r.status_code == 200 and r.mimetype == "image/svg+xml"
        assert r.data.startswith(b"<svg")


def test_json_base64(client):
    b64 = base64.b64encode(encode(anime(seed=301))).decode()
    r = client.post("/api/classify", json={"image": b64})
    assert r.status_code == 200 and r.json["label"] == "anime"


def test_json_data_url_like_the_original_app(client):
    url = "data:image/jpeg;base64," + base64.b64encode(encode(cartoon(seed=302), "JPEG")).decode()
    r = client.post("/api/classify", json={"image": url})
    assert r.status_code == 200 and r.json["label"] == "cartoon"


def test_same_answer_for_both_transports(client):
    data = encode(anime(seed=303))
    a = post_file(client, data).json
    b = client.post("/api/classify", json={"image": base64.b64encode(data).decode()}).json
    assert a == b


def test_evidence_on_request(client):
    r = post_file(client, encode(cartoon(seed=304)), query="?evidence=1")
    ev = r.json["evidence"]
    for kind in ("lines", "edges", "shading"):
        assert ev[kind].startswith("data:image/png;base64,")
    assert all(0 <= v <= 1.01 for v in ev["box"]) and isinstance(ev["faces"], list)
    shares = [c["share"] for c in ev["palette"]]
    assert shares == sorted(shares, reverse=True) and sum(shares) == pytest.approx(1, abs=0.01)
    # Every reason names evidence the page can show.
    assert all(c["evidence"] in ev for c in r.json["explanation"])


def test_json_path_is_never_opened(client, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(encode(blank()))
    r = client.post("/api/classify", json={"image": str(secret)})
    assert r.status_code == 400 and "base64" in r.json["error"]


@pytest.mark.parametrize("data, status, words", [
    (b"", 400, "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00garbage", 400, "corrupt"),
    (b"hello, I am text", 400, "text"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 415, "SVG"),
    (b"%PDF-1.4", 415, "PDF"),
])
def test_bad_uploads_get_4xx_json(client, data, status, words):
    r = post_file(client, data)
    assert r.status_code == status and words in r.json["error"]


def test_tiny_image(client):
    r = post_file(client, encode(blank(4, 4)))
    assert r.status_code == 400 and "at least" in r.json["error"]


def test_upload_over_limit_is_413(tiny_model_path):
    # A small limit keeps the test body in memory (werkzeug spools large bodies to disk).
    small = create_app({"MODEL": af.load_model(tiny_model_path), "MAX_CONTENT_LENGTH": 64_000})
    r = post_file(small.test_client(), b"\xff" * 100_000)
    assert r.status_code == 413 and "62.5 KB limit" in r.json["error"]


def test_bomb_is_413(client):
    from test_io import _png_header_only

    r = post_file(client, _png_header_only(50_000, 50_000))
    assert r.status_code == 413 and "pixel" in r.json["error"]


def test_missing_field(client):
    r = client.post("/api/classify", data={"file": (io.BytesIO(b"x"), "x.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and "'image'" in r.json["error"]


def test_wrong_content_type_is_415(client):
    r = client.post("/api/classify", data=b"raw", content_type="application/octet-stream")
    assert r.status_code == 415


@pytest.mark.parametrize("body", ['{"image": 5}', '{"picture": "x"}', "[1, 2]", "{broken"])
def test_bad_json_is_4xx(client, body):
    r = client.post("/api/classify", data=body, content_type="application/json")
    assert 400 <= r.status_code < 500 and "error" in r.json


def test_bad_base64(client):
    r = client.post("/api/classify", json={"image": "data:image/png;base64,@@@"})
    assert r.status_code == 400 and "base64" in r.json["error"]


def test_unknown_route_is_json_404(client):
    r = client.get("/nope")
    assert r.status_code == 404 and "error" in r.json


def test_wrong_method_is_405(client):
    assert client.get("/api/classify").status_code == 405


def test_nothing_written_to_disk(client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    post_file(client, encode(cartoon(seed=305)), query="?evidence=1")
    assert list(tmp_path.iterdir()) == []


def test_a_model_with_local_patterns_maps_where_they_pull(local_model_path):
    # The map is a PNG over the drawing's region; every pixel is clear, purple (anime)
    # or orange (cartoon), and the local patterns' reason points at it.
    import base64
    import io

    import numpy as np
    from PIL import Image

    local = create_app({"MODEL": af.load_model(local_model_path)}).test_client()
    r = post_file(local, encode(anime(seed=950)), query="?evidence=1")
    ev = r.json["evidence"]
    png = base64.b64decode(ev["patches"].split(",", 1)[1])
    rgba = np.asarray(Image.open(io.BytesIO(png)))
    assert rgba.shape[2] == 4 and (rgba[..., 3] > 0).any()
    colours = {tuple(c) for c in rgba[rgba[..., 3] > 0][:, :3]}
    assert colours <= {(123, 31, 162), (179, 80, 0)}
    # Every reason, the local patterns' among them, names evidence the page can show.
    assert all(c["evidence"] in ev for c in r.json["explanation"])


def test_a_model_without_local_patterns_draws_no_map(client):
    r = post_file(client, encode(anime(seed=951)), query="?evidence=1")
    assert "patches" not in r.json["evidence"]


def test_an_animated_gif_says_only_its_first_frame_was_judged(client):
    import io

    from PIL import Image

    frames = [Image.fromarray(cartoon(seed=990 + i)) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50)
    r = post_file(client, buffer.getvalue(), name="a.gif")
    assert r.json["notes"] == ["an animated image: only its first frame (of 3) was judged"]
    assert post_file(client, encode(cartoon(seed=993))).json["notes"] == []


def test_the_page_shows_the_faces_and_eyes_the_library_finds(client):
    from synth import anime_face, pasted

    data = encode(pasted(anime_face(), at=(150, 80), side=150))
    ev = post_file(client, data, query="?evidence=1").json["evidence"]
    image = af.load_image(data)
    h, w = image.shape[:2]
    faces = af.detect_faces(image)
    assert faces, "the synthetic face should be found"
    assert len(ev["faces"]) == len(faces)
    for shown, face in zip(ev["faces"], faces):
        x, y, bw, bh = face.box
        assert shown["box"] == pytest.approx([x / w, y / h, bw / w, bh / h], abs=1e-4)
        assert len(shown["eyes"]) == len(face.eyes)
