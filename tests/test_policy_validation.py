"""A broken policy is rejected with file:line:col and a clear Chinese message."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

from yidi import DiagnosticError, Engine, EvaluationError
from yidi.diagnostics import render

from .conftest import write_city

GOOD_RULE = """\
rules:
  - id: zhengzhou.audit-lower
    title: 示例规则
    sets: flags.audit_referral_eligible
    when: scope != "local" and costs.total >= 20000
    value: true
    overrides: [henan.audit-referral]
    source: {document: 郑医保〔2025〕1号, clause: 一}
"""


def diagnostics_for(tree: pathlib.Path):
    with pytest.raises(DiagnosticError) as info:
        Engine.load(tree)
    return info.value.diagnostics


def position_of(path: pathlib.Path, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """1-based line and column of the start of `needle` in the file."""
    text = path.read_text(encoding="utf-8")
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def only(diagnostics, code: str):
    found = [d for d in diagnostics if d.code == code]
    assert found, f"no {code} among {[(d.code, d.message_zh) for d in diagnostics]}"
    return found[0]


def test_a_good_city_policy_loads_and_narrows_its_province(policy_copy):
    write_city(policy_copy, GOOD_RULE)
    engine = Engine.load(policy_copy)
    assert "zhengzhou" in engine.policies.policies


def test_typo_in_a_field_path(policy_copy):
    path = write_city(policy_copy, GOOD_RULE.replace("costs.total", "costs.totl"))
    d = only(diagnostics_for(policy_copy), "unknown-field")
    assert (d.file, (d.line, d.column)) == ("policies/henan/zhengzhou/policy.yaml", position_of(path, "costs.totl"))
    assert "totl" in d.message_zh and "total" in d.help_zh


def test_type_error_in_an_expression(policy_copy):
    path = write_city(policy_copy, GOOD_RULE.replace("costs.total >= 20000", 'costs.total >= "两万"'))
    d = only(diagnostics_for(policy_copy), "wrong-type")
    assert (d.line, d.column) == position_of(path, ">=")
    assert "不能比较" in d.message_zh


def test_yaml_syntax_error(policy_copy):
    path = write_city(policy_copy, GOOD_RULE.replace("overrides: [henan.audit-referral]", "overrides: [henan.audit-referral"))
    d = only(diagnostics_for(policy_copy), "yaml-syntax")
    assert d.file.endswith("zhengzhou/policy.yaml")
    assert d.line >= position_of(path, "overrides:")[0]


def test_unknown_parameter(policy_copy):
    path = write_city(policy_copy, GOOD_RULE.replace("20000", "param.audit_treshold"))
    d = only(diagnostics_for(policy_copy), "unknown-param")
    assert (d.line, d.column) == position_of(path, "param.audit_treshold")
    assert "audit_threshold" in d.help_zh


def test_missing_citation(policy_copy):
    path = write_city(policy_copy, GOOD_RULE.replace("    source: {document: 郑医保〔2025〕1号, clause: 一}\n", ""))
    d = only(diagnostics_for(policy_copy), "missing-key")
    assert "source" in d.message_zh
    assert d.line == position_of(path, "- id: zhengzhou.audit-lower")[0]


def test_citation_of_an_unlisted_document(policy_copy):
    path = write_city(policy_copy, GOOD_RULE.replace("clause: 一}", "clause: 一}").replace("{document: 郑医保〔2025〕1号", "{document: 郑医保〔2025〕9号"))
    d = only(diagnostics_for(policy_copy), "unknown-document")
    assert d.line == position_of(path, "- id: zhengzhou.audit-lower")[0]


def test_misspelled_key_is_an_error_with_a_suggestion(policy_copy):
    path = write_city(policy_copy, GOOD_RULE.replace("    source:", "    sourse:"))
    found = diagnostics_for(policy_copy)
    d = only(found, "unknown-key")
    assert (d.line, d.column) == position_of(path, "sourse:")
    assert "sourse" in d.message_zh and "source" in (d.help_zh or d.message_zh)


def test_key_at_the_wrong_depth(policy_copy):
    path = write_city(policy_copy, GOOD_RULE + "    clause: 二\n")
    d = only(diagnostics_for(policy_copy), "unknown-key")
    assert (d.line, d.column) == position_of(path, "clause: 二")


def test_positions_inside_folded_block_scalars_are_exact(policy_copy):
    body = GOOD_RULE.replace(
        '    when: scope != "local" and costs.total >= 20000\n',
        '    when: >\n      scope != "local"\n      and costs.total >= 20000\n      and visit.kindd == "inpatient"\n',
    )
    path = write_city(policy_copy, body)
    d = only(diagnostics_for(policy_copy), "unknown-field")
    assert (d.line, d.column) == position_of(path, "visit.kindd")


def test_positions_inside_literal_block_scalars_are_exact(policy_copy):
    body = GOOD_RULE.replace(
        '    when: scope != "local" and costs.total >= 20000\n',
        '    when: |\n      scope != "local"\n        and costs.total >= 20000 and visit.kindd == "inpatient"\n',
    )
    path = write_city(policy_copy, body)
    d = only(diagnostics_for(policy_copy), "unknown-field")
    assert (d.line, d.column) == position_of(path, "visit.kindd")


def test_override_of_an_unknown_rule(policy_copy):
    path = write_city(policy_copy, GOOD_RULE.replace("[henan.audit-referral]", "[henan.audit-referal]"))
    d = only(diagnostics_for(policy_copy), "unknown-override")
    assert (d.line, d.column) == position_of(path, "henan.audit-referal")
    assert "henan.audit-referral" in d.help_zh


def test_a_city_may_not_exceed_the_national_bound(policy_copy):
    body = GOOD_RULE + textwrap.dedent("""\
        parameters:
          change_lock_months.commitment_unsupplemented:
            title: 承诺制未补充材料限制期
            type: number
            values:
              - from: 2025-01-01
                value: 12
                source: {document: 郑医保〔2025〕1号, clause: 二}
        """)
    write_city(policy_copy, body)
    d = only(diagnostics_for(policy_copy), "outside-bounds")
    assert "上限 6" in d.message_zh and "医保发〔2022〕22号 五" in d.message_zh


def test_a_dependency_cycle_is_reported(policy_copy):
    write_city(policy_copy, GOOD_RULE.replace("sets: flags.audit_referral_eligible", "sets: treatment")
               .replace("value: true", "value: treatment").replace("overrides: [henan.audit-referral]", "overrides: []"))
    d = only(diagnostics_for(policy_copy), "dependency-cycle")
    assert "treatment" in d.message_zh


def test_unknown_variable_in_sets(policy_copy):
    write_city(policy_copy, GOOD_RULE.replace("sets: flags.audit_referral_eligible", "sets: flags.audit"))
    only(diagnostics_for(policy_copy), "unknown-variable")


def test_two_rules_that_disagree_without_precedence_are_a_conflict(policy_copy):
    write_city(policy_copy, GOOD_RULE.replace("value: true", "value: false").replace("    overrides: [henan.audit-referral]\n", ""))
    engine = Engine.load(policy_copy)
    claim = {
        "id": "C1", "insured": {"region": "410100", "scheme": "employee"},
        "visit": {"kind": "inpatient", "region": "110000", "networked": True, "hospital_level": 3,
                  "admission_date": "2025-03-05", "discharge_date": "2025-03-12", "emergency": True},
        "costs": {"total": 40000, "in_scope": 30000},
    }
    with pytest.raises(EvaluationError) as info:
        engine.evaluate(claim)
    assert info.value.code == "rule-conflict"
    assert set(info.value.rules) == {"henan.audit-referral", "zhengzhou.audit-lower"}


def test_all_problems_are_reported_at_once_and_rendered_with_a_caret(policy_copy):
    write_city(policy_copy, GOOD_RULE.replace("costs.total", "costs.totl").replace("    source:", "    sourse:"))
    broken_national = policy_copy / "national" / "policy.yaml"
    broken_national.write_text(broken_national.read_text(encoding="utf-8").replace("value: visit.kind", "value: visit.knd"), encoding="utf-8")
    found = diagnostics_for(policy_copy)
    assert {d.file for d in found} == {"policies/henan/zhengzhou/policy.yaml", "policies/national/policy.yaml"}
    text = render(found, source_lines=lambda f: (policy_copy.parent / f).read_text(encoding="utf-8").splitlines())
    assert "visit.knd" in text and "^" in text and "错误[" in text


def test_a_hubei_city_may_not_exceed_the_provincial_referral_ceiling(policy_copy):
    folder = policy_copy / "hubei" / "wuhan"
    folder.mkdir()
    (folder / "policy.yaml").write_text(textwrap.dedent("""\
        id: wuhan
        region: "420100"
        name: 武汉市
        extends: hubei
        documents:
          - id: 武医保〔2025〕1号
            title: 示例文件
        parameters:
          reduction.referral:
            title: 异地转诊人员支付比例降低（百分点）
            type: number
            values:
              - from: 2025-01-01
                value: 15
                source: {document: 武医保〔2025〕1号, clause: 一}
        """), encoding="utf-8")
    d = only(diagnostics_for(policy_copy), "outside-bounds")
    assert d.file == "policies/hubei/wuhan/policy.yaml"
    assert "上限 10" in d.message_zh and "鄂医保办〔2022〕28号 三（一）" in d.message_zh and "hubei" in d.message_zh
    assert "鄂医保办〔2022〕28号 三（一）" in d.message_en
