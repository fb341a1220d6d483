"""The page in a real headless Chromium: upload, see the answer, see an error."""

import shutil
import threading
from pathlib import Path

import pytest
from synth import cartoon, encode

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def server(tiny_model_path):
    from waitress.server import create_server

    import animefeat as af
    from web import create_app

    app = create_app({"MODEL": af.load_model(tiny_model_path)})
    srv = create_server(app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}/"
    srv.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    pg = context.new_page()
    yield pg
    context.close()


def test_upload_shows_label_bars_and_reasons(page, server, tmp_path):
    image = tmp_path / "cartoon.png"
    image.write_bytes(encode(cartoon(seed=400, size=320)))
    page.goto(server)
    page.set_input_files("#file", str(image))
    page.wait_for_selector("#result:not([hidden])")
    assert page.inner_text("#label") == "Cartoon"
    assert page.locator("#reasons li").count() >= 1
    p_anime = page.eval_on_selector("#p-anime", "m => m.value")
    p_cartoon = page.eval_on_selector("#p-cartoon", "m => m.value")
    assert p_cartoon > p_anime and abs(p_anime + p_cartoon - 1) < 1e-6
    assert page.locator("#boxes").count() == 1 and page.locator("#lines").get_attribute("src")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "result.png"), full_page=True)


def test_not_an_image_shows_error(page, server, tmp_path):
    bogus = tmp_path / "notes.png"
    bogus.write_bytes(b"these are notes, not a picture")
    page.goto(server)
    page.set_input_files("#file", str(bogus))
    page.wait_for_selector("#error:not([hidden])")
    assert "not a recognised image" in page.inner_text("#error") or "text" in page.inner_text(
        "#error")
    assert page.is_hidden("#result")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "error.png"), full_page=True)


def test_phone_width_has_no_horizontal_scroll(browser, server):
    context = browser.new_context(viewport={"width": 375, "height": 740})
    pg = context.new_page()
    pg.goto(server)
    assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


def test_keyboard_reaches_the_upload(page, server):
    page.goto(server)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") in ("drop", "file")


def test_too_large_file_is_refused_in_the_page(browser, tiny_model_path, tmp_path):
    from waitress.server import create_server

    import animefeat as af
    from web import create_app

    app = create_app({"MODEL": af.load_model(tiny_model_path), "MAX_CONTENT_LENGTH": 50_000})
    srv = create_server(app, host="127.0.0.1", port=0, threads=1)
    threading.Thread(target=srv.run, daemon=True).start()
    try:
        big = tmp_path / "big.png"
        big.write_bytes(encode(cartoon(seed=401, size=600)) + b"\0" * 60_000)
        context = browser.new_context()
        pg = context.new_page()
        pg.goto(f"http://127.0.0.1:{srv.effective_port}/")
        pg.set_input_files("#file", str(big))
        pg.wait_for_selector("#error:not([hidden])")
        assert "too large" in pg.inner_text("#error") and "48.8 KB" in pg.inner_text("#error")
        context.close()
    finally:
        srv.close()
