"""The national platform (医疗保障信息平台) vocabulary: codes in, contract out, settlement sheet back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from yidi import InputError
from yidi.adapters import nhsa

from .conftest import ROOT

BASE = {"mdtrt_id": "M-1", "insuplc_admdvs": "410100", "insutype": "310", "mdtrtarea_admvs": "110105", "med_type": "21",
        "begntime": "2025-03-05 08:30:00", "endtime": "2025-03-12 10:00:00", "medfee_sumamt": "32000.00",
        "inscp_scp_amt": 26000.00, "yidi_networked": True, "yidi_hospital_level": 3, "psn_no": "410100000001"}


def _problems(record) -> dict[str, str]:
    with pytest.raises(InputError) as exc:
        nhsa.translate(record)
    return {p.path: p.message_en for p in exc.value.problems}


@pytest.mark.parametrize(("code", "kind", "emergency", "referral"), [
    ("11", "outpatient", None, None), ("13", "outpatient", True, None), ("14", "chronic_outpatient", None, None),
    ("21", "inpatient", None, None), ("23", "inpatient", None, True), ("24", "inpatient", True, None),
    ("41", "pharmacy", None, None),
])
def test_every_med_type_code(code, kind, emergency, referral):
    record = {**BASE, "med_type": code}
    if kind != "inpatient":
        record.pop("endtime")  # same-day care: the day it began
    claim = nhsa.translate(record)
    assert claim["visit"]["kind"] == kind
    assert claim["visit"].get("emergency") == emergency and claim["visit"].get("referral") == referral
    if kind != "inpatient":
        assert claim["visit"]["discharge_date"] == claim["visit"]["admission_date"] == "2025-03-05"


def test_the_core_fields_land_where_the_mapping_says():
    claim = nhsa.translate({**BASE, "brdy": "1960-05-01", "setl_time": "2025-03-13 09:00:00", "insutype": 390})
    assert claim["id"] == "M-1" and claim["insured"] == {"region": "410100", "scheme": "resident", "birth_date": "1960-05-01"}
    visit = claim["visit"]
    assert (visit["region"], visit["admission_date"], visit["discharge_date"], visit["settled_on"]) == \
        ("110105", "2025-03-05", "2025-03-12", "2025-03-13")
    assert str(claim["costs"]["total"]) == "32000.00" and claim["costs"]["in_scope"] == 26000
    assert visit["networked"] is True and visit["hospital_level"] == 3 and "psn_no" not in json.dumps(claim, default=str)


@pytest.mark.parametrize(("flags", "trauma"), [
    ({"trum_flag": "1", "rel_ttp_flag": "0"}, "no_third_party"), ({"trum_flag": "1", "rel_ttp_flag": "1"}, "third_party"),
    ({"trum_flag": 0}, None), ({}, None), ({"med_type": "22", "rel_ttp_flag": "1"}, "third_party"),
    ({"med_type": "22", "trum_flag": "1", "rel_ttp_flag": "0"}, "no_third_party"),
])
def test_trauma_from_the_two_flags(flags, trauma):
    assert nhsa.translate({**BASE, **flags})["visit"]["trauma"] == trauma


@pytest.mark.parametrize(("change", "field"), [
    ({"med_type": "22"}, "rel_ttp_flag"),                         # trauma stay: third party must be stated
    ({"med_type": "22", "trum_flag": "0", "rel_ttp_flag": "0"}, "trum_flag"),
    ({"trum_flag": "1"}, "rel_ttp_flag"),
    ({"rel_ttp_flag": "1"}, "rel_ttp_flag"),                     # third party without trauma
    ({"trum_flag": "yes"}, "trum_flag"),
    ({"med_type": "23", "yidi_referral": False}, "yidi_referral"),
])
def test_contradictory_or_missing_trauma_and_referral_facts_are_errors(change, field):
    assert field in _problems({**BASE, **change})


def test_unknown_codes_are_errors_naming_the_code_never_guesses():
    problems = _problems({**BASE, "insutype": "320", "med_type": "52"})
    assert "320" in problems["insutype"] and "52" in problems["med_type"]


def test_errors_name_the_platform_fields_also_for_contract_checks():
    problems = _problems({**BASE, "begntime": "2025/03/05", "endtime": "2025-03-01 00:00:00", "insuplc_admdvs": "41",
                          "inscp_scp_amt": "40000.001", "medfee_sumamt": "many", "yidi_networked": None, "yidi_typo": 1,
                          "yidi_filing": {"type": "nobody", "region": "110000", "start_date": "2025-03-01"}})
    assert set(problems) >= {"begntime", "insuplc_admdvs", "medfee_sumamt", "yidi_networked", "yidi_typo", "yidi_filing.type"}
    assert not any(path.startswith(("visit.", "insured.", "costs.", "filing.")) for path in problems)
    later = _problems({**BASE, "endtime": "2025-03-01 00:00:00", "inscp_scp_amt": 40000})
    assert set(later) == {"endtime", "inscp_scp_amt"} and "contract field visit.discharge_date" in later["endtime"]
    assert _problems([BASE]) == {"": "a platform claim must be a JSON object"}
    assert "endtime" in _problems({k: v for k, v in BASE.items() if k != "endtime"})


def test_platform_records_keep_to_the_contracts_ranges_named_by_platform_field():
    problems = _problems({**BASE, "medfee_sumamt": "100000000.00", "inscp_scp_amt": 1e400, "brdy": "1899-12-31",
                          "setl_time": "2100-01-01 00:00:00"})
    assert set(problems) == {"medfee_sumamt", "inscp_scp_amt", "brdy", "setl_time"}
    assert "99999999.99" in problems["medfee_sumamt"] and "1900-01-01" in problems["brdy"]
    boundary = nhsa.translate({**BASE, "medfee_sumamt": "99999999.99", "inscp_scp_amt": "99999999.99", "brdy": "1900-01-01"})
    assert boundary["costs"]["total"] == Decimal("99999999.99") and boundary["insured"]["birth_date"] == "1900-01-01"


def test_many_unknown_extra_fields_are_counted_not_each_described():
    with pytest.raises(InputError) as exc:
        nhsa.translate({**BASE, **{f"yidi_x{i}": 1 for i in range(5000)}})
    assert len(exc.value.problems) == 100 and exc.value.omitted == 4900


def test_settlement_sheet_names(engine):
    record = {**BASE, "med_type": "23", "yidi_filing": {"type": "referral", "region": "110000", "start_date": "2025-03-01"}}
    decision = engine.evaluate(nhsa.translate(record))
    sheet = nhsa.render_decision(decision)
    assert sheet["setlinfo"] == {"mdtrt_id": "M-1", "inscp_scp_amt": decision["amounts"]["in_scope"],
                                 "act_pay_dedc": decision["amounts"]["deductible"], "hifp_pay": decision["amounts"]["fund"],
                                 "pool_prop_selfpay": decision["ratio"], "psn_part_amt": decision["amounts"]["personal"]}
    assert sheet["yidi"]["treatment"] == "referral" and sheet["yidi"]["policy"] == decision["policy"]
    filing_answer = {"request_id": "F", "allowed": True}
    assert nhsa.render_decision(filing_answer) is filing_answer


def test_the_mapping_document_lists_every_code_and_field():
    text = (ROOT / "docs" / "nhsa-mapping.md").read_text(encoding="utf-8")
    for code, (name, kind, _) in nhsa.MED_TYPE.items():
        assert f"| `{code}` | {name} |" in text and kind in text
    for code, (scheme, name) in nhsa.INSUTYPE.items():
        assert f"| `{code}` | {name} |" in text
    for field in [*nhsa.PLATFORM_FIELDS, *nhsa.EXTRA_FIELDS, *nhsa.SHEET_FIELDS]:
        assert f"`{field}`" in text, field


def _yidi(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "engine")}
    return subprocess.run([sys.executable, "-m", "yidi", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def test_eval_command_reads_and_writes_the_platform_vocabulary():
    record = {**BASE, "med_type": "23", "yidi_filing": {"type": "referral", "region": "110000", "start_date": "2025-03-01"}}
    done = _yidi("eval", "-", "--input-format", "nhsa", "--output-format", "nhsa", "--trace", "ids", stdin=json.dumps(record))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["setlinfo"]["mdtrt_id"] == "M-1" and out["setlinfo"]["act_pay_dedc"] == 900
    bad = _yidi("eval", "-", "--input-format", "nhsa", "--format", "json", stdin=json.dumps({**BASE, "med_type": "99"}))
    assert bad.returncode == 2 and [p["path"] for p in json.loads(bad.stdout)["problems"]] == ["med_type"]
    plain = _yidi("eval", "-", "--trace", "ids", stdin=(ROOT / "examples" / "henan-referral.claim.json").read_text(encoding="utf-8"))
    assert plain.returncode == 0 and json.loads(plain.stdout)["claim_id"] == "EX-HN-REFERRAL"
