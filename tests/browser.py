"""Headless Chromium for browser tests: Debian's ``chromium`` driven by Playwright.

Tests skip (with the reason, shown by ``-ra``) where Chromium or Playwright is missing, except
under ``CI=true``, where a missing browser fails them: ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def require_chromium() -> None:
    """Skip, or fail under CI, when Chromium or Playwright is not installed."""
    problem = None
    if not os.path.exists(CHROMIUM):
        problem = "Chromium is not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "Playwright is not installed (pip install -e '.[dev]')"
    if problem and os.environ.get("CI") == "true":
        pytest.fail(f"{problem}; CI must run the browser tests")
    if problem:
        pytest.skip(problem)


@contextmanager
def chromium_page(viewport: dict | None = None):
    """A fresh headless page; ``page.requests`` lists every URL it asked for."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
            page.requests = []
            page.on("request", lambda request: page.requests.append(request.url))
            yield page
        finally:
            browser.close()
