"""Hypothesis strategies shared by the property tests: documents as a caller would send them."""

from __future__ import annotations

import copy
import datetime
from decimal import Decimal

from hypothesis import strategies as st

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
