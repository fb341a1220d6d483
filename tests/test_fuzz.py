"""Fuzzing with Hypothesis: whatever bytes or JSON arrive, the answer is an image or an
AnimefeatError (library), a 2xx or 4xx JSON answer (web API), never a crash.

Brief in CI; longer on demand: ``HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py``.
"""

import io
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synth import encode, palette_blocks

import animefeat as af
from animefeat.io import decode_base64_image

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("long", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

VALID = {fmt: encode(palette_blocks(3, size=48), fmt) for fmt in ("PNG", "JPEG", "GIF")}


def _check(source):
    try:
        img = af.load_image(source)
    except af.AnimefeatError as exc:
        assert str(exc)
    else:
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3


@given(st.binary(max_size=2048))
def test_random_bytes(data):
    _check(data)


@given(st.sampled_from(sorted(VALID)), st.data())
def test_mutated_images(fmt, data):
    # Valid files with a few bytes flipped, cut or inserted: what corruption looks like.
    raw = bytearray(VALID[fmt])
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            raw[pos] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del raw[pos:pos + data.draw(st.integers(1, 64))]
        else:
            raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=16))
        if not raw:
            break
    _check(bytes(raw))


@given(st.text(max_size=300))
def test_random_text_as_base64(text):
    try:
        data = decode_base64_image(text)
    except af.AnimefeatError:
        return
    _check(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8),
                                                                       children, max_size=4),
    max_leaves=10)


@pytest.fixture(scope="module")
def client(tiny_model_path):
    from animefeat_web import create_app

    return create_app({"MODEL": af.load_model(tiny_model_path)}).test_client()


@given(json_values)
def test_api_json_bodies(client, body):
    r = client.post("/api/classify", json={"image": body} if isinstance(body, str) else body)
    assert r.is_json and r.status_code < 500


@given(st.binary(max_size=1024))
def test_api_multipart_bytes(client, data):
    r = client.post("/api/classify", data={"image": (io.BytesIO(data), "x.png")},
                    content_type="multipart/form-data")
    assert r.is_json and r.status_code in (200, 400, 413, 415)
