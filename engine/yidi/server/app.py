"""The HTTP application: Starlette routes over `service` and `state`.

Handlers do only HTTP work — read the body within its size limit, pick
formats from Content-Type and Accept, check the admin token — and hand the
deciding to `service` in a worker thread, so a slow fsync or a large batch
never stalls the event loop. No handler opens a file named by a request:
the only files read are the server's configured policy tree and its own
decision log (and, if configured, a built docs site under /docs: see
`workbench`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hmac
import logging
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..adapters import nhsa
from ..jsonout import dump_bytes, dump_lines, dumps
from . import service
from .openapi import JSON, NDJSON, openapi_text
from .state import ServerState
from .workbench import workbench_routes

log = logging.getLogger("yidi.server")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_CLIENT = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")  # X-Yidi-Client, e.g. "workbench"; recorded as the log's "client"


class HttpError(Exception):
    def __init__(self, status: int, body: dict[str, Any], close: bool = False):
        self.status, self.body, self.close = status, body, close


def json_response(status: int, body: Any, media_type: str = JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body) + "\n", status_code=status, media_type=media_type, headers=headers)


async def read_body(request: Request, limit: int, seconds: float) -> bytes:
    """The body, refusing (413) as soon as it is known to exceed `limit` — before reading it all if declared —
    and (408) if it has not all arrived within `seconds`: a client sending a byte at a time holds no handler for long."""
    declared = request.headers.get("content-length")
    too_large = HttpError(413, {"error": "payload-too-large", "limit": limit,
                                "message": f"请求体超过 {limit} 字节的限制", "message_en": f"the request body exceeds the {limit}-byte limit"},
                          close=True)
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large
                chunks.append(chunk)
    except TimeoutError:
        raise HttpError(408, {"error": "request-timeout", "limit_seconds": seconds,
                              "message": f"请求体未在 {seconds:g} 秒内传完", "message_en": f"the request body did not arrive within {seconds:g} s"},
                        close=True) from None
    return b"".join(chunks)


def _media(request: Request) -> str:
    return request.headers.get("content-type", JSON).split(";")[0].strip().lower() or JSON


def _input_format(request: Request, allowed: tuple[str, ...]) -> str:
    media = _media(request)
    if media not in allowed:
        raise HttpError(415, {"error": "unsupported-media-type", "message": f"不支持的 Content-Type：{media}（可用：{'、'.join(allowed)}）",
                              "message_en": f"unsupported Content-Type {media}; use one of {', '.join(allowed)}"})
    return service.NHSA if media == nhsa.MEDIA_TYPE else service.CONTRACT


def _render(request: Request) -> str:
    return service.NHSA if nhsa.MEDIA_TYPE in request.headers.get("accept", "") else service.CONTRACT


def _trace(request: Request, default: str) -> str:
    trace = request.query_params.get("trace", default)
    if trace not in ("full", "ids"):
        raise HttpError(422, {"error": "invalid-input", "problems": [
            {"path": "trace", "message": "trace 应为 full 或 ids", "message_en": "trace must be full or ids"}]})
    return trace


def _client(request: Request) -> str | None:
    given = request.headers.get("x-yidi-client", "")
    return given if _CLIENT.fullmatch(given) else None


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.yidi
    return state


async def evaluate(request: Request) -> Response:
    state = _state(request)
    input_format = _input_format(request, (JSON, nhsa.MEDIA_TYPE))
    render, trace = _render(request), _trace(request, "full")
    body = await read_body(request, state.max_body, state.body_timeout)
    answer = await run_in_threadpool(service.decide_one, state, body, input_format, trace, request.scope["yidi.request_id"], render,
                                     _client(request))
    media = nhsa.MEDIA_TYPE if render == service.NHSA and answer.status == 200 and "setlinfo" in answer.body else JSON
    return json_response(answer.status, answer.body, media)


async def evaluate_batch(request: Request) -> Response:
    state = _state(request)
    media = _media(request)
    input_format = _input_format(request, (JSON, nhsa.MEDIA_TYPE, NDJSON))
    render, trace = _render(request), _trace(request, "ids")
    body = await read_body(request, state.max_batch_body, state.body_timeout)
    answer, items = await run_in_threadpool(service.decide_batch, state, body, input_format, media == NDJSON, trace,
                                            request.scope["yidi.request_id"], render, _client(request))
    if answer.status != 200:
        return json_response(answer.status, answer.body)
    # 10,000 answers take a while to write: not on the event loop
    content = await run_in_threadpool(dump_lines if media == NDJSON else dump_bytes, items)
    return Response(content if media == NDJSON else content + b"\n", media_type=NDJSON if media == NDJSON else JSON)


async def validate(request: Request) -> Response:
    """Check the server's own policy tree on disk; the request body, if any, is ignored."""
    state = _state(request)
    result = await run_in_threadpool(state.check)
    return json_response(200, {**result.to_json(), "serving": state.serving.revision, "check": state.check_level})


async def regions(request: Request) -> Response:
    serving = _state(request).serving
    return json_response(200, {"revision": serving.revision, "since": serving.since, "regions": serving.engine.regions()})


async def parameters(request: Request) -> Response:
    serving = _state(request).serving
    region, on_text = request.path_params["region"], request.query_params.get("on")
    problems = []
    on = None
    if on_text is not None:
        try:
            on = datetime.date.fromisoformat(on_text) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", on_text) else None
        except ValueError:
            pass
        if on is None:
            problems.append({"path": "on", "message": f"日期应为有效的 YYYY-MM-DD：{on_text!r}", "message_en": f"expected a valid YYYY-MM-DD date: {on_text!r}"})
    if not re.fullmatch(r"[1-9][0-9]{5}", region):
        problems.append({"path": "region", "message": f"区划应为6位医保区划代码：{region!r}", "message_en": f"region must be a 6-digit code: {region!r}"})
    if problems:
        return json_response(422, {"error": "invalid-input", "problems": problems})
    return json_response(200, serving.engine.parameters(region, on))


async def reload(request: Request) -> Response:
    state = _state(request)
    if state.token is None:
        raise HttpError(403, {"error": "admin-disabled", "message": "未配置管理令牌（--token-file 或 YIDI_ADMIN_TOKEN），管理接口已停用",
                              "message_en": "no admin token configured (--token-file or YIDI_ADMIN_TOKEN); admin endpoints are disabled"})
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), state.token.encode()):
        raise HttpError(401, {"error": "unauthorized", "message": "缺少或错误的管理令牌", "message_en": "missing or wrong bearer token"})
    ok, body = await run_in_threadpool(state.reload, "http")
    log.warning("reload via HTTP: %s", "now serving " + body["revision"] if ok else "refused, still serving " + body["serving"])
    return json_response(200 if ok else 409, body)


async def healthz(request: Request) -> Response:
    return json_response(200, {"status": "ok"})


async def readyz(request: Request) -> Response:
    state = _state(request)
    if state.audit.failed:
        return json_response(503, {"status": "not-ready", "reason": f"decision log: {state.audit.failed}"})
    return json_response(200, {"status": "ready", "revision": state.serving.revision, "since": state.serving.since})


async def metrics(request: Request) -> Response:
    state = _state(request)
    return Response(state.metrics.render(state.serving.revision), media_type="text/plain; version=0.0.4")


async def openapi(request: Request) -> Response:
    return Response(openapi_text(), media_type=JSON)


ROUTES: list[tuple[str, Callable[[Request], Awaitable[Response]], str]] = [
    ("/v1/evaluate", evaluate, "POST"), ("/v1/evaluate/batch", evaluate_batch, "POST"), ("/v1/validate", validate, "POST"),
    ("/v1/regions", regions, "GET"), ("/v1/regions/{region}/parameters", parameters, "GET"),
    ("/v1/admin/reload", reload, "POST"), ("/healthz", healthz, "GET"), ("/readyz", readyz, "GET"),
    ("/metrics", metrics, "GET"), ("/openapi.json", openapi, "GET"),
]
_LABELS = {endpoint: path for path, endpoint, _ in ROUTES}


class Observe:
    """Per request: a request id (X-Request-Id, echoed), a JSON answer for any HTTP error, metrics for everything."""

    def __init__(self, app: ASGIApp, state: ServerState):
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope["yidi.request_id"] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = _LABELS.get(scope.get("endpoint"), "other")  # type: ignore[arg-type]
            self.state.metrics.request(scope["method"], route, status, time.perf_counter() - started)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    if exc.close:  # the rest of the request may still be arriving: end the connection after this answer
        headers["Connection"] = "close"
    return json_response(exc.status, exc.body, headers=headers or None)


async def _starlette_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    return json_response(status, {"error": {404: "not-found", 405: "method-not-allowed"}.get(status, "http-error"),
                                  "message_en": str(getattr(exc, "detail", ""))})


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return json_response(500, {"error": "internal-error", "message": "内部错误，已记录", "message_en": "internal error; logged"})


def create_app(state: ServerState) -> Starlette:
    """The ASGI app; SIGHUP reloads the policy tree exactly like POST /v1/admin/reload (no token needed: it is local)."""
    from starlette.exceptions import HTTPException

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()

        def on_hup() -> None:
            async def run() -> None:
                ok, body = await run_in_threadpool(state.reload, "SIGHUP")
                log.warning("reload on SIGHUP: %s", "now serving " + body["revision"] if ok else f"refused ({len(body['diagnostics'])} problem(s)), still serving " + body["serving"])
            loop.create_task(run())

        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, on_hup)
        try:
            yield
        finally:  # uvicorn re-raises SIGTERM after shutdown, so close (and sync) the log here
            state.audit.close()

    app = Starlette(routes=[*(Route(path, endpoint, methods=[method]) for path, endpoint, method in ROUTES), *workbench_routes(state)],
                    exception_handlers={HttpError: _http_error, HTTPException: _starlette_error, Exception: _crash},
                    lifespan=lifespan)
    app.state.yidi = state
    app.add_middleware(Observe, state=state)
    return app
