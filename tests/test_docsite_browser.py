"""The built site in a real browser: headless Chromium (Playwright) against a local http.server.

* the Henan page renders its reduction table, styled by the theme's JavaScript;
* the site search (a Web Worker) finds "新生儿", and a word inside a longer run
  of characters ("急诊待遇") — the CJK tokenizer at work;
* a screenshot of the Henan page, kept as a test artefact.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect

from .browser_support import artefact, browser, needs_browser  # noqa: F401  (browser is a fixture)
from .conftest import built_site

pytestmark = needs_browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    site = built_site(tmp_path_factory) / "site"
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(base, timeout=1).close()
                break
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 2000}, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_henan_page_renders_its_reduction_table(server, page):
    page.goto(server + "policies/henan/")
    heading = page.get_by_role("heading", name="支付比例降低（按待遇标准）")
    expect(heading).to_be_visible()
    table = page.locator("h2:has-text('支付比例降低（按待遇标准）') ~ table").first
    expect(table).to_contain_text("其他临时外出待遇")
    expect(table).to_contain_text("二（二）")
    expect(table.locator("strong").first).to_be_visible()                 # each value in force, in bold
    expect(table).to_have_class("table table-striped table-hover")   # the theme's JS ran


def test_search_finds_newborn_in_chinese(server, page):
    page.goto(server + "index.html?q=" + urllib.parse.quote("新生儿"))
    expect(page.locator("#mkdocs-search-results article a[href*='policies/henan/']").first).to_be_attached(timeout=30_000)
    # A word inside a longer run of characters is found too (the CJK tokenizer at work).
    box = page.locator("#mkdocs-search-query")
    box.fill("急诊待遇")
    box.dispatch_event("keyup")
    expect(page.locator("#mkdocs-search-results article a[href*='compare/']").first).to_be_attached(timeout=15_000)


def test_screenshot_of_the_henan_page(server, page):
    page.goto(server + "policies/henan/")
    expect(page.get_by_role("heading", name="支付比例降低（按待遇标准）")).to_be_visible()
    shot = artefact("docsite", "henan.png")
    data = page.screenshot(path=str(shot), full_page=False)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_the_comparison_page_is_readable_at_1280_px(server, page):
    """No column squeezed to a few characters, no sideways scroll, no engine codes in the text."""
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(server + "compare/")
    tables = page.locator(".yidi-compare table")
    expect(tables.first).to_be_visible()
    assert tables.count() == 7
    widths = page.evaluate("""() => [...document.querySelectorAll('.yidi-compare table')].flatMap(t =>
        [...t.querySelectorAll('tr:first-child th')].map(th => th.getBoundingClientRect().width))""")
    smallest_glyph = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.yidi-compare td')).fontSize)")
    assert min(widths) >= 4 * smallest_glyph, widths                   # at least four characters wide
    cells = page.evaluate("""() => [...document.querySelectorAll('.yidi-compare td:nth-child(2), .yidi-compare td:nth-child(4)')]
        .map(td => td.getBoundingClientRect().height / parseFloat(getComputedStyle(td).lineHeight))""")
    assert max(cells) < 3.2, cells                                      # treatment and route fit in two lines (padding included)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    text = page.locator("[role=main]").inner_text()
    for code in ("interpretation_applied", "other_temporary", "cross_province", "unfiled", "null", "None"):
        assert code not in text
    page.screenshot(path=str(artefact("docsite", "compare-1280.png")), full_page=True)
