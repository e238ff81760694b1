"""Screenshots of the sample article at phone, tablet and desktop widths, light and dark, and a PDF.

Builds the sample site into a temporary folder, serves it on a free loopback port, and writes the
files for a person to look at; it checks nothing (tests/test_browser.py and tests/test_a11y.py do).
Usage: python tools/screenshots.py [--out FOLDER]    (needs the test extra and Debian's chromium)
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

from sitegen.build import Options, build_from_files, read_sources
from sitegen.cli import report
from sitegen.output import write_site

REPO = Path(__file__).resolve().parent.parent
ARTICLE = "blinken-beijing-2023/"
WIDTHS = (375, 768, 1440)
SCHEMES = ("light", "dark")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/sitegen-shots"),
                        help="folder to write the PNG and PDF files to (default: /tmp/sitegen-shots)")
    arguments = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"screenshots: error: {CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 2
    arguments.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "public"
        with serving(folder) as url:
            if not build(folder, url):
                return 1
            for path in photograph(url + ARTICLE, arguments.out):
                print(path)
    return 0


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    """Serve folder on a free loopback port until the block ends; yields the site's address."""
    handler = partial(QuietHandler, directory=str(folder))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}/"
        finally:
            server.shutdown()
            thread.join()


def build(folder: Path, url: str) -> bool:
    """The sample site, built for the address it is served at so that its links stay local."""
    site, problems = build_from_files(read_sources(REPO), Options(base_url=url))
    report(problems)
    if site is None:
        return False
    write_site(site.files, folder)
    return True


def photograph(url: str, out: Path) -> list[Path]:
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for scheme, width in itertools.product(SCHEMES, WIDTHS):
                page = open_page(browser, url, width, scheme)
                written.append(out / f"article-{width}-{scheme}.png")
                page.screenshot(path=written[-1], full_page=True)
                page.context.close()
            page = open_page(browser, url, 1440, "light")
            written.append(out / "article.pdf")
            page.pdf(path=written[-1], format="A4", print_background=True)  # always print media
            page.context.close()
        finally:
            browser.close()
    return written


def open_page(browser: Browser, url: str, width: int, scheme: str) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    return page


if __name__ == "__main__":
    sys.exit(main())
