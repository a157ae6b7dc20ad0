"""A real headless Chromium for the browser tests, driven by Playwright for Python (no tests here).

Why Playwright: its locators find controls the way a person does — by their
label, role and visible text (`get_by_label("出院日期")`) — so a test that
passes also proves the controls are labelled; its assertions wait for the
page by themselves (no sleeps, no polling loops, no timed assertions); it
takes screenshots of the page or of one element. Its wheel bundles its own
driver, so nothing but pip is needed; the browser is Debian's `chromium`
(`executable_path`), never a download of Playwright's own.

The browser runs with the flags a closed network and root need (no sandbox,
no background connections, no QUIC) and a fresh profile per launch. Tests
skip, saying why, only when Debian's chromium is not installed; .ci/run
installs it.
"""

from __future__ import annotations

import os
import pathlib
import shutil
from collections.abc import Iterator

import pytest

from .conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_BROWSER = "Debian's chromium is not installed (CI installs it: apt-get install -y chromium)"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Screenshots are test artefacts: kept after the run (build/ is ignored by git), one folder per test module.
ARTEFACTS = pathlib.Path(os.environ.get("YIDI_TEST_ARTEFACTS", ROOT / "build" / "test-artefacts"))

needs_browser = pytest.mark.skipif(CHROMIUM is None, reason=NO_BROWSER)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per test module (Playwright launches each with a new temporary profile)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def artefact(module: str, name: str) -> pathlib.Path:
    folder = ARTEFACTS / module
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
