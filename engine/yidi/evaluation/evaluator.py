"""Evaluate a validated document against a compiled policy set.

Steps, each cheap: pick the insured place's policy; flatten the document
into path → value; pick the parameter values in force on the settlement
date; run the policy's compiled function; turn its variables and the list
of rules that fired into the contract's decision with its trace.
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from ..documents import load_json, normalize_document
from ..fastdecode import convert_fast, decode_fast
from ..policy.decision_model import CLAIM, FILING_REQUEST, KINDS, SETTLEMENT_DATE, input_types
from ..policy.tree import PolicySet
from .compact import Builder, TraceTable
from .decision import COMPACT, FULL, IDS, TRACES, Explainer
from ..errors import EvaluationError


def _flattener(paths: Iterable[str]):
    """Generate a function turning a normalised document into {path: value}."""
    lines = ["def flatten(doc):", "    d = {}"]
    for path in paths:
        parent, _, key = path.rpartition(".")
        if not parent:
            lines.append(f"    d[{path!r}] = doc.get({key!r})")
        else:
            lines.append(f"    o = d[{parent!r}]")
            lines.append(f"    d[{path!r}] = o.get({key!r}) if o is not None else None")
    lines.append("    return d")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<yidi:flatten>", "exec"), namespace)  # noqa: S102 — generated from schema paths
    return namespace["flatten"]


_NONE: frozenset[str] = frozenset()

ROUTE_READS = ("insured.region", "kind")
"""The keys `_version_for` reads of every document to find its policy (with its kind's settlement date)."""


class _Route(NamedTuple):
    """What deciding a document of one kind from one insured region needs (`Evaluator._route`), per parameter
    version where it varies."""

    programs: tuple
    starts: tuple            # the versions' first days
    versions: tuple          # the parameter values of each version
    explainers: tuple
    lookup: Any              # the benefit-table lookup
    how: str                 # how the policy was chosen
    settled: str             # the input holding the settlement date
    reads: tuple             # every key deciding it reads, per version (`document_reads`)


class RulesMet(NamedTuple):
    """What the static checks read of a decision: the policy that decided, the answer's `trace` with rule ids
    (`trace="ids"`) and whether its flags include floor_conflict (`Explainer.trace_ids`)."""

    policy_id: str
    trace: list[str]
    floor_conflict: bool


class Evaluator:
    """Decides documents with one PolicySet; holds no per-call state (thread-safe)."""

    def __init__(self, policies: PolicySet):
        self.policies = policies
        self._flatten = {}
        self._lookups = {}
        self._explainers: dict[tuple[str, str, int], Explainer] = {}
        # (insured region, kind) → what deciding it needs; an idempotent memo, safe to share between threads
        self._routes: dict[tuple[str, str], _Route] = {}
        for kind in KINDS:  # every program reads the contract's inputs: no policy needs loading for this
            self._flatten[kind] = _flattener(input_types(kind))
        self._table = Builder(self._every_explainer, policies.revision)

    def _every_explainer(self) -> dict[tuple[str, str, int], Explainer]:
        """Every policy's explainers, for the compact-trace table (which indexes all of them)."""
        for compiled in self.policies.policies.values():
            for kind in compiled.programs:
                for version in range(len(compiled.versions.starts)):
                    self._explainer(compiled, kind, version)
        return dict(self._explainers)

    def trace_table(self) -> TraceTable:
        """The rule table compact traces index into; built on first use."""
        return self._table()

    def evaluate(self, raw: Any, trace: str = FULL) -> dict[str, Any]:
        """Validate `raw` (InputError if invalid) and decide it (EvaluationError if the policy cannot).

        Valid documents take the fast path (`fastdecode.convert_fast`); anything it
        does not accept goes through the thorough validator, which explains every problem.
        """
        flat = convert_fast(raw)
        if flat is None:
            flat = self.flatten(normalize_document(raw))
        return self.evaluate_flat(flat, trace)

    def evaluate_json(self, text: bytes | str, trace: str = FULL) -> dict[str, Any]:
        """Decide a document given as JSON text; the same answers and errors as `evaluate(load_json(text))`.

        Valid documents are decoded straight into typed values (`fastdecode`);
        anything else is parsed and checked by the thorough path, which explains.
        """
        flat = decode_fast(text)
        if flat is None:
            return self.evaluate(load_json(text), trace)
        return self.evaluate_flat(flat, trace)

    def flatten(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """A normalised document as {path: value}, the form compiled policies read."""
        d = self._flatten[doc["kind"]](doc)
        d["kind"] = doc["kind"]
        d["id"] = doc["id"]
        return d

    def evaluate_normalized(self, doc: Mapping[str, Any], trace: str = FULL) -> dict[str, Any]:
        """Decide a document already normalised (yidi diff validates once, then decides under two policy sets)."""
        return self.evaluate_flat(self.flatten(doc), trace)

    def evaluate_flat(self, d: dict[str, Any], trace: str = FULL) -> dict[str, Any]:
        if trace not in TRACES:
            raise ValueError(f"trace must be one of {TRACES}, not {trace!r}")
        if trace == COMPACT and self._table.table is None:
            self._table()
        values, explainer, how = self._run(d)
        if d["kind"] == CLAIM:
            return explainer.decision(d, values, how, trace)
        return explainer.answer(d, values, how, trace)

    def _run(self, d: dict[str, Any]) -> tuple[dict[str, Any], Explainer, str]:
        """Run the program for `d`: its variables, and the explainer and selection that shape the answer."""
        route, on, version = self._version_for(d)
        programs, starts, versions, explainers, lookup, how, settled, _ = route
        program = programs[version]
        try:
            values = program.function(d, versions[version], lookup, on)
        except EvaluationError:
            raise
        except Exception as exc:  # a rule failed at run time: say which one
            raise _runtime_error(program, exc) from exc
        return values, explainers[version], how

    def _version_for(self, d: dict[str, Any]) -> tuple[_Route, Any, int]:
        """The route of `d` (`_route`), its settlement date and the parameter version in force then: every key of
        `d` read before its program runs (`ROUTE_READS`)."""
        key = (d["insured.region"], d["kind"])
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = self._route(*key)
        on = d[route.settled]
        return route, on, bisect.bisect_right(route.starts, on) - 1

    def document_reads(self, d: dict[str, Any]) -> frozenset[str]:
        """Every key of the flat document `d` that deciding it can read (routing, then its program's own),
        without deciding it: what the static checks compare situations by (`situation_memo`)."""
        route, _, version = self._version_for(d)
        return route.reads[version]

    def rules_met(self, raw: Any) -> tuple[RulesMet, frozenset[str]]:
        """For the static checks: what the answer says of its rules (`RulesMet`: the answer itself is not built)
        and the ids of the rules that took effect — fired, or met a value the policies leave undetermined (a
        rule delegating to a lower level)."""
        d = convert_fast(raw)
        if d is None:
            d = self.flatten(normalize_document(raw))
        return self._rules_met(d)

    def rules_met_json(self, text: bytes) -> tuple[RulesMet, frozenset[str]]:
        """`rules_met` of a document given as JSON text (the static checks keep theirs as text: cheaper to vary)."""
        d = decode_fast(text)
        return self._rules_met(d) if d is not None else self.rules_met(load_json(text))

    def rules_met_flat(self, d: dict[str, Any]) -> tuple[RulesMet, frozenset[str]]:
        """`rules_met` of a document already flat, as `fastdecode` makes it."""
        return self._rules_met(d)

    def _rules_met(self, d: dict[str, Any]) -> tuple[RulesMet, frozenset[str]]:
        values, explainer, how = self._run(d)
        trace, floor_conflict = explainer.trace_ids(d, values, how)
        touched = values["@touched"]    # None, the usual case: no rule met an undetermined value
        return (RulesMet(explainer.policy_block["id"], trace, floor_conflict),
                frozenset(explainer.ids[i] for i in explainer.program.rules_touched(touched)) if touched is not None else _NONE)

    def _explainer(self, compiled, kind: str, version: int) -> Explainer:
        """Built on first use: a tree of 400 regions need not word the answers of regions nobody asks about."""
        key = (compiled.id, kind, version)
        found = self._explainers.get(key)
        if found is None:
            found = self._explainers[key] = Explainer(compiled, kind, version, self.policies.revision)
        return found

    def _lookup(self, compiled):
        found = self._lookups.get(compiled.id)
        if found is None:
            found = self._lookups[compiled.id] = compiled.benefits.function()
        return found

    def _route(self, region: str, kind: str) -> _Route:
        """Everything a document of `kind` from `region` needs, looked up once per (region, kind)."""
        compiled, how = self.policies.for_region(region)
        versions = compiled.versions
        explainers = tuple(self._explainer(compiled, kind, v) for v in range(len(versions.starts)))
        reads = tuple(frozenset((*ROUTE_READS, SETTLEMENT_DATE[kind], *program.document_reads)) for program in compiled.by_version[kind])
        return _Route(compiled.by_version[kind], versions.starts, versions.values, explainers, self._lookup(compiled), how,
                      SETTLEMENT_DATE[kind], reads)


def _runtime_error(program, exc: Exception) -> EvaluationError:
    tb = sys.exc_info()[2]
    rule_index = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith("<yidi:"):
            rule_index = program.line_rules.get(tb.tb_lineno, rule_index)
        tb = tb.tb_next
    if rule_index is None:
        return EvaluationError(f"求值出错：{exc}", f"evaluation failed: {exc}")
    rule = program.rules[rule_index]
    where = f"{rule.position.file}:{rule.position.line}"
    return EvaluationError(f"规则 {rule.id}（{where}）求值出错：{type(exc).__name__}: {exc}",
                           f"rule {rule.id} ({where}) failed: {type(exc).__name__}: {exc}", (rule.id,), (where,))


__all__ = ["Evaluator", "FULL", "IDS", "COMPACT", "FILING_REQUEST"]
