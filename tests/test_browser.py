"""The built sample site in headless Chromium: scripts run cleanly, sidenotes sit beside the text
on wide screens without overlapping, narrower screens open each note in a popover beside its
reference, and with JavaScript off every note is an endnote linked both ways."""

import itertools
from pathlib import Path

import pytest

from sitegen.build import build_from_files, read_sources
from sitegen.output import write_site

from .conftest import REPO, chromium


@pytest.fixture(scope="module")
def public(tmp_path_factory) -> Path:
    site, problems = build_from_files(read_sources(REPO))
    assert site is not None, problems
    out = tmp_path_factory.mktemp("site") / "public"
    write_site(site.files, out)
    return out


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def open_article(browser, public, width, javascript=True, scheme="light"):
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  java_script_enabled=javascript, color_scheme=scheme)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto((public / "blinken-beijing-2023" / "index.html").as_uri())
    page.wait_for_load_state("load")
    return page, errors


def boxes(page, selector):
    return page.eval_on_selector_all(selector, "els => els.map(e => e.getBoundingClientRect().toJSON())")


def test_wide_screen_shows_sidenotes_beside_their_references_without_overlap(browser, public):
    page, errors = open_article(browser, public, 1400)
    notes = boxes(page, ".sidenote")
    refs = boxes(page, "a[role='doc-noteref']")
    article = boxes(page, "article")[0]
    assert errors == []
    assert len(notes) == len(refs) >= 8
    for note, ref in zip(notes, refs, strict=True):
        assert note["left"] >= article["right"], "sidenote sits in the margin"
        assert note["top"] >= ref["top"] - 2, "never above its reference"
    for upper, lower in itertools.pairwise(notes):
        assert lower["top"] >= upper["bottom"], "sidenotes do not overlap"
    assert notes[0]["top"] == pytest.approx(refs[0]["top"], abs=3)


def test_narrow_screen_hides_sidenotes_and_keeps_endnotes(browser, public):
    page, errors = open_article(browser, public, 390)
    assert errors == []
    assert page.locator(".sidenotes").is_hidden()
    assert page.locator("section[role='doc-endnotes'] li").count() >= 8
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "no horizontal scrolling on a phone"


def test_without_javascript_the_notes_are_still_readable_and_linked(browser, public):
    page, _ = open_article(browser, public, 1400, javascript=False)
    first = page.locator("article a[role='doc-noteref']").first
    first.click()
    target = page.evaluate("location.hash")
    assert page.locator(f"li{target}").is_visible()
    page.locator(f"li{target} a[role='doc-backlink']").click()
    assert page.evaluate("location.hash") == "#ref-" + target[1:]


def test_hovering_a_quote_lights_up_its_sidenote(browser, public):
    page, _ = open_article(browser, public, 1400)
    mark = page.locator("article mark").first
    mark.hover()
    note_id = mark.get_attribute("data-note")
    assert "is-active" in page.locator(f"#side-{note_id}").get_attribute("class")


def popover_state(page):
    return page.evaluate("""() => {
        const popover = document.querySelector('.note-popover');
        return {open: !!popover && popover.matches(':popover-open'),
                focused: !!popover && popover.contains(document.activeElement),
                title: popover ? popover.querySelector('.note-popover-title').textContent : '',
                active: document.activeElement.id};
    }""")


@pytest.mark.parametrize("width", [375, 768])
def test_below_wide_a_reference_opens_its_note_in_a_popover_closed_by_escape(browser, public, width):
    page, errors = open_article(browser, public, width)
    ref = page.locator("article a[role='doc-noteref']").nth(1)
    ref_id = ref.get_attribute("id")
    ref.click()
    state = popover_state(page)
    assert state["open"] and state["focused"] and state["title"] == "Note 2"
    assert page.evaluate("location.hash") == ""  # stayed in place
    box = page.locator(".note-popover").bounding_box()
    ref_box = ref.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, "the popover fits the screen"
    assert abs(box["y"] - ref_box["y"]) < 420, "next to its reference"
    page.keyboard.press("Escape")
    state = popover_state(page)
    assert not state["open"] and state["active"] == ref_id, "focus goes back to the reference"
    assert errors == []


def test_a_second_click_or_a_click_outside_closes_the_popover(browser, public):
    page, _ = open_article(browser, public, 768)
    ref = page.locator("article a[role='doc-noteref']").first
    ref.click()
    assert popover_state(page)["open"]
    ref.click()
    assert not popover_state(page)["open"]
    ref.click()
    assert popover_state(page)["open"]
    page.mouse.click(5, 5)
    assert not popover_state(page)["open"]


def test_the_keyboard_opens_a_note_with_enter(browser, public):
    page, _ = open_article(browser, public, 375)
    page.locator("article a[role='doc-noteref']").first.focus()
    page.keyboard.press("Enter")
    state = popover_state(page)
    assert state["open"] and state["focused"] and state["title"] == "Note 1"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "a visible focus ring"


def test_dark_scheme_is_followed_and_the_toggle_remembers_the_readers_choice(browser, public):
    page, _ = open_article(browser, public, 1440, scheme="dark")
    background = "getComputedStyle(document.body).backgroundColor"
    dark = page.evaluate(background)
    assert dark == "rgb(23, 24, 27)"
    toggle = page.locator(".theme-toggle")
    assert toggle.is_visible() and toggle.get_attribute("aria-pressed") == "true"
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "false"
    assert page.evaluate(background) == "rgb(253, 252, 249)"
    page.reload()
    assert page.evaluate(background) == "rgb(253, 252, 249)", "the choice is remembered"
    assert page.locator(".theme-toggle").get_attribute("aria-pressed") == "false"


def test_note_references_are_24_pixel_touch_targets_on_touch_screens(browser, public):
    context = browser.new_context(viewport={"width": 375, "height": 800}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto((public / "blinken-beijing-2023" / "index.html").as_uri())
    for box in boxes(page, "article a[role='doc-noteref']"):
        assert box["width"] >= 24 and box["height"] >= 24
    context.close()


def test_print_drops_navigation_and_keeps_every_note_as_an_endnote(browser, public):
    page, _ = open_article(browser, public, 1440)
    page.emulate_media(media="print")
    assert page.locator(".site-nav").is_hidden() and page.locator(".sidenotes").is_hidden()
    assert page.locator("section[role='doc-endnotes'] li").count() >= 8
    assert page.locator("section[role='doc-endnotes']").is_visible()
    pdf = page.pdf()  # Chromium's own print path runs without errors
    assert pdf.startswith(b"%PDF")
