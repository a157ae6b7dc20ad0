"""The built site in a real browser: headless Chromium against a local http.server.

* --dump-dom: the Henan page renders its reduction table (after the theme's JS ran);
* the DevTools protocol (a websocket, `websocket-client`): the site search,
  which runs in a Web Worker outside Chromium's virtual time, finds "新生儿" —
  so we poll the results list in real time instead of using --virtual-time-budget;
* --screenshot: a picture of the Henan page, kept under the test's tmp folder.

Chromium is Debian's /usr/bin/chromium, which .ci/run installs; when it is
missing the tests skip and say so.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

from .test_docsite import built_site

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (CI installs it: apt-get install -y chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]


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


def chromium(*args: str, timeout: int = 90) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)


def test_henan_page_renders_its_reduction_table(server):
    result = chromium("--virtual-time-budget=5000", "--dump-dom", server + "policies/henan/")
    dom = result.stdout
    heading = "支付比例降低（按待遇标准）</h2>"
    assert heading in dom, result.stderr[-2000:]
    table = dom[dom.index(heading):]
    table = table[:table.index("</table>")]
    assert "其他临时外出待遇" in table and "<strong>20</strong>" in table and "二（二）" in table
    assert 'class="table table-striped table-hover"' in table or "table-striped" in table   # the theme's JS ran


class DevTools:
    """The least of the Chrome DevTools protocol: navigate and evaluate JavaScript."""

    def __init__(self):
        import websocket

        self.profile = tempfile.mkdtemp(prefix="yidi-chromium-")
        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = pathlib.Path(self.profile) / "DevToolsActivePort"
        for _ in range(200):
            if port_file.is_file() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        target = next(p for p in pages if p["type"] == "page")
        self.ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)

    def call(self, method: str, **params):
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message.get("result", {})

    def js(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def close(self):
        with contextlib.suppress(Exception):
            self.ws.close()
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def test_search_finds_newborn_in_chinese(server):
    browser = DevTools()
    try:
        browser.call("Page.navigate", url=server + "index.html?q=" + urllib.parse.quote("新生儿"))
        links: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not links:
            time.sleep(0.2)
            links = browser.js("Array.from(document.querySelectorAll('#mkdocs-search-results article a'))"
                               ".map(a => a.getAttribute('href'))") or []
        assert any("policies/henan/" in link for link in links), links
        # A word inside a longer run of characters is found too (the CJK tokenizer at work).
        browser.js("document.getElementById('mkdocs-search-query').value = '急诊待遇';"
                   "document.getElementById('mkdocs-search-query').dispatchEvent(new KeyboardEvent('keyup'))")
        deadline = time.monotonic() + 15
        found: list[str] = []
        while time.monotonic() < deadline and not any("compare/" in link for link in found):
            time.sleep(0.2)
            found = browser.js("Array.from(document.querySelectorAll('#mkdocs-search-results article a'))"
                               ".map(a => a.getAttribute('href'))") or []
        assert any("compare/" in link for link in found), found
    finally:
        browser.close()


def test_screenshot_of_the_henan_page(server, tmp_path):
    shot = tmp_path / "henan.png"
    chromium("--window-size=1280,2000", "--hide-scrollbars", f"--screenshot={shot}", server + "policies/henan/")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
