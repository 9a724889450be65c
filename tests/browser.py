"""The browser the page tests drive: the system Chromium through Playwright, never a downloaded one.

``playwright install`` downloads browsers, which is not possible here: the installed Chromium is
used (``/usr/bin/chromium``, installed by .ci/run). A machine without it skips the page tests
with a message, except in CI (``CI`` set), where that fails. Import the fixture into a test
module (``from browser import browser``) to use it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def unavailable(why: str):
    """Skip (or, in CI, fail) a page test that cannot run here."""
    if os.environ.get("CI"):
        pytest.fail(f"browser tests need {why} (CI installs Chromium with apt-get)")
    pytest.skip(f"browser tests skipped: {why}")


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package (pip install '.[test]')")
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()
