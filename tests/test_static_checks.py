"""Each static check finds its planted defect, and nothing that is not a warning on the shipped policies."""

from __future__ import annotations

import datetime
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yidi import DiagnosticError, Engine
from yidi.diagnostics import render
from yidi.fastdecode import decode_fast
from yidi.policy.static_checks import check_dates, check_situations, claims, flat_situations, requests, situations

from .conftest import POLICIES
from .conftest import write_city
from .officer_edits import set_values, value

TODAY = datetime.date(2026, 11, 23)


def findings(tree, as_of=TODAY):
    engine = Engine.load(tree)
    return check_dates(engine.policies, as_of) + check_situations(engine.policies, engine.evaluator)


def codes(found):
    return {d.code for d in found}


def test_shipped_policies_have_no_errors_and_no_warnings():
    """The shipped tree validates clean: what remains is only for an officer to confirm (floor conflicts, 待确认)."""
    found = findings(POLICIES)
    assert [d for d in found if d.severity in ("error", "warning")] == [], render(found)
    assert {d.code for d in found} <= {"floor-conflict"} and all(d.severity == "confirm" for d in found)


def test_a_decision_below_a_floor_is_listed_to_confirm_with_both_clauses(policy_copy):
    """Planted: Henan's reduction for unsupplemented commitment filers at home above its referral reduction
    (national.long-term-home-floor: not below the referral standard); the values are the test's own."""
    set_values(policy_copy, "henan", "reduction.referral", [value("2025-01-01", 10)])
    set_values(policy_copy, "henan", "reduction.commitment_home", [value("2025-01-01", 5)])
    assert [d for d in findings(policy_copy) if d.code == "floor-conflict"] == []
    set_values(policy_copy, "henan", "reduction.commitment_home", [value("2025-01-01", 25)])
    floors = [d for d in findings(policy_copy) if d.code == "floor-conflict"]
    assert floors and all(d.severity == "confirm" for d in floors)
    assert {d.file for d in floors} == {"policies/henan/policy.yaml"}
    assert "henan.commitment-home-reduction" in floors[0].message_zh and "national.long-term-home-floor" in floors[0].message_zh
    assert "医保发〔2022〕22号 八" in floors[0].message_zh


def _guarded(tree, rule_id: str, guard: str) -> None:
    """Write `guard:` under rule `rule_id` of Hubei's policy (or remove it when `guard` is empty)."""
    path = tree / "hubei" / "policy.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- id: {rule_id}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("- id:") or not lines[i].startswith("  ")), len(lines))
    body = [line for line in lines[start:end] if not line.lstrip().startswith("guard:")]
    if guard:
        body.append(f"    guard: {guard}\n")
    path.write_text("".join(lines[:start] + body + lines[end:]), encoding="utf-8")


def test_a_guard_marker_silences_never_fires_only_where_it_is(policy_copy):
    """Hubei's outpatient level restriction is a guard; without its marker the warning is back."""
    assert not [d for d in findings(policy_copy) if d.code == "never-fires"]
    _guarded(policy_copy, "hubei.outpatient-level-restriction", "")
    found = [d for d in findings(policy_copy) if d.code == "never-fires"]
    assert [d.message_en.split()[1] for d in found] == ["hubei.outpatient-level-restriction"]
    assert "guard" in found[0].message_zh


def test_a_guard_that_does_fire_is_reported(policy_copy):
    """Planted: a guard marker on a rule that takes effect in ordinary situations."""
    _guarded(policy_copy, "hubei.retro-after-self-paid-manual", "测试用：声称不会适用，其实会适用")
    found = [d for d in findings(policy_copy) if d.code == "guard-fires"]
    assert len(found) == 1 and found[0].severity == "warning"
    assert "hubei.retro-after-self-paid-manual" in found[0].message_zh and "情形" in found[0].message_zh
    assert found[0].file == "policies/hubei/policy.yaml"


def test_the_guard_holds_back_pooling_fund_outpatients_only_personal_accounts_pay_at_any_level(policy_copy):
    """鄂医保办〔2022〕28号 三（三）: the personal account settles directly at any level, whatever the level rule.

    Under Hubei's shipped values the level rule cannot fire, so no YAML case can tell the two payment sources
    apart; here the province's level is raised (a hypothetical change) to show the rule guards exactly what it says.
    """
    path = policy_copy / "hubei" / "policy.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    bounds:\n      max: 1\n", "    bounds:\n      max: 2\n", 1), encoding="utf-8")
    set_values(policy_copy, "hubei", "outpatient_direct.min_hospital_level",
               [value("2022-09-14", 2, source={"document": "鄂医保办〔2022〕28号", "clause": "三（三）"})])
    engine = Engine.load(policy_copy)
    claim = {"id": "HB-LEVEL", "insured": {"region": "420100", "scheme": "employee"},
             "filing": {"type": "long_term_resident", "region": "440100", "start_date": "2025-01-01", "filed_on": "2025-01-01"},
             "visit": {"kind": "outpatient", "region": "440103", "networked": True, "hospital_level": 1,
                       "admission_date": "2025-04-02", "discharge_date": "2025-04-02"},
             "costs": {"total": 300, "in_scope": 260}}
    pooled = engine.evaluate(claim)
    assert pooled["route"] == "manual" and "hubei.outpatient-level-restriction" in str(pooled["trace"])
    claim["visit"]["payment_source"] = "personal_account"
    personal = engine.evaluate(claim)
    assert personal["route"] == "direct" and "hubei.outpatient-level-restriction" not in str(personal["trace"])


@pytest.mark.parametrize("guard", ['""', "null", "ok", "it never fires"])
def test_a_guard_without_a_reason_is_refused(policy_copy, guard):
    _guarded(policy_copy, "hubei.outpatient-level-restriction", guard)
    with pytest.raises(DiagnosticError) as info:
        Engine.load(policy_copy)
    [d] = [d for d in info.value.diagnostics if d.file == "policies/hubei/policy.yaml"]
    assert d.severity == "error" and "guard" in d.message_zh


def test_two_rules_that_can_disagree_are_found_before_any_claim_hits_them(policy_copy):
    write_city(policy_copy, """\
        rules:
          - id: zhengzhou.emergency-no-reduction
            title: 示例：急诊不降低
            sets: reduction_pp
            when: treatment == "emergency"
            value: 0
            source: {document: 郑医保〔2025〕1号, clause: 一}
        """)
    found = [d for d in findings(policy_copy) if d.code == "rule-conflict"]
    assert found and "zhengzhou.emergency-no-reduction" in found[0].message_zh
    assert "national.reduction-emergency" in found[0].message_zh and "情形" in found[0].message_zh
    assert found[0].file == "policies/henan/zhengzhou/policy.yaml"


def test_a_situation_without_a_treatment_standard_is_found(policy_copy):
    write_city(policy_copy, """\
        rules:
          - id: national.treatment-unfiled
            title: 示例：把未备案规则改窄（只管门诊），住院未备案便无待遇标准
            sets: treatment
            when: scope != "local" and filing_status in ["absent", "expired"] and not visit.referral and visit.kind == "outpatient"
            value: unfiled
            source: {document: 郑医保〔2025〕1号, clause: 一}
        """)
    found = [d for d in findings(policy_copy) if d.code == "no-answer"]
    assert found and "treatment" in found[0].message_zh and "zhengzhou" in found[0].message_zh


def test_a_rule_that_can_never_fire_is_found(policy_copy):
    write_city(policy_copy, """\
        rules:
          - id: zhengzhou.contradiction
            title: 示例：条件自相矛盾
            sets: flags.audit_referral_eligible
            when: visit.kind == "inpatient" and visit.kind == "outpatient"
            value: true
            overrides: [henan.audit-referral]
            source: {document: 郑医保〔2025〕1号, clause: 一}
        """)
    found = [d for d in findings(policy_copy) if d.code == "never-fires"]
    assert any("zhengzhou.contradiction" in d.message_zh for d in found)
    assert all(d.severity == "warning" for d in found)


def test_gaps_overlaps_and_lapses_in_dated_values_are_found(policy_copy):
    write_city(policy_copy, """\
        parameters:
          audit_threshold:
            title: 协查标准
            type: number
            values:
              - {from: 2025-01-01, until: 2025-06-01, value: 30000, source: {document: 郑医保〔2025〕1号, clause: 一}}
              - {from: 2025-07-01, until: 2026-01-01, value: 25000, source: {document: 郑医保〔2025〕1号, clause: 一}}
              - {from: 2025-12-01, until: 2026-12-31, value: 20000, source: {document: 郑医保〔2025〕1号, clause: 一}}
        """)
    found = findings(policy_copy)
    messages = {d.code: d for d in found if d.code.startswith("date-")}
    assert set(messages) == {"date-gap", "date-overlap", "date-lapse"}
    assert "2025-06-01" in messages["date-gap"].message_zh and "2025-07-01" in messages["date-gap"].message_zh
    assert messages["date-lapse"].severity == "warning" and "2026-12-31" in messages["date-lapse"].message_zh
    assert messages["date-overlap"].file == "policies/henan/zhengzhou/policy.yaml"


@settings(max_examples=60, deadline=None)
@given(province=st.sampled_from(["11", "13", "31", "41", "46", "54", "61", "65"]), city=st.integers(1, 99), district=st.integers(0, 99))
def test_situations_from_templates_are_the_generated_ones(province, city, district):
    """The grid is generated once and its region codes replaced per policy: the same documents and descriptions
    as generating it for that insured region (also where the insured region is itself a place the grid uses)."""
    insured = f"{province}{city:02d}{district:02d}"
    generated = list(itertools.chain(claims(insured), requests(insured)))
    templated = list(situations(insured))
    assert [d for d, _, _ in templated] == [d for d, _ in generated]
    assert [json.loads(text) for _, _, text in templated] == [json.loads(json.dumps(doc)) for _, doc in generated]
    assert [kind for _, kind, _ in templated] == [doc["kind"] for _, doc in generated]


@settings(max_examples=40, deadline=None)
@given(province=st.sampled_from(["11", "13", "41", "65"]), city=st.integers(1, 99), district=st.integers(0, 99))
def test_flat_situations_are_what_decoding_the_texts_gives(province, city, district):
    """The grid is decoded once and each policy's codes put into the flat documents: the same as decoding its own."""
    insured = f"{province}{city:02d}{district:02d}"
    for (desc, kind, flat), (desc2, kind2, text) in zip(flat_situations(insured), situations(insured), strict=True):
        assert (desc, kind) == (desc2, kind2)
        assert flat == (decode_fast(text) if type(flat) is dict else text)


def test_what_the_static_checks_read_of_a_decision_is_what_its_answer_says(engine):
    """`Evaluator.rules_met` does not build the answer (`Explainer.trace_ids`): its policy, trace and
    floor_conflict must be the answer's, with trace="ids", for every situation and a synthetic corpus."""
    from yidi.errors import EvaluationError
    from yidi.policy.static_checks import insured_region
    from yidi.synth import generate

    documents = [doc for compiled in engine.policies.policies.values()
                 for _, _, doc in flat_situations(insured_region(compiled, engine.policies)) if isinstance(doc, dict)]
    documents += list(generate(3000, 11))
    floors = 0
    for document in documents:
        flat = "insured.region" in document      # a situation, flat as `fastdecode` makes it; else a claim as sent
        try:
            met, _ = engine.evaluator.rules_met_flat(dict(document)) if flat else engine.evaluator.rules_met(document)
        except EvaluationError as exc:
            with pytest.raises(type(exc)):
                engine.evaluator.evaluate_flat(dict(document), "ids") if flat else engine.evaluate(document, "ids")
            continue
        answer = engine.evaluator.evaluate_flat(dict(document), "ids") if flat else engine.evaluate(document, "ids")
        assert met == (answer["policy"]["id"], answer["trace"], "floor_conflict" in answer["flags"])
        floors += met.floor_conflict
    assert floors > 0     # the floors' part was exercised
