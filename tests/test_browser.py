"""The built sample site in headless Chromium: scripts run cleanly, sidenotes sit beside the text
on wide screens without overlapping, and narrow screens read the notes as endnotes."""

import itertools
import os
from pathlib import Path

import pytest

from sitegen.build import build_from_files, read_sources
from sitegen.output import write_site

from .conftest import REPO

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must install chromium (see .ci/run)")
    pytest.skip("chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def public(tmp_path_factory) -> Path:
    site, problems = build_from_files(read_sources(REPO))
    assert site is not None, problems
    out = tmp_path_factory.mktemp("site") / "public"
    write_site(site.files, out)
    return out


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def open_article(browser, public, width, javascript=True):
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  java_script_enabled=javascript)
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
