"""Input documents: schema files, JSON loading, validation messages, normalisation."""

from __future__ import annotations

import copy
import datetime
import json
import pickle
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from yidi import documents
from yidi.contract import resolve_ref
from yidi.documents import load_json, normalize_document
from yidi.errors import InputError, InputProblem
from yidi.resources import schema_file as schema_path

D = Decimal

CLAIM = {
    "kind": "claim",
    "id": "C-2025-0001",
    "insured": {"region": "410100", "scheme": "employee"},
    "visit": {
        "kind": "inpatient", "region": "110000", "networked": True, "hospital_level": 3,
        "admission_date": "2025-03-05", "discharge_date": "2025-03-12",
    },
    "costs": {"total": D("32000.00"), "in_scope": D("26000.00")},
}

FILING = {
    "type": "other_temporary", "basis": "commitment", "region": "110000",
    "start_date": "2025-03-01", "end_date": None, "filed_on": "2025-03-01", "supplemented_on": None,
}

REQUEST = {
    "kind": "filing_request",
    "id": "F-2025-0007",
    "insured": {"region": "410100", "scheme": "resident"},
    "action": "cancel",
    "on": "2025-10-20",
    "current": {
        "type": "long_term_resident", "basis": "commitment", "region": "320500",
        "start_date": "2025-06-01", "filed_on": "2025-06-01",
    },
}

BAD_DATES = """{
  "kind": "claim",
  "id": "EX-BAD",
  "insured": {"region": "4101", "scheme": "employee"},
  "visit": {
    "kind": "inpatient", "region": "110000", "networked": true, "hospital_level": 3,
    "admission_date": "2025-03-10", "discharge_date": "2025-03-01"
  },
  "costs": {"total": -5, "in_scope": 0}
}"""

CLAIM_KEYS = ["kind", "id", "insured", "filing", "visit", "costs"]
INSURED_KEYS = ["region", "scheme", "birth_date"]
FILING_KEYS = ["type", "basis", "region", "start_date", "end_date", "filed_on", "supplemented_on"]
VISIT_KEYS = [
    "kind", "region", "networked", "hospital_level", "admission_date", "discharge_date", "emergency", "referral",
    "psychiatric_certificate", "chronic_disease", "trauma", "died_after_emergency", "outside_services", "settled_on",
    "self_paid", "system_failure", "payment_source",
]
REQUEST_KEYS = ["kind", "id", "insured", "action", "on", "current", "new", "history"]
HISTORY_KEYS = ["type", "basis", "start_date", "cancelled_on", "supplemented_on"]


def claim(**changes) -> dict:
    """A valid claim with dotted-path changes: claim(**{"visit.kind": "outpatient"}); None value = delete."""
    return _changed(CLAIM, changes)


def request(**changes) -> dict:
    return _changed(REQUEST, changes)


def _changed(base: dict, changes: dict) -> dict:
    doc = copy.deepcopy(base)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
    return doc


_DELETE = object()


def problems(doc) -> list[tuple[str, str]]:
    with pytest.raises(InputError) as info:
        normalize_document(doc)
    return [(p.path, p.message_zh) for p in info.value.problems]


def paths(doc) -> list[str]:
    return [path for path, _ in problems(doc)]


def only(doc) -> tuple[str, str]:
    found = problems(doc)
    assert len(found) == 1, found
    return found[0]


# ---- schema files -------------------------------------------------------------------------

SCHEMAS = ["claim.schema.json", "filing-request.schema.json", "decision.schema.json"]


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_is_valid_2020_12_and_documented_in_chinese(name):
    schema = json.loads(schema_path(name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for where, prop in _properties(schema, schema):
        resolved = resolve_ref(schema, prop)
        assert resolved.get("title") and resolved.get("description"), where
        assert any("\u4e00" <= ch <= "\u9fff" for ch in resolved["description"]), where


def _properties(root, node, where=""):
    node = resolve_ref(root, node)
    for name, prop in node.get("properties", {}).items():
        yield f"{where}.{name}", prop
        yield from _properties(root, prop, f"{where}.{name}")
    if "items" in node:
        yield from _properties(root, node["items"], where + "[]")
    for key in ("$defs",):
        for name, sub in node.get(key, {}).items():
            yield from _properties(root, sub, f"$defs.{name}")


def test_input_schemas_share_their_definitions():
    claim_defs = json.loads(schema_path("claim.schema.json").read_text(encoding="utf-8"))["$defs"]
    request_defs = json.loads(schema_path("filing-request.schema.json").read_text(encoding="utf-8"))["$defs"]
    for name in ("region", "date", "optional_date", "scheme", "filing_type", "basis", "insured", "filing"):
        assert claim_defs[name] == request_defs[name], name


def test_input_schemas_forbid_unknown_keys_everywhere():
    for name in SCHEMAS[:2]:
        schema = json.loads(schema_path(name).read_text(encoding="utf-8"))
        objects = list(_object_schemas(schema))
        assert len(objects) >= 4
        for node in objects:
            assert node.get("additionalProperties") is False, node.get("title")


def _object_schemas(node):
    """Every subschema declaring properties, except the `if`/`then` conditions (which only add requirements)."""
    if isinstance(node, dict):
        if "properties" in node:
            yield node
        for key, value in node.items():
            if key not in ("if", "then", "properties"):
                yield from _object_schemas(value)
            elif key == "properties":
                for prop in value.values():
                    yield from _object_schemas(prop)
    elif isinstance(node, list):
        for item in node:
            yield from _object_schemas(item)


def test_schema_path_reports_where_it_looked():
    with pytest.raises(FileNotFoundError, match="no-such.schema.json"):
        schema_path("no-such.schema.json")


DECISION = {
    "claim_id": "C-2025-0001",
    "policy": {"id": "henan", "region": "410000", "documents": ["豫医保办〔2025〕2号", "医保发〔2022〕22号"]},
    "scope": "cross_province", "route": "direct", "filing_status": "valid", "treatment": "emergency",
    "catalog": "treatment_place", "reduction_pp": 10, "ratio": 0.75,
    "amounts": {"in_scope": 26000.0, "deductible": 900.0, "fund": 18825.0, "personal": 13175.0},
    "flags": ["audit_referral_eligible"],
    "trace": [{"rule": "henan.newborn-as-emergency", "source": "豫医保办〔2025〕2号 二（三）",
               "says": "新生儿（出生0—28天）…参照临时外出急诊就医待遇标准执行",
               "variable": "treatment", "value": "emergency", "file": "policies/henan/policy.yaml", "line": 12,
               "interpretation": None}],
}
ANSWER = {
    "request_id": "F-2025-0007", "allowed": False, "earliest_date": "2025-12-01",
    "reason": "承诺制备案未补充材料，6个月内不得变更或取消备案",
    "validity": {"start_date": "2025-06-01", "end_date": None},
    "trace": [{"rule": "henan.commitment-lock", "source": "豫医保办〔2025〕2号 一（二）", "says": "…"}],
}


def test_decision_schema_accepts_the_contract_answers_and_rejects_broken_ones():
    validator = Draft202012Validator(json.loads(schema_path("decision.schema.json").read_text(encoding="utf-8")))
    assert validator.is_valid(DECISION)
    assert validator.is_valid(ANSWER)
    assert not validator.is_valid({**DECISION, "trace": []})
    assert not validator.is_valid({**DECISION, "route": "guess"})
    assert not validator.is_valid({**ANSWER, "trace": [{"rule": "x", "source": "y", "says": "z", "colour": 1}]})
    assert not validator.is_valid({k: v for k, v in DECISION.items() if k != "treatment"})


@pytest.mark.parametrize("trace", ["full", "ids", "compact"])
def test_engine_answers_match_the_decision_schema(engine, trace):
    """The schema is the contract services code against; the engine's real answers must satisfy it."""
    from yidi.jsonout import dumps

    validator = Draft202012Validator(json.loads(schema_path("decision.schema.json").read_text(encoding="utf-8")))
    inputs = [
        CLAIM, claim(filing=dict(FILING)), claim(**{"insured.birth_date": "2025-03-01"}),
        claim(**{"visit.region": "410100", "visit.kind": "outpatient", "visit.discharge_date": "2025-03-05"}),
        REQUEST, request(action="change", new=dict(FILING)), request(action="file", new=dict(FILING), current=None),
    ]
    for document in inputs:
        answer = load_json(dumps(engine.evaluate(document, trace=trace)))
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(answer)]
        assert errors == [], (document["id"], errors)


# ---- JSON text ----------------------------------------------------------------------------


def test_load_json_keeps_decimals_exact():
    data = load_json('{"a": 75.015, "b": 0.1, "c": 3, "d": 1e2}')
    assert data == {"a": D("75.015"), "b": D("0.1"), "c": 3, "d": D("1E+2")}
    assert str(data["a"]) == "75.015" and isinstance(data["a"], Decimal)
    assert load_json('{"a": 1.10}'.encode()) == {"a": D("1.10")}
    assert load_json('\ufeff{"a": 1}') == {"a": 1}


@pytest.mark.parametrize("text, words", [
    ('{"id": "x",\n  "a": }', ["第 2 行第 8 列", "此处应为一个值"]),
    ('{"a": 1,}', ["第 1 行第 9 列", "双引号"]),
    ('{"a": NaN}', ["NaN"]),
    ('{"a": 1, "a": 2}', ['"a"', "不止一次"]),
    (b"\xff\xfe\x00", ["UTF-16", "UTF-8"]),
    ("[" * 100_000, ["嵌套"]),
])
def test_load_json_rejects_bad_text_with_a_located_message(text, words):
    with pytest.raises(InputError) as info:
        load_json(text)
    [problem] = info.value.problems
    assert problem.path == ""
    for word in words:
        assert word in problem.message_zh
    assert problem.message_en


# ---- normalisation ------------------------------------------------------------------------


def test_valid_claim_normalises_with_every_field_and_default():
    doc = normalize_document(claim(**{"kind": _DELETE}))
    assert list(doc) == CLAIM_KEYS
    assert list(doc["insured"]) == INSURED_KEYS
    assert list(doc["visit"]) == VISIT_KEYS
    assert list(doc["costs"]) == ["total", "in_scope"]
    assert doc["kind"] == "claim"
    assert doc["filing"] is None
    assert doc["insured"]["birth_date"] is None
    visit = doc["visit"]
    for flag in ("emergency", "referral", "psychiatric_certificate", "died_after_emergency", "outside_services",
                 "self_paid", "system_failure"):
        assert visit[flag] is False, flag
    assert visit["chronic_disease"] is None and visit["trauma"] is None
    assert visit["payment_source"] == "pooling_fund"
    assert visit["admission_date"] == datetime.date(2025, 3, 5)
    assert visit["settled_on"] == visit["discharge_date"] == datetime.date(2025, 3, 12)
    assert visit["hospital_level"] == 3 and type(visit["hospital_level"]) is int
    assert doc["costs"] == {"total": D("32000.00"), "in_scope": D("26000.00")}


def test_claim_filing_is_normalised_and_basis_defaults_to_materials():
    filing = {k: v for k, v in FILING.items() if k in ("type", "region", "start_date")}
    doc = normalize_document(claim(filing=filing, **{"visit.settled_on": "2025-04-01"}))
    assert list(doc["filing"]) == FILING_KEYS
    assert doc["filing"]["basis"] == "materials"
    assert doc["filing"]["start_date"] == datetime.date(2025, 3, 1)
    assert doc["filing"]["end_date"] is None and doc["filing"]["supplemented_on"] is None
    assert doc["visit"]["settled_on"] == datetime.date(2025, 4, 1)
    assert normalize_document(claim(filing=None))["filing"] is None


def test_numbers_become_decimals_without_passing_through_binary_floats():
    doc = normalize_document(claim(**{"costs.total": 100, "costs.in_scope": 75.01, "visit.hospital_level": D("2.0")}))
    assert doc["costs"]["total"] == D(100) and isinstance(doc["costs"]["total"], Decimal)
    assert str(doc["costs"]["in_scope"]) == "75.01"
    assert doc["visit"]["hospital_level"] == 2 and type(doc["visit"]["hospital_level"]) is int


def test_valid_filing_request_normalises_with_defaults():
    doc = normalize_document(request())
    assert list(doc) == REQUEST_KEYS
    assert doc["on"] == datetime.date(2025, 10, 20)
    assert list(doc["current"]) == [*FILING_KEYS, "costs_in_filed_place"]
    assert doc["current"]["costs_in_filed_place"] is False
    assert doc["current"]["end_date"] is None and doc["current"]["supplemented_on"] is None
    assert doc["new"] is None
    assert doc["history"] == []
    assert doc["insured"]["birth_date"] is None


def test_filing_request_with_new_filing_and_history():
    doc = normalize_document(request(
        action="change", new=dict(FILING), current=None,
        history=[{"type": "long_term_resident", "basis": "commitment", "start_date": "2023-01-04",
                  "cancelled_on": "2024-02-01", "supplemented_on": None},
                 {"type": "referral", "start_date": "2024-03-01"}],
    ))
    assert list(doc["new"]) == FILING_KEYS and doc["new"]["basis"] == "commitment"
    assert doc["current"] is None
    assert [list(h) for h in doc["history"]] == [HISTORY_KEYS, HISTORY_KEYS]
    assert doc["history"][0]["cancelled_on"] == datetime.date(2024, 2, 1)
    assert doc["history"][1]["basis"] == "materials" and doc["history"][1]["cancelled_on"] is None


def test_defaults_are_fresh_objects_per_document():
    first = normalize_document(request())
    first["history"].append("mutated")
    assert normalize_document(request())["history"] == []


def test_normalise_does_not_touch_its_input():
    raw = claim()
    before = copy.deepcopy(raw)
    normalize_document(raw)
    assert raw == before


def test_python_dates_are_accepted_as_dates():
    doc = normalize_document(claim(**{"visit.admission_date": datetime.date(2025, 3, 5)}))
    assert doc["visit"]["admission_date"] == datetime.date(2025, 3, 5)


# ---- schema messages ----------------------------------------------------------------------


def test_type_error_says_what_was_expected_and_found():
    assert only(claim(**{"costs.total": "abc"})) == ("costs.total", '应为数字，实际为字符串 "abc"')
    assert only(claim(**{"visit.networked": "yes"}))[1] == '应为布尔值（true 或 false），实际为字符串 "yes"'
    assert only(claim(**{"visit.chronic_disease": 5}))[1] == "应为字符串或 null，实际为数字 5"
    assert only(claim(visit=[])) == ("visit", "应为对象，实际为列表（0 项）")


def test_enum_lists_allowed_values_and_suggests_the_near_miss():
    path, message = only(claim(**{"insured.scheme": "employe"}))
    assert path == "insured.scheme"
    assert '"employee"、"resident"' in message and '您是否想写 "employee"' in message
    path, message = only(claim(filing={**FILING, "type": "long_term"}))
    assert path == "filing.type" and "long_term_resident" in message
    assert "您是否想写" not in only(claim(**{"visit.kind": "zzz"}))[1]
    assert only(claim(**{"visit.hospital_level": 4})) == ("visit.hospital_level", "取值应为以下之一：1、2、3、null；实际为数字 4")


def test_wrong_type_for_an_enum_is_reported_once():
    assert only(claim(**{"insured.scheme": 7}))[1] == "应为字符串，实际为数字 7"


def test_required_field_is_reported_at_its_own_path():
    assert only(claim(**{"visit.kind": _DELETE})) == ("visit.kind", "缺少必填字段 visit.kind")
    assert paths(claim(costs={})) == ["costs.in_scope", "costs.total"]
    assert only(claim(id=_DELETE)) == ("id", "缺少必填字段 id")


def test_unknown_field_is_an_error_with_a_suggestion():
    path, message = only(claim(**{"visit.emergncy": True}))
    assert path == "visit.emergncy"
    assert message.startswith("未知字段 visit.emergncy") and '您是否想写 "emergency"' in message
    path, message = only(claim(colour="red"))
    assert path == "colour" and "允许的字段" in message
    assert paths(claim(**{"filing": {**FILING, "sourse": 1, "bsis": 2}})) == ["filing.bsis", "filing.sourse"]
    assert paths(claim(**{"visit.a b": 1, "": 2})) == ['[""]', 'visit["a b"]']


def test_region_must_be_six_digits():
    assert only(claim(**{"insured.region": "4101"})) == ("insured.region", '区划代码应为6位数字（首位不为0），实际为 "4101"')
    for bad in ("041010", "4101000", "41010a", "410100\n", "４１０１００"):
        assert paths(claim(**{"visit.region": bad})) == ["visit.region"], bad


def test_dates_must_be_written_yyyy_mm_dd():
    path, message = only(claim(**{"visit.admission_date": "2025/3/5"}))
    assert path == "visit.admission_date" and "YYYY-MM-DD" in message
    assert paths(claim(**{"visit.admission_date": "2025-03-05\n"})) == ["visit.admission_date"]


def test_negative_money_is_an_error():
    assert only(claim(**{"costs.total": -5, "costs.in_scope": 0})) == ("costs.total", "不能为负数，实际为 -5")


def test_empty_strings_are_errors():
    assert only(claim(id="")) == ("id", "不能为空字符串")
    assert only(claim(**{"visit.chronic_disease": ""}))[0] == "visit.chronic_disease"
    assert normalize_document(claim(**{"visit.chronic_disease": "gout"}))["visit"]["chronic_disease"] == "gout"


def test_new_filing_is_required_for_file_and_change():
    for action in ("file", "change"):
        path, message = only(request(action=action))
        assert path == "new" and "缺少必填字段 new" in message and "file 或 change" in message
        assert only(request(action=action, new=None))[0] == "new"
    assert normalize_document(request(action="cancel", new=None))["new"] is None


def test_unknown_kind_and_non_object_documents():
    path, message = only({"kind": "filing_requst"})
    assert path == "kind" and '您是否想写 "filing_request"' in message
    assert only({"kind": ["claim"]})[0] == "kind"
    assert only([CLAIM]) == ("", "文档应为 JSON 对象，实际为列表（1 项）")
    assert only("claim")[0] == ""


def test_values_json_cannot_carry_are_reported_not_crashed_on():
    assert only(claim(**{"costs.total": float("nan")}))[0] == "costs.total"
    assert only(claim(**{"costs.total": D("Infinity")}))[0] == "costs.total"
    assert only(claim(**{"visit.hospital_level": float("inf")}))[0] == "visit.hospital_level"
    assert only({**claim(), 1: "x"})[0] == ""


# ---- checks after the schema ----------------------------------------------------------------


def test_impossible_calendar_date_is_reported_at_its_path():
    path, message = only(claim(**{"visit.admission_date": "2025-02-30", "visit.discharge_date": "2025-03-12"}))
    assert path == "visit.admission_date" and "2025-02-30" in message
    assert only(request(history=[{"type": "referral", "start_date": "2024-13-01"}]))[0] == "history[0].start_date"


def test_discharge_before_admission():
    path, message = only(claim(**{"visit.discharge_date": "2025-03-01"}))
    assert path == "visit.discharge_date"
    assert message == "不能早于入院日期 visit.admission_date（2025-03-05），实际为 2025-03-01"


def test_settled_on_before_admission_only_when_given():
    assert only(claim(**{"visit.settled_on": "2025-03-01"}))[0] == "visit.settled_on"
    # the default settled_on (= discharge) must not repeat the discharge problem
    assert paths(claim(**{"visit.discharge_date": "2025-03-01"})) == ["visit.discharge_date"]


@pytest.mark.parametrize("care", ["outpatient", "chronic_outpatient", "pharmacy"])
def test_same_day_care_must_not_span_days(care):
    path, message = only(claim(**{"visit.kind": care}))
    assert path == "visit.discharge_date" and care in message
    same_day = claim(**{"visit.kind": care, "visit.discharge_date": "2025-03-05"})
    assert normalize_document(same_day)["visit"]["discharge_date"] == datetime.date(2025, 3, 5)


def test_in_scope_may_not_exceed_total():
    path, message = only(claim(**{"costs.in_scope": D("32000.01")}))
    assert path == "costs.in_scope" and "32000.00" in message
    normalize_document(claim(**{"costs.in_scope": D("32000.00")}))


def test_money_has_at_most_two_decimals_exactly():
    raw = load_json(BAD_DATES.replace('"4101"', '"410100"').replace('"2025-03-01"', '"2025-03-12"')
                    .replace('"total": -5, "in_scope": 0', '"total": 75.015, "in_scope": 1.10'))
    assert raw["costs"]["total"] == D("75.015")
    assert only(raw) == ("costs.total", "金额最多2位小数，实际为 75.015")
    beyond_precision = D("1.0000000000000000000000000000001")  # more digits than the default decimal context
    assert only(claim(**{"costs.total": beyond_precision, "costs.in_scope": 1}))[0] == "costs.total"
    doc = normalize_document(claim(**{"costs.total": D("75.10"), "costs.in_scope": D("75.1000")}))
    assert doc["costs"]["in_scope"] == D("75.1000")


def test_filing_end_before_start():
    assert only(claim(filing={**FILING, "end_date": "2025-02-28"}))[0] == "filing.end_date"
    assert only(request(current={**REQUEST["current"], "end_date": "2025-05-31"}))[0] == "current.end_date"


def test_supplement_before_filing():
    filing = {**FILING, "filed_on": "2025-03-10", "supplemented_on": "2025-03-09"}
    assert only(claim(filing=filing)) == ("filing.supplemented_on",
                                          "不能早于办理日期 filing.filed_on（2025-03-10），实际为 2025-03-09")
    assert normalize_document(claim(filing={**filing, "filed_on": None}))["filing"]["filed_on"] is None


def test_supplement_needs_a_commitment_filing():
    for filing in ({**FILING, "basis": "materials", "supplemented_on": "2025-04-01"},
                   {**{k: v for k, v in FILING.items() if k != "basis"}, "supplemented_on": "2025-04-01"}):
        path, message = only(claim(filing=filing))
        assert path == "filing.supplemented_on" and "materials" in message
    history = [{"type": "referral", "start_date": "2024-01-01", "supplemented_on": "2024-02-01"}]
    assert only(request(history=history))[0] == "history[0].supplemented_on"


def test_birth_after_admission():
    path, message = only(claim(**{"insured.birth_date": "2025-03-06"}))
    assert path == "insured.birth_date" and "2025-03-05" in message
    assert normalize_document(claim(**{"insured.birth_date": "2025-03-05"}))["insured"]["birth_date"] == \
        datetime.date(2025, 3, 5)


def test_history_cancelled_before_start():
    history = [{"type": "referral", "start_date": "2024-01-01"}] * 11
    history = [*history[:10], {"type": "referral", "start_date": "2024-01-01", "cancelled_on": "2023-12-31"}]
    path, message = only(request(history=history))
    assert path == "history[10].cancelled_on" and "history[10].start_date" in message


def test_checks_skip_values_the_schema_rejected():
    assert paths(claim(**{"costs.total": -5, "costs.in_scope": 0})) == ["costs.total"]
    assert paths(claim(**{"visit.kind": "outpatinet"})) == ["visit.kind"]
    assert paths(claim(**{"visit.admission_date": "2025-02-30"})) == ["visit.admission_date"]


def test_bad_dates_example_names_exactly_three_fields():
    with pytest.raises(InputError) as info:
        normalize_document(load_json(BAD_DATES))
    assert [p.path for p in info.value.problems] == ["costs.total", "insured.region", "visit.discharge_date"]
    text = str(info.value)
    for p in info.value.problems:
        assert f"{p.path}: {p.message_zh}" in text
    assert info.value.body()["problems"][0] == {
        "path": "costs.total", "message": "不能为负数，实际为 -5", "message_en": "must not be negative, found -5"}


def test_every_problem_is_reported_sorted_by_path():
    doc = claim(**{"insured.region": "1", "insured.scheme": "x", "visit.discharge_date": "2025-01-01",
                   "costs.in_scope": "y", "zzz": 1, "filing": {**FILING, "end_date": "2000-01-01"}})
    assert paths(doc) == ["costs.in_scope", "filing.end_date", "insured.region", "insured.scheme",
                          "visit.discharge_date", "zzz"]


def test_input_error_orders_list_indices_numerically_and_drops_duplicates():
    error = InputError([InputProblem("history[10].a", "x", "x"), InputProblem("history[2].a", "y", "y"),
                        InputProblem("", "z", "z"), InputProblem("", "z", "z")])
    assert [p.path for p in error.problems] == ["", "history[2].a", "history[10].a"]
    assert "（文档）: z" in str(error) and "(document): z" in error.render("en")


def test_validation_is_safe_from_many_threads():
    docs = [claim(), claim(**{"costs.total": -1}), request()] * 20
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(_outcome, docs))
    assert results == [_outcome(d) for d in docs]


def _outcome(doc):
    try:
        return normalize_document(doc)
    except InputError as exc:
        return exc.problems


# ---- robustness ---------------------------------------------------------------------------

_FIELD_NAMES = sorted({*CLAIM_KEYS, *INSURED_KEYS, *FILING_KEYS, *VISIT_KEYS, *REQUEST_KEYS, *HISTORY_KEYS,
                       "total", "in_scope", "costs_in_filed_place"})
_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | st.decimals() | st.text(max_size=12)
            | st.sampled_from(["claim", "filing_request", "410100", "2025-03-05", "2025-02-30", "inpatient",
                               "commitment", "file", "change", "cancel", "employee", "referral"]))
_JSON_LIKE = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(_FIELD_NAMES) | st.text(max_size=6), inner, max_size=6),
    max_leaves=30,
)


@st.composite
def _mutated(draw, base):
    """A valid document with one key removed, or set to arbitrary JSON-like data."""
    doc = copy.deepcopy(base)
    node = doc
    while isinstance(node, dict) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node)))
        if not isinstance(node[key], dict):
            break
        node = node[key]
    key = draw(st.sampled_from(sorted(node)) | st.sampled_from(_FIELD_NAMES))
    if draw(st.booleans()):
        node.pop(key, None)
    else:
        node[key] = draw(_JSON_LIKE)
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_JSON_LIKE, _mutated(CLAIM), _mutated({**REQUEST, "new": dict(FILING), "action": "change"})))
def test_any_json_like_input_is_normalised_or_rejected_with_input_error(raw):
    try:
        result = normalize_document(raw)
    except InputError as exc:
        assert exc.problems
        assert all(isinstance(p, InputProblem) and p.message_zh and p.message_en for p in exc.problems)
    else:
        assert isinstance(result, dict)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}[]":,.-+eE0123456789 \ntruefalsnNaI\\u\ufeff', max_size=40) | st.binary(max_size=20))
def test_any_text_is_parsed_or_rejected_with_input_error(text):
    try:
        load_json(text)
    except InputError as exc:
        assert [p.path for p in exc.problems] == [""]


# ---- contract §4: ranges, text, size of the answer ---------------------------------------------


@pytest.mark.parametrize("field, value, accepted", [
    ("costs.total", D("99999999.99"), True), ("costs.total", D("100000000"), False), ("costs.total", D("99999999.991"), False),
    ("costs.total", D("1E+400"), False), ("costs.total", D("1E+1000000"), False), ("costs.total", 10**40, False),
    ("visit.discharge_date", "2099-12-31", True), ("visit.discharge_date", "2100-01-01", False), ("visit.discharge_date", "9999-12-31", False),
    ("insured.birth_date", "1900-01-01", True), ("insured.birth_date", "1899-12-31", False), ("insured.birth_date", "0001-01-01", False),
])
def test_money_and_dates_keep_to_the_contracts_ranges(field, value, accepted):
    doc = claim(**{field: value, **({"costs.in_scope": 0} if field == "costs.total" else {})})
    if accepted:
        normalize_document(doc)
        return
    path, message = only(doc)
    assert path == field
    assert ("99999999.99" in message) if field.startswith("costs") else ("1900-01-01 至 2099-12-31" in message)


def test_the_schemas_state_the_ranges_so_any_json_schema_validator_applies_them():
    """A plain jsonschema validator (an HIS checking its own documents) refuses what the engine refuses."""
    for name, doc in (("claim.schema.json", claim(**{"visit.discharge_date": "9999-12-31"})),
                      ("claim.schema.json", claim(**{"costs.total": 100000000})),
                      ("filing-request.schema.json", request(on="1899-12-31"))):
        schema = json.loads(schema_path(name).read_text(encoding="utf-8"), parse_float=Decimal)
        assert list(Draft202012Validator(schema).iter_errors(json.loads(json.dumps(doc, default=str), parse_float=Decimal)))


def test_negative_zero_money_is_zero():
    doc = normalize_document(claim(**{"costs.total": D("-0.0"), "costs.in_scope": -0.0}))
    assert doc["costs"]["total"] == 0 and not doc["costs"]["total"].is_signed()
    assert not doc["costs"]["in_scope"].is_signed()


def test_lone_surrogates_are_not_text():
    """From Python, a str may hold a lone surrogate; it cannot be written as UTF-8, so it is bad input (contract §4)."""
    assert only(claim(id="C\ud800"))[0] == "id"
    path, message = only(claim(**{"visit.x\udfff": 1}))
    assert path == 'visit["x\\udfff"]' and "代理" in message
    with pytest.raises(InputError) as info:  # from JSON text, refused while parsing
        load_json('{"kind": "claim", "id": "\\ud800"}')
    assert [p.path for p in info.value.problems] == ["id"]
    assert load_json('{"id": "\\ud83d\\ude00"}') == {"id": "😀"}  # a pair is one character


@pytest.mark.parametrize("data, words", [
    ('{"a": 1}'.encode("utf-16"), ["UTF-16"]),
    ('{"a": 1}'.encode("utf-16-le"), ["NUL", "UTF-16"]),
    (b'{"a": "\xe9"}', ["UTF-8", "0xe9", "第 1 行第 8 列"]),
    (b'{"a": "\xed\xa0\x80"}', ["UTF-8"]),
])
def test_text_that_is_not_utf8_is_refused_with_a_clear_message(data, words):
    with pytest.raises(InputError) as info:
        load_json(data)
    [problem] = info.value.problems
    assert all(word in problem.message_zh + problem.message_en for word in words)


def test_nesting_deeper_than_the_limit_is_refused_while_parsing():
    inside = lambda depth: '{"kind": "claim", "x": ' + "[" * depth + "]" * depth + "}"  # noqa: E731
    load_json(inside(documents.MAX_DEPTH - 1))
    with pytest.raises(InputError) as info:
        load_json(inside(documents.MAX_DEPTH))
    assert info.value.problems[0].path.startswith("x[0]") and "64" in info.value.problems[0].message_zh


def test_an_error_lists_the_first_problems_and_counts_the_rest():
    error = InputError([InputProblem(f"k{i:03}", "坏", "bad") for i in range(250)], more=5)
    body = error.body()
    assert [p["path"] for p in body["problems"]] == [f"k{i:03}" for i in range(documents.SHOWN_PROBLEMS)]
    assert body["problems_omitted"] == 250 - documents.SHOWN_PROBLEMS + 5
    assert "另有 155 处问题未列出" in str(error) and str(error).count("\n") == documents.SHOWN_PROBLEMS + 1
    assert "problems_omitted" not in InputError([InputProblem("a", "坏", "bad")]).body()
    assert pickle.loads(pickle.dumps(error)).body() == body


def test_the_validator_stops_looking_after_the_limit(monkeypatch):
    """5,000 bad history entries: the schema walk stops at FOUND_LIMIT problems instead of describing all of them."""
    described = []
    original = documents.msg.from_schema_error
    monkeypatch.setattr(documents.msg, "from_schema_error", lambda error, limit: described.append(1) or original(error, limit))
    with pytest.raises(InputError) as info:
        normalize_document(request(history=[{"type": "bogus"}] * 5000))
    assert len(info.value.problems) <= documents.FOUND_LIMIT and info.value.omitted >= 1
    assert len(described) <= documents.FOUND_LIMIT


def test_unknown_keys_are_counted_not_each_described():
    with pytest.raises(InputError) as info:
        normalize_document({**claim(), **{f"k{i}": 0 for i in range(5000)}})
    assert len(info.value.problems) == documents.SHOWN_PROBLEMS and info.value.omitted == 5000 - documents.SHOWN_PROBLEMS
    assert info.value.problems[0].path == "k0" and "未知字段" in info.value.problems[0].message_zh


def test_the_answer_layout_is_the_decision_schemas():
    """Answers are built from policy.decision_model.ANSWER_LAYOUT: its keys, groups and their fields are the schema's."""
    from yidi.policy.decision_model import ANSWER_LAYOUT, CLAIM, ECHOED, FILING_REQUEST, outputs_for

    schema = json.loads(schema_path("decision.schema.json").read_text(encoding="utf-8"))
    for kind, definition in ((CLAIM, "decision"), (FILING_REQUEST, "filing_answer")):
        properties = resolve_ref(schema, schema["$defs"][definition])["properties"]
        assert [key for key in properties if key != "undetermined"] == list(ANSWER_LAYOUT[kind]), kind
        for key in ANSWER_LAYOUT[kind]:
            members = [name for name in [*ECHOED, *outputs_for(kind)] if name.startswith(key + ".")]
            if key == "flags":  # boolean outputs `flags.<flag>` are listed by name when true
                words = resolve_ref(schema, resolve_ref(schema, properties[key])["items"])["enum"]
                assert {name.removeprefix("flags.") for name in members} <= set(words)
            elif members:
                group = resolve_ref(schema, properties[key])
                assert [f"{key}.{field}" for field in group["properties"]] == members, key
