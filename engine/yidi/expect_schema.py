"""The types a test case's `expect:` must have, derived from the answer's own schema.

A test file's schema only says `expect` is a mapping: `reduction_pp: "15"`
passed `yidi test` (the runner compares numbers as text) and `十五` failed
only when run. `yidi validate` checks every expectation against the answer
it describes — a decision for a claim, a filing answer for a filing request
(`schemas/decision.schema.json`) — with the enumerated values the engine
declares for its outputs (`policy/decision_model.py`), so a misspelt
treatment or a number in quotes is an error at its line and column.

An expectation is a subset of the answer: nothing is required, objects match
on the keys given; unknown keys are errors, as everywhere.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from .resources import schema_file
from .policy.decision_model import CLAIM, FILING_REQUEST, OUTPUTS

_ANSWER = {CLAIM: "decision", FILING_REQUEST: "filing_answer"}


def _relaxed(node: Any) -> Any:
    """A copy of `node` with nothing required and no minimum counts (an expectation is a subset)."""
    if isinstance(node, dict):
        return {k: _relaxed(v) for k, v in node.items() if k not in ("required", "minItems", "minProperties")}
    if isinstance(node, list):
        return [_relaxed(v) for v in node]
    return node


@functools.cache
def expectation_schema() -> dict[str, Any]:
    """A schema for a whole test file that checks each case's `expect` against its input's kind."""
    answers = json.loads(schema_file("decision.schema.json").read_text(encoding="utf-8"))
    defs = _relaxed(copy.deepcopy(answers["$defs"]))
    for output in OUTPUTS:
        if output.type.enum is None or "." in output.name:
            continue
        prop = defs[_ANSWER[output.kind]]["properties"].get(output.name)
        if prop is not None:
            prop["enum"] = sorted(output.type.enum) + [None]
    request = {"properties": {"input": {"properties": {"kind": {"const": FILING_REQUEST}}, "required": ["kind"]}}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:yidi:schema:policy-test-expectations",
        "title": "测试用例的期望结果",
        "type": "object",
        "properties": {"cases": {"type": "array", "items": {
            "type": "object",
            "if": request,
            "then": {"properties": {"expect": {"$ref": "#/$defs/filing_answer", "title": "期望结果（备案办理答复）"}}},
            "else": {"properties": {"expect": {"$ref": "#/$defs/decision", "title": "期望结果（结算决定）"}}},
        }}},
        "$defs": defs,
    }
