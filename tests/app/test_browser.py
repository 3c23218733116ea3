"""The app in headless Chromium: both tabs load, a piece is generated, a pair is played; a
screenshot of each tab is saved in the test's tmp_path.

Uses Playwright's Python package with Debian's Chromium (``apt-get install chromium``), never a
browser Playwright downloads. Without Chromium the test is skipped, except under ``CI=true``,
where it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from symbolic_music.app.generate_tab import Studio
from symbolic_music.app.main import build_app
from tests.app.helpers import make_listening_test, served

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def require_browser():
    """Playwright's sync API, or a skip (a failure under CI=true) saying what is missing."""
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        missing.append("the playwright package (pip install -e '.[dev]')")
    if not CHROMIUM.is_file():
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if missing:
        reason = "headless browser test needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return sync_playwright


def test_both_tabs_load_in_chromium(small_model, params, tmp_path):
    sync_playwright = require_browser()
    settings = {**params["app"], "default_seconds": 4}
    studio = Studio(small_model["transformer"], small_model["transformer_tokenizer"], params["generation"], settings, tmp_path / "generate")
    listening = make_listening_test(tmp_path / "listening", params)
    with served(build_app(studio, listening)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url)
        page.get_by_role("button", name="Generate", exact=True).click()
        page.get_by_text("seed 42.").wait_for(timeout=60_000)
        page.locator("img").first.wait_for(timeout=10_000)
        page.screenshot(path=str(tmp_path / "app_generate.png"), full_page=True)
        page.get_by_role("tab", name="Listening test").click()
        page.get_by_role("button", name="New pair").click()
        page.get_by_text("Pair 1: listen to A and B").wait_for(timeout=30_000)
        page.wait_for_timeout(2000)  # the waveforms draw
        text = page.locator("body").inner_text()
        page.screenshot(path=str(tmp_path / "app_listening.png"), full_page=True)
        browser.close()
    assert not [name for e in listening.pool for name in (e.system, e.piece) if name in text]  # blind
    for name in ("app_generate.png", "app_listening.png"):
        assert (tmp_path / name).stat().st_size > 10_000
