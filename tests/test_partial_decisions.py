"""Decide what the law decides, and nothing more (contract §2.1, issue 10).

What the policies leave to someone else comes back as null, named in
`undetermined` with the reason and the clause; a value left open can never
be read as an ordinary value by a rule; citations of a summary say so; a
floor set above is surfaced, not resolved; a city changing a reduction that
needs the province's approval must cite it.
"""

from __future__ import annotations

import datetime
import json
import operator
import subprocess
import sys

import jsonschema
import pytest

from yidi import DiagnosticError, Engine
from yidi.adapters import nhsa
from yidi.documents import load_json
from yidi.policy.undetermined import Cause, Undetermined, Unknown
from yidi.jsonout import dumps

from .conftest import EXAMPLES, ROOT
from .conftest import write_city

GUANGZHOU = load_json((EXAMPLES / "guangzhou-emergency.claim.json").read_text(encoding="utf-8"))
DECISION_SCHEMA = json.loads((ROOT / "schemas" / "decision.schema.json").read_text(encoding="utf-8"))


def henan_claim(**visit) -> dict:
    return {"id": "P", "insured": {"region": "410100", "scheme": "employee"},
            "filing": {"type": "other_temporary", "region": "110000", "start_date": "2024-05-20", "filed_on": "2024-05-20"},
            "visit": {"kind": "inpatient", "region": "110105", "networked": True, "hospital_level": 3,
                      "admission_date": "2024-06-02", "discharge_date": "2024-06-10", **visit},
            "costs": {"total": 12000, "in_scope": 10000}}


# ── the Unknown value ──────────────────────────────────────────────────────

UNARY = [bool, hash, len, iter, abs, operator.neg, int, float, lambda v: v.year, lambda v: v[:2], lambda v: v.endswith("0")]
BINARY = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge, operator.add, operator.sub,
          operator.mul, operator.truediv, lambda a, b: a in (b,), lambda a, b: b in (a,)]


@pytest.mark.parametrize("use", UNARY)
def test_any_use_of_an_undetermined_value_raises(use):
    value = Unknown(Cause("parameter", "reduction.emergency"), "reduction_pp")
    with pytest.raises(Undetermined) as info:
        use(value)
    assert info.value.cause.name == "reduction.emergency" and info.value.via == "reduction_pp"


@pytest.mark.parametrize("op", BINARY)
def test_comparing_or_computing_with_an_undetermined_value_raises_from_either_side(op):
    value = Unknown(Cause("benefit", "inpatient"), "ratio")
    for args in ((value, "x"), ("x", value), (value, datetime.date(2025, 1, 1))):
        with pytest.raises(Undetermined):
            op(*args)


# ── partial decisions, end to end ──────────────────────────────────────────

def test_a_region_with_only_national_rules_gets_everything_the_law_decides(engine):
    decision = engine.evaluate(GUANGZHOU)
    jsonschema.Draft202012Validator(DECISION_SCHEMA).validate(json.loads(dumps(decision)))
    assert (decision["scope"], decision["filing_status"], decision["treatment"], decision["route"], decision["catalog"]) == (
        "cross_province", "deemed", "emergency", "direct", "treatment_place")
    assert decision["reduction_pp"] is None and decision["ratio"] is None and decision["amounts"] is None
    first = decision["undetermined"][0]
    assert first == {"output": "reduction_pp", "source": "医保发〔2022〕22号 六",
                     "reason": "参保地 440100 没有政策文件：异地急诊抢救人员支付比例降低（百分点）由参保地规定",
                     "reason_en": "no policy for insured region 440100: reduction.emergency is set by the insured place"}
    assert [e["output"] for e in decision["undetermined"]] == [
        "reduction_pp", "ratio", "amounts.deductible", "amounts.fund", "amounts.personal"]
    # the trace shows what was decided; nothing in it carries a value left open
    assert all(entry.get("variable") not in ("reduction_pp", "ratio") for entry in decision["trace"])


def test_a_henan_claim_settled_before_the_notice_is_decided_by_the_national_rules_alone(engine):
    newborn = henan_claim()
    newborn["insured"]["birth_date"] = "2024-06-01"
    decision = engine.evaluate(newborn)
    rules = [e["rule"] for e in decision["trace"] if e["variable"] != "benefit"]  # the (illustrative) table is not a rule
    assert not any(r.startswith("henan.") for r in rules)          # Henan's rules take effect on its in_force date
    assert decision["treatment"] == "other_temporary"              # not the newborn standard of 二（三）
    reduction = decision["undetermined"][0]
    assert reduction["output"] == "reduction_pp" and "早于河南省政策的施行日期 2025-01-01" in reduction["reason"]
    # the same claim in 2025 falls under the notice
    later = henan_claim(admission_date="2025-06-02", discharge_date="2025-06-10")
    later["insured"]["birth_date"] = "2025-06-01"
    later["filing"].update(start_date="2025-05-20", filed_on="2025-05-20")
    assert engine.evaluate(later)["treatment"] == "emergency"


def test_partial_decisions_exit_0_from_the_command_line(tmp_path):
    path = tmp_path / "henan-2024.json"
    path.write_text(json.dumps(henan_claim()), encoding="utf-8")
    for claim in (EXAMPLES / "guangzhou-emergency.claim.json", path):
        done = subprocess.run([sys.executable, "-m", "yidi", "eval", str(claim), "--policies", str(ROOT / "policies")],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["undetermined"][0]["output"] == "reduction_pp"


def test_a_value_handed_on_unchanged_is_still_undetermined(policy_copy):
    """`value: reduction_pp` and `x == null` must not let an undetermined value pass as a value or as null."""
    write_city(policy_copy, """\
        variables:
          echo:
            title: 降低幅度的副本
            for: claim
            type: number?
        rules:
          - id: zhengzhou.echo
            title: 照抄降低幅度
            sets: echo
            value: reduction_pp
            source: {document: 郑医保〔2025〕1号, clause: 一}
          - id: zhengzhou.flag-when-echo-empty
            title: 副本为空时标记协查
            sets: flags.audit_referral_eligible
            when: echo == null
            value: true
            overrides: [henan.audit-referral]
            source: {document: 郑医保〔2025〕1号, clause: 一}
        """)
    decision = Engine.load(policy_copy).evaluate(henan_claim())      # 2024: the reduction is left open
    assert "audit_referral_eligible" not in decision["flags"]
    flag = next(e for e in decision["undetermined"] if e["output"] == "flags.audit_referral_eligible")
    assert flag["via"] == "echo" and "reduction" in flag["reason_en"]


def test_filing_answers_carry_flags_and_a_2024_request_is_answered_by_national_rules(engine):
    answer = engine.evaluate({"kind": "filing_request", "id": "F", "insured": {"region": "410100", "scheme": "employee"},
                              "action": "cancel", "on": "2024-06-01",
                              "current": {"type": "long_term_resident", "basis": "commitment", "region": "110000",
                                          "start_date": "2024-03-01", "filed_on": "2024-03-01"}})
    assert answer["allowed"] is True and "flags" in answer
    assert not any(str(e["rule"]).startswith("henan.") for e in answer["trace"])


# ── citations of a summary ─────────────────────────────────────────────────

def test_every_citation_of_the_national_press_summary_says_it_is_one(engine):
    decision = engine.evaluate(GUANGZHOU)
    national = [e for e in decision["trace"] if e["source"].startswith("医保发〔2022〕22号")]
    assert national and all(e["source_nature"] == "summary" and "新闻稿" in e["source_note"] for e in national)
    henan = engine.evaluate(load_json((EXAMPLES / "henan-referral.claim.json").read_text(encoding="utf-8")))
    assert all("source_nature" not in e for e in henan["trace"] if e["source"].startswith("豫医保办"))


# ── the national floor ─────────────────────────────────────────────────────

def test_a_decision_below_the_national_floor_is_flagged_with_the_floor_in_its_trace(engine):
    claim = load_json((EXAMPLES / "henan-commitment-home.claim.json").read_text(encoding="utf-8"))
    decision = engine.evaluate(claim)
    assert decision["reduction_pp"] == 20 and "floor_conflict" in decision["flags"]   # decided by the rule, not resolved
    floor = next(e for e in decision["trace"] if e["rule"] == "national.long-term-home-floor")
    assert floor["source"] == "医保发〔2022〕22号 八" and "不低于参保地跨省转诊转院待遇水平" in floor["says"]
    assert "national.long-term-home-floor" in engine.evaluate(claim, "ids")["trace"]
    supplemented = json.loads(dumps(claim))
    supplemented["filing"]["basis"] = "materials"
    supplemented["filing"]["supplemented_on"] = None
    assert "floor_conflict" not in engine.evaluate(supplemented)["flags"]


# ── approval of a city's reduction ─────────────────────────────────────────

CITY_REDUCTION = """\
    parameters:
      reduction.other_temporary:
        title: 其他临时外出就医人员支付比例降低（百分点）
        type: number
        values:
          - from: 2026-01-01
            value: 15
            source: {document: 郑医保〔2025〕1号, clause: 二}
    """


@pytest.mark.parametrize("parameter", ["reduction.referral", "reduction.emergency", "reduction.other_temporary",
                                       "reduction.unfiled"])
def test_a_city_reduction_without_the_provinces_approval_is_refused(policy_copy, parameter):
    """Every reduction 二（二） sets (and reduction.unfiled, whose value is 二（二）'s) needs the approval."""
    path = write_city(policy_copy, CITY_REDUCTION.replace("reduction.other_temporary", parameter))
    with pytest.raises(DiagnosticError) as info:
        Engine.load(policy_copy)
    found = [d for d in info.value.diagnostics if d.code == "approval-missing"]
    assert len(found) == 1 and found[0].file.endswith("zhengzhou/policy.yaml")
    assert "豫医保办〔2025〕2号 二（二）" in found[0].message_zh and "备案同意" in found[0].message_zh
    assert path.read_text(encoding="utf-8").splitlines()[found[0].line - 1].strip().startswith("- from: 2026-01-01")


def test_the_long_term_commitment_reduction_needs_no_approval(policy_copy):
    """二（一） (long-term residence) carries no approval sentence; only 二（二） does."""
    write_city(policy_copy, CITY_REDUCTION.replace("reduction.other_temporary", "reduction.commitment_home"))
    Engine.load(policy_copy)


def test_a_city_reduction_citing_the_approval_is_accepted(policy_copy):
    path = write_city(policy_copy, CITY_REDUCTION.replace(
        "            source: {document: 郑医保〔2025〕1号, clause: 二}",
        "            source: {document: 郑医保〔2025〕1号, clause: 二}\n"
        "            approval: {document: 豫医保函〔2025〕9号, clause: 备案同意}"))
    path.write_text(path.read_text(encoding="utf-8").replace(
        "documents:\n", "documents:\n  - id: 豫医保函〔2025〕9号\n    title: 示例：省医保局、财政厅备案同意函\n", 1), encoding="utf-8")
    engine = Engine.load(policy_copy)
    claim = henan_claim(admission_date="2026-03-02", discharge_date="2026-03-06")
    claim["filing"].update(start_date="2026-03-01", filed_on="2026-03-01")
    assert engine.evaluate(claim)["reduction_pp"] == 15


# ── the platform adapter ───────────────────────────────────────────────────

def test_the_platform_sheet_of_a_partial_decision_leaves_open_fields_null(engine):
    record = {"mdtrt_id": "M-9", "insuplc_admdvs": "440100", "insutype": "310", "mdtrtarea_admvs": "110105", "med_type": "22",
              "begntime": "2025-03-05", "endtime": "2025-03-12", "medfee_sumamt": 1000, "inscp_scp_amt": 800,
              "yidi_networked": True, "rel_ttp_flag": 1, "yidi_third_party_unpaid": True}
    claim = nhsa.translate(record)
    assert claim["visit"]["trauma"] == "third_party_unpaid"
    sheet = nhsa.render_decision(engine.evaluate(claim, "ids"))
    assert sheet["setlinfo"]["hifp_pay"] is None and sheet["yidi"]["route"] == "manual"
    assert sheet["yidi"]["undetermined"][0]["output"] == "reduction_pp"
    with pytest.raises(Exception) as info:
        nhsa.translate({**record, "rel_ttp_flag": 0})
    assert "yidi_third_party_unpaid" in str(getattr(info.value, "problems", info.value))
