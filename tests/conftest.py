"""Shared fixtures: a whole site declared as a dict, built in memory or on disk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# CI runs the same examples every time, so a red run always reproduces; locally they vary.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parent.parent
SAMPLE_SEED_NAME = "000_86e81f4737b16704.txt"
SAMPLE_SEED = (REPO / "seeds" / SAMPLE_SEED_NAME).read_bytes()
CONFIG = b'title = "Test site"\nbase_url = "https://example.org/repo/"\n'
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright; the test is skipped without it, except in CI."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError("CI must install chromium (see .ci/run)")
        pytest.skip("chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def site_files(extra: dict[str, str | bytes] | None = None) -> dict[str, bytes]:
    """The sample seed and a config, plus the given files (path -> text or bytes)."""
    files = {"sitegen.toml": CONFIG, f"seeds/{SAMPLE_SEED_NAME}": SAMPLE_SEED}
    for key, value in (extra or {}).items():
        files[key] = value.encode("utf-8") if isinstance(value, str) else value
    return files


def annotation(*notes: str, front: str = "", preface: str = "") -> str:
    """An annotation file on the sample seed with the given note sections."""
    head = f"---\nseed: {SAMPLE_SEED_NAME}\ntitle: Test article\n{front}---\n"
    return head + (preface + "\n\n" if preface else "") + "\n\n".join(notes) + "\n"


def write_site(root: Path, files: dict[str, bytes]) -> Path:
    for path, data in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


@pytest.fixture
def repo() -> Path:
    return REPO
