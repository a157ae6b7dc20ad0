"""Checks that catch what used to slip through an officer's change (issue 14, section 2).

Each test plants the defect in a copy of the shipped tree and runs the
command an officer runs.
"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import sys

import pytest

from yidi import Engine

from .conftest import POLICIES, ROOT
from .officer_edits import add_luoyang, set_values, value


def run_yidi(*args: str) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT / "engine"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "yidi", *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def full_copy(tmp_path):
    """A copy of the shipped tree with its test files."""
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    return target


def claim(region: str, admitted: str, discharged: str) -> dict:
    return {"kind": "claim", "id": f"C-{region}-{admitted}", "insured": {"region": region, "scheme": "employee"},
            "filing": {"type": "referral", "basis": "materials", "region": "110000", "start_date": admitted, "filed_on": admitted},
            "visit": {"kind": "inpatient", "region": "110105", "networked": True, "hospital_level": 3,
                      "admission_date": admitted, "discharge_date": discharged, "referral": True},
            "costs": {"total": 10000, "in_scope": 8000}}


# ── a city's timeline starting later than its province's ─────────────────────────
def test_before_a_city_override_starts_the_province_value_applies(tmp_path):
    """洛阳 overrides the referral reduction only from 2026-01-01: 2025 claims of 洛阳 use Henan's value (decided,
    not undetermined); from 2026 洛阳's own. The values are the test's own."""
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree, ignore=shutil.ignore_patterns("tests"))
    set_values(tree, "henan", "reduction.referral", [value("2025-01-01", 12)])
    add_luoyang(tree, {"reduction.referral": ("2026-01-01", 5)})
    engine = Engine.load(tree)
    before = engine.evaluate(claim("410302", "2025-06-01", "2025-06-10"))
    after = engine.evaluate(claim("410302", "2026-06-01", "2026-06-10"))
    assert before["policy"]["id"] == after["policy"]["id"] == "luoyang"
    assert before["reduction_pp"] == 12 and "undetermined" not in before and before["amounts"]["fund"] is not None
    used = next(p for e in before["trace"] if e.get("variable") == "reduction_pp" for p in e.get("parameters", ()))
    assert used["name"] == "reduction.referral" and used["source"].startswith("豫医保办〔2025〕2号")
    assert after["reduction_pp"] == 5
    assert engine.parameters("410300", datetime.date(2025, 12, 31))["parameters"]["reduction.referral"]["value"] == 12


# ── a new city takes over the insured region of existing test cases ──────────────
PLANTED_CASE = """\
# yaml-language-server: $schema=../../../schemas/policy-test.schema.json
cases:
  - name: 河南参保人员异地转诊（参保地写在洛阳的区划上）
    checks: [{document: 豫医保办〔2025〕2号, clause: 二（二）}]
    input:
      kind: claim
      id: HN-PLANTED
      insured: {region: "410305", scheme: employee}
      filing: {type: referral, basis: materials, region: "110000", start_date: 2025-03-01, filed_on: 2025-03-01}
      visit: {kind: inpatient, region: "110105", networked: true, hospital_level: 3,
              admission_date: 2025-03-05, discharge_date: 2025-03-12, referral: true}
      costs: {total: 21000.00, in_scope: 18000.00}
    expect:
      treatment: referral
"""


REFUSED_CASE = PLANTED_CASE.replace("HN-PLANTED", "HN-PLANTED-BAD").replace("admission_date: 2025-03-05", "admission_date: 2025-02-30")
REFUSED_CASE = REFUSED_CASE[:REFUSED_CASE.index("    expect:")] + "    expect_error: [visit.admission_date]\n"


def test_adding_a_city_warns_where_it_is_added_naming_the_cases_it_takes_over(full_copy):
    (full_copy / "henan" / "tests" / "planted-luoyang.yaml").write_text(PLANTED_CASE, encoding="utf-8")
    # A refused input is decided by no policy, so the city takes nothing over from it.
    (full_copy / "henan" / "tests" / "planted-luoyang-refused.yaml").write_text(REFUSED_CASE, encoding="utf-8")
    assert run_yidi("validate", "--policies", str(full_copy)).returncode == 0    # before the city: nothing to say
    city = add_luoyang(full_copy, {"reduction.referral": ("2026-01-01", 5)})
    done = run_yidi("validate", "--policies", str(full_copy), "--format", "json")
    found = [d for d in json.loads(done.stdout)["diagnostics"] if d["code"] == "case-moved"]
    assert len(found) == 1 and found[0]["severity"] == "warning"
    region_line = next(i for i, line in enumerate(city.read_text(encoding="utf-8").splitlines(), 1) if line.startswith("region:"))
    assert (found[0]["file"], found[0]["line"], found[0]["column"]) == ("policies/henan/luoyang/policy.yaml", region_line, 9)
    assert "policies/henan/tests/planted-luoyang.yaml:3" in found[0]["message_zh"] and "410305" in found[0]["message_zh"]
    assert "planted-luoyang-refused" not in found[0]["message_zh"]
    tested = run_yidi("test", "--policies", str(full_copy))
    assert tested.returncode == 1 and "planted-luoyang.yaml" in tested.stderr     # what the warning foretold


# ── expectations typed at validate time ─────────────────────────────────────────
def test_expectations_are_checked_against_the_answer_types(full_copy):
    """Planted: a number in quotes, a number in words, a misspelt treatment, an unknown key, a word for a boolean."""
    cases = full_copy / "henan" / "tests" / "planted-expect.yaml"
    planted = PLANTED_CASE.replace('"410305"', '"410100"').replace(
        "      treatment: referral\n",
        '      treatment: referal\n      reduction_pp: "10"\n      ratio: 七成五\n      rout: direct\n')
    cases.write_text(planted, encoding="utf-8")
    done = run_yidi("validate", "--policies", str(full_copy), "--format", "json")
    assert done.returncode == 1
    found = {(d["line"], d["code"]) for d in json.loads(done.stdout)["diagnostics"] if d["file"].endswith("planted-expect.yaml")}
    assert found == {(14, "bad-value"), (15, "wrong-type"), (16, "wrong-type"), (17, "unknown-key")}, done.stdout
    text = run_yidi("validate", "--policies", str(full_copy)).stderr
    assert "数字不要加引号" in text and "您是否想写 `referral`？" in text and "您是否想写 `route`？" in text


def test_a_filing_answer_expectation_has_its_own_types(full_copy):
    request = json.loads((ROOT / "examples" / "henan-cancel-locked.filing.json").read_text(encoding="utf-8"))
    cases = full_copy / "henan" / "tests" / "planted-filing.yaml"
    cases.write_text("cases:\n  - name: 备案办理答复的期望类型\n    checks: [{document: 豫医保办〔2025〕2号, clause: 一（二）}]\n"
                     f"    input: {json.dumps(request, ensure_ascii=False)}\n"
                     "    expect:\n      allowed: 否\n      earliest_date: 2025-12-01\n      treatment: referral\n", encoding="utf-8")
    done = run_yidi("validate", "--policies", str(full_copy), "--format", "json")
    found = {(d["line"], d["code"]) for d in json.loads(done.stdout)["diagnostics"] if d["file"].endswith("planted-filing.yaml")}
    assert found == {(6, "wrong-type"), (8, "unknown-key")}, done.stdout      # a filing answer has no treatment
