"""Shape the compiled program's results into the contract's answers.

The trace is built here, from the rules that fired (a bit mask): each
entry names the rule, the clause it cites and its words, the variable it set
and the value, where the rule is written, and — when it rests on one — the
interpretation and the parameter values (with their own sources) it read.
With `trace="ids"` only the rule ids are listed, which is what a batch run
over millions of claims usually wants.

Everything that does not depend on the claim (rule ids, which rules imply a
flag, the static part of each trace entry) is prepared once per policy,
document kind and parameter version (`Explainer`), so a decision costs little
more than the rules themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..policy.model import Rule
from ..policy.tree import CompiledPolicy

# The rule that chooses the policy is the national principle itself.
SELECTION_SOURCE = "医保发〔2022〕22号 六"
SELECTION_SAYS = "执行参保地规定的基金起付标准、支付比例、最高支付限额等有关政策（就医地目录、参保地政策）"
SELECTION_ID = "yidi.policy-selection"

_HOW_ZH = {
    "exact": "参保地区划有本级政策",
    "city": "参保地所在地市有政策",
    "province": "参保地无市级政策，适用所在省政策",
    "national": "参保地所在省无政策，适用国家基线政策",
}

# (fired rules in trace order, the trace as rule ids, provenance flags, whether the benefit table was read)
_Implied = tuple[tuple[int, ...], tuple[str, ...], tuple[str, ...], bool]
_MEMO_LIMIT = 4096  # distinct sets of fired rules remembered per policy, kind and parameter version


def describe_value(origin) -> dict[str, Any]:
    """A parameter value with its provenance: value, source, and whether it is illustrative or an interpretation."""
    item: dict[str, Any] = {"value": origin.value}
    if origin.source is not None:
        item["source"] = origin.source.label()
    if origin.illustrative:
        item["illustrative"] = True
        if origin.note:
            item["note"] = origin.note
    if origin.interpretation:
        item["interpretation"] = origin.interpretation
    return item


def _static_entry(rule: Rule, params: frozenset[str], provenance: Mapping[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "rule": rule.id,
        "source": rule.source.label(),
        "says": rule.source.says or rule.title,
        "title": rule.title,
        "variable": rule.sets,
        "value": None,
        "file": rule.position.file,
        "line": rule.position.line,
    }
    if rule.interpretation:
        entry["interpretation"] = rule.interpretation
    used = [{"name": name, **describe_value(provenance[name])} for name in sorted(params) if name in provenance]
    if used:
        entry["parameters"] = used
    return entry


class Explainer:
    """What one policy's program, for one parameter version, says about the rules that fire."""

    def __init__(self, compiled: CompiledPolicy, kind: str, version: int, revision: str):
        program = compiled.programs[kind]
        provenance = compiled.versions.provenance[version]
        policy = compiled.layered.policy
        self.compiled = compiled
        self.kind = kind
        self.policy_block = {"id": policy.id, "region": policy.region, "name": policy.name,
                             "documents": list(compiled.layered.documents), "revision": revision}
        self.ids = tuple(rule.id for rule in program.rules)
        self.sets = tuple(rule.sets for rule in program.rules)
        self.entries = tuple(_static_entry(rule, program.rule_params[i], provenance) for i, rule in enumerate(program.rules))
        interpretation, illustrative = set(), set()
        for i, rule in enumerate(program.rules):
            origins = [provenance[name] for name in program.rule_params[i] if name in provenance]
            if rule.interpretation or any(o.interpretation for o in origins):
                interpretation.add(i)
            if any(o.illustrative for o in origins):
                illustrative.add(i)
        self.interpretation = frozenset(interpretation)
        self.illustrative = frozenset(illustrative)
        self.reads_benefit = frozenset(i for i, reads in enumerate(program.rule_reads_benefit) if reads)
        self.fire_order = program.fire_order
        # What a set of fired rules implies (their order, rule ids, provenance flags, whether the benefit
        # table was read) is the same for every claim that fires them; the combinations seen are few.
        self._by_fired: dict[int, _Implied] = {}

    def policy(self) -> dict[str, Any]:
        """A fresh copy for each answer: callers may change what they receive without touching the next one."""
        block = self.policy_block
        return {"id": block["id"], "region": block["region"], "name": block["name"],
                "documents": list(block["documents"]), "revision": block["revision"]}

    def selection_entry(self, d: Mapping[str, Any], how: str) -> dict[str, Any]:
        policy = self.compiled.layered.policy
        return {
            "rule": SELECTION_ID,
            "source": SELECTION_SOURCE,
            "says": SELECTION_SAYS,
            "explanation": f"参保地 {d['insured.region']}：{_HOW_ZH[how]}，采用 {policy.name}（{policy.id}，{policy.file}）",
            "variable": "policy",
            "value": policy.id,
        }

    def implied(self, fired: int) -> _Implied:
        """What the rules set in the bit mask `fired` imply; memoised per mask."""
        found = self._by_fired.get(fired)
        if found is None:
            order = tuple(i for i in self.fire_order if fired >> i & 1)
            ids = self.ids
            found = (order, (SELECTION_ID, *(ids[i] for i in order)), tuple(self.provenance_flags(order)),
                     not self.reads_benefit.isdisjoint(order))
            if len(self._by_fired) < _MEMO_LIMIT:  # bounded; a lost race only computes an entry twice
                self._by_fired[fired] = found
        return found

    def trace(self, d, values, how: str, full: bool) -> list[Any]:
        order, ids = self.implied(values["@fired"])[:2]
        if not full:
            return list(ids)
        entries: list[Any] = [self.selection_entry(d, how)]
        for i in order:
            entry = dict(self.entries[i])
            entry["value"] = values[self.sets[i]]
            if "parameters" in entry:  # nested lists are copied too: an answer shares nothing with the next
                entry["parameters"] = [dict(item) for item in entry["parameters"]]
            entries.append(entry)
        return entries

    def provenance_flags(self, fired: tuple[int, ...]) -> list[str]:
        flags = []
        if not self.illustrative.isdisjoint(fired):
            flags.append("illustrative_value_used")
        if not self.interpretation.isdisjoint(fired):
            flags.append("interpretation_applied")
        return flags

    def decision(self, d, values, how: str, full: bool) -> dict[str, Any]:
        _, ids, provenance, reads_benefit = self.implied(values["@fired"])
        trace = self.trace(d, values, how, True) if full else list(ids)
        flags = []
        if values["flags.audit_referral_eligible"]:
            flags.append("audit_referral_eligible")
        if values["flags.chronic_not_direct"]:
            flags.append("chronic_not_direct")
        benefit = values.get("@benefit")
        table = benefit["@table"] if benefit is not None else None
        if table is not None and reads_benefit:
            if table.illustrative:
                flags.append("benefit_table_illustrative")
            trace.append(_benefit_entry(table, benefit) if full else table.id)
        if provenance:
            flags += provenance
        return {
            "claim_id": d["id"],
            "policy": self.policy(),
            "scope": values["scope"],
            "route": values["route"],
            "filing_status": values["filing_status"],
            "treatment": values["treatment"],
            "catalog": values["catalog"],
            "reduction_pp": values["reduction_pp"],
            "ratio": values["ratio"],
            "amounts": {
                "in_scope": d["costs.in_scope"],
                "deductible": values["amounts.deductible"],
                "fund": values["amounts.fund"],
                "personal": values["amounts.personal"],
            },
            "flags": flags,
            "trace": trace,
        }

    def answer(self, d, values, how: str, full: bool) -> dict[str, Any]:
        return {
            "request_id": d["id"],
            "policy": self.policy(),
            "allowed": values["allowed"],
            "earliest_date": values["earliest_date"],
            "reason": values["reason"],
            "validity": {"start_date": values["validity.start_date"], "end_date": values["validity.end_date"]},
            "filed_region": values["filed_region"],
            "flags": list(self.implied(values["@fired"])[2]),
            "trace": self.trace(d, values, how, full),
        }


def _benefit_entry(table, row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "rule": table.id,
        "source": table.source.label() if table.source else "（示例待遇表，无公开出处）",
        "says": table.note or table.title,
        "title": table.title,
        "variable": "benefit",
        "value": {k: v for k, v in row.items() if not k.startswith("@")},
        "file": table.position.file,
        "line": table.position.line,
        **({"illustrative": True} if table.illustrative else {}),
    }
