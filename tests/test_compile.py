"""Compiled policies: deterministic, inspectable, cacheable, and errors point back at the YAML."""

from __future__ import annotations

import pickle

import pytest

from yidi import Engine, EvaluationError

from .conftest import POLICIES
from .conftest import yidi
from .conftest import CITY_HEADER, write_city


def test_compiled_code_is_deterministic():
    first, second = Engine.load(POLICIES), Engine.load(POLICIES)
    for policy_id, compiled in first.policies.policies.items():
        for kind, program in compiled.programs.items():
            assert program.source == second.policies.policies[policy_id].programs[kind].source


def test_a_cached_engine_decides_exactly_like_a_fresh_one(tmp_path, engine):
    cached = Engine.load(POLICIES, cache=tmp_path)
    again = Engine.load(POLICIES, cache=tmp_path)
    assert list(tmp_path.glob("*.pickle")), "the compiled set was written to the cache"
    claim = {"id": "C", "insured": {"region": "410100", "scheme": "employee", "birth_date": "2025-07-02"},
             "visit": {"kind": "inpatient", "region": "110000", "networked": True, "hospital_level": 3,
                       "admission_date": "2025-07-10", "discharge_date": "2025-07-18"},
             "costs": {"total": 18000, "in_scope": 15000}}
    assert again.evaluate(claim) == engine.evaluate(claim) == cached.evaluate(claim)
    assert pickle.loads(pickle.dumps(engine.policies)).revision == engine.revision


def test_a_changed_policy_does_not_use_the_old_cache(tmp_path, policy_copy):
    cache = tmp_path / "cache"
    before = Engine.load(policy_copy, cache=cache)
    henan = policy_copy / "henan" / "policy.yaml"
    henan.write_text(henan.read_text(encoding="utf-8").replace("value: 30000", "value: 40000"), encoding="utf-8")
    after = Engine.load(policy_copy, cache=cache)
    assert after.revision != before.revision


def test_explain_compiled_shows_a_rules_generated_lines():
    result = yidi("explain-compiled", "henan.newborn-as-emergency")
    assert result.returncode == 0, result.stderr
    assert "henan.newborn-as-emergency (policies/henan/policy.yaml:" in result.stdout
    assert "'emergency'" in result.stdout


def test_a_runtime_failure_names_the_rule_and_its_line(policy_copy):
    body = """\
variables:
  odd_ratio:
    title: 示例
    for: claim
    type: number
rules:
  - id: zhengzhou.odd-ratio
    title: 示例：除以零
    sets: odd_ratio
    value: costs.total / (costs.in_scope - costs.in_scope)
    source: {document: 郑医保〔2025〕1号, clause: 一}
  - id: zhengzhou.use-odd
    title: 示例：读取
    sets: flags.audit_referral_eligible
    when: odd_ratio > 1
    value: true
    overrides: [henan.audit-referral]
    source: {document: 郑医保〔2025〕1号, clause: 一}
"""
    assert CITY_HEADER
    write_city(policy_copy, body)
    engine = Engine.load(policy_copy)
    claim = {"id": "C", "insured": {"region": "410100", "scheme": "employee"},
             "visit": {"kind": "inpatient", "region": "110000", "networked": True, "hospital_level": 3,
                       "admission_date": "2025-07-10", "discharge_date": "2025-07-18"},
             "costs": {"total": 100, "in_scope": 50}}
    with pytest.raises(EvaluationError) as info:
        engine.evaluate(claim)
    assert info.value.rules == ("zhengzhou.odd-ratio",)
    assert info.value.where[0].startswith("policies/henan/zhengzhou/policy.yaml:")


def test_answers_share_no_mutable_parts(engine):
    claim = {"id": "C", "insured": {"region": "410100", "scheme": "employee"},
             "visit": {"kind": "inpatient", "region": "110000", "networked": True, "hospital_level": 3,
                       "admission_date": "2025-07-10", "discharge_date": "2025-07-18", "emergency": True},
             "costs": {"total": 100, "in_scope": 50}}
    first = engine.evaluate(claim)
    first["policy"]["documents"].append("changed by a caller")
    with_parameters = next(i for i, entry in enumerate(first["trace"]) if entry.get("parameters"))
    first["trace"][with_parameters]["parameters"][0]["value"] = "changed"
    second = engine.evaluate(claim)
    assert "changed by a caller" not in second["policy"]["documents"]
    assert second["trace"][with_parameters]["parameters"][0]["value"] != "changed"
