"""What a region page states, taken from the compiled policy itself.

Nothing here is written by hand per region: reductions are found by reading
the rules that set `reduction_pp`, filing rules by the variables they set,
validity windows by asking the policy to answer a filing request. A new
region's page therefore says exactly what its YAML says, and a page cannot
drift from the rules the engine runs.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from ..dsl import ast
from ..dsl.errors import ExpressionError
from ..dsl.parser import parse
from ..engine import Engine
from ..errors import EvaluationError
from ..policy.model import Parameter, ParameterValue, Rule
from ..policy.tree import CompiledPolicy, PolicySet
from .glossary import FILING_TYPES, TREATMENTS

# Variables that describe filings (claims) and the answers to filing requests.
FILING_CLAIM_VARIABLES = ("filing_end", "filing_in_window", "filing_matches_place", "filing_retroactive", "filing_status")
FILING_REQUEST_VARIABLES = ("allowed", "earliest_date", "reason", "validity.start_date", "validity.end_date", "filed_region")

# Visit places used to build example documents: big cities in different provinces.
VISIT_PLACES = ("110105", "310104", "440106", "330106")


def policy_order(policies: PolicySet) -> list[CompiledPolicy]:
    """National first, then by region code (a province before its cities)."""
    return sorted(policies.policies.values(), key=lambda c: (c.id != "national", c.layered.policy.region))


def insured_region(policies: PolicySet, policy_id: str) -> str | None:
    """A valid insured region whose most specific policy is `policy_id` (a city of a province policy)."""
    region = policies.policies[policy_id].layered.policy.region
    if region == "000000":
        candidates = [f"{p:02d}0100" for p in range(11, 66)]
    elif region.endswith("0000"):
        candidates = [region[:2] + f"{c:02d}00" for c in range(1, 100)] + [region]
    else:
        candidates = [region] + [region[:4] + f"{d:02d}" for d in range(1, 100)]
    for candidate in candidates:
        if candidate[0] != "0" and policies.for_region(candidate)[0].id == policy_id:
            return candidate
    return None


def visit_place(insured: str) -> str:
    """A visit region in another province than `insured`."""
    return next(v for v in VISIT_PLACES if v[:2] != insured[:2])


def province_of(region: str) -> str:
    return region[:2] + "0000"


def rule_nodes(rule: Rule):
    """Every AST node of a rule's condition and value (literals and unparsable text have none)."""
    for expr in (rule.when, rule.value):
        if expr is None or expr.is_literal:
            continue
        try:
            node = parse(expr.text)
        except ExpressionError:
            continue
        yield from ast.walk(node)


def param_paths(rule: Rule) -> set[str]:
    """Names of the parameters a rule reads."""
    return {".".join(sub.parts[1:]) for sub in rule_nodes(rule) if isinstance(sub, ast.Path) and sub.parts[0] == "param"}


@dataclass(frozen=True)
class ReductionRow:
    treatment: str                     # a treatment value, or "" for other situations
    rule: Rule
    parameter: Parameter | None        # the parameter the rule reads, when it reads one
    values: tuple[ParameterValue, ...]


def reductions(compiled: CompiledPolicy) -> tuple[list[ReductionRow], list[ReductionRow]]:
    """Rules setting `reduction_pp`: (by treatment standard, in contract order; other situations)."""
    by_treatment: dict[str, ReductionRow] = {}
    others: list[ReductionRow] = []
    layered = compiled.layered
    for rule in layered.rules:
        if rule.sets != "reduction_pp":
            continue
        param = None
        if not rule.value.is_literal:
            try:
                node = parse(rule.value.text)
            except ExpressionError:
                node = None
            if isinstance(node, ast.Path) and node.parts[0] == "param":
                param = layered.parameters.get(".".join(node.parts[1:]))
        row_values = param.values if param is not None else ()
        treatment = _treatment_condition(rule)
        if treatment is not None and treatment not in by_treatment:
            by_treatment[treatment] = ReductionRow(treatment, rule, param, row_values)
        else:
            others.append(ReductionRow("", rule, param, row_values))
    ordered = [by_treatment[t] for t in TREATMENTS if t in by_treatment]
    return ordered, others


def _treatment_condition(rule: Rule) -> str | None:
    """`treatment == "X"` → X; anything more specific is not a plain by-treatment row."""
    if rule.when is None:
        return None
    try:
        node = parse(rule.when.text)
    except ExpressionError:
        return None
    if (isinstance(node, ast.Binary) and node.op == "==" and isinstance(node.left, ast.Path)
            and node.left.dotted == "treatment" and isinstance(node.right, ast.Literal)):
        return str(node.right.value)
    return None


def filing_rules(compiled: CompiledPolicy) -> tuple[list[Rule], list[Rule], list[Parameter]]:
    """(rules about filings on claims, rules answering filing requests, parameters they read)."""
    layered = compiled.layered
    request_vars = set(FILING_REQUEST_VARIABLES) | {v.name for v in layered.variables.values() if v.for_kind == "filing_request"}
    on_claims = [r for r in layered.rules if r.sets in FILING_CLAIM_VARIABLES]
    on_requests = [r for r in layered.rules if r.sets in request_vars]
    names: set[str] = set()
    for rule in on_claims + on_requests:
        names |= param_paths(rule)
    params = [layered.parameters[n] for n in sorted(names) if n in layered.parameters]
    return on_claims, on_requests, params


def retro_rules(compiled: CompiledPolicy) -> list[Rule]:
    """Rules about filings made after care began (补办): they decide or test `retroactive`, or read `filing.filed_on`."""
    found = []
    for rule in compiled.layered.rules:
        if rule.sets == "filing_retroactive" or (rule.sets == "filing_status" and rule.value.text.strip() == "retroactive"):
            found.append(rule)
            continue
        if any(_is_retro(sub) for sub in rule_nodes(rule)):
            found.append(rule)
    return found


def _is_retro(node: ast.Node) -> bool:
    if isinstance(node, ast.Path):
        return node.dotted == "filing.filed_on"
    return (isinstance(node, ast.Binary) and node.op == "==" and isinstance(node.left, ast.Path)
            and node.left.dotted == "filing_status" and isinstance(node.right, ast.Literal) and node.right.value == "retroactive")


@dataclass(frozen=True)
class Validity:
    filing_type: str
    start: datetime.date
    end: datetime.date | None         # None: open-ended
    error: str | None = None          # the policy could not answer

    @property
    def open_ended(self) -> bool:
        return self.error is None and self.end is None


def validities(engine: Engine, policy_id: str, start: datetime.date, on: datetime.date | None = None) -> list[Validity]:
    """Ask the policy, for each filing type, how long a filing starting on `start` (requested `on`) is valid."""
    insured = insured_region(engine.policies, policy_id)
    out = []
    for filing_type in FILING_TYPES:
        if insured is None:
            out.append(Validity(filing_type, start, None, "没有可用于本政策的参保地区划"))
            continue
        request = {
            "kind": "filing_request", "id": f"DOC-{policy_id}-{filing_type}",
            "insured": {"region": insured, "scheme": "employee"}, "action": "file", "on": (on or start).isoformat(),
            "new": {"type": filing_type, "basis": "materials", "region": province_of(visit_place(insured)),
                    "start_date": start.isoformat(), "filed_on": start.isoformat()},
        }
        try:
            answer = engine.evaluate(request, trace="ids")
        except EvaluationError as exc:
            out.append(Validity(filing_type, start, None, exc.message_zh))
            continue
        end = answer["validity"]["end_date"]
        out.append(Validity(filing_type, start, end if isinstance(end, datetime.date) else _date(end)))
    return out


def _date(value: Any) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if isinstance(value, str) else None


def interpretations(compiled: CompiledPolicy) -> list[tuple[str, str, str, str]]:
    """(kind, name, policy id, interpretation) for every rule and parameter value resting on one."""
    layered = compiled.layered
    found = [("规则", r.id, r.policy_id, r.interpretation) for r in layered.rules if r.interpretation]
    for param in layered.parameters.values():  # the definition in force for this policy
        for value in param.values:
            if value.interpretation:
                found.append(("参数", param.name, param.policy_id, value.interpretation))
    return found
