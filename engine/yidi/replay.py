"""Replaying a decision log: decide every logged input again and report what would differ.

Why: before a policy change goes live, an officer wants to know which past
decisions it would change; after an incident, an auditor wants to confirm
that a logged decision is what the policy at that revision gives. The log
carries each input document, so replay needs nothing but the log and a
policy tree.

What counts as a difference: any field of the decision except
`policy.revision` (a new revision that decides the same is not a change),
with the trace compared by rule ids (so moving a rule to another line is not
a change, but a different rule firing is). A logged "cannot decide" (409)
must still be undecided with the same error code and rules. A record whose
stored input does not match its `input_sha256` is reported as tampered.
The command line around it is yidi.cli.replay.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .adapters import nhsa
from .audit import AuditError, canonical, input_hash, read_log
from .engine import Engine
from .errors import EvaluationError, InputError


@dataclass
class Difference:
    line: int
    request_id: str
    revision: str
    fields: list[tuple[str, Any, Any]]           # (path, logged, now)


@dataclass
class Report:
    records: int = 0
    revisions: set[str] = field(default_factory=set)
    differences: list[Difference] = field(default_factory=list)

    def to_json(self, now_revision: str) -> dict[str, Any]:
        return {"records": self.records, "logged_revisions": sorted(self.revisions), "revision": now_revision,
                "differ": len(self.differences),
                "differences": [{"line": d.line, "request_id": d.request_id, "logged_revision": d.revision,
                                 "fields": [{"path": p, "logged": a, "now": b} for p, a, b in d.fields]} for d in self.differences]}


def _comparable(answer: dict[str, Any]) -> Any:
    """The decision as plain JSON, without policy.revision and with the trace as rule ids."""
    plain = json.loads(canonical(answer))
    if isinstance(plain.get("policy"), dict):
        plain["policy"].pop("revision", None)
    if isinstance(plain.get("trace"), list):
        plain["trace"] = [e.get("rule") if isinstance(e, dict) else e for e in plain["trace"]]
    if "error" in plain:  # an undecided outcome: its code and the rules named
        plain = {"error": plain.get("error"), "rules": plain.get("rules", [])}
    return plain


def _diff(logged: Any, now: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(logged, dict) and isinstance(now, dict):
        out = []
        for key in sorted(set(logged) | set(now)):
            out += _diff(logged.get(key), now.get(key), f"{path}.{key}" if path else key)
        return out
    return [] if logged == now else [(path or "(answer)", logged, now)]


def _decide_again(engine: Engine, entry: dict[str, Any]) -> dict[str, Any]:
    document = entry.get("input")
    trace = "ids" if entry.get("trace") == "ids" else "full"
    try:
        if entry.get("input_format") == "nhsa":
            document = nhsa.translate(document)
        return engine.evaluate(document, trace)
    except InputError as exc:
        return {"error": "invalid-input", "rules": [p.path for p in exc.problems]}
    except EvaluationError as exc:
        return {"error": exc.code, "rules": list(exc.rules)}


class MalformedLog(AuditError):
    """A line of the log is not a decision record; the message names the file and line."""


def _record_problem(entry: dict[str, Any]) -> str | None:
    """What makes `entry` not a decision record as `audit.record` writes it, or None."""
    for name in ("input_sha256", "revision", "request_id"):
        if not isinstance(entry.get(name), str):
            return f"`{name}` is not a string"
    if "input" not in entry:
        return "no `input`"
    if entry.get("input_format", "contract") not in ("contract", "nhsa"):
        return "`input_format` is neither contract nor nhsa"
    if entry.get("trace", "full") not in ("full", "ids"):
        return "`trace` is neither full nor ids"
    if ("decision" in entry) == ("error" in entry):
        return "a record holds either `decision` or `error`"
    if "decision" in entry and not isinstance(entry["decision"], dict):
        return "`decision` is not an object"
    if "error" in entry:
        error = entry["error"]
        if not (isinstance(error, dict) and isinstance(error.get("error"), str) and isinstance(error.get("rules", []), list)):
            return "`error` is not an object with an `error` code and a `rules` list"
    return None


def replay(log: str | pathlib.Path, engine: Engine) -> Report:
    """Decide each record of `log` again with `engine`; MalformedLog naming the line if one is not a record."""
    report = Report()
    for line, entry in _records(log):
        problem = _record_problem(entry)
        if problem:
            raise MalformedLog(f"{log}:{line}: not a decision record: {problem}")
        report.records += 1
        revision = str(entry.get("revision"))
        report.revisions.add(revision)
        found: list[tuple[str, Any, Any]] = []
        if input_hash(entry.get("input")) != entry.get("input_sha256"):
            found.append(("input_sha256", entry.get("input_sha256"), input_hash(entry.get("input"))))
        logged = entry.get("decision") if "decision" in entry else entry.get("error", {})
        found += _diff(_comparable(logged or {}), _comparable(_decide_again(engine, entry)))
        if found:
            report.differences.append(Difference(line, str(entry.get("request_id")), revision, found))
    return report


def _records(log: str | pathlib.Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """read_log, a line that does not parse (torn, not JSON, not an object) reported as a malformed log."""
    try:
        yield from read_log(log)
    except AuditError as exc:  # read_log's own errors are all about a line; OSError passes through
        raise MalformedLog(str(exc)) from exc
