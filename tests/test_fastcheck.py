"""The fast path accepts only what the thorough path accepts, and gives the same document."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yidi import InputError
from yidi.documents import normalize_document
from yidi.fastcheck import check_fast, checker

from .test_properties import henan_claims

OBJECT_KEYS = {"insured", "filing", "visit", "costs", "current", "new"}


def comparable(flat):
    return {k: v for k, v in flat.items() if k not in OBJECT_KEYS}


def thorough(engine, doc):
    return comparable(engine._evaluator.flatten(normalize_document(doc)))


def assert_never_looser(fast, thorough_result, shown, must_accept_valid: bool = False) -> None:
    """A fast path's answer against the thorough path's: None where it rejects; the same document where it accepts."""
    try:
        expected = thorough_result()
    except InputError:
        assert fast is None, f"the fast path accepted an invalid document: {shown!r}"
        return
    if must_accept_valid:
        assert fast is not None, f"a valid document missed the fast path: {shown!r}"
    if fast is not None:
        assert comparable(fast) == expected


def test_both_kinds_have_a_fast_checker():
    assert checker("claim") is not None and checker("filing_request") is not None


# Values at and beyond the contract's ranges (§4), and text that is not Unicode: the fast paths must judge them as the thorough one does.
BOUNDARIES = {
    "max-money": Decimal("99999999.99"), "over-max": Decimal("99999999.991"), "cent-over": Decimal("100000000"),
    "huge": Decimal("1E+400"), "huge-int": 10**40, "neg-zero": Decimal("-0.0"), "neg-zero-float": -0.0, "neg-zero-int": Decimal("-0"),
    "year-2099": "2099-12-31", "year-2100": "2100-01-01", "year-9999": "9999-12-31", "year-1900": "1900-01-01",
    "year-1899": "1899-12-31", "year-0001": "0001-01-01", "surrogate": "x\ud800", "pair": "\ud83d\ude00",
}


@st.composite
def mutated_claims(draw):
    """Valid claims, then one change that may or may not make them invalid."""
    claim = copy.deepcopy(draw(henan_claims()))
    section = draw(st.sampled_from(["insured", "visit", "costs", "filing", None]))
    target = claim if section is None or section not in claim else claim[section]
    if target is None:
        return claim
    key = draw(st.sampled_from(sorted(target) + ["extra", "kind", "settled_on"]))
    change = draw(st.sampled_from(["drop", "null", "string", "number", "float", "bool", "list", "bad-date", "negative", "cents3",
                                   *BOUNDARIES]))
    replacement = {
        "null": None, "string": "x", "number": 3, "float": 1.5, "bool": True, "list": [], "bad-date": "2025-02-30",
        "negative": Decimal("-1"), "cents3": Decimal("1.005"), **BOUNDARIES,
    }
    if change == "drop":
        target.pop(key, None)
    else:
        target[key] = replacement[change]
    return claim


@settings(max_examples=600, deadline=None)
@given(mutated_claims())
def test_fast_path_never_accepts_what_the_thorough_path_rejects(engine, claim):
    assert_never_looser(check_fast(claim), lambda: thorough(engine, claim), claim)


@pytest.mark.parametrize("document", [
    {"kind": "filing_request", "id": "F1", "insured": {"region": "410100", "scheme": "resident"}, "action": "file", "on": "2025-01-01"},
    {"kind": "filing_request", "id": "F1", "insured": {"region": "410100", "scheme": "resident"}, "action": "cancel", "on": "2025-01-01",
     "history": [{"type": "referral", "start_date": "2025-02-01", "cancelled_on": "2025-01-01"}]},
    {"kind": "claim", "id": "C1", "insured": {"region": "410100", "scheme": "employee"},
     "visit": {"kind": "inpatient", "region": "110000", "networked": True, "admission_date": "2025-01-02",
               "discharge_date": "2025-01-03", "settled_on": None}, "costs": {"total": 1, "in_scope": 1}},
    {"kind": "claim", "id": "C1", "insured": {"region": "410100", "scheme": "employee"},
     "visit": {"kind": "outpatient", "region": "110000", "networked": True, "admission_date": "2025-01-02",
               "discharge_date": "2025-01-03"}, "costs": {"total": 1, "in_scope": 2}},
])
def test_fast_path_refuses_documents_with_problems(document):
    assert check_fast(document) is None
    with pytest.raises(InputError):
        normalize_document(document)


def test_fast_and_thorough_agree_on_a_filing_request(engine):
    document = {
        "kind": "filing_request", "id": "F2", "insured": {"region": "410100", "scheme": "resident"}, "action": "file",
        "on": "2025-10-20", "new": {"type": "long_term_resident", "basis": "commitment", "region": "320500", "start_date": "2025-10-20"},
        "history": [{"type": "long_term_resident", "basis": "commitment", "start_date": "2023-01-04", "cancelled_on": "2024-02-01"}],
    }
    fast = check_fast(document)
    assert fast is not None and comparable(fast) == thorough(engine, document)


@pytest.mark.parametrize("field, value", [(f, v) for f in ("costs.total", "costs.in_scope", "visit.admission_date", "visit.settled_on", "id")
                                          for v in BOUNDARIES.values()])
def test_fast_path_judges_boundaries_as_the_thorough_path_does(engine, field, value):
    claim = copy.deepcopy(VALID_CLAIM)
    section, _, key = field.rpartition(".")
    (claim[section] if section else claim)[key] = value
    assert_never_looser(check_fast(claim), lambda: thorough(engine, claim), claim)


def test_negative_zero_money_is_zero_on_the_fast_path():
    claim = copy.deepcopy(VALID_CLAIM)
    claim["costs"] = {"total": Decimal("-0.00"), "in_scope": Decimal("-0")}  # floats take the thorough path
    flat = check_fast(claim)
    assert flat is not None and not flat["costs.total"].is_signed() and not flat["costs.in_scope"].is_signed()


VALID_CLAIM = {"kind": "claim", "id": "C1", "insured": {"region": "410100", "scheme": "employee"},
               "visit": {"kind": "inpatient", "region": "110000", "networked": True, "admission_date": "2025-01-02",
                         "discharge_date": "2025-01-03"}, "costs": {"total": Decimal("1000"), "in_scope": Decimal("10")}}
