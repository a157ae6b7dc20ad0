"""Each static check finds its planted defect, and nothing that is not a warning on the shipped policies."""

from __future__ import annotations

import datetime

from yidi import Engine
from yidi.diagnostics import render
from yidi.policy.static_checks import check_dates, check_situations

from .conftest import POLICIES
from .conftest import write_city

TODAY = datetime.date(2026, 11, 23)


def findings(tree, as_of=TODAY):
    engine = Engine.load(tree)
    return check_dates(engine.policies, as_of) + check_situations(engine.policies, engine._evaluator)


def codes(found):
    return {d.code for d in found}


def test_shipped_policies_have_no_errors_and_one_explained_warning():
    found = findings(POLICIES)
    assert [d for d in found if d.severity == "error"] == [], render(found)
    # Hubei's outpatient level rule is a guard: it can only fire if a city raised the (bounded) minimum level.
    assert [(d.code, d.message_en.split()[1]) for d in found if d.severity == "warning"] == [
        ("never-fires", "hubei.outpatient-level-restriction")]
    # Henan's −20 pp at home for unsupplemented commitment filers is below the national floor (医保发〔2022〕22号 八):
    # not resolved by the engine, listed for an officer to confirm, with both clauses.
    floors = [d for d in found if d.severity == "confirm"]
    assert [(d.code, d.file) for d in floors] == [("floor-conflict", "policies/henan/policy.yaml")]
    assert "henan.commitment-home-reduction" in floors[0].message_zh
    assert "豫医保办〔2025〕2号 二（一）" in floors[0].message_zh and "医保发〔2022〕22号 八" in floors[0].message_zh


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
