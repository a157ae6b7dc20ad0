"""The workbench: a page in Chinese at `/` for trying claims and filing requests by hand.

The page (`assets/`: HTML, CSS, a little JavaScript) ships in the wheel and
is read once, when the app is built, then served from memory — no request
names a file, and nothing is fetched from anywhere else (the page's
Content-Security-Policy says so to the browser too). It talks to the public
API like any integrator: `/openapi.json` (its forms are generated from the
claim and filing-request schemas found there), `/v1/regions`,
`/v1/regions/{region}/parameters` and `/v1/evaluate`. It sends
`X-Yidi-Client: workbench`, so its decisions go through the same evaluation
and the same decision log as any other, marked `"client": "workbench"`.

The one thing the API does not carry is served at `/workbench/data.json`:
the Chinese words for codes (the docs site's glossary, so the page and the
site say the same), the shipped examples as presets, and where the
generated documentation site is, with the page and anchor of every rule so a
trace step can link to it. With `--docs-site DIR` a built site is served at
`/docs/`; with `--docs-url URL` the links point there; with neither the page
shows the clause without a link and says how to get one.
"""

from __future__ import annotations

import pathlib
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..docsite import glossary
from ..docsite.markdown import anchor
from ..documents import load_json
from ..engine import Engine
from ..jsonout import dumps
from ..resources import data_dir
from .state import ServerState

ASSETS = pathlib.Path(__file__).with_name("assets")
CLIENT = "workbench"
DOCS_PATH = "/docs"

# The shipped examples offered as starting points, named in Chinese (tests check every example is here).
PRESETS: tuple[tuple[str, str], ...] = (
    ("henan-newborn.claim.json", "河南参保新生儿（出生第8天）在北京住院，未备案"),
    ("henan-referral.claim.json", "河南职工转诊备案，在北京住院"),
    ("henan-commitment-home.claim.json", "承诺制长期居住备案未补材料，回郑州住院"),
    ("guangzhou-emergency.claim.json", "广州参保人在北京急诊住院（只有国家规则：部分决定）"),
    ("bad-dates.claim.json", "无效输入：出院早于入院、金额为负、区划不足6位"),
    ("henan-cancel-locked.filing.json", "承诺制备案未补材料，4个月后申请取消"),
)

# Values the glossary has no words for because they are numbers (schema: "1 一级、2 二级、3 三级").
FIELD_VALUES = {"visit.hospital_level": {"1": "一级", "2": "二级", "3": "三级"}}

_MEDIA = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
# Everything the page loads comes from this server; the browser is told to refuse anything else.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def load_assets(folder: pathlib.Path = ASSETS) -> dict[str, tuple[bytes, str]]:
    """Every file of the page, by name: (content, media type)."""
    return {path.name: (path.read_bytes(), _MEDIA[path.suffix]) for path in sorted(folder.iterdir())
            if path.is_file() and path.suffix in _MEDIA}


def load_presets() -> list[dict[str, Any]]:
    """The shipped examples with their Chinese names, in PRESETS order."""
    folder = data_dir("examples")
    presets = []
    for name, title in PRESETS:
        document = load_json((folder / name).read_text(encoding="utf-8"))
        presets.append({"id": name.split(".")[0], "kind": document.get("kind", "claim"), "title": title, "document": document})
    return presets


def docs_base(state: ServerState) -> str | None:
    """Where the page finds the docs site: relative to the page when served here, else the configured URL."""
    if state.docs_site is not None:
        return DOCS_PATH.lstrip("/") + "/"
    if state.docs_url:
        return state.docs_url.rstrip("/") + "/"
    return None


def rule_pages(engine: Engine) -> dict[str, str]:
    """Rule id → its place on the docs site: the page of the policy that defines it, and the rule's anchor.

    Pages are `policies/<policy id>.md` (docsite.site), served as `policies/<id>/`; anchors are docsite.markdown.anchor.
    """
    return {rule.id: f"policies/{rule.policy_id}/#{anchor(rule.id)}"
            for compiled in engine.policies.policies.values() for rule in compiled.layered.rules}


def variable_titles(engine: Engine) -> dict[str, str]:
    """A policy's own intermediate variables (newborn, filing_in_window…) by name, with their Chinese titles."""
    titles: dict[str, str] = {}
    for compiled in engine.policies.policies.values():
        for name, variable in compiled.layered.variables.items():
            titles.setdefault(name, variable.title)
    return titles


def data(state: ServerState, presets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "revision": state.serving.revision,
        "labels": {"values": glossary.VALUES, "treatment": glossary.TREATMENTS, "flags": glossary.FLAGS, "fields": FIELD_VALUES,
                   "variables": variable_titles(state.serving.engine)},
        "presets": presets,
        "docs": {"base": docs_base(state), "rules": rule_pages(state.serving.engine)},
    }


def workbench_routes(state: ServerState) -> list[BaseRoute]:
    """`/` (the page), `/workbench/<file>`, `/workbench/data.json`, and `/docs/` when a built site is configured."""
    assets = load_assets()
    presets = load_presets()

    def asset(name: str) -> Response:
        if name not in assets:
            raise HTTPException(404, f"no workbench file {name!r}")
        content, media = assets[name]
        return Response(content, media_type=media, headers=_HEADERS)

    async def index(request: Request) -> Response:
        return asset("index.html")

    async def asset_file(request: Request) -> Response:
        return asset(request.path_params["name"])

    async def workbench_data(request: Request) -> Response:
        return Response(dumps(data(state, presets)), media_type="application/json", headers={"Cache-Control": "no-cache"})

    routes: list[BaseRoute] = [Route("/", index, methods=["GET"]),
                               Route("/workbench/data.json", workbench_data, methods=["GET"]),
                               Route("/workbench/{name}", asset_file, methods=["GET"])]
    if state.docs_site is not None:
        routes.append(Mount(DOCS_PATH, app=StaticFiles(directory=state.docs_site, html=True), name="docs"))
    return routes
