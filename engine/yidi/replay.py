"""`yidi replay LOG`: decide every logged input again and report what would differ.

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

Exit codes: 0 every decision reproduces · 1 some differ · 2 cannot replay
(unreadable log, invalid policies).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from dataclasses import dataclass, field
from typing import Any

from .adapters import nhsa
from .audit import AuditError, canonical, input_hash, read_log
from .documents import InputError
from .engine import Engine
from .evaluation.errors import EvaluationError


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


def replay(log: str | pathlib.Path, engine: Engine) -> Report:
    """Decide each record of `log` again with `engine`; AuditError if the log does not parse."""
    report = Report()
    for line, entry in read_log(log):
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


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("replay", parents=[common], help="用当前政策重新决定决定日志中的每一条，报告不同之处",
                              description="重新决定决定日志（yidi serve 写入）中的每个输入；有任何决定不同则以 1 退出")
    p.add_argument("log", metavar="LOG", help="决定日志文件（JSON Lines）")
    p.set_defaults(func=cmd_replay)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def cmd_replay(args: argparse.Namespace) -> int:
    from .cli import _load

    engine, _ = _load(args)
    if engine is None:
        return 2
    try:
        report = replay(args.log, engine)
    except (AuditError, OSError) as exc:
        print(f"yidi replay: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(report.to_json(engine.revision), ensure_ascii=False, indent=2))
    else:
        en = args.lang == "en"
        for d in report.differences:
            print(f"{args.log}:{d.line}: {d.request_id} ({'logged revision' if en else '原版本'} {d.revision})")
            for path, was, now in d.fields:
                print(f"  {path}: {_show(was)} → {_show(now)}")
        revisions = ", ".join(sorted(report.revisions)) or "-"
        print(f"replayed {report.records} record(s) (logged revision(s) {revisions}) with revision {engine.revision}: "
              f"{len(report.differences)} differ" if en else
              f"重放 {report.records} 条记录（原版本 {revisions}，现版本 {engine.revision}）：{len(report.differences)} 条不同")
    return 1 if report.differences else 0
