"""The workbench without a browser: what `yidi serve` sends the page, and what the page's decisions leave in the log.

The page itself is tested in a real browser (test_workbench_browser.py); here:
the page and its files are served (from memory, with a Content-Security-Policy
that keeps the browser from fetching anything elsewhere), every code the
contract enumerates has Chinese words, the presets are exactly the shipped
examples, each rule link names a place that exists on the built docs site,
`X-Yidi-Client` is recorded in the decision log, and `--docs-site` /
`--docs-url` are checked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest

from yidi.audit import read_log, record
from yidi.documents import load_json
from yidi.errors import InputError
from yidi.server.workbench import ASSETS, PRESETS, data, docs_base, load_assets, load_presets, rule_pages

from .conftest import EXAMPLES, ROOT
from .conftest import built_site
from .server_support import Server, copy_policies, httpx

NEWBORN = json.loads((EXAMPLES / "henan-newborn.claim.json").read_text(encoding="utf-8"))
SCHEMAS = ROOT / "schemas"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return built_site(tmp_path_factory) / "site"


@pytest.fixture(scope="module")
def server(tmp_path_factory, site):
    work = tmp_path_factory.mktemp("workbench-http")
    running = Server(work, copy_policies(work / "policies"), args=("--docs-site", str(site), "--check", "load")).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def http(server):
    with server.client() as client:
        yield client


# ── the page ────────────────────────────────────────────────────────────────────────────────────
def test_the_page_is_served_at_the_root_with_its_files_and_a_strict_csp(http):
    page = http.get("/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="zh-CN">' in page.text and "yidi 工作台" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "'unsafe-inline'" not in csp
    referenced = re.findall(r'(?:src|href)="(workbench/[^"]+)"', page.text)
    assert {"workbench/app.js", "workbench/workbench.css"} <= set(referenced)
    imported = {f"workbench/{name}" for name in re.findall(r'from "\./([a-z]+\.js)"', (ASSETS / "app.js").read_text(encoding="utf-8"))}
    assert imported == {"workbench/form.js", "workbench/render.js"}
    for path in [*referenced, *imported]:
        answer = http.get("/" + path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("text/css" if path.endswith(".css") else "text/javascript")
        assert answer.content == (ASSETS / path.split("/")[-1]).read_bytes()


def test_only_the_pages_own_files_are_served(http):
    for path in ("/workbench/nothing.js", "/workbench/%2e%2e%2fpyproject.toml", "/workbench/..%2f..%2fpyproject.toml"):
        answer = http.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"] == "not-found"
    assert set(load_assets()) == {p.name for p in ASSETS.iterdir() if p.suffix in (".html", ".css", ".js")}


def test_the_page_fetches_nothing_from_outside():
    """No CDN, no font service, no absolute URL anywhere in the page's files (the SVG namespace is a name, not a fetch)."""
    for path in ASSETS.iterdir():
        text = path.read_text(encoding="utf-8").replace('"http://www.w3.org/2000/svg"', "")
        assert not re.search(r"(?:https?:)?//[A-Za-z0-9-]+\.[A-Za-z]", text), path.name
        assert "@import" not in text and "url(" not in text, path.name


def test_the_page_writes_text_never_markup():
    """Everything shown (policy text, reasons, a document from a link) goes in as text: no HTML is ever parsed from data."""
    for path in ASSETS.glob("*.js"):
        text = path.read_text(encoding="utf-8")
        for risky in ("innerHTML", "outerHTML =", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert risky not in text, f"{path.name}: {risky}"


def _enumerated(node, out):
    """Every string a schema offers as a choice (a one-value enumeration, like `kind`, is fixed, not a choice)."""
    if isinstance(node, dict):
        choices = [v for v in node.get("enum", []) if v is not None]
        for value in choices if len(choices) > 1 else []:
            if isinstance(value, str):
                out.add(value)
        for value in node.values():
            _enumerated(value, out)
    elif isinstance(node, list):
        for value in node:
            _enumerated(value, out)
    return out


def test_every_code_the_contract_enumerates_has_chinese_words(engine):
    state = SimpleNamespace(serving=SimpleNamespace(revision="r", engine=engine), docs_site=None, docs_url=None)
    labels = data(state, [])["labels"]
    words = {**labels["values"], **labels["treatment"], **labels["flags"]}
    missing = set()
    for name in ("claim.schema.json", "filing-request.schema.json", "decision.schema.json"):
        codes = _enumerated(json.loads((SCHEMAS / name).read_text(encoding="utf-8")), set())
        missing |= {code for code in codes if code not in words}
    assert missing == set()
    assert set(labels["fields"]["visit.hospital_level"]) == {"1", "2", "3"}     # the integer enumeration, too
    henan = engine.policies.policies["henan"].layered.variables
    assert labels["variables"]["newborn"] == henan["newborn"].title               # a policy's own words for its variables


def test_the_presets_are_exactly_the_shipped_examples():
    shipped = {p.name for p in EXAMPLES.iterdir() if p.name.endswith((".claim.json", ".filing.json"))}
    assert {name for name, _ in PRESETS} == shipped
    presets = load_presets()
    assert [p["title"] for p in presets] == [title for _, title in PRESETS]
    for (name, _), preset in zip(PRESETS, presets):
        assert preset["document"] == load_json((EXAMPLES / name).read_text(encoding="utf-8"))
        assert preset["kind"] == ("filing_request" if name.endswith(".filing.json") else "claim")


def test_every_preset_but_the_bad_one_is_decided(engine):
    for preset in load_presets():
        if preset["id"] == "bad-dates":
            with pytest.raises(InputError):
                engine.evaluate(preset["document"])
        else:
            assert engine.evaluate(preset["document"])["trace"]


def test_every_rule_link_names_an_anchor_on_the_built_docs_site(engine, site):
    pages = rule_pages(engine)
    assert pages["henan.newborn-as-emergency"] == "policies/henan/#rule-henan-newborn-as-emergency"
    assert set(pages) == {rule.id for c in engine.policies.policies.values() for rule in c.layered.rules}
    for rule, place in pages.items():
        page, anchor = place.split("#")
        html = (site / page / "index.html").read_text(encoding="utf-8")
        assert f'id="{anchor}"' in html, rule


def test_where_the_docs_are():
    def state(site=None, url=None):
        return SimpleNamespace(docs_site=site, docs_url=url)

    assert docs_base(state(site="/srv/site")) == "docs/"                   # relative: works behind a path prefix too
    assert docs_base(state(url="https://docs.example/yidi")) == "https://docs.example/yidi/"
    assert docs_base(state()) is None


# ── the marker in the decision log ──────────────────────────────────────────────────────────────
def test_the_record_names_its_client_only_when_one_is_given():
    marked = record(request_id="r", document=NEWBORN, input_format="contract", revision="x", trace="full", decision={}, client="workbench")
    plain = record(request_id="r", document=NEWBORN, input_format="contract", revision="x", trace="full", decision={})
    assert marked["client"] == "workbench" and "client" not in plain


def test_decisions_sent_with_x_yidi_client_are_logged_with_it(http, server):
    marked = http.post("/v1/evaluate", json={**NEWBORN, "id": "WB-MARKED"}, headers={"X-Yidi-Client": "workbench"})
    plain = http.post("/v1/evaluate", json={**NEWBORN, "id": "WB-PLAIN"})
    odd = http.post("/v1/evaluate", json={**NEWBORN, "id": "WB-ODD"}, headers={"X-Yidi-Client": "Work Bench!"})
    batch = http.post("/v1/evaluate/batch", json=[{**NEWBORN, "id": "WB-BATCH"}], headers={"X-Yidi-Client": "his-zhengzhou"})
    assert {r.status_code for r in (marked, plain, odd, batch)} == {200}
    assert marked.json() == {**plain.json(), "claim_id": "WB-MARKED"}           # the marker changes nothing decided
    logged = {entry["input"]["id"]: entry for _, entry in read_log(server.audit)}
    assert logged["WB-MARKED"]["client"] == "workbench"
    assert "client" not in logged["WB-PLAIN"]
    assert "client" not in logged["WB-ODD"]                                     # not a sane label: ignored, not guessed at
    assert logged["WB-BATCH"]["client"] == "his-zhengzhou"


# ── the docs site beside the workbench ──────────────────────────────────────────────────────────
def test_the_built_docs_site_is_served_under_docs(http):
    home = http.get("/docs/")
    assert home.status_code == 200 and "yidi" in home.text
    henan = http.get("/docs/policies/henan/")
    assert henan.status_code == 200 and 'id="rule-henan-newborn-as-emergency"' in henan.text
    assert http.get("/docs/../pyproject.toml").status_code == 404
    assert http.get("/docs/%2e%2e/%2e%2e/pyproject.toml").status_code == 404
    meta = http.get("/workbench/data.json").json()
    assert meta["docs"]["base"] == "docs/"
    assert meta["docs"]["rules"]["henan.newborn-as-emergency"] == "policies/henan/#rule-henan-newborn-as-emergency"
    assert meta["revision"] == http.get("/v1/regions").json()["revision"]


def test_without_a_docs_site_the_links_point_where_docs_url_says(tmp_path):
    running = Server(tmp_path, copy_policies(tmp_path / "policies"), args=("--docs-url", "https://docs.example/yidi", "--check", "load")).start()
    try:
        with running.client() as client:
            assert client.get("/workbench/data.json").json()["docs"]["base"] == "https://docs.example/yidi/"
            assert client.get("/docs/").status_code == 404
    finally:
        running.stop()


@pytest.mark.parametrize("args, says", [
    (("--docs-site", "{tmp}"), "is not a built docs site"),
    (("--docs-url", "ftp://docs.example"), "--docs-url must start with"),
    (("--docs-site", "{tmp}", "--docs-url", "/docs/"), "not allowed with argument"),
])
def test_serve_refuses_docs_options_that_cannot_work(tmp_path, args, says):
    command = [sys.executable, "-m", "yidi", "serve", "--port", "0", "--audit-log", str(tmp_path / "log.jsonl"),
               *[a.format(tmp=tmp_path) for a in args]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "engine")})
    assert result.returncode == 2 and says in result.stderr, result.stderr
    assert not (tmp_path / "log.jsonl").exists()


assert httpx  # the server tests' HTTP client (imported so a missing extra skips these tests, as the server tests do)
