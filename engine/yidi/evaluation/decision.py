"""Shape the compiled program's results into the contract's answers.

The trace is built here, from the indices of the rules that fired: each
entry names the rule, the clause it cites and its words, the variable it set
and the value, where the rule is written, and — when it rests on one — the
interpretation and the parameter values (with their own sources) it read.
With `trace="ids"` only the rule ids are listed, which is what a batch run
over millions of claims usually wants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..policy.model import Rule
from ..policy.tree import CompiledPolicy

# The rule that chooses the policy is the national principle itself.
SELECTION_SOURCE = "医保发〔2022〕22号 六"
SELECTION_SAYS = "执行参保地规定的基金起付标准、支付比例、最高支付限额等有关政策（就医地目录、参保地政策）"

_HOW_ZH = {
    "exact": "参保地区划有本级政策",
    "city": "参保地所在地市有政策",
    "province": "参保地无市级政策，适用所在省政策",
    "national": "参保地所在省无政策，适用国家基线政策",
}


def _policy_block(compiled: CompiledPolicy, revision: str) -> dict[str, Any]:
    policy = compiled.layered.policy
    return {"id": policy.id, "region": policy.region, "name": policy.name,
            "documents": list(compiled.layered.documents), "revision": revision}


def _selection_entry(d: Mapping[str, Any], compiled: CompiledPolicy, how: str) -> dict[str, Any]:
    policy = compiled.layered.policy
    return {
        "rule": "yidi.policy-selection",
        "source": SELECTION_SOURCE,
        "says": SELECTION_SAYS,
        "explanation": f"参保地 {d['insured.region']}：{_HOW_ZH[how]}，采用 {policy.name}（{policy.id}，{policy.file}）",
        "variable": "policy",
        "value": policy.id,
    }


def _rule_entry(rule: Rule, value: Any, params: frozenset[str], provenance) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "rule": rule.id,
        "source": rule.source.label(),
        "says": rule.source.says or rule.title,
        "title": rule.title,
        "variable": rule.sets,
        "value": value,
        "file": rule.position.file,
        "line": rule.position.line,
    }
    if rule.interpretation:
        entry["interpretation"] = rule.interpretation
    used = []
    for name in sorted(params):
        origin = provenance.get(name)
        if origin is None:
            continue
        item: dict[str, Any] = {"name": name, "value": origin.value}
        if origin.source is not None:
            item["source"] = origin.source.label()
        if origin.illustrative:
            item["illustrative"] = True
            if origin.note:
                item["note"] = origin.note
        if origin.interpretation:
            item["interpretation"] = origin.interpretation
        used.append(item)
    if used:
        entry["parameters"] = used
    return entry


def _common(d, values, fired, compiled: CompiledPolicy, version: int, how: str, trace: str, kind: str):
    """Trace entries and provenance flags shared by decisions and filing answers."""
    program = compiled.programs[kind]
    provenance = compiled.versions.provenance[version]
    interpretation = illustrative_value = False
    entries: list[Any] = [_selection_entry(d, compiled, how)] if trace == "full" else ["yidi.policy-selection"]
    for index in fired:
        rule = program.rules[index]
        params = program.rule_params[index]
        if rule.interpretation:
            interpretation = True
        for name in params:
            origin = provenance.get(name)
            if origin is not None:
                interpretation = interpretation or bool(origin.interpretation)
                illustrative_value = illustrative_value or origin.illustrative
        if trace == "full":
            entries.append(_rule_entry(rule, values[rule.sets], params, provenance))
        else:
            entries.append(rule.id)
    return entries, interpretation, illustrative_value


def build_decision(d, values, fired, compiled: CompiledPolicy, version: int, how: str, revision: str, trace: str) -> dict[str, Any]:
    entries, interpretation, illustrative_value = _common(d, values, fired, compiled, version, how, trace, "claim")
    flags = [name[len("flags."):] for name in ("flags.audit_referral_eligible", "flags.chronic_not_direct") if values.get(name)]
    table = values["@benefit"]["@table"] if "@benefit" in values else None
    program = compiled.programs["claim"]
    if table is not None and any(program.rule_reads_benefit[i] for i in fired):
        if table.illustrative:
            flags.append("benefit_table_illustrative")
        if trace == "full":
            entries.append({
                "rule": table.id,
                "source": table.source.label() if table.source else "（示例待遇表，无公开出处）",
                "says": table.note or table.title,
                "title": table.title,
                "variable": "benefit",
                "value": {k: v for k, v in values["@benefit"].items() if not k.startswith("@")},
                "file": table.position.file,
                "line": table.position.line,
                **({"illustrative": True} if table.illustrative else {}),
            })
        else:
            entries.append(table.id)
    if illustrative_value:
        flags.append("illustrative_value_used")
    if interpretation:
        flags.append("interpretation_applied")
    return {
        "claim_id": d["id"],
        "policy": _policy_block(compiled, revision),
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
        "trace": entries,
    }


def build_answer(d, values, fired, compiled: CompiledPolicy, version: int, how: str, revision: str, trace: str) -> dict[str, Any]:
    entries, interpretation, illustrative_value = _common(d, values, fired, compiled, version, how, trace, "filing_request")
    flags = []
    if illustrative_value:
        flags.append("illustrative_value_used")
    if interpretation:
        flags.append("interpretation_applied")
    return {
        "request_id": d["id"],
        "policy": _policy_block(compiled, revision),
        "allowed": values["allowed"],
        "earliest_date": values["earliest_date"],
        "reason": values["reason"],
        "validity": {"start_date": values["validity.start_date"], "end_date": values["validity.end_date"]},
        "filed_region": values["filed_region"],
        "flags": flags,
        "trace": entries,
    }
