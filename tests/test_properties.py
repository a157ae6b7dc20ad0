"""Invariants that hold for every claim, checked on generated claims (hypothesis)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yidi import EvaluationError, InputError

REGIONS_AWAY = ["110000", "110105", "310000", "320500", "440300", "460100", "660000", "410300", "410100"]
FILING_TYPES = ["retiree_relocated", "long_term_resident", "stationed_worker", "referral", "emergency", "other_temporary"]
KINDS = ["inpatient", "outpatient", "chronic_outpatient", "pharmacy"]
DISEASES = [None, "hypertension", "copd", "ankylosing_spondylitis", "parkinsons"]

days = st.integers(min_value=0, max_value=600)
money = st.decimals(min_value=0, max_value=500000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def henan_claims(draw):
    """Claims of Henan insured persons settled in 2025–2026, with and without filings."""
    admission = datetime.date(2025, 1, 1) + datetime.timedelta(days=draw(days))
    kind = draw(st.sampled_from(KINDS))
    stay = draw(st.integers(0, 40)) if kind == "inpatient" else 0
    discharge = admission + datetime.timedelta(days=stay)
    total = draw(money)
    in_scope = draw(st.decimals(min_value=0, max_value=total, places=2, allow_nan=False, allow_infinity=False))
    claim = {
        "kind": "claim",
        "id": "P-1",
        "insured": {"region": draw(st.sampled_from(["410100", "410300", "411700"])), "scheme": draw(st.sampled_from(["employee", "resident"]))},
        "visit": {
            "kind": kind,
            "region": draw(st.sampled_from(REGIONS_AWAY)),
            "networked": draw(st.booleans()),
            "hospital_level": draw(st.sampled_from([1, 2, 3, None])),
            "admission_date": admission.isoformat(),
            "discharge_date": discharge.isoformat(),
            "emergency": draw(st.booleans()),
            "referral": draw(st.booleans()),
            "psychiatric_certificate": draw(st.booleans()),
            "chronic_disease": draw(st.sampled_from(DISEASES)) if kind == "chronic_outpatient" else None,
            "trauma": draw(st.sampled_from([None, "no_third_party", "third_party"])),
            "died_after_emergency": draw(st.booleans()),
            "self_paid": draw(st.booleans()),
            "system_failure": draw(st.booleans()),
        },
        "costs": {"total": total, "in_scope": in_scope},
    }
    if draw(st.booleans()):
        birth = admission - datetime.timedelta(days=draw(st.integers(0, 60)))
        claim["insured"]["birth_date"] = birth.isoformat()
    if draw(st.booleans()):
        start = admission - datetime.timedelta(days=draw(st.integers(-10, 400)))
        basis = draw(st.sampled_from(["materials", "commitment"]))
        filed = start + datetime.timedelta(days=draw(st.integers(0, 60)))
        claim["filing"] = {
            "type": draw(st.sampled_from(FILING_TYPES)),
            "basis": basis,
            "region": draw(st.sampled_from(REGIONS_AWAY)),
            "start_date": start.isoformat(),
            "end_date": None,
            "filed_on": filed.isoformat(),
            "supplemented_on": (filed + datetime.timedelta(days=draw(st.integers(0, 300)))).isoformat()
            if basis == "commitment" and draw(st.booleans()) else None,
        }
    return claim


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(henan_claims())
def test_henan_decides_every_claim_with_consistent_amounts(engine, claim):
    try:
        decision = engine.evaluate(claim)
    except InputError:
        return  # generated a combination the contract forbids (e.g. supplemented before filed)
    amounts = decision["amounts"] or {"in_scope": None, "deductible": None, "fund": None, "personal": None}
    assert decision["trace"] and all(e["rule"] and e["source"] for e in decision["trace"])
    undetermined = {entry["output"]: entry for entry in decision.get("undetermined", [])}
    for name, entry in undetermined.items():  # what is left open is null, with a reason; nothing else is
        assert entry["reason"] and entry["reason_en"]
        value = decision["amounts"] if name.startswith("amounts.") else decision
        value = value[name.split(".")[-1]] if value is not None else None
        assert value is None, name
    for name in ("scope", "route", "filing_status", "treatment", "reduction_pp"):
        assert (decision[name] is None) == (name in undetermined), name
    if decision["reduction_pp"] is not None:
        assert decision["reduction_pp"] >= 0
    if decision["ratio"] is not None:
        assert Decimal(0) <= decision["ratio"] <= Decimal(1)
    if amounts["fund"] is not None:
        assert Decimal(0) <= amounts["fund"] <= amounts["in_scope"]
        assert amounts["fund"] == amounts["fund"].quantize(Decimal("0.01"))
        assert amounts["personal"] == Decimal(str(claim["costs"]["total"])) - amounts["fund"]
    if decision["route"] == "none":
        assert amounts["fund"] in (None, Decimal(0))
    if decision["route"] == "direct":
        assert decision["catalog"] == "treatment_place"
    if decision["treatment"] == "unfiled":
        assert decision["route"] in ("manual", "none")


@settings(max_examples=100, deadline=None)
@given(henan_claims())
def test_evaluation_is_deterministic(engine, claim):
    try:
        first = engine.evaluate(claim)
    except InputError:
        return
    assert engine.evaluate(claim) == first


@settings(max_examples=200, deadline=None)
@given(henan_claims(), st.sampled_from(["ids", "full"]))
def test_trace_levels_agree_on_the_decision(engine, claim, _level):
    try:
        full = engine.evaluate(claim, trace="full")
    except InputError:
        return
    ids = engine.evaluate(claim, trace="ids")
    assert [e["rule"] for e in full["trace"]] == ids["trace"]
    assert {k: v for k, v in full.items() if k != "trace"} == {k: v for k, v in ids.items() if k != "trace"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(henan_claims(), st.sampled_from([Decimal("-0.0"), Decimal("-0"), Decimal("0"), None]),
       st.sampled_from([Decimal("-0.00"), -0.0, Decimal("0"), None]))
def test_no_answer_prints_negative_zero(engine, claim, total, in_scope):
    """-0 money is 0 (contract, docs/cli.md): whatever the amounts, a decision never carries a signed zero."""
    from yidi.jsonout import dump_bytes

    if total is not None:
        claim["costs"]["total"] = total
    if in_scope is not None:
        claim["costs"]["in_scope"] = in_scope
    try:
        decision = engine.evaluate(claim)
    except (InputError, EvaluationError):
        return
    text = dump_bytes(decision)
    assert b":-0," not in text and b":-0.0" not in text and b":-0}" not in text, text
