"""Schema errors become Chinese diagnostics at the right key or value, and the
shipped schemas describe docs/policy-format.md."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from yidi.schema_check import _validator, check_against_schema
from yidi.source import load_yaml

SCHEMAS = pathlib.Path(__file__).resolve().parent.parent / "schemas"
POLICY = json.loads((SCHEMAS / "policy.schema.json").read_text(encoding="utf-8"))
TESTS = json.loads((SCHEMAS / "policy-test.schema.json").read_text(encoding="utf-8"))
CJK = re.compile(r"[\u3400-\u9fff]")

# Every snippet of docs/policy-format.md, put together.
GOOD = """\
# yaml-language-server: $schema=../../schemas/policy.schema.json
id: henan
region: "410000"
name: 河南省
extends: national
documents:
  - id: 豫医保办〔2025〕2号
    title: 关于进一步加强异地就医直接结算管理服务的通知
    issuer: 河南省医疗保障局 河南省财政厅
    issued: "2025"
    in_force: "2025"
parameters:
  reduction.other_temporary:
    title: 其他临时外出就医人员支付比例降低（百分点）
    type: number
    bounds: {max: 20}
    values:
      - from: 2025-01-01
        until: null
        value: 20
        source: {document: 豫医保办〔2025〕2号, clause: 二（二）, says: "非急诊且未转诊的其他临时外出就医人员支付比例降低20个百分点左右"}
      - from: 2022-01-01
        until: 2025-01-01
        value: 10
        illustrative: true
        note: 示例值
variables:
  filing_end:
    title: 备案有效期截止日（含）
    for: claim
    type: date?
benefits:
  - id: henan.inpatient
    title: 住院待遇（示例）
    care: [inpatient]
    illustrative: true
    note: 豫医保办〔2025〕2号未规定起付线、支付比例和封顶线；以下为示例值，须由统筹区确认
    rows:
      - {scheme: employee, level: 3, deductible: 900, ratio: 0.85, cap: 400000}
      - {scheme: resident, level: null, deductible: 1200, ratio: 0.6, cap: null}
rules:
  - id: henan.newborn-as-emergency
    title: 新生儿（出生0—28天）异地住院参照临时外出急诊就医待遇
    sets: treatment
    when: visit.kind == "inpatient" and newborn
    value: '"emergency"'
    overrides: [national.treatment-other-temporary, national.treatment-unfiled]
    source:
      document: 豫医保办〔2025〕2号
      clause: 二（三）
      says: 新生儿（出生0—28天）在异地定点医疗机构住院的，参照临时外出急诊就医待遇标准执行
    interpretation: null
    effective: {from: 2025-01-01, until: null}
  - id: henan.audit-flag
    title: 示例
    sets: flags.audit_referral_eligible
    when: >
      costs.total >= 20000
    value: true
    source: {document: 豫医保办〔2025〕2号, clause: 二（二）}
"""


def check(text: str, schema: dict = POLICY):
    return check_against_schema(load_yaml(text, "p.yaml"), schema)


def line_col(text: str, needle: str) -> tuple[int, int]:
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def only(ds, code=None):
    found = [d for d in ds if code is None or d.code == code]
    assert len(found) == 1, [(d.code, d.line, d.column, d.message_zh) for d in ds]
    return found[0]


# --------------------------------------------------------------------------
# The shipped policy schema


def test_documented_example_is_valid():
    assert check(GOOD) == []


def test_misspelled_source_is_reported_at_the_key_with_a_suggestion():
    text = GOOD.replace("    source:\n      document", "    sourse:\n      document")
    ds = check(text)
    d = only(ds, "unknown-key")
    assert (d.file, d.line, d.column) == ("p.yaml", *line_col(text, "sourse:"))
    assert "sourse" in d.message_zh and "规则" in d.message_zh and "rules" in d.message_zh
    assert "您是否想写 `source`？" in d.help_zh
    missing = only(ds, "missing-key")  # and the rule now lacks its source
    assert "`source`" in missing.message_zh
    assert (missing.line, missing.column) == line_col(text, "id: henan.newborn")


def test_key_at_the_wrong_depth():
    text = GOOD.replace("      says: 新生儿", "    says: 新生儿")
    d = only(check(text))
    assert d.code == "unknown-key"
    assert (d.line, d.column) == line_col(text, "says: 新生儿")
    assert "`says`" in d.message_zh and "`source`" in d.help_zh and "缩进" in d.help_zh

    text = GOOD.replace("    interpretation: null\n", "").replace(
        "      says: 新生儿", "      interpretation: 据此解释\n      says: 新生儿")
    d = only(check(text))
    assert (d.code, d.line, d.column) == ("unknown-key", *line_col(text, "interpretation: 据此"))
    assert "上一层" in d.help_zh


def test_unknown_top_level_key_lists_allowed_keys():
    text = GOOD + "parameter: {}\n"
    d = only(check(text))
    assert (d.line, d.column) == line_col(text, "parameter: {}")
    assert "文件顶层" in d.message_zh and "`parameters`" in d.help_zh


def test_unquoted_region_is_a_wrong_type_in_chinese():
    text = GOOD.replace('region: "410000"', "region: 410000")
    d = only(check(text))
    assert (d.code, d.line, d.column) == ("wrong-type", 3, 9)
    assert "应为字符串" in d.message_zh and "整数" in d.message_zh
    assert "引号" in d.help_zh


def test_enum_with_suggestion():
    text = GOOD.replace("scheme: employee", "scheme: employe")
    d = only(check(text))
    assert (d.code, d.line, d.column) == ("bad-value", *line_col(text, "employe,"))
    assert "您是否想写 `employee`？" in d.help_zh and "resident" in d.help_zh


def test_pattern_uses_the_chinese_explanation():
    text = GOOD.replace("      - from: 2025-01-01", "      - from: 2025-1-1")
    d = only(check(text))
    assert (d.code, d.line, d.column) == ("bad-value", *line_col(text, "2025-1-1"))
    assert "YYYY-MM-DD" in d.message_zh and "2025-1-1" in d.message_zh


def test_a_value_needs_a_source_illustrative_or_interpretation():
    text = GOOD.replace("        illustrative: true\n        note: 示例值\n", "")
    d = only(check(text))
    assert d.message_zh == "每个取值都要注明出处（source），或标注 illustrative: true / interpretation"
    assert (d.line, d.column) == line_col(text, "from: 2022-01-01")
    text = GOOD.replace("        illustrative: true\n        note: 示例值\n", "        interpretation: 依二（二）推定\n")
    assert check(text) == []
    text = GOOD.replace("        note: 示例值\n", "")
    assert "note" in only(check(text)).message_zh


def test_parameter_values_follow_the_declared_type():
    text = GOOD.replace("        value: 20\n", '        value: "20"\n')
    d = only(check(text))
    assert (d.code, d.line, d.column) == ("wrong-type", *line_col(text, '"20"'))
    assert "应为数字" in d.message_zh and "数字不要加引号" in d.help_zh


def test_bad_parameter_name_is_reported_at_the_name():
    text = GOOD.replace("  reduction.other_temporary:", "  Reduction-Other:")
    d = only(check(text))
    assert (d.code, d.line, d.column) == ("bad-name", *line_col(text, "Reduction-Other"))
    assert "小写字母" in d.message_zh


def test_sourced_benefit_table_needs_a_source():
    text = GOOD.replace("    illustrative: true\n    note: 豫医保办", "    illustrative: false\n    note: 豫医保办")
    d = only(check(text))
    assert "出处" in d.message_zh and (d.line, d.column) == line_col(text, "id: henan.inpatient")


def test_benefit_row_bounds_and_level():
    text = GOOD.replace("ratio: 0.85", "ratio: 1.5").replace("level: 3", "level: 4")
    ds = check(text)
    assert [d.code for d in ds] == ["bad-value", "bad-value"]
    assert "1、2、3、null" in ds[0].help_zh
    assert "最大值 1" in ds[1].message_zh


def test_extends_rules_for_national_and_others():
    text = GOOD.replace("extends: national\n", "")
    d = only(check(text))
    assert "extends" in d.message_zh and (d.line, d.column) == (2, 1)
    national = GOOD.replace("id: henan\n", "id: national\n")
    d = only(check(national))
    assert "national" in d.message_zh and (d.line, d.column) == line_col(national, "national\ndocuments")
    assert check(national.replace("extends: national\n", "")) == []


def test_all_problems_are_reported_sorted():
    text = (GOOD.replace('region: "410000"', "region: 4100")
            .replace("type: number", "type: numbr")
            .replace("    title: 示例\n", "")
            .replace("care: [inpatient]", "care: [inpatient, outpatent]"))
    ds = check(text)
    assert [d.code for d in ds] == ["wrong-type", "bad-value", "bad-value", "missing-key"]
    assert [d.line for d in ds] == sorted(d.line for d in ds)
    assert "您是否想写 `number`？" in ds[1].help_zh
    assert "您是否想写 `outpatient`？" in ds[2].help_zh


def test_rule_value_may_be_a_literal_but_not_a_list():
    assert check(GOOD.replace("value: true", "value: 0.5")) == []
    text = GOOD.replace("value: true", "value: [1]")
    d = only(check(text))
    assert d.code == "wrong-type" and "字符串、数字或布尔值" in d.message_zh and "列表" in d.message_zh


def test_empty_when_says_it_cannot_be_empty():
    text = GOOD.replace("    when: >\n      costs.total >= 20000\n", "    when:\n")
    d = only(check(text))
    assert d.code == "wrong-type" and "空值" in d.message_zh and "不能留空" in d.help_zh


# --------------------------------------------------------------------------
# The test-case schema

CASES = """\
cases:
  - name: 新生儿异地住院按急诊结算
    checks: [{document: 豫医保办〔2025〕2号, clause: 二（三）}]
    input: {kind: claim, anything: [1, 2], visit: {kind: inpatient}}
    expect: {treatment: emergency}
  - name: 缺少就医类型
    checks:
      - {document: 豫医保办〔2025〕2号, clause: 二（三）}
    input: {kind: claim}
    expect_error: [visit.kind]
"""


def test_test_cases_schema_accepts_free_input():
    assert check(CASES, TESTS) == []
    assert check("policy: henan\n" + CASES, TESTS) == []


def test_expect_xor_expect_error():
    text = CASES.replace("    expect: {treatment: emergency}\n", "    expect: {treatment: emergency}\n    expect_error: [x]\n")
    d = only(check(text, TESTS))
    assert "expect" in d.message_zh and "只能写一个" in d.message_zh
    assert (d.line, d.column) == line_col(text, "name: 新生儿")
    text = CASES.replace("    expect: {treatment: emergency}\n", "")
    assert "expect_error" in only(check(text, TESTS)).message_zh


def test_case_needs_chinese_name_and_checks():
    text = CASES.replace("name: 新生儿异地住院按急诊结算", "name: newborn").replace(
        "    checks: [{document: 豫医保办〔2025〕2号, clause: 二（三）}]\n", "    checks: []\n")
    ds = check(text, TESTS)
    assert [d.code for d in ds] == ["bad-value", "bad-value"]
    assert "中文" in ds[0].message_zh and "至少要有 1 项" in ds[1].message_zh
    d = only(check(CASES.replace("    input: {kind: claim}\n", ""), TESTS))
    assert d.code == "missing-key" and "`input`" in d.message_zh


# --------------------------------------------------------------------------
# Generic behaviour, on small inline schemas


def test_x_message_zh_on_a_subschema():
    schema = {"type": "object", "properties": {"a": {"type": "integer", "x-message-zh": "a 要写整数"}}}
    d = only(check("a: x\n", schema))
    assert d.message_zh == "a 要写整数" and (d.line, d.column) == (1, 4)


def test_one_of_noise_is_reduced_to_the_most_specific_error():
    shape = {"type": "object", "additionalProperties": False, "required": ["kind"]}
    schema = {"type": "object", "properties": {"item": {"oneOf": [
        {**shape, "properties": {"kind": {"const": "a"}, "size": {"type": "integer"}}},
        {**shape, "properties": {"kind": {"const": "b"}, "name": {"type": "string"}}},
    ]}}}
    d = only(check("item:\n  kind: a\n  size: big\n", schema))
    assert (d.code, d.line, d.column) == ("wrong-type", 3, 9)
    assert "整数" in d.message_zh


def test_type_unions_become_one_message():
    schema = {"properties": {"v": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}
    d = only(check("v: [1]\n", schema))
    assert d.code == "wrong-type" and "字符串或空值" in d.message_zh


def test_unevaluated_properties_are_unknown_keys():
    schema = {"type": "object", "allOf": [{"properties": {"name": {}}}], "unevaluatedProperties": False}
    d = only(check("name: a\nnmae: b\n", schema))
    assert (d.code, d.line, d.column) == ("unknown-key", 2, 1)
    assert "您是否想写 `name`？" in d.help_zh


def test_validators_are_cached_per_schema_id():
    assert _validator(POLICY) is _validator(POLICY)
    assert _validator(TESTS) is not _validator(POLICY)
    inline = {"type": "object"}
    assert _validator(inline) is _validator(inline)


# --------------------------------------------------------------------------
# The schemas themselves


def definitional(schema: dict, where: str = "#"):
    """Yield (where, node) for every schema that defines an instance's shape
    (not the partial schemas inside if/then/anyOf conditions)."""
    yield where, schema
    for name, sub in schema.get("$defs", {}).items():
        yield from definitional(sub, f"{where}/$defs/{name}")
    for name, sub in schema.get("properties", {}).items():
        yield from definitional(sub, f"{where}/properties/{name}")
    for word in ("items", "additionalProperties"):
        if isinstance(schema.get(word), dict):
            yield from definitional(schema[word], f"{where}/{word}")


@pytest.mark.parametrize("schema", [POLICY, TESTS], ids=["policy", "policy-test"])
def test_schemas_are_closed_and_titled_in_chinese(schema):
    for where, node in definitional(schema):
        if "properties" in node:
            assert node.get("additionalProperties") is False, where
            for name, prop in node["properties"].items():
                assert CJK.search(prop.get("title", "")), f"{where}/{name} needs a Chinese title"
                assert CJK.search(prop.get("description", "")), f"{where}/{name} needs a Chinese description"


def test_overrides_star_and_rule_ids():
    assert check(GOOD.replace("overrides: [national.treatment-other-temporary, national.treatment-unfiled]",
                              'overrides: ["*"]')) == []
    text = GOOD.replace("national.treatment-unfiled]", "National.Unfiled]")
    d = only(check(text))
    assert (d.code, d.line, d.column) == ("bad-value", *line_col(text, "National.Unfiled"))
