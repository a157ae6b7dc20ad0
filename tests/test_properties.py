"""Invariants that hold for every claim, checked on generated claims (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yidi import EvaluationError, InputError

from .strategies import henan_claims

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
