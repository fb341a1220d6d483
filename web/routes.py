"""Routes: the page, ``POST /api/classify`` and ``GET /api/health``."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from animefeat.exceptions import (
    AnimefeatError,
    ImageTooLargeError,
    UnsupportedInputError,
)
from animefeat.explain import EVIDENCE
from animefeat.features import FAMILIES
from animefeat.io import decode_base64_image, frame_count, image_size, load_image

from .evidence import visual_evidence

bp = Blueprint("web", __name__)
log = logging.getLogger(__name__)


class BadRequest(Exception):
    """A request we understood but cannot serve: answered as JSON with ``status``."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def human_size(n_bytes):
    """``16 MB``, ``62.5 KB``: a byte count as a person reads it."""
    if n_bytes >= 2**20:
        return f"{round(n_bytes / 2**20, 1):g} MB"
    return f"{round(n_bytes / 2**10, 1):g} KB"


#: The page's overlays: (evidence kind, button label, what it shows in the intro's words).
OVERLAYS = (("patches", "Where it looks anime / cartoon", "stroke and detail patterns"),
            ("lines", "Outlines", "outlines"), ("edges", "Edges", "edges"),
            ("shading", "Shading", "shading"), ("faces", "Faces and eyes", "faces"),
            ("palette", "Colours", "colours"))


def deciding_evidence(model):
    """The overlays whose measurements the model's verdict reads (the style head's
    families, and the local patterns when it has them), in the page's order."""
    families = model.style_families or list(FAMILIES)  # None: every feature family
    kinds = {EVIDENCE[f] for f in families if f in EVIDENCE}
    if model.local is not None:
        kinds.add("patches")
    return [kind for kind, _, _ in OVERLAYS if kind in kinds]


@bp.get("/")
def index():
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    deciding = deciding_evidence(current_app.config["MODEL"])
    # The map of local patterns exists only for a model that reads them.
    also = [k for k, _, _ in OVERLAYS if k not in deciding and k != "patches"]
    labels = {kind: label for kind, label, _ in OVERLAYS}
    words = {kind: text for kind, _, text in OVERLAYS}
    return render_template(
        "index.html", max_size=human_size(limit), max_bytes=limit,
        deciding=[(k, labels[k]) for k in deciding], also=[(k, labels[k]) for k in also],
        deciding_words=_join([words[k] for k in deciding]),
        also_words=_join([words[k] for k in also]))


def _join(words):
    """"a", "a and b", "a, b and c"; "" for none."""
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


# The tab icon: an inline SVG (an "A|C" split badge), served for browsers that ask for
# /favicon.ico as well as for the page's own <link rel="icon">.
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<rect width="32" height="64" rx="12" fill="#7b1fa2"/>'
    '<rect x="32" width="32" height="64" rx="12" fill="#b35000"/>'
    '<rect x="20" width="24" height="64" fill="#b35000"/><rect x="20" width="12" height="64" '
    'fill="#7b1fa2"/>'
    '<text x="16" y="43" font-family="sans-serif" font-size="30" font-weight="700" '
    'fill="#fff" text-anchor="middle">A</text>'
    '<text x="48" y="43" font-family="sans-serif" font-size="30" font-weight="700" '
    'fill="#fff" text-anchor="middle">C</text></svg>'
)


@bp.get("/favicon.svg")
@bp.get("/favicon.ico")
def favicon():
    return current_app.response_class(FAVICON, mimetype="image/svg+xml",
                                      headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/api/health")
def health():
    model = current_app.config["MODEL"]
    return jsonify(status="ok", model_loaded=True, model=model.info,
                   features=len(model.feature_names))


@bp.post("/api/classify")
def classify():
    data = _image_bytes()
    limits = current_app.config["IMAGE_LIMITS"]
    model = current_app.config["MODEL"]
    # One working copy for the features and the evidence, at the model's resolution.
    work = model.working_copy(data, limits=limits)
    try:  # the size as uploaded, for lengths in its pixels; the copy is what decides
        size = image_size(data, limits=limits)
    except AnimefeatError:
        size = None
    body = model.predict(work, size=size).to_dict()
    frames = frame_count(data, limits=limits)
    body["notes"] = ([f"an animated image: only its first frame (of {frames}) was judged"]
                     if frames > 1 else [])
    if request.args.get("evidence") in ("1", "true", "yes"):
        body["evidence"] = visual_evidence(work, load_image(data, limits=limits), model=model)
    return jsonify(body)


def _image_bytes():
    """The uploaded image: a multipart field ``image`` or JSON ``{"image": base64}``."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("image")
        if upload is None:
            raise BadRequest("send the image in a multipart field named 'image'")
        return upload.read()
    if request.is_json:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict) or "image" not in payload:
            raise BadRequest('send JSON of the form {"image": "<base64 or data: URL>"}')
        # Text from a client is decoded as base64 only, never opened as a file path.
        return decode_base64_image(payload["image"])
    raise BadRequest("send multipart/form-data with an 'image' field, or JSON "
                     '{"image": "<base64>"}', status=415)


@bp.app_errorhandler(AnimefeatError)
def _image_error(exc):
    if isinstance(exc, ImageTooLargeError):
        status = 413
    elif isinstance(exc, UnsupportedInputError):
        status = 415
    else:
        status = 400
    return jsonify(error=str(exc), kind=type(exc).__name__), status


@bp.app_errorhandler(BadRequest)
def _bad_request(exc):
    return jsonify(error=str(exc), kind="BadRequest"), exc.status


@bp.app_errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return jsonify(error=f"the upload is over the {human_size(limit)} limit",
                   kind="RequestEntityTooLarge"), 413


@bp.app_errorhandler(HTTPException)
def _http_error(exc):
    return jsonify(error=exc.description, kind=type(exc).__name__), exc.code


@bp.app_errorhandler(Exception)
def _unexpected(exc):
    # A bug, not bad input: log it with its traceback, tell the client nothing internal.
    log.exception("unexpected error while serving %s", request.path)
    return jsonify(error="internal error", kind="InternalError"), 500
