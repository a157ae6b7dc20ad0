"""`yidi serve`: the policy engine as an HTTP service (Starlette + uvicorn, extra `serve`).

Modules: `state` (what is served, atomic reload), `service` (deciding and
logging, no HTTP), `app` (routes, limits, formats, admin token), `openapi`
(the OpenAPI document, generated from schemas/), `metrics` (Prometheus
text), `deadlines` (slow clients: header and body deadlines on uvicorn's h11
protocol), `workbench` (the page at `/`, from `assets/`). The `yidi serve`
command that starts it is yidi.cli.serve. See docs/server.md and docs/workbench.md.

Importing this package does not import Starlette; `create_app` does.
"""

from __future__ import annotations

from typing import Any


def create_app(state: Any) -> Any:
    """The ASGI application for a `yidi.server.state.ServerState`."""
    from .app import create_app as build

    return build(state)


__all__ = ["create_app"]
