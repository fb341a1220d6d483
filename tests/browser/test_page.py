"""The page in a real headless Chromium: cards, reasons by side, uncertainty, errors, phones."""

import os
import shutil
import threading
from pathlib import Path

import pytest
from synth import anime, anime_face, cartoon, encode, pasted, photo, shaded_strands

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Where the screenshots go: a temporary folder, so that running the tests never changes
#: the checkout; ``ANIMEFEAT_SCREENSHOTS=experiments/results/page`` refreshes the README's.
SCREENSHOTS = None


@pytest.fixture(scope="session", autouse=True)
def _screenshots(tmp_path_factory):
    global SCREENSHOTS
    wanted = os.environ.get("ANIMEFEAT_SCREENSHOTS")
    SCREENSHOTS = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")


def _serve(app):
    from waitress.server import create_server

    srv = create_server(app, host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=srv.run, daemon=True).start()
    return srv


@pytest.fixture(scope="module")
def app(tiny_model_path):
    from animefeat_web import create_app

    import animefeat as af

    return create_app({"MODEL": af.load_model(tiny_model_path)})


def _serving(model):
    """Serve ``model``'s page on a free port; yields its address (a fixture's body)."""
    from animefeat_web import create_app

    srv = _serve(create_app({"MODEL": model}))
    yield f"http://127.0.0.1:{srv.effective_port}/"
    srv.close()


@pytest.fixture(scope="module")
def server(app):
    srv = _serve(app)
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
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.statuses = []
    pg.on("response", lambda r: pg.statuses.append((r.status, r.url)))
    yield pg
    context.close()


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _shot(pg, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_one_image_gives_one_card_with_reasons_by_side(page, server, tmp_path):
    page.goto(server)
    page.set_input_files("#file", _write(tmp_path, "cartoon.png",
                                         encode(cartoon(seed=400, size=320))))
    page.wait_for_selector("#detail:not([hidden])")
    assert page.locator('[data-testid="result"]').count() == 1
    reasons = page.locator('[data-testid="reason"]')
    assert reasons.count() >= 1
    headings = page.locator("#reasons h3").all_inner_texts()
    assert headings and all(h in ("Points to anime", "Points to cartoon") for h in headings)
    verdict = page.inner_text("#verdict")
    # The winning side's reasons come first, when the answer is a verdict.
    if verdict in ("Anime", "Cartoon"):
        assert headings[0] == f"Points to {verdict.lower()}"
    # Pointing at a reason shows where it was measured.
    reasons.first.hover()
    kind = reasons.first.get_attribute("data-evidence")
    shown = {"lines": "#mask", "edges": "#mask", "shading": "#mask", "faces": "#boxes",
             "palette": "#palette"}[kind]
    assert page.is_visible(shown)
    _shot(page, "one-image-1280.png")


def test_three_images_give_three_cards(page, server, tmp_path):
    files = [_write(tmp_path, f"{k}.png", encode(make(seed=410 + k, size=240)))
             for k, make in enumerate((cartoon, anime, cartoon))]
    page.goto(server)
    page.set_input_files("#file", files)
    page.wait_for_function("document.querySelectorAll('.card.pending').length === 0")
    cards = page.locator('[data-testid="result"]')
    assert cards.count() == 3
    assert page.inner_text("#progress") == "3 of 3 done."
    # Each card opens its own full answer.
    cards.nth(1).locator("button").click()
    assert "selected" in cards.nth(1).get_attribute("class")
    _shot(page, "three-images-1280.png")


def test_a_corrupt_file_gets_an_error_card_and_the_rest_answer(page, server, tmp_path):
    files = [_write(tmp_path, "good1.png", encode(cartoon(seed=420, size=240))),
             _write(tmp_path, "broken.png", b"\x89PNG\r\n\x1a\n this is not a picture"),
             _write(tmp_path, "good2.png", encode(anime(seed=421, size=240)))]
    page.goto(server)
    page.set_input_files("#file", files)
    page.wait_for_function("document.querySelectorAll('.card.pending').length === 0")
    assert page.locator('[data-testid="result"]').count() == 2
    error = page.locator('[data-testid="error"]')
    assert error.count() == 1 and "broken.png" in error.inner_text()
    _shot(page, "error-card-1280.png")


@pytest.fixture(scope="module")
def unsure_server(tiny_model_path):
    """A server whose model hedges every answer: the tiny model with its calibration
    slope cut 1000-fold, so P(anime) stays within a hair of 50% (its decisions kept)."""
    import animefeat as af

    # A fresh copy: load_model's cached one is shared with the other tests.
    model = af.AnimefeatModel.load(tiny_model_path)
    model.style.slope_ *= 1e-3
    yield from _serving(model)


def test_an_ambiguous_image_is_said_to_be_unsure(page, unsure_server, tmp_path):
    page.goto(unsure_server)
    page.set_input_files("#file", _write(tmp_path, "c.png", encode(cartoon(seed=490))))
    page.wait_for_selector("#detail:not([hidden])")
    verdict = page.inner_text("#verdict")
    assert verdict.startswith("Not sure:") and page.locator("#verdict.unsure").count() == 1
    # The card keeps the short word (the long one wrapped to four bold lines there).
    assert page.locator('[data-testid="result"] .card-verdict').inner_text() == "Not sure"
    _shot(page, "unsure-1280.png")


@pytest.fixture(scope="module")
def hedged_server(tiny_model_path):
    """A server whose card trusts no answer below 99.99% (its verdict level): every
    answer of the tiny model outside 35-65% reads "Probably ..."."""
    import animefeat as af

    model = af.AnimefeatModel.load(tiny_model_path)
    model.card["verdict"] = {**model.card.get("verdict", {}), "sure_from": 0.9999}
    yield from _serving(model)


def test_an_answer_below_the_cards_verdict_level_is_hedged(page, hedged_server, tmp_path):
    page.goto(hedged_server)
    page.set_input_files("#file", _write(tmp_path, "c.png", encode(cartoon(seed=491))))
    page.wait_for_selector("#detail:not([hidden])")
    p = page.evaluate("selected.data.probabilities.anime")
    word = "anime" if p >= 0.5 else "cartoon"
    expected = f"Probably {word} ({round(100 * max(p, 1 - p))}%)"
    assert page.inner_text('[data-testid="verdict"]') == expected
    assert page.locator('[data-testid="result"] .card-verdict').inner_text() == expected
    assert page.locator("#verdict.unsure").count() == 1
    _shot(page, "hedged-1280.png")


@pytest.fixture(scope="module")
def photo_server(tiny_model_path):
    """A server whose photo check flags every picture (threshold above 1): what a
    photograph meets, whatever the tiny model makes of a synthetic one."""
    import animefeat as af

    model = af.AnimefeatModel.load(tiny_model_path)
    model.drawing_threshold = 1.01
    yield from _serving(model)


def test_a_photo_leads_with_what_it_is_and_folds_the_style_guess(page, photo_server, tmp_path):
    page.goto(photo_server)
    page.set_input_files("#file", _write(tmp_path, "photo.png", encode(photo(seed=430))))
    page.wait_for_selector("#detail:not([hidden])")
    assert page.inner_text('[data-testid="verdict"]') == (
        "This looks like a photograph, not a drawing")
    assert page.locator('[data-testid="result"] .card-verdict').inner_text() == "Photo"
    # The bars and reasons are folded away until asked for.
    assert not page.is_visible("#reasons") and not page.is_visible("#p-anime")
    page.click("text=Show the style guess anyway")
    assert page.is_visible("#p-anime")
    reasons = page.locator('[data-testid="reason"]').all_inner_texts()
    assert reasons and not any("the drawing" in r for r in reasons)
    _shot(page, "photo-1280.png")


def test_a_drawing_shows_its_style_answer_unfolded(page, server, tmp_path):
    page.goto(server)
    page.set_input_files("#file", _write(tmp_path, "c.png", encode(cartoon(seed=431))))
    page.wait_for_selector("#detail:not([hidden])")
    assert page.evaluate("selected.data.is_drawing") is True
    assert page.is_visible("#p-anime") and not page.is_visible("#style-guess-summary")


def test_phone_width_has_no_horizontal_scroll(browser, server, tmp_path):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    pg = context.new_page()
    pg.goto(server)
    # The drop zone is a "Choose images" button on a phone.
    assert pg.is_visible("label[for=file]") and not pg.is_visible(".drop-text")
    files = [_write(tmp_path, f"p{k}.png", encode(cartoon(seed=440 + k, size=600)))
             for k in range(2)]
    pg.set_input_files("#file", files)
    pg.wait_for_function("document.querySelectorAll('.card.pending').length === 0")
    pg.wait_for_selector("#detail:not([hidden])")
    assert pg.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(pg, "two-images-375.png")
    context.close()


def test_a_normal_visit_has_no_failed_request(page, server, tmp_path):
    page.goto(server)
    page.set_input_files("#file", _write(tmp_path, "c.png", encode(cartoon(seed=450))))
    page.wait_for_selector("#detail:not([hidden])")
    page.wait_for_load_state("networkidle")
    failed = [(status, url) for status, url in page.statuses if status >= 400]
    assert failed == []
    # The page names its icon, which the server has (headless Chromium does not fetch it).
    href = page.get_attribute("link[rel=icon]", "href")
    assert page.request.get(server.rstrip("/") + href).status == 200


def test_keyboard_reaches_the_pickers_and_the_reasons(page, server, tmp_path):
    page.goto(server)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "file"
    page.set_input_files("#file", _write(tmp_path, "k.png", encode(cartoon(seed=460))))
    page.wait_for_selector("#detail:not([hidden])")
    page.focus('[data-testid="reason"]')
    assert page.evaluate("document.activeElement.dataset.testid") == "reason"


def test_every_image_has_a_text_alternative(page, server, tmp_path):
    page.goto(server)
    page.set_input_files("#file", _write(tmp_path, "a.png", encode(cartoon(seed=470))))
    page.wait_for_selector("#detail:not([hidden])")
    missing = page.evaluate(
        "[...document.querySelectorAll('img')].filter(i => !i.hidden && "
        "i.getAttribute('alt') === null).length")
    assert missing == 0
    assert page.get_attribute(".thumb", "alt").startswith("a.png")


def test_too_large_file_gets_an_error_card(browser, tiny_model_path, tmp_path):
    from animefeat_web import create_app

    import animefeat as af

    srv = _serve(create_app({"MODEL": af.load_model(tiny_model_path),
                             "MAX_CONTENT_LENGTH": 50_000}))
    try:
        big = _write(tmp_path, "big.png", encode(cartoon(seed=401, size=600)) + b"\0" * 60_000)
        context = browser.new_context()
        pg = context.new_page()
        pg.goto(f"http://127.0.0.1:{srv.effective_port}/")
        pg.set_input_files("#file", big)
        pg.wait_for_selector('[data-testid="error"]')
        text = pg.inner_text('[data-testid="error"]')
        assert "too large" in text and "48.8 KB" in text
        context.close()
    finally:
        srv.close()


def test_overlays_scale_with_the_shown_image(page, server, tmp_path):
    # The outline mask covers the drawing at the displayed size, not a 256-px tile.
    page.goto(server)
    page.set_input_files("#file", _write(tmp_path, "s.png", encode(cartoon(seed=480, size=640))))
    page.wait_for_selector("#detail:not([hidden])")
    page.evaluate("highlight('lines')")
    shown = page.eval_on_selector("#preview", "i => i.getBoundingClientRect().width")
    mask = page.eval_on_selector("#mask", "i => i.getBoundingClientRect().width")
    share = page.evaluate("selected.data.evidence.box[2]")  # the drawing's share of the width
    assert mask == pytest.approx(shown * share, rel=0.02) and mask > 0.5 * shown


@pytest.fixture(scope="module")
def shipped_server():
    """The page with the shipped model, as a user meets it."""
    import animefeat as af

    yield from _serving(af.load_model())


def test_the_faces_button_draws_the_detected_face_where_it_is(page, shipped_server, tmp_path):
    # A drawn face pasted with its corner at (150, 80), 150 px wide, on a 480 x 320 picture.
    image = pasted(anime_face(), at=(150, 80), side=150)
    page.goto(shipped_server)
    page.set_input_files("#file", _write(tmp_path, "face.png", encode(image)))
    page.wait_for_selector("#detail:not([hidden])")
    page.click("#views button[data-kind=faces]")
    assert page.get_attribute("#views button[data-kind=faces]", "aria-pressed") == "true"
    face = page.locator("#boxes .face").first
    assert face.is_visible()
    left = float(face.evaluate("d => d.style.left").rstrip("%")) / 100
    top = float(face.evaluate("d => d.style.top").rstrip("%")) / 100
    assert left == pytest.approx(150 / 480, abs=0.06) and top == pytest.approx(80 / 320, abs=0.08)
    assert "drawn face" in page.inner_text("#legend")
    _shot(page, "shipped-faces-1280.png")
    # Pressing it again hides the boxes; pointing at a reason no longer leaves them pinned.
    page.click("#views button[data-kind=faces]")
    assert not page.is_visible("#boxes")


def test_strands_on_shaded_paint_give_no_outline_reason(page, shipped_server, tmp_path):
    # The line mask finds the strands, but none bounds flat paint: the outlines overlay
    # says why no reason reads it, and no reason speaks of outlines.
    page.goto(shipped_server)
    page.set_input_files("#file", _write(tmp_path, "strands.png", encode(shaded_strands())))
    page.wait_for_selector("#detail:not([hidden])")
    assert page.evaluate("selected.data.evidence.outlines.reasons") is False
    page.evaluate("highlight('lines')")
    assert page.is_visible("#mask")
    assert "no reason is read from them" in page.inner_text("#legend")
    texts = page.locator('[data-testid="reason"]').all_text_contents()
    assert texts and not any("outline" in t for t in texts)
    _shot(page, "outlines-not-read-1280.png")


def test_outlines_of_a_cartoon_are_read(page, shipped_server, tmp_path):
    page.goto(shipped_server)
    page.set_input_files("#file", _write(tmp_path, "c.png", encode(cartoon(seed=400, size=320))))
    page.wait_for_selector("#detail:not([hidden])")
    assert page.evaluate("selected.data.evidence.outlines.reasons") is True
    page.evaluate("highlight('lines')")
    assert page.inner_text("#legend").startswith("Outlines found (pink)")


@pytest.fixture(scope="module")
def local_server(local_model_path):
    """The page with a model that reads local patterns."""
    import animefeat as af

    yield from _serving(af.load_model(local_model_path))


def test_the_map_button_draws_where_it_looks_anime_or_cartoon(page, local_server, tmp_path):
    page.goto(local_server)
    page.set_input_files("#file", _write(tmp_path, "a.png", encode(anime(seed=960))))
    page.wait_for_selector("#detail:not([hidden])")
    button = "#views button[data-kind=patches]"
    assert page.is_visible(button)
    page.click(button)
    assert page.is_visible("#mask")
    assert page.get_attribute("#mask", "src") == page.evaluate("selected.data.evidence.patches")
    assert "look anime (purple) or cartoon (orange)" in page.inner_text("#legend")


def test_the_map_button_is_hidden_for_a_model_without_local_patterns(page, server, tmp_path):
    page.goto(server)
    page.set_input_files("#file", _write(tmp_path, "a.png", encode(anime(seed=961))))
    page.wait_for_selector("#detail:not([hidden])")
    assert not page.is_visible("#views button[data-kind=patches]")


def test_tapping_a_card_on_a_phone_brings_its_verdict_into_view(browser, server, tmp_path):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True,
                                  has_touch=True)
    pg = context.new_page()
    pg.goto(server)
    files = [_write(tmp_path, f"t{k}.png", encode(cartoon(seed=1000 + k, size=400)))
             for k in range(8)]
    pg.set_input_files("#file", files)
    pg.wait_for_function("document.querySelectorAll('.card.pending').length === 0")
    card = pg.locator('[data-testid="result"] .open').nth(6)
    card.scroll_into_view_if_needed()
    card.tap()
    box = pg.locator('[data-testid="verdict"]').bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 740
    assert pg.evaluate("selected.file.name") == "t6.png"
    context.close()


def test_the_batch_count_says_how_many_could_not_be_read(page, server, tmp_path):
    page.goto(server)
    good = [_write(tmp_path, f"g{k}.png", encode(cartoon(seed=1010 + k))) for k in range(2)]
    bad = _write(tmp_path, "broken.png", b"\x89PNG\r\n\x1a\n not really")
    page.set_input_files("#file", [*good, bad])
    page.wait_for_function("document.querySelectorAll('.card.pending').length === 0")
    page.wait_for_function("!document.querySelector('#progress').textContent.includes('Measuring')")
    assert page.inner_text("#progress") == "3 of 3 done, 1 could not be read."


def test_a_text_file_chosen_with_images_gets_its_own_error_card(page, server, tmp_path):
    page.goto(server)
    image = _write(tmp_path, "a.png", encode(cartoon(seed=1020)))
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture\n")
    page.set_input_files("#file", [image, str(notes)])
    page.wait_for_function("document.querySelectorAll('.card.pending').length === 0")
    assert page.locator("#grid .card").count() == 2
    error = page.locator('[data-testid="error"]')
    assert error.count() == 1 and "notes.txt" in error.inner_text()
    assert "not an image" in error.inner_text()


def test_the_first_tab_rings_only_the_focused_picker(page, server):
    page.goto(server)
    page.keyboard.press("Tab")
    rings = page.evaluate(
        "[...document.querySelectorAll('.pickers label')].map("
        "l => getComputedStyle(l).outlineStyle !== 'none')")
    assert rings == [True, False]


def test_one_labelled_bar_in_the_two_style_colours(page, server, tmp_path):
    page.goto(server)
    page.set_input_files("#file", _write(tmp_path, "c.png", encode(cartoon(seed=1030))))
    page.wait_for_selector("#detail:not([hidden])")
    p = page.evaluate("selected.data.probabilities.anime")
    for bar in ("#p-anime", '[data-testid="result"] .card-bar'):
        label = page.get_attribute(bar, "aria-label")
        assert label == f"anime {round(100 * p)}%, cartoon {round(100 * (1 - p))}%"
        widths = page.eval_on_selector(bar, "b => [...b.children].map(c => c.style.width)")
        assert [float(w.rstrip("%")) for w in widths] == pytest.approx([100 * p, 100 * (1 - p)])
        colours = page.eval_on_selector(
            bar, "b => [...b.children].map(c => getComputedStyle(c).backgroundColor)")
        assert colours == ["rgb(123, 31, 162)", "rgb(179, 80, 0)"]  # --anime, --cartoon
    assert page.locator("meter").count() == 0
