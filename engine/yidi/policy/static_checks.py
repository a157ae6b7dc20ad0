"""Static checks that go beyond schema and types, run by `yidi validate`.

* Date coverage of every dated parameter value and rule window: gaps and
  overlaps between periods, and values that lapse within a horizon (default
  90 days) with nothing after them — so no claim silently falls through on
  some date, and officers hear of a lapse before it happens.
* Situations: every policy decides an enumerated grid of claims — filing type
  × basis × place (local, intra-province, cross-province) × emergency ×
  referral × newborn × psychiatric certificate × networked, plus one-at-a-time
  variations of the other inputs — and filing requests. Any situation where two
  rules conflict, or where an output gets no value, is an error naming the
  rules, their lines and clauses, and the situation. A rule that never takes
  effect in any enumerated situation of any policy is reported as a warning:
  its condition may be contradictory, or always overridden.

Findings are ordinary diagnostics (file:line:col, Chinese and English).
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import datetime
import functools
import itertools
import json
import pathlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import msgspec

from ..diagnostics import Diagnostic
from ..errors import EvaluationError, NoApplicableRule, RuleConflict
from ..fastdecode import decode_fast
from .decision_model import KINDS
from .situation_memo import SeenReads, TrackedDocument, ValueKeys, ValueNumbers, value_keys
from .tree import CompiledPolicy, PolicySet

FILING_TYPES = ("retiree_relocated", "long_term_resident", "stationed_worker", "referral", "emergency", "other_temporary")
ADMISSION, DISCHARGE = datetime.date(2025, 6, 10), datetime.date(2025, 6, 20)


def _at(position, severity: str, code: str, zh: str, en: str) -> Diagnostic:
    return Diagnostic(code, zh, en, position.file, position.line, position.column, severity)


# ── dates ────────────────────────────────────────────────────────────────

def check_dates(policies: PolicySet, as_of: datetime.date, horizon_days: int = 90) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    limit = as_of + datetime.timedelta(days=horizon_days)
    seen: set[tuple[str, str]] = set()
    for compiled in policies.policies.values():
        for param in compiled.layered.parameters.values():
            if (param.policy_id, param.name) in seen or not param.values:
                continue
            seen.add((param.policy_id, param.name))
            values = sorted(param.values, key=lambda v: v.start)
            for earlier, later in itertools.pairwise(values):
                if earlier.until is None or earlier.until > later.start:
                    found.append(_at(later.position, "error", "date-overlap",
                                     f"参数 {param.name} 的取值时段重叠：{_span(earlier)} 与 {_span(later)}",
                                     f"parameter {param.name} has overlapping periods: {_span(earlier)} and {_span(later)}"))
                elif earlier.until < later.start:
                    found.append(_at(later.position, "error", "date-gap",
                                     f"参数 {param.name} 在 {earlier.until} 至 {later.start} 之间没有取值（时段有空档）",
                                     f"parameter {param.name} has no value from {earlier.until} to {later.start}"))
            last = values[-1]
            if last.until is not None and last.until <= limit:
                word = "已于" if last.until <= as_of else "将于"
                found.append(_at(last.position, "warning", "date-lapse",
                                 f"参数 {param.name} 的取值{word} {last.until} 失效，之后没有新的取值（{as_of} 起 {horizon_days} 天内）",
                                 f"parameter {param.name} lapses on {last.until} with nothing after it"))
        for rule in compiled.layered.rules:
            key = ("rule", rule.id)
            if key in seen or rule.effective_until is None:
                continue
            seen.add(key)
            successors = [r for r in compiled.layered.rules if r.sets == rule.sets and r.effective_from == rule.effective_until]
            if rule.effective_until <= limit and not successors:
                found.append(_at(rule.position, "warning", "date-lapse",
                                 f"规则 {rule.id}（{rule.source.label()}）于 {rule.effective_until} 失效，之后没有接替的规则",
                                 f"rule {rule.id} lapses on {rule.effective_until} with no rule taking over"))
    return found


def _span(value) -> str:
    return f"{value.start}—{value.until or '长期'}"


# ── situations ───────────────────────────────────────────────────────────

def insured_region(compiled: CompiledPolicy, policies: PolicySet) -> str:
    """A region whose most specific policy is this one."""
    region = compiled.layered.policy.region
    if region == "000000":
        candidates = [f"{p:02d}0100" for p in range(11, 66)]
    elif region.endswith("0000"):
        candidates = [region[:2] + f"{c:02d}00" for c in range(1, 99)]
    else:
        candidates = [region]
    for candidate in candidates:
        if policies.for_region(candidate)[0] is compiled:
            return candidate
    return region


def _places(insured: str) -> dict[str, str]:
    other_province = "650100" if not insured.startswith("65") else "110100"
    return {"local": insured, "intra": insured[:2] + "9900", "cross": other_province}


def claims(insured: str) -> Iterator[tuple[str, dict]]:
    """(description, claim) for the grid and its one-at-a-time variations."""
    places = _places(insured)
    base = {"kind": "claim", "id": "S", "insured": {"region": insured, "scheme": "employee"},
            "visit": {"kind": "inpatient", "region": insured, "networked": True, "hospital_level": 3,
                      "admission_date": ADMISSION.isoformat(), "discharge_date": DISCHARGE.isoformat()},
            "costs": {"total": 40000, "in_scope": 30000}}
    filings: list[tuple[str, dict | None]] = [("无备案", None)]
    for ftype, basis in itertools.product(FILING_TYPES, ("materials", "commitment")):
        filings.append((f"{ftype}/{basis}", {"type": ftype, "basis": basis, "start_date": "2025-05-01", "filed_on": "2025-05-01"}))
    flags = ("emergency", "referral", "newborn", "psychiatric_certificate", "networked")
    for (fdesc, filing), (place, region), bits in itertools.product(filings, places.items(), itertools.product((False, True), repeat=5)):
        claim = copy.deepcopy(base)
        claim["visit"]["region"] = region
        values = dict(zip(flags, bits))
        claim["visit"].update(emergency=values["emergency"], referral=values["referral"],
                              psychiatric_certificate=values["psychiatric_certificate"], networked=values["networked"])
        if values["newborn"]:
            claim["insured"]["birth_date"] = (ADMISSION - datetime.timedelta(days=5)).isoformat()
        if filing is not None:
            claim["filing"] = {**filing, "region": region}
        on = [name for name, bit in values.items() if bit]
        yield f"{fdesc}，{place}，{'、'.join(on) or '无其他情形'}", claim
    yield from _variations(base, places)


def _variations(base: dict, places: dict[str, str]) -> Iterator[tuple[str, dict]]:
    def variant(desc: str, **changes) -> tuple[str, dict]:
        claim = copy.deepcopy(base)
        claim["visit"]["region"] = places["cross"]
        for dotted, value in changes.items():
            section, key = dotted.split("__")
            claim.setdefault(section, {})[key] = value
        if claim["visit"]["kind"] != "inpatient":
            claim["visit"]["discharge_date"] = claim["visit"]["admission_date"]
        return desc, claim

    for kind in ("outpatient", "chronic_outpatient", "pharmacy"):
        yield variant(f"{kind}", visit__kind=kind)
    for kind in ("outpatient", "pharmacy"):
        yield variant(f"{kind}，个人账户支付", visit__kind=kind, visit__payment_source="personal_account")
    for disease in ("hypertension", "copd", "parkinsons"):
        for place in ("cross", "intra"):
            desc, claim = variant(f"门诊慢特病 {disease}，{place}", visit__kind="chronic_outpatient", visit__chronic_disease=disease)
            claim["visit"]["region"] = places[place]
            yield desc, claim
    for trauma in ("no_third_party", "third_party", "third_party_unpaid"):
        yield variant(f"外伤 {trauma}", visit__trauma=trauma)
        yield variant(f"外伤 {trauma}，急诊", visit__trauma=trauma, visit__emergency=True)
    yield variant("门诊慢特病，非联网", visit__kind="chronic_outpatient", visit__chronic_disease="hypertension", visit__networked=False)
    cross_filing = {"type": "long_term_resident", "region": places["cross"], "start_date": "2025-01-01", "filed_on": "2025-01-01"}
    yield variant("门诊慢特病，已备案", visit__kind="chronic_outpatient", visit__chronic_disease="hypertension",
                  **{f"filing__{k}": v for k, v in cross_filing.items()})
    yield variant("备案到另一地方", **{f"filing__{k}": v for k, v in {**cross_filing, "region": "540100"}.items()})
    yield variant("备案写明结束日期", **{f"filing__{k}": v for k, v in {**cross_filing, "type": "other_temporary",
                                                                      "end_date": "2025-12-31"}.items()})
    yield variant("备案开始日在入院后、出院前", **{f"filing__{k}": v for k, v in {**cross_filing, "type": "other_temporary",
                                                                          "start_date": "2025-06-15", "filed_on": "2025-06-15"}.items()})
    for basis in ("materials", "commitment"):
        desc, claim = variant(f"跨省长期居住备案（{basis}），回参保地住院",
                              **{f"filing__{k}": v for k, v in {**cross_filing, "basis": basis, "start_date": "2025-05-01",
                                                               "filed_on": "2025-05-01"}.items()})
        claim["visit"]["region"] = places["local"]
        yield desc, claim
    yield variant("跨年度住院", visit__admission_date="2025-12-20", visit__discharge_date="2026-01-05")
    yield variant("急诊抢救无效死亡", visit__kind="outpatient", visit__emergency=True, visit__died_after_emergency=True)
    yield variant("出院自费结算", visit__self_paid=True)
    yield variant("系统故障", visit__system_failure=True)
    yield variant("住院期间外院检查", visit__outside_services=True)
    yield variant("居民医保", insured__scheme="resident")
    for level in (1, 2, None):
        yield variant(f"医院等级 {level}", visit__hospital_level=level)
    for ftype in FILING_TYPES:
        filing = {"type": ftype, "region": places["cross"], "start_date": "2025-06-09", "filed_on": "2025-06-12"}
        yield variant(f"{ftype} 入院后补办", **{f"filing__{k}": v for k, v in filing.items()})
        late = {**filing, "filed_on": "2025-06-25"}
        yield variant(f"{ftype} 出院后补办", visit__self_paid=True, **{f"filing__{k}": v for k, v in late.items()})
        old = {"type": ftype, "region": places["cross"], "start_date": "2024-01-01", "filed_on": "2024-01-01"}
        yield variant(f"{ftype} 早已备案", **{f"filing__{k}": v for k, v in old.items()})
        supplemented = {"type": ftype, "basis": "commitment", "region": places["local"], "start_date": "2025-01-01",
                        "filed_on": "2025-01-01", "supplemented_on": "2025-03-01"}
        for desc, changes in ((f"{ftype} 承诺制已补充，回参保地", {}),
                              (f"{ftype} 承诺制住院期间补充，回参保地", {"supplemented_on": (ADMISSION + datetime.timedelta(days=3)).isoformat()}),
                              (f"{ftype} 承诺制未补充、2024年办理，回参保地", {"supplemented_on": None, "start_date": "2024-06-01",
                                                                        "filed_on": "2024-06-01"})):
            desc, claim = variant(desc, **{f"filing__{k}": v for k, v in {**supplemented, **changes}.items()})
            claim["visit"]["region"] = places["local"]
            yield desc, claim


# Cancelled commitment filings a request may carry: one made before 2025 (transition clauses), one made in 2025.
_HISTORIES = (
    ("2023年办理、2024年取消的承诺制备案", [{"type": "long_term_resident", "basis": "commitment", "start_date": "2023-01-01",
                                      "cancelled_on": "2024-10-01"}]),
    ("2025年办理、2025年取消的承诺制备案", [{"type": "long_term_resident", "basis": "commitment", "start_date": "2025-01-02",
                                      "cancelled_on": "2025-03-01"}]),
)


def requests(insured: str) -> Iterator[tuple[str, dict]]:
    places = _places(insured)
    # The transition clauses only concern long-term commitment filings: only those get the other histories and dates.
    combos = [(*base, _HISTORIES[0], "2025-01-10") for base in itertools.product(
        FILING_TYPES, ("materials", "commitment"), ("file", "change", "cancel"), (3, 7, 30), (False, True), (False, True))]
    combos += [(ftype, "commitment", action, months, supplemented, costs, history, filed)
               for ftype, action, months, supplemented, costs, (history, filed) in itertools.product(
                   FILING_TYPES[:3], ("file", "change", "cancel"), (3, 7, 30), (False, True), (False, True),
                   ((_HISTORIES[1], "2025-01-10"), (_HISTORIES[0], "2024-11-10")))]
    for ftype, basis, action, months, supplemented, costs, (history_desc, history), filed in combos:
        on = datetime.date(2025, 1, 10) + datetime.timedelta(days=30 * months)
        current = {"type": ftype, "basis": basis, "region": places["cross"], "start_date": filed, "filed_on": filed,
                   "costs_in_filed_place": costs}
        if supplemented and basis == "commitment":
            current["supplemented_on"] = "2025-02-01"
        request = {"kind": "filing_request", "id": "S", "insured": {"region": insured, "scheme": "employee"},
                   "action": action, "on": on.isoformat(), "history": history}
        if action != "file":
            request["current"] = current
        if action != "cancel":
            for region in (places["cross"], "110105", "460100", "660000", places["intra"]):
                yield (f"{action} {ftype}/{basis} 于第 {months} 个月，就医地 {region}，历史：{history_desc}，现备案办理于 {filed}",
                       {**request, "new": {"type": ftype, "basis": basis, "region": region, "start_date": (on - datetime.timedelta(days=10)).isoformat()}})
            yield (f"{action} {ftype}/{basis} 于第 {months} 个月，写明结束日期",
                   {**request, "new": {"type": ftype, "basis": basis, "region": places["cross"], "start_date": on.isoformat(),
                                       "end_date": (on + datetime.timedelta(days=400)).isoformat()}})
        else:
            yield f"{action} {ftype}/{basis} 于第 {months} 个月", request


def _floor_findings(compiled: CompiledPolicy, kind: str, trace: list[str], description: str, defined: dict,
                    reported: set) -> list[Diagnostic]:
    """A decision below a floor set above: point at the rule that set what the floor reads, cite both clauses.

    Reported once per (policy, floor, rule) as "to confirm": the two texts conflict, only an officer can settle it.
    """
    program = compiled.programs[kind]
    out = []
    for floor, reads in zip(program.floors, program.floor_reads):
        if floor.id not in trace:
            continue
        for rule_id in trace:
            rule = defined.get(rule_id)
            if rule is None or rule.sets not in reads or rule.policy_id == floor.policy_id:
                continue
            key = ("floor", floor.id, rule.id)
            if key in reported:
                continue
            reported.add(key)
            out.append(_at(rule.position, "confirm", "floor-conflict",
                           f"政策 {compiled.id}：规则 {rule.id}（{rule.source.label()}：{rule.source.says or rule.title}）"
                           f"使决定低于上级保底 {floor.id}（{floor.source.label()}：{floor.source.says or floor.title}），"
                           f"{floor.holds.text.strip()} 不成立。情形：{description}。引擎按适用的规则决定并标记 floor_conflict；"
                           f"两处规定相抵触，须由政策人员确认",
                           f"policy {compiled.id}: rule {rule.id} ({rule.source.label()}) takes the decision below floor {floor.id} "
                           f"({floor.source.label()}): {floor.holds.text.strip()} does not hold. Situation: {description}. "
                           f"Decisions are flagged floor_conflict; an officer must confirm which text prevails"))
    return out


@dataclass(frozen=True)
class PolicySituations:
    """What deciding one policy's situations found: its findings, and the rules that took effect.

    Depends only on the policy, its ancestors, its insured region and the
    engine — so it can be kept and reused while none of those change
    (`yidi.validation`). `fired` maps each rule that took effect to the first
    situation it did, in situation order.
    """

    policy_id: str
    findings: tuple[Diagnostic, ...]
    fired: Mapping[str, str]
    defined: tuple[RuleHeld, ...] = ()      # the rules its programs hold, in their order


class RuleHeld(NamedTuple):
    """What `combine` says of a rule a policy's programs hold: kept with the results, so that combining kept
    results reads no policy's programs."""

    id: str
    position: Any
    label: str            # its source, "豫医保办〔2025〕2号 二（一）"
    guard: str | None


# The situation documents of an insured region are those of a canonical one with its region codes replaced:
# (canonical insured, its intra-province place) for an insured outside Xinjiang, and for one inside.
_CANONICAL = (("130100", "139900"), ("650200", "659900"))


@functools.lru_cache(maxsize=2)
def _templates(canonical: str) -> tuple[tuple[str, str, bytes], ...]:
    """(description, kind, JSON text) of every situation of the canonical insured region: generated once, not per policy."""
    return tuple((desc, doc["kind"], json.dumps(doc, ensure_ascii=False).encode())
                 for desc, doc in itertools.chain(claims(canonical), requests(canonical)))


def situations(insured: str) -> Iterator[tuple[str, str, bytes]]:
    """(description, kind, JSON text) of `claims(insured)` and `requests(insured)`, in the same order, from the templates."""
    local, intra, mine, swaps = _swaps(insured)
    for desc, kind, text in _templates(local):
        for old, new in swaps:
            text = text.replace(old, new)
        yield desc.replace(intra, mine), kind, text


_FLAT: dict[str, tuple] = {}     # canonical insured region → its decoded templates (`_flat_templates`)
_FLAT_KIND = b"situation templates 1"


def _flat_templates(canonical: str) -> tuple[tuple[str, str, bytes, dict | None, tuple, dict | None], ...]:
    """The templates decoded once: (description, kind, text, flat document or None, where its region codes are,
    the document's value keys for `situation_memo.SeenReads`).

    Deciding a policy's grid then copies each flat document and puts its own
    codes in (values at `….region` paths and the objects they come from)
    instead of decoding ~4,000 documents again for every policy.
    """
    found = _FLAT.get(canonical)
    if found is None:
        found = _FLAT[canonical] = _decode_templates(canonical)
    return found


_RUNS: dict[int, tuple[tuple, list, list[int]]] = {}


def _runs(templates: tuple) -> tuple[list, list[int]]:
    """Each template's value keys, and for each template the end of the run it starts: the templates after it
    that have keys and are of its kind, which `SeenReads.next_unseen` may pass over in one go. Worked out
    once per template set (kept with it, so the id keying it stays its own)."""
    found = _RUNS.get(id(templates))
    if found is None or found[0] is not templates:
        # a template without keys is never skipped nor skips another: an empty stand-in keeps the list whole
        keys = [template[5] if template[5] is not None else ValueKeys() for template in templates]
        ends = [len(templates)] * len(templates)
        for i in range(len(templates) - 2, -1, -1):
            joined = templates[i + 1][5] is not None and templates[i + 1][1] == templates[i][1]
            ends[i] = ends[i + 1] if joined else i + 1
        found = _RUNS[id(templates)] = (templates, keys, ends)
    return found[1], found[2]


def _decode_templates(canonical: str) -> tuple:
    local, intra = _CANONICAL[canonical.startswith("65")]
    numbers = ValueNumbers()    # one numbering for all: their value keys are compared with each other
    out = []
    for desc, kind, text in _templates(canonical):
        flat = decode_fast(text)
        spots = []
        if flat is not None:
            for key, value in flat.items():
                if value in (local, intra) and isinstance(value, str):
                    spots.append((key, value == local, False))
                elif isinstance(value, msgspec.Struct) and getattr(value, "region", None) in (local, intra):
                    spots.append((key, value.region == local, True))
        out.append((desc, kind, text, flat, tuple(spots), value_keys(flat, numbers) if flat is not None else None))
    return tuple(out)


class _DecodedLater:
    """A template's flat document, decoded when first needed: most situations are skipped, never decided."""

    __slots__ = ("text", "flat")

    def __init__(self, text: bytes):
        self.text, self.flat = text, None

    def get(self) -> dict:
        if self.flat is None:
            self.flat = decode_fast(self.text)
        return self.flat


def prepare_templates(policies: PolicySet, ids, cache_dir: pathlib.Path | None) -> None:
    """Have the templates the policies `ids` need in this process before deciding them, taken from the cache
    (keyed by the engine) when kept there: making them costs as much as deciding a few policies, which
    matters when one policy changed. Called before forking, the workers inherit them."""
    from . import cache

    needed = sorted({_CANONICAL[insured_region(policies.policies[pid], policies).startswith("65")][0] for pid in ids} - _FLAT.keys())
    made: dict[str, tuple] = {}
    if cache_dir is not None and len(needed) > 1:
        missing = [c for c in needed if not cache.holds(cache_dir, _templates_key(c))]
        if len(missing) > 1:   # from nothing: each set made and kept by a worker of its own, and sent back
            from ..forking import fork_map

            made = dict(zip(missing, fork_map(_make_and_keep_templates, cache_dir, missing, at_least=2)))
    for canonical in needed:
        key = _templates_key(canonical) if cache_dir is not None else None
        found = made.get(canonical) or (cache.read(cache_dir, key) if key is not None else None)
        if isinstance(found, tuple) and found and all(isinstance(t, tuple) and len(t) == 5 for t in found):
            # kept without the flat documents (their classes are made at run time): decoding them again is quick
            _FLAT[canonical] = tuple((desc, kind, text, _DecodedLater(text) if keys is not None else None, spots, keys)
                                     for desc, kind, text, spots, keys in found)
            continue
        _FLAT[canonical] = decoded = _decode_templates(canonical)
        if key is not None:
            _keep_templates(cache_dir, key, decoded)


def _templates_key(canonical: str) -> str:
    from . import cache

    return "g-" + cache.key_for([("", _FLAT_KIND), ("canonical", canonical.encode())])


def _keep_templates(cache_dir: pathlib.Path, key: str, made: tuple) -> tuple:
    """Kept without the flat documents (their classes are made at run time): decoding them again is quick."""
    from . import cache

    kept = tuple((desc, kind, text, spots, keys) for desc, kind, text, _, spots, keys in made)
    cache.write(cache_dir, key, kept)
    return kept


def _make_and_keep_templates(cache_dir: pathlib.Path, canonical: str) -> tuple:
    """In a worker: one canonical region's templates, made, kept in the cache and sent back as kept."""
    return _keep_templates(cache_dir, _templates_key(canonical), _decode_templates(canonical))


def _swaps(insured: str) -> tuple[str, str, str, tuple]:
    """The canonical insured region and intra-province place, `insured`'s intra-province place, and the text swaps."""
    local, intra = _CANONICAL[insured.startswith("65")]
    mine = _places(insured)["intra"]
    return local, intra, mine, ((f'"{local}"'.encode(), f'"{insured}"'.encode()), (f'"{intra}"'.encode(), f'"{mine}"'.encode()))


def _own(flat: dict, spots: tuple, insured: str, mine: str, replace=msgspec.structs.replace) -> dict:
    """A copy of a template's flat document with the region codes of `insured` put in."""
    d = dict(flat)
    for key, is_local, is_struct in spots:
        code = insured if is_local else mine
        d[key] = replace(d[key], region=code) if is_struct else code
    return d


def _own_situation(template: tuple, insured: str, intra: str, mine: str, swaps: tuple) -> tuple[str, dict | bytes]:
    """A template as `insured`'s situation: its description and flat document — or its JSON text, where the
    fast decoder does not vouch for the template (then the text is decoded as any document is)."""
    desc, _, text, flat, spots, _ = template
    desc = desc.replace(intra, mine)
    if type(flat) is _DecodedLater:
        flat = flat.get()
    if flat is None:
        for old, new in swaps:
            text = text.replace(old, new)
        return desc, text
    return desc, _own(flat, spots, insured, mine)


def flat_situations(insured: str) -> Iterator[tuple[str, str, dict | bytes]]:
    """(description, kind, flat document) of `situations(insured)`: what `decode_fast` makes of each text."""
    local, intra, mine, swaps = _swaps(insured)
    for template in _flat_templates(local):
        desc, document = _own_situation(template, insured, intra, mine, swaps)
        yield desc, template[1], document


def check_policy(policies: PolicySet, evaluator, compiled: CompiledPolicy, skip_repeats: bool = True) -> PolicySituations:
    """Decide every situation of one policy's insured region; collect conflicts, missing answers and floors below.

    With `skip_repeats`, a situation holding the values an earlier one's decision read is not decided again
    (`situation_memo`): the result is the same, found about three times sooner.
    """
    found: list[Diagnostic] = []
    fired: dict[str, str] = {}
    defined: dict[str, Any] = {}
    reported: set[tuple] = set()
    rules = [rule for program in compiled.programs.values() for rule in program.rules]
    for rule in rules:
        defined.setdefault(rule.id, rule)
    insured = insured_region(compiled, policies)
    local, intra, mine, swaps = _swaps(insured)
    templates = _flat_templates(local)
    all_keys, run_ends = _runs(templates)
    memos = {kind: SeenReads(all_keys) for kind in KINDS}   # by kind: claims and requests read apart
    trusted: set[frozenset[str]] = set()    # programs' `document_reads` seen to cover what a decision read
    i = 0
    while i < len(templates):
        template = templates[i]
        kind, keys = template[1], template[5]
        # The template's value keys stand for this policy's values: its region codes are put in one for one,
        # so equal template keys mean equal values here (the converse may fail: a few skips lost).
        if skip_repeats and keys is not None:
            unseen = memos[kind].next_unseen(i, run_ends[i])
            if unseen != i:
                i = unseen  # those before hold what an earlier situation's decision read: nothing new to find
                continue
        index, i = i, i + 1
        description, document = _own_situation(template, insured, intra, mine, swaps)
        try:
            if keys is None:    # a text the fast decoder does not vouch for: decoded as any document is
                met, touched = evaluator.rules_met_json(document)
            elif not skip_repeats:
                met, touched = evaluator.rules_met_flat(document)
            else:
                reads = evaluator.document_reads(document)
                if reads in trusted:
                    try:
                        met, touched = evaluator.rules_met_flat(document)
                    finally:
                        memos[kind].add_reads(reads, index)
                else:   # the first decision with these reads is recorded too: they must cover what it read
                    tracked = TrackedDocument(document)
                    try:
                        met, touched = evaluator.rules_met_flat(tracked)
                    finally:
                        memos[kind].add(tracked, index)
                        if tracked.complete and tracked.reads.keys() <= reads:
                            trusted.add(reads)
        except RuleConflict as exc:
            key = ("conflict", exc.rules)
            if key not in reported:
                reported.add(key)
                rule = defined.get(exc.rules[-1])
                where = rule.position if rule else compiled.layered.policy.position
                found.append(_at(where, "error", "rule-conflict",
                                 f"政策 {compiled.id}：{exc.message_zh}。情形：{description}",
                                 f"policy {compiled.id}: {exc.message_en}. Situation: {description}"))
            continue
        except NoApplicableRule as exc:
            key = ("missing", exc.message_en)
            if key not in reported:
                reported.add(key)
                found.append(_at(compiled.layered.policy.position, "error", "no-answer",
                                 f"政策 {compiled.id}：{exc.message_zh}。情形：{description}",
                                 f"policy {compiled.id}: {exc.message_en}. Situation: {description}"))
            continue
        except EvaluationError:
            continue
        if met.policy_id == compiled.id:
            for rule_id in itertools.filterfalse(fired.__contains__, itertools.chain(met.trace, touched)):
                fired[rule_id] = description      # (the trace's ids, then those that met an undetermined value)
            if met.floor_conflict:
                found += _floor_findings(compiled, kind, met.trace, description, defined, reported)
    held = tuple(RuleHeld(rule.id, rule.position, rule.source.label(), rule.guard) for rule in rules)
    return PolicySituations(compiled.id, tuple(found), fired, held)


def combine(policies: PolicySet, results: Mapping[str, PolicySituations]) -> list[Diagnostic]:
    """The findings of every policy (the same finding in several policies once, naming them), then the rules
    that never take effect in any policy's situations and the guards that do."""
    grouped: dict[tuple, list[str]] = {}
    shown: dict[tuple, Diagnostic] = {}
    fired: dict[str, str] = {}
    defined: dict[str, RuleHeld] = {}
    for compiled in policies.policies.values():
        result = results[compiled.id]
        for rule in result.defined:
            defined.setdefault(rule.id, rule)
        for d in result.findings:
            key = (d.code, d.severity, d.file, d.line, d.column, d.message_zh.removeprefix(f"政策 {compiled.id}："),
                   d.message_en.removeprefix(f"policy {compiled.id}: "))
            grouped.setdefault(key, []).append(compiled.id)
            shown.setdefault(key, d)
        for rule_id, description in result.fired.items():
            fired.setdefault(rule_id, f"政策 {compiled.id}，{description}")
    found = [_naming(shown[key], key, ids) for key, ids in grouped.items()]
    for rule_id, rule in defined.items():
        if rule_id not in fired and not rule.guard:
            found.append(_at(rule.position, "warning", "never-fires",
                             f"规则 {rule_id}（{rule.label}）在枚举的所有情形中都没有生效：条件可能自相矛盾，或总被其他规则排除"
                             f"（若是有意保留的防护规则，请在规则下写 guard: 说明原因）",
                             f"rule {rule_id} ({rule.label}) takes effect in none of the enumerated situations "
                             f"(if it is a guard kept on purpose, say why under guard:)"))
        elif rule_id in fired and rule.guard:
            found.append(_at(rule.position, "warning", "guard-fires",
                             f"规则 {rule_id} 标为防护规则（guard：{rule.guard}），但在枚举的情形中生效了{_first_situation(rule_id, fired)}："
                             f"标记所说的理由已不成立，请核对这条规则，并删去或改写 guard",
                             f"rule {rule_id} is marked as a guard ({rule.guard}) but takes effect{_first_situation(rule_id, fired, 'en')}: "
                             f"the reason given no longer holds; check the rule and remove or reword guard"))
    return found


def _naming(first: Diagnostic, key: tuple, ids: list[str]) -> Diagnostic:
    """One finding for every policy it was found in: "政策 henan、c410200 等 17 个政策：…"."""
    if len(ids) == 1:
        return first
    if len(ids) <= 3:
        zh, en = "、".join(ids), ", ".join(ids)
    else:
        zh, en = f"{ids[0]}、{ids[1]} 等 {len(ids)} 个政策", f"{ids[0]}, {ids[1]} and {len(ids) - 2} other policies"
    return dataclasses.replace(first, message_zh=f"政策 {zh}：{key[5]}", message_en=f"policies {en}: {key[6]}")


def check_situations(policies: PolicySet, evaluator, skip_repeats: bool = True) -> list[Diagnostic]:
    """Every policy's situations (`check_policy`), combined."""
    return combine(policies, {compiled.id: check_policy(policies, evaluator, compiled, skip_repeats)
                              for compiled in policies.policies.values()})


def _first_situation(rule_id: str, situations: dict[str, str], lang: str = "zh") -> str:
    where = situations.get(rule_id)
    if where is None:
        return ""
    return f"（情形：{where}）" if lang == "zh" else f" (situation: {where})"
