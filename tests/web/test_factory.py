from animefeat_web import create_app


def test_factory_loads_the_named_model_once(tiny_model_path):
    app = create_app({"MODEL_PATH": str(tiny_model_path)})
    assert app.config["MODEL"].info["name"] == "tiny"
    assert "web" in app.blueprints


def test_upload_limit_is_configurable(tiny_model_path):
    app = create_app({"MODEL_PATH": str(tiny_model_path), "MAX_CONTENT_LENGTH": 1234})
    assert app.config["MAX_CONTENT_LENGTH"] == 1234
    assert app.config["IMAGE_LIMITS"].max_bytes == 1234
