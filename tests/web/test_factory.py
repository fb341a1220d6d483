from animefeat_web import create_app


def test_factory_loads_the_named_model_once(tiny_model_path):
    app = create_app({"MODEL_PATH": str(tiny_model_path)})
    assert app.config["MODEL"].info["name"] == "tiny"
    assert "web" in app.blueprints


def test_upload_limit_is_configurable(tiny_model_path):
    app = create_app({"MODEL_PATH": str(tiny_model_path), "MAX_CONTENT_LENGTH": 1234})
    assert app.config["MAX_CONTENT_LENGTH"] == 1234
    assert app.config["IMAGE_LIMITS"].max_bytes == 1234


def test_the_page_says_which_measurements_decide_the_verdict(tiny_model_path, local_model_path):
    import re

    from animefeat_web import create_app

    import animefeat as af

    model = af.AnimefeatModel.load(tiny_model_path)
    model.card["hyperparameters"]["families"] = ["edges", "lines"]
    page = create_app({"MODEL": model, "WARM_UP": False}).test_client().get("/").get_data(
        as_text=True)
    lead = " ".join(re.search(r'id="lead">(.*?)</p>', page, re.S).group(1).split())
    assert ("The verdict reads the outlines and edges; the shading, faces and colours are "
            "also measured and shown, but do not decide it.") in lead
    decides = re.findall(r'data-kind="(\w+)" data-decides="yes"', page)
    also = re.findall(r'data-kind="(\w+)" data-decides="no"', page)
    assert decides == ["lines", "edges"] and also == ["shading", "faces", "palette"]
    local = create_app({"MODEL": af.load_model(local_model_path)}).test_client().get("/")
    assert 'data-kind="patches" data-decides="yes"' in local.get_data(as_text=True)
