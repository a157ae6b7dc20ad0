"""Synthetic claims: valid, deterministic, fast, and mixed as docs/synth.md says."""

from __future__ import annotations

import datetime
import json
import time
from collections import Counter
from decimal import Decimal

import pytest

from yidi.cli import main
from yidi.documents import normalize_document
from yidi.synth import MIX, generate, insured_regions, policy_regions

from .conftest import POLICIES, ROOT

N = 20_000


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return list(generate(N, seed=11, policies=POLICIES))


def share(items, predicate) -> float:
    items = list(items)
    return sum(1 for x in items if predicate(x)) / len(items)


def test_same_seed_same_claims_other_seed_other_claims():
    a = [json.dumps(c, sort_keys=True) for c in generate(300, seed=5, policies=POLICIES)]
    b = [json.dumps(c, sort_keys=True) for c in generate(300, seed=5, policies=POLICIES)]
    c = [json.dumps(c, sort_keys=True) for c in generate(300, seed=6, policies=POLICIES)]
    assert a == b
    assert a != c


def test_claims_pass_the_contract_and_land_on_regional_policies(corpus, engine):
    for claim in corpus[:600]:                      # full schema validation is slow; a sample suffices
        normalize_document(json.loads(json.dumps(claim)))
    regional = {c.layered.policy.region for c in engine.policies.policies.values() if c.id != "national"}
    for claim in corpus:
        compiled, _ = engine.policies.for_region(claim["insured"]["region"])
        assert compiled.id != "national", claim["insured"]["region"]
    used = {engine.policies.for_region(c["insured"]["region"])[0].layered.policy.region for c in corpus}
    assert used == regional                          # every regional policy gets claims


def test_insured_regions_follow_the_policy_tree():
    regions = insured_regions({"national": "000000", "henan": "410000", "shandong": "370000", "weifang": "370700"})
    assert "410100" in regions and "410800" in regions
    assert "370700" in regions and "370702" in regions      # the city policy: the city and districts
    assert regions.count("370700") == 1                      # not also counted for the province
    assert not any(r.startswith("00") for r in regions)
    assert set(policy_regions(POLICIES)) >= {"national", "henan"}


def test_mix_matches_the_documentation(corpus):
    tol = 0.012
    assert share(corpus, lambda c: c["insured"]["scheme"] == "employee") == pytest.approx(MIX["scheme.employee"], abs=tol)
    kinds = Counter(c["visit"]["kind"] for c in corpus)
    for kind, expected in MIX["kind"].items():
        assert kinds[kind] / N == pytest.approx(expected, abs=tol)
    types = Counter(c["filing"]["type"] if c["filing"] else None for c in corpus)
    for filing_type, expected in MIX["filing"].items():
        assert types[filing_type] / N == pytest.approx(expected, abs=tol)
    scopes = Counter("local" if c["visit"]["region"] == c["insured"]["region"] else
                     "intra_province" if c["visit"]["region"][:2] == c["insured"]["region"][:2] else "cross_province" for c in corpus)
    for scope, expected in MIX["scope"].items():
        assert scopes[scope] / N == pytest.approx(expected, abs=0.02)
    for key, predicate in [
        ("emergency", lambda c: c["visit"]["emergency"]),
        ("psychiatric", lambda c: c["visit"]["psychiatric_certificate"]),
        ("not_networked", lambda c: not c["visit"]["networked"]),
        ("newborn", lambda c: "birth_date" in c["insured"]),
        ("self_paid", lambda c: c["visit"]["self_paid"]),
        ("trauma.third_party", lambda c: c["visit"]["trauma"] == "third_party"),
        ("died_after_emergency", lambda c: c["visit"]["died_after_emergency"]),
    ]:
        assert share(corpus, predicate) == pytest.approx(MIX[key], abs=0.006), key
    eligible = [c for c in corpus if c["visit"]["kind"] in ("outpatient", "pharmacy") and c["insured"]["scheme"] == "employee"]
    paid_from_account = share(eligible, lambda c: c["visit"].get("payment_source") == "personal_account")
    assert paid_from_account == pytest.approx(MIX["personal_account"], abs=0.03)
    assert all(c["insured"]["scheme"] == "employee" for c in corpus if c["visit"].get("payment_source"))
    inpatients = [c for c in corpus if c["visit"]["kind"] == "inpatient"]
    crossing = share(inpatients, lambda c: c["visit"]["admission_date"][:4] != c["visit"]["discharge_date"][:4])
    assert MIX["year_crossing"] < crossing < MIX["year_crossing"] + 0.025   # plus stays that cross the year naturally
    filed = [c for c in corpus if c["filing"]]
    retro = share(filed, lambda c: c["filing"]["filed_on"] > c["visit"]["admission_date"])
    assert retro == pytest.approx(MIX["filing.retroactive"], abs=0.01)
    assert any(c["filing"]["filed_on"] > c["visit"]["discharge_date"] for c in filed)      # filed after discharge too
    chronic = [c["visit"]["chronic_disease"] for c in corpus if c["visit"]["kind"] == "chronic_outpatient"]
    assert {"hypertension", "copd", "hemophilia"} <= set(chronic)


def test_dates_and_money_are_plausible(corpus):
    ages = []
    for c in corpus:
        visit = c["visit"]
        admitted = datetime.date.fromisoformat(visit["admission_date"])
        assert visit["discharge_date"] >= visit["admission_date"]
        if visit["kind"] != "inpatient":
            assert visit["discharge_date"] == visit["admission_date"]
        total, in_scope = Decimal(str(c["costs"]["total"])), Decimal(str(c["costs"]["in_scope"]))
        assert 0 <= in_scope <= total and total.as_tuple().exponent >= -2 and in_scope.as_tuple().exponent >= -2
        if "birth_date" in c["insured"]:
            ages.append((admitted - datetime.date.fromisoformat(c["insured"]["birth_date"])).days)
    assert min(ages) == 0 and max(ages) > 28           # newborns up to and just past the 28-day limit
    assert share(corpus, lambda c: Decimal(str(c["costs"]["total"])) % 1 != 0) > 0.9   # amounts with cents


def test_cli_writes_jsonl(tmp_path, capsys):
    out = tmp_path / "claims.jsonl"
    assert main(["synth", "--n", "25", "--seed", "9", "-o", str(out), "--policies", str(POLICIES)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 25
    assert [json.loads(line) for line in lines] == list(generate(25, seed=9, policies=POLICIES))
    assert main(["synth", "--n", "3", "--seed", "9", "--regions", "410100", "--policies", str(POLICIES)]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(printed) == 3 and {c["insured"]["region"] for c in printed} == {"410100"}


def test_cli_output_dash_is_standard_output(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["synth", "--n", "3", "--seed", "9", "-o", "-", "--policies", str(POLICIES)]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == list(generate(3, seed=9, policies=POLICIES))
    assert list(tmp_path.iterdir()) == []        # no file named "-"


def test_cli_output_that_cannot_be_written_is_named_without_a_traceback(tmp_path, capsys):
    assert main(["synth", "--n", "3", "-o", str(tmp_path), "--policies", str(POLICIES)]) == 1
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "Traceback" not in err


def test_documented_mix_is_in_the_docs():
    text = (ROOT / "docs" / "synth.md").read_text(encoding="utf-8")
    for number in ("55%", "70%", "22%", "28%", "30%", "8%", "10%", "2%", "3%", "5%", "0.3%", "0.5%", "20%"):
        assert number in text


def test_retroactive_commitment_filings_are_supplemented_after_they_are_filed():
    """A supplement dated before its own filing is invalid input; the generator must never make one."""
    from yidi.synth import generate

    for claim in generate(870_000, 11):  # seed 11 once made one at claim 864,843
        filing = claim.get("filing")
        if filing and filing.get("supplemented_on"):
            assert filing["supplemented_on"] >= filing["filed_on"], claim
