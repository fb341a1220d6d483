"""Every item of the bad-input corpus: a clear AnimefeatError or a correct image, fast;
and through the web API, a 4xx JSON answer (or 200), never a 5xx."""

import io
import signal

import numpy as np
import pytest
from badinputs import corpus

import animefeat as af
from animefeat.io import decode_base64_image

CORPUS = corpus()
IDS = [name for name, _, _ in CORPUS]


@pytest.fixture(autouse=True)
def hang_guard():
    # A guard, not a timing assertion: a hang fails the test instead of stalling CI.
    def boom(*_):
        raise TimeoutError("load_image hung")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _load(payload):
    if isinstance(payload, str):
        return af.load_image(decode_base64_image(payload))
    return af.load_image(payload)


@pytest.mark.parametrize(("name", "payload", "outcome"), CORPUS, ids=IDS)
def test_library(name, payload, outcome):
    if outcome == "error":
        with pytest.raises(af.AnimefeatError) as info:
            _load(payload)
        assert str(info.value)  # a message a person can read
    elif outcome == "ok":
        img = _load(payload)
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    else:
        try:
            img = _load(payload)
        except af.AnimefeatError as exc:
            assert str(exc)
        else:
            assert img.shape == (64, 64, 3)


@pytest.fixture(scope="module")
def client(tiny_model_path):
    from animefeat_web import create_app

    return create_app({"MODEL": af.load_model(tiny_model_path)}).test_client()


@pytest.mark.parametrize(("name", "payload", "outcome"), CORPUS, ids=IDS)
def test_web_api(client, name, payload, outcome):
    if isinstance(payload, str):
        r = client.post("/api/classify", json={"image": payload})
    else:
        r = client.post("/api/classify", data={"image": (io.BytesIO(payload), name)},
                        content_type="multipart/form-data")
    assert r.is_json and r.status_code < 500
    if outcome == "error":
        assert 400 <= r.status_code < 500 and r.json["error"]
    elif outcome == "ok":
        assert r.status_code == 200, r.json
