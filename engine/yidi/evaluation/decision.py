"""Shape the compiled program's results into the contract's answers.

The trace is built here, from the rules that fired (a bit mask): each
entry names the rule, the clause it cites and its words, the variable it set
and the value, where the rule is written, and — when it rests on one — the
interpretation and the parameter values (with their own sources) it read.
With `trace="ids"` only the rule ids are listed, which is what a batch run
over millions of claims usually wants. With `trace="compact"` each entry is
only what varies per claim — an index into the rule table
(`evaluation.compact.TraceTable`, written once per file) and the value — and
renders back to exactly the full entry.

Everything that does not depend on the claim (rule ids, which rules imply a
flag, the static part of each trace entry) is prepared once per policy,
document kind and parameter version (`Explainer`), so a decision costs little
more than the rules themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from ..policy.decision_model import ANSWER_LAYOUT, CARE_ZH, CLAIM, DOCUMENT_ID, ECHOED, OUTPUT_TITLES, SETTLEMENT_DATE, outputs_for
from ..policy.model import Citation, Rule
from ..policy.tree import CompiledPolicy
from ..policy.undetermined import Cause

# The rule that chooses the policy is the national principle itself.
SELECTION_CITATION = Citation("医保发〔2022〕22号", "六",
                              "执行参保地规定的基金起付标准、支付比例、最高支付限额、门诊慢特病病种范围等有关政策。简单地讲就是就医地目录、参保地政策")
SELECTION_SOURCE = SELECTION_CITATION.label()
SELECTION_SAYS = SELECTION_CITATION.says
SELECTION_ID = "yidi.policy-selection"

_HOW_ZH = {
    "exact": "参保地区划有本级政策",
    "city": "参保地所在地市有政策",
    "province": "参保地无市级政策，适用所在省政策",
    "national": "参保地所在省无政策，适用国家基线政策",
}

FULL, IDS, COMPACT = "full", "ids", "compact"
TRACES = (FULL, IDS, COMPACT)

# (fired rules in trace order, the trace as rule ids, provenance flags, whether the benefit table was read)
_Implied = tuple[tuple[int, ...], tuple[str, ...], tuple[str, ...], bool]
_MEMO_LIMIT = 4096  # distinct sets of fired rules remembered per policy, kind and parameter version


def cite(citation, summaries: Mapping[str, str]) -> dict[str, Any]:
    """A citation for an answer: "source" (文号 条款), and — when the document is only a summary of the
    regulation (a press Q&A) — "source_nature": "summary" with a note saying so, so nobody takes the
    quoted words for the regulation's own."""
    out: dict[str, Any] = {"source": citation.label()}
    note = summaries.get(citation.document)
    if note is not None:
        out["source_nature"] = "summary"
        out["source_note"] = note
    return out


def describe_value(origin, summaries: Mapping[str, str] = MappingProxyType({})) -> dict[str, Any]:
    """A parameter value with its provenance: value, source, and whether it is illustrative or an interpretation."""
    item: dict[str, Any] = {"value": origin.value}
    if origin.source is not None:
        item.update(cite(origin.source, summaries))
    if origin.illustrative:
        item["illustrative"] = True
        if origin.note:
            item["note"] = origin.note
    if origin.interpretation:
        item["interpretation"] = origin.interpretation
    return item


def _static_entry(rule: Rule, params: frozenset[str], provenance: Mapping[str, Any],
                  summaries: Mapping[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "rule": rule.id,
        **cite(rule.source, summaries),
        "says": rule.source.says or rule.title,
        "title": rule.title,
        "variable": rule.sets,
        "value": None,
        "file": rule.position.file,
        "line": rule.position.line,
    }
    if rule.interpretation:
        entry["interpretation"] = rule.interpretation
    used = [{"name": name, **describe_value(provenance[name], summaries)} for name in sorted(params) if name in provenance]
    if used:
        entry["parameters"] = used
    return entry


@functools.cache
def answer_builder(kind: str) -> Callable[..., dict[str, Any]]:
    """build(d, values, undetermined, policy, flags, trace) → the answer, laid out as ANSWER_LAYOUT says.

    Generated once per kind from the output model (policy.decision_model), so
    the answer can never drift from the outputs the policies compute.
    """
    outputs = list(outputs_for(kind))
    items = []
    for key in ANSWER_LAYOUT[kind]:
        if key in DOCUMENT_ID:
            code = 'd["id"]'
        elif key in ("policy", "flags", "trace"):
            code = key
        elif key in outputs:
            code = f"values[{key!r}]"
        else:
            members = [name for name in outputs if name.startswith(key + ".")]
            echoed = [(name, source) for name, source in ECHOED.items() if name.startswith(key + ".")]
            if not members:
                raise ValueError(f"answer field {key!r} is neither an output nor a group of outputs")
            fields = [f"{name[len(key) + 1:]!r}: d[{source!r}]" for name, source in echoed]
            fields += [f"{name[len(key) + 1:]!r}: values[{name!r}]" for name in members]
            code = f"None if u is not None and u.keys() >= {set(members)!r} else {{{', '.join(fields)}}}"
        items.append(f"{key!r}: {code}")
    source = "def build(d, values, u, policy, flags, trace):\n    return {" + ", ".join(items) + "}\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<yidi:answer:{kind}>", "exec"), namespace)  # noqa: S102 — generated from the output model
    return namespace["build"]


def output_flags(kind: str) -> tuple[tuple[str, str], ...]:
    """(output, flag) for each boolean output `flags.<flag>`: the flag is listed when the output is true."""
    return tuple((name, name.removeprefix("flags.")) for name in outputs_for(kind) if name.startswith("flags."))


class Explainer:
    """What one policy's program, for one parameter version, says about the rules that fire."""

    def __init__(self, compiled: CompiledPolicy, kind: str, version: int, revision: str):
        program = compiled.program(kind, version)
        self.program = program
        provenance = compiled.versions.provenance[version]
        self.version_start = compiled.versions.starts[version]
        self.settled = SETTLEMENT_DATE[kind]
        policy = compiled.layered.policy
        self.compiled = compiled
        self.kind = kind
        self.policy_block = {"id": policy.id, "region": policy.region, "name": policy.name,
                             "documents": list(compiled.layered.documents), "revision": revision}
        self.ids = tuple(rule.id for rule in program.rules)
        self.sets = tuple(rule.sets for rule in program.rules)
        summaries = compiled.layered.summaries
        self.entries = tuple(_static_entry(rule, program.rule_params[i], provenance, summaries)
                             for i, rule in enumerate(program.rules))
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
        self.floors = tuple((floor.id, _floor_entry(floor, summaries)) for floor in program.floors)
        self.fire_order = program.fire_order
        # What a set of fired rules implies (their order, rule ids, provenance flags, whether the benefit
        # table was read) is the same for every claim that fires them; the combinations seen are few.
        self._by_fired: dict[int, _Implied] = {}
        self.build = answer_builder(kind)
        self.output_flags = output_flags(kind)
        # The benefit_care rules, for the clause a missing table falls back on; and the undetermined entries
        # already worded (the same few combinations recur: outpatient claims without an outpatient table, …).
        self._benefit_care_rules = tuple((i, self.entries[i]["source"]) for i in self.fire_order
                                         if self.sets[i] == "benefit_care")
        self._worded: dict[tuple, list[dict[str, Any]]] = {}
        # Where this explainer's entries sit in the rule table; set once by evaluation.compact.TraceTable.
        self.compact_index: Any = None
        self._compact_by_fired: dict[int, tuple[tuple[int, ...], tuple[str, ...]]] = {}

    def policy(self) -> dict[str, Any]:
        """A fresh copy for each answer: callers may change what they receive without touching the next one."""
        block = self.policy_block
        return {"id": block["id"], "region": block["region"], "name": block["name"],
                "documents": list(block["documents"]), "revision": block["revision"]}

    def selection_entry(self, region: str, how: str) -> dict[str, Any]:
        """The first trace entry: which policy decides a document from insured `region`, chosen `how`."""
        before, after = self.selection_words(how)
        return {
            "rule": SELECTION_ID,
            **cite(SELECTION_CITATION, self.compiled.layered.summaries),
            "says": SELECTION_SAYS,
            "explanation": before + region + after,
            "variable": "policy",
            "value": self.compiled.layered.policy.id,
        }

    def selection_words(self, how: str) -> tuple[str, str]:
        """The selection entry's explanation either side of the insured region (the only part that varies)."""
        policy = self.compiled.layered.policy
        return "参保地 ", f"：{_HOW_ZH[how]}，采用 {policy.name}（{policy.id}，{policy.file}）"

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
        entries: list[Any] = [self.selection_entry(d["insured.region"], how)]
        for i in order:
            entry = dict(self.entries[i])
            entry["value"] = values[self.sets[i]]
            if "parameters" in entry:  # nested lists are copied too: an answer shares nothing with the next
                entry["parameters"] = [dict(item) for item in entry["parameters"]]
            entries.append(entry)
        return entries

    def compact_trace(self, d, values, how: str) -> list[Any]:
        """The trace as (table index, value) pairs — the selection's value is the insured region.

        Which indexes and which variables follow from the fired rules alone: memoised per mask, so a
        decision only looks its values up (in C: zip and map), about as cheap as copying the rule ids.
        """
        fired = values["@fired"]
        index = self.compact_index
        found = self._compact_by_fired.get(fired)
        if found is None:
            order = self.implied(fired)[0]
            found = (tuple(index.rules[i] for i in order), tuple(self.sets[i] for i in order))
            if len(self._compact_by_fired) < _MEMO_LIMIT:
                self._compact_by_fired[fired] = found
        keys, names = found
        trace: list[Any] = [(index.selection[how], d["insured.region"])]
        trace += zip(keys, map(values.__getitem__, names))
        return trace

    def provenance_flags(self, fired: tuple[int, ...]) -> list[str]:
        flags = []
        if not self.illustrative.isdisjoint(fired):
            flags.append("illustrative_value_used")
        if not self.interpretation.isdisjoint(fired):
            flags.append("interpretation_applied")
        return flags

    def decision(self, d, values, how: str, trace: str) -> dict[str, Any]:
        """The answer to a claim (or, with `answer`, a filing request), shaped by the output model.

        `trace` is FULL, IDS or COMPACT (the last needs `compact_index`, set by the rule table).
        """
        undetermined = values["@undetermined"]
        if undetermined is not None:
            values = {**values, **dict.fromkeys(undetermined)}  # what is undetermined is answered as null
        flags = [flag for name, flag in self.output_flags if values[name]]
        entries = self._trace_and_flags(d, values, how, trace, flags)
        answer = self.build(d, values, undetermined, self.policy(), flags, entries)
        if undetermined is not None:
            answer["undetermined"] = self.undetermined(d, values, how, undetermined)
        return answer

    answer = decision

    def trace_ids(self, d, values, how: str) -> tuple[list[str], bool]:
        """The `trace` of `decision(…, IDS)` and whether its flags include floor_conflict, without building the
        answer: all the static checks read of the ~360,000 decisions of a national tree's situations."""
        flags: list[str] = []
        return self._trace_and_flags(d, values, how, IDS, flags), "floor_conflict" in flags

    def _trace_and_flags(self, d, values, how: str, trace: str, flags: list[str]) -> list[Any]:
        """The answer's trace in the form `trace` asks for; the flags that come with it are added to `flags`."""
        _, ids, provenance, reads_benefit = self.implied(values["@fired"])
        if trace == FULL:
            entries = self.trace(d, values, how, True)
        elif trace == COMPACT:
            entries = self.compact_trace(d, values, how)
        else:
            entries = list(ids)
        if self.kind == CLAIM:
            benefit = values.get("@benefit")
            table = benefit.get("@table") if benefit is not None else None
            if table is not None and reads_benefit:
                if table.illustrative:
                    flags.append("benefit_table_illustrative")
                if trace == FULL:
                    entries.append(benefit_entry(table, benefit))
                elif trace == COMPACT:
                    entries.append((self.compact_index.benefit(table), benefit_value(benefit)))
                else:
                    entries.append(table.id)
        if provenance:
            flags += provenance
        if values["@floors"]:
            self.floor_conflicts(values["@floors"], flags, entries, trace)
        return entries

    def floor_conflicts(self, broken: int, flags: list[str], entries: list[Any], trace: str) -> None:
        """Name every floor set above that this decision falls below: flagged, never silently resolved."""
        flags.append("floor_conflict")
        for k, (floor_id, entry) in enumerate(self.floors):
            if broken >> k & 1:
                if trace == FULL:
                    entries.append(dict(entry))
                elif trace == COMPACT:
                    entries.append(self.compact_index.floors[k])
                else:
                    entries.append(floor_id)

    # ── what is left undetermined, and why (contract §2.1) ──────────────────

    def undetermined(self, d, values, how: str, found: Mapping[str, tuple[Cause, str | None]]) -> list[dict[str, Any]]:
        """One entry per undetermined output, in the contract's order: the reason and the clause that leaves it open.

        The wording depends on the causes, how the policy was chosen, the insured region (named when it has no
        policy), the settlement date (named for parameters) and the benefit-care rule: memoised on those.
        """
        causes = tuple(found.items())
        key = (causes, how, d["insured.region"] if how == "national" else None,
               d[self.settled] if any(cause.kind == "parameter" for cause, _ in found.values()) else None,
               self._source_of("benefit_care", values))
        worded = self._worded.get(key)
        if worded is None:
            worded = self._word(d, values, how, found)
            if len(self._worded) < _MEMO_LIMIT:
                self._worded[key] = worded
        return [dict(entry) for entry in worded]  # an answer shares nothing with the next

    def _word(self, d, values, how: str, found: Mapping[str, tuple[Cause, str | None]]) -> list[dict[str, Any]]:
        entries = []
        for name in OUTPUT_TITLES:
            if name not in found:
                continue
            cause, via = found[name]
            zh, en, source = self.reason(cause, d, how, values)
            if via is not None and via != name:
                zh = f"取决于{self.title(via)}（{via}），后者未能确定：{zh}"
                en = f"depends on {via}, which is undetermined: {en}"
            entry = {"output": name, "reason": zh, "reason_en": en, "source": source}
            if via is not None and via != name:
                entry["via"] = via
            entries.append(entry)
        return entries

    def title(self, name: str) -> str:
        if name in OUTPUT_TITLES:
            return OUTPUT_TITLES[name]
        variable = self.compiled.layered.variables.get(name)
        return variable.title if variable is not None else name

    def reason(self, cause: Cause, d, how: str, values) -> tuple[str, str, str | None]:
        """(Chinese reason, English reason, clause) for a cause, worded for this document."""
        layered = self.compiled.layered
        policy = layered.policy
        region = d["insured.region"]
        if cause.kind == "personal_account":
            return ("以职工医保个人账户支付：统筹基金的起付标准、支付比例、最高支付限额不适用，个人账户支付多少取决于账户余额和"
                    "参保地的个人账户政策，不在结算申请中",
                    "paid from the employee's personal account: the pooling fund's deductible, ratio and cap do not apply, and "
                    "what the account pays depends on its balance and the insured place's rules, which the claim does not carry",
                    self._source_of("benefit_care", values))
        if cause.kind == "benefit":
            source = self._source_of("benefit_care", values)
            if how == "national":
                return (f"参保地 {region} 没有政策文件：{CARE_ZH.get(cause.name, cause.name)}的起付标准、支付比例、最高支付限额由参保地规定",
                        f"no policy for insured region {region}: the insured place sets the {cause.name} deductible, ratio and cap",
                        source)
            return (f"{policy.name}政策（{policy.id}）没有{CARE_ZH.get(cause.name, cause.name)}的待遇表（或没有适用于本申请险种、医院等级的行）："
                    f"起付标准、支付比例、最高支付限额由参保地规定，尚未收录",
                    f"policy {policy.id} has no {cause.name} benefit table row for this scheme and hospital level: "
                    f"the insured place sets deductible, ratio and cap, and they are not in the policy tree", source)
        name = cause.name
        definitions = layered.inherited_parameters.get(name, ())
        parameter = layered.parameters.get(name)
        title = parameter.title if parameter is not None else name
        day = d[self.settled]
        left_to = next((p.set_by for p in reversed(definitions) if p.set_by is not None), None)
        source = left_to.label() if left_to is not None else None
        starts = [v.start for p in definitions for v in p.values]
        if how == "national" and not starts:
            return (f"参保地 {region} 没有政策文件：{title}由参保地规定",
                    f"no policy for insured region {region}: {name} is set by the insured place", source)
        if not starts:
            return (f"{policy.name}政策（{policy.id}）及其上级都没有规定{title}（{name}）",
                    f"neither policy {policy.id} nor its parents give a value for {name}", source)
        first = min(starts)
        if day < first:
            own = policy.in_force
            if own is not None and day < own.start:
                if source is None:
                    source = own.source.label()
                return (f"结算日期 {day} 早于{policy.name}政策的施行日期 {own.start}（{own.source.document}）；"
                        f"此前适用的{policy.name}政策未收录，{title}（{name}）没有取值",
                        f"settled on {day}, before policy {policy.id} takes effect ({own.start}); the earlier "
                        f"policy of that place is not in the tree, so {name} has no value", source)
            return (f"结算日期 {day} 早于{title}（{name}）最早的取值日期 {first}：此前的政策未收录",
                    f"settled on {day}, before the first value of {name} ({first}): earlier policies are not in the tree", source)
        return (f"{title}（{name}）在结算日期 {day} 没有生效的取值（取值已失效或有空档）",
                f"{name} has no value in force on {day} (its values lapsed or have a gap)", source)

    def _source_of(self, variable: str, values) -> str | None:
        """The clause of the rule that set benefit_care in this decision, if one did (the only variable asked for)."""
        fired = values["@fired"]
        for i, source in self._benefit_care_rules:
            if fired >> i & 1:
                return source
        return None


def _floor_entry(floor, summaries: Mapping[str, str]) -> dict[str, Any]:
    return {
        "rule": floor.id,
        **cite(floor.source, summaries),
        "says": floor.source.says or floor.title,
        "title": floor.title,
        "explanation": (f"本决定低于上级规定的保底（{floor.holds.text.strip()} 不成立）：两处规定相抵触，"
                        "引擎不作取舍，按所适用的规则作出决定并标记 floor_conflict，须由政策人员确认"),
        "variable": "floor",
        "value": False,
        "file": floor.position.file,
        "line": floor.position.line,
    }


def benefit_value(row: Mapping[str, Any]) -> dict[str, Any]:
    """The benefit-table row as a trace entry shows it (without the engine's `@` keys)."""
    return {k: v for k, v in row.items() if not k.startswith("@")}


def benefit_entry(table, row: Mapping[str, Any] | None) -> dict[str, Any]:
    """The trace entry of the benefit-table row a claim read; with `row` None, its static part (value null)."""
    return {
        "rule": table.id,
        "source": table.source.label() if table.source else "（示例待遇表，无公开出处）",
        "says": table.note or table.title,
        "title": table.title,
        "variable": "benefit",
        "value": benefit_value(row) if row is not None else None,
        "file": table.position.file,
        "line": table.position.line,
        **({"illustrative": True} if table.illustrative else {}),
    }
