"""Deciding requests: parse, translate, evaluate, log — with no HTTP in sight.

Kept apart from the web framework so that the rules of the service (what
status each outcome gets, that a decision is logged before anyone sees it,
that a batch item's failure is that item's answer) are plain functions over
bytes and dicts, testable without a server.

Status codes: 200 a decision; 400 the body is not JSON; 422 the document
breaks the contract (every offending JSON path listed — platform field
names for NHSA input); 409 the policy cannot decide (rule conflict, no
applicable rule, missing parameter value — the rule ids and positions
listed), logged like a decision since it is an outcome of the policy;
503 the decision log cannot be written, so nothing is answered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import msgspec

from ..adapters import nhsa
from ..audit import AuditError, record
from ..documents import load_json
from ..errors import EvaluationError, InputError, InputProblem, error_body
from .state import Serving, ServerState

log = logging.getLogger("yidi.server")

CONTRACT, NHSA = "contract", "nhsa"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


def parse(body: bytes) -> Any:
    """The request body as JSON (numbers exact); InputError if it is not JSON."""
    if not body.strip():
        raise InputError([InputProblem("", "请求体为空，应为 JSON 文档", "the request body is empty; a JSON document is expected")])
    return load_json(body)


def malformed(exc: InputError) -> Answer:
    return Answer(400, exc.body("malformed-json"))


def decide(state: ServerState, serving: Serving, raw: Any, input_format: str, trace: str,
           request_id: str, bound_at: str, render: str = CONTRACT, client: str | None = None) -> Answer:
    """Decide one parsed document on `serving` (the engine bound to this request) and log the outcome."""
    kind = raw.get("kind", "claim") if isinstance(raw, dict) else "claim"
    kind = kind if kind in ("claim", "filing_request") else "claim"
    try:
        document = nhsa.translate(raw) if input_format == NHSA else raw
        answer = serving.engine.evaluate(document, trace)
    except InputError as exc:
        state.metrics.decision(kind, "invalid-input")
        return Answer(422, exc.body())
    except EvaluationError as exc:
        body = error_body(exc)
        try:
            state.audit.append(record(request_id=request_id, document=raw, input_format=input_format,
                                      revision=serving.revision, trace=trace, error=body, time=bound_at, client=client))
        except AuditError as audit_exc:
            return _audit_down(audit_exc)
        state.metrics.decision(kind, exc.code)
        return Answer(409, {**body, "revision": serving.revision})
    except Exception:  # a bug in the engine must cost one request, never the process
        log.exception("request %s: unexpected error while deciding", request_id)
        state.metrics.decision(kind, "internal-error")
        return Answer(500, {"error": "internal-error", "message": "内部错误，已记录", "message_en": "internal error; logged"})
    try:
        state.audit.append(record(request_id=request_id, document=raw, input_format=input_format,
                                  revision=serving.revision, trace=trace, decision=answer, time=bound_at, client=client))
    except AuditError as exc:
        return _audit_down(exc)
    if "claim_id" in answer:
        state.metrics.decision("claim", str(answer.get("route")))
    else:
        state.metrics.decision("filing_request", "allowed" if answer.get("allowed") else "refused")
    return Answer(200, nhsa.render_decision(answer) if render == NHSA else answer)


def _audit_down(exc: AuditError) -> Answer:
    log.error("decision log unavailable: %s", exc)
    return Answer(503, {"error": "audit-unavailable", "message": "决定日志不可写，未作决定",
                        "message_en": "the decision log cannot be written; nothing was decided"})


def decide_one(state: ServerState, body: bytes, input_format: str, trace: str, request_id: str, render: str,
               client: str | None = None) -> Answer:
    """POST /v1/evaluate: the engine is bound once, before anything else happens."""
    serving, bound_at = state.bind()
    try:
        raw = parse(body)
    except InputError as exc:
        return malformed(exc)
    return decide(state, serving, raw, input_format, trace, request_id, bound_at, render, client)


def _answered(answer: Answer, index: int) -> Any:
    if answer.status == 200:
        return answer.body
    return {"index": index, "status": answer.status, **answer.body}


def _split_array(body: bytes) -> list[bytes] | None:
    """The items of a JSON array as raw text, in one fast pass (msgspec), or None if that pass cannot tell.

    Parsing a 16 MB array with the standard library is one C call that holds
    the interpreter for a quarter of a second or more — every other request,
    `/healthz` included, waits. Split first, each item is parsed on its own
    (and the interpreter changes hands between items).
    """
    try:
        return [bytes(item) for item in _RAW_ARRAY.decode(body)]
    except (msgspec.MsgspecError, RecursionError):
        return None


_RAW_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])


def _item(raw: bytes, limit: int) -> Any:
    """One batch item parsed, or the Answer it gets: too large for a document (413), not JSON (400)."""
    if len(raw) > limit:
        return Answer(413, {"error": "payload-too-large", "limit": limit, "message": f"单项超过 {limit} 字节的限制",
                            "message_en": f"the item exceeds the {limit}-byte limit of one document"})
    try:
        return load_json(raw)
    except InputError as exc:
        return malformed(exc)


def decide_batch(state: ServerState, body: bytes, input_format: str, ndjson: bool, trace: str,
                 request_id: str, render: str, client: str | None = None) -> tuple[Answer, list[Any]]:
    """POST /v1/evaluate/batch: every item on the same engine, answers in order, bad items answered with their errors.

    Each item is held to the one-document body limit (`max_body`) and parsed on its own.
    """
    serving, bound_at = state.bind()
    raws = [line for line in body.split(b"\n") if line.strip()] if ndjson else _split_array(body)
    items: list[Any]
    if raws is None:  # not an array msgspec could split: let the standard parser say what is wrong
        try:
            parsed = parse(body)
        except InputError as exc:
            return malformed(exc), []
        if not isinstance(parsed, list):
            return Answer(422, {"error": "invalid-input", "problems": [{
                "path": "", "message": "批量请求体应为 JSON 数组（或使用 application/x-ndjson 每行一份）",
                "message_en": "a batch body must be a JSON array (or application/x-ndjson, one document per line)"}]}), []
        items = parsed
    elif len(raws) <= state.max_batch_items:
        items = [_item(raw, state.max_body) for raw in raws]
    else:
        items = raws
    if len(items) > state.max_batch_items:
        return Answer(413, {"error": "too-many-items", "limit": state.max_batch_items,
                            "message": f"批量最多 {state.max_batch_items} 项", "message_en": f"at most {state.max_batch_items} items per batch"}), []
    out = []
    for index, item in enumerate(items):
        if isinstance(item, Answer):
            out.append(_answered(item, index))
            continue
        answer = decide(state, serving, item, input_format, trace, f"{request_id}#{index}", bound_at, render, client)
        if answer.status == 503:  # no more decisions without a log; those answered so far are logged
            return answer, []
        out.append(_answered(answer, index))
    return Answer(200, None), out
