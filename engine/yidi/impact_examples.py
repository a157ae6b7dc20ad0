"""Why an example claim's decision changed: the steps of its trace that differ, shown once.

The comparison itself keeps only rule ids; for the few claims a report shows,
the claims file is read again and each is decided under both trees with the
full trace. A step differs when its rule applies under one tree only, or sets
another value, or reads another parameter value (20 → 15, with each value's
clause). Steps equal under both trees are left out: they did not make the
difference.
"""

from __future__ import annotations

import pathlib
from typing import Any

from .documents import load_json
from .errors import EvaluationError, InputError
from .evaluation.evaluator import Evaluator
from .policy.tree import PolicySet

SELECTION = "yidi.policy-selection"


def read_lines(path: pathlib.Path, numbers: set[int]) -> dict[int, bytes]:
    """The lines of `path` with the given (1-based) numbers."""
    found: dict[int, bytes] = {}
    if not numbers:
        return found
    last = max(numbers)
    with open(path, "rb") as stream:
        for number, line in enumerate(stream, 1):
            if number in numbers:
                found[number] = line
            if number >= last:
                break
    return found


def _steps(decision: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {entry["rule"]: entry for entry in (decision or {}).get("trace", ())}


def _parameters(entry: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in (entry or {}).get("parameters", ())}


def differing_steps(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The trace steps that differ between two full decisions, in the new trace's order, then steps
    that applied only under the old tree."""
    a, b = _steps(old), _steps(new)
    order = list(b) + [rule for rule in a if rule not in b]
    out = []
    for rule in order:
        x, y = a.get(rule), b.get(rule)
        if rule == SELECTION and x is not None and y is not None and x.get("value") == y.get("value"):
            continue
        px, py = _parameters(x), _parameters(y)
        params = []
        for name in sorted(set(px) | set(py)):
            vx, vy = px.get(name), py.get(name)
            if vx is None or vy is None or vx.get("value") != vy.get("value") or vx.get("source") != vy.get("source"):
                params.append({"name": name, "old": None if vx is None else vx.get("value"), "new": None if vy is None else vy.get("value"),
                               "old_source": (vx or {}).get("source"), "new_source": (vy or {}).get("source")})
        same_value = x is not None and y is not None and x.get("value") == y.get("value")
        if same_value and not params:
            continue
        entry = y or x
        out.append({"rule": rule, "title": entry.get("title") or entry.get("explanation"), "source": entry.get("source"),
                    "variable": entry.get("variable"), "applies": "both" if x and y else "new" if y else "old",
                    "old": None if x is None else x.get("value"), "new": None if y is None else y.get("value"),
                    "parameters": params})
    return out


def _decide(evaluator: Evaluator, raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    try:
        return evaluator.evaluate(raw, "full"), None
    except EvaluationError as exc:
        return None, f"{exc.code}: {exc.message_zh}"


def explain(old: PolicySet, new: PolicySet, claims: pathlib.Path, records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """claim line → the differing steps of its trace (for each record shown in a report)."""
    return explain_lines(old, new, read_lines(claims, {r["line"] for r in records}), records)


def explain_lines(old: PolicySet, new: PolicySet, lines: dict[int, bytes], records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """As `explain`, with the records' claims given as {line: JSON text} (yidi.spark collects them from the table)."""
    evaluators = (Evaluator(old), Evaluator(new))
    out: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        line = lines.get(record["line"])
        if line is None:
            continue
        try:
            raw = load_json(line)
        except InputError:
            continue                 # the file changed since the run: show the example without its steps
        (a, error_a), (b, error_b) = _decide(evaluators[0], raw), _decide(evaluators[1], raw)
        steps = differing_steps(a, b)
        for side, error in (("old", error_a), ("new", error_b)):
            if error:
                steps.append({"rule": None, "title": "政策无法决定", "source": None, "variable": None, "applies": side,
                              "old": error if side == "old" else None, "new": error if side == "new" else None, "parameters": []})
        out[str(record["line"])] = steps
    return out
