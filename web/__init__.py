"""The animefeat web app: an upload page and a JSON API, from an app factory.

``create_app(config)`` builds a Flask app with the :mod:`animefeat_web.routes` blueprint. The model
is loaded once, when the app is created, and nothing is written to disk per request.

Config keys (all optional):

``MODEL_PATH``
    Model file; the shipped model by default.
``MODEL``
    An already loaded :class:`animefeat.AnimefeatModel` (tests, embedding).
``MAX_CONTENT_LENGTH``
    Largest request body in bytes (default 16 MB); larger gets 413.
``IMAGE_LIMITS``
    :class:`animefeat.Limits` for decoding (pixels, frames, shape).
``WARM_UP``
    Classify a synthetic drawing when the app is created (default True), so that
    the first request does not wait for the compiled feature code to load.
"""

from __future__ import annotations

from flask import Flask

from animefeat import Limits, load_model

__all__ = ["create_app"]

DEFAULTS = {
    "MODEL_PATH": None,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "IMAGE_LIMITS": Limits(),
    "JSON_SORT_KEYS": False,
    "WARM_UP": True,
}


def create_app(config=None):
    """Build the web app.

    Parameters
    ----------
    config : dict, optional
        Overrides of :data:`DEFAULTS` (see the module docstring).

    Returns
    -------
    app : flask.Flask
    """
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update({k: v for k, v in (config or {}).items() if v is not None})
    if app.config.get("MODEL") is None:
        app.config["MODEL"] = load_model(app.config["MODEL_PATH"])
    if app.config["WARM_UP"]:
        # Compiled feature code loads on first use: pay for it now, not in a request.
        app.config["MODEL"].warm_up()
    # Byte limits of the decoder follow the upload limit, so both say the same thing.
    limits = app.config["IMAGE_LIMITS"]
    if limits.max_bytes > app.config["MAX_CONTENT_LENGTH"]:
        from dataclasses import replace

        app.config["IMAGE_LIMITS"] = replace(limits, max_bytes=app.config["MAX_CONTENT_LENGTH"])

    from .routes import bp

    app.register_blueprint(bp)
    return app
