"""The Henan decision written by hand in plain Python — the benchmark's yardstick.

Same rules as policies/national + policies/henan for claims settled from
2025 on, same exact-money arithmetic (Decimal, half-up to the cent). It reads
the flat document the engine's fast path produces, so both sides start from
the same input; `bench/run.py` checks that the answers are identical.
"""

from __future__ import annotations

import calendar
import datetime
from decimal import ROUND_HALF_UP, Decimal

LONG_TERM = ("retiree_relocated", "long_term_resident", "stationed_worker")
TEMPORARY = ("referral", "emergency", "other_temporary")
CHRONIC = ("hypertension", "diabetes", "cancer_outpatient_therapy", "uremia_dialysis", "organ_transplant_antirejection",
           "copd", "rheumatoid_arthritis", "coronary_heart_disease", "viral_hepatitis", "ankylosing_spondylitis")
REDUCTION = {"local": 0, "long_term": 0, "referral": 10, "emergency": 10, "other_temporary": 20, "unfiled": 20}
BENEFIT = {  # the illustrative Henan inpatient table
    ("employee", 1): (Decimal(300), Decimal("0.90"), Decimal(400000)),
    ("employee", 2): (Decimal(600), Decimal("0.88"), Decimal(400000)),
    ("employee", 3): (Decimal(900), Decimal("0.85"), Decimal(400000)),
    ("resident", 1): (Decimal(200), Decimal("0.85"), Decimal(300000)),
    ("resident", 2): (Decimal(500), Decimal("0.75"), Decimal(300000)),
    ("resident", 3): (Decimal(1000), Decimal("0.65"), Decimal(300000)),
}
CENT = Decimal("0.01")


def _city(region: str) -> str:
    return region if region.endswith("0000") else region[:4] + "00"


def _covers(filed: str, visited: str) -> bool:
    if filed.endswith("0000"):
        return filed[:2] == visited[:2]
    if filed.endswith("00"):
        return filed[:4] == visited[:4]
    return filed == visited


def _window_end(start: datetime.date, months: int) -> datetime.date:
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    if start.day > last:
        return datetime.date(year, month + 1, last)
    return datetime.date(year, month + 1, start.day) - datetime.timedelta(days=1)


def decide(d: dict) -> dict:
    insured, visit_region = d["insured.region"], d["visit.region"]
    admission = d["visit.admission_date"]
    kind = d["visit.kind"]
    if _city(visit_region) == _city(insured):
        scope = "local"
    elif visit_region[:2] == insured[:2]:
        scope = "intra_province"
    else:
        scope = "cross_province"
    away = scope != "local"

    has_filing = d["filing"] is not None
    ftype = d["filing.type"]
    end = None
    if has_filing:
        end = d["filing.end_date"]
        if end is None and ftype in TEMPORARY:
            end = _window_end(d["filing.start_date"], 6)
    in_window = has_filing and d["filing.start_date"] <= admission and (end is None or admission <= end)
    matches = has_filing and (scope == "local" or _covers(d["filing.region"], visit_region))
    retro = has_filing and d["filing.filed_on"] is not None and d["filing.filed_on"] > admission
    usable = matches and in_window

    if usable:
        status = "retroactive" if retro else "valid"
    elif scope == "local":
        status = "not_required"
    elif d["visit.emergency"]:
        status = "deemed"
    elif matches and end is not None and admission > end:
        status = "expired"
    else:
        status = "absent"

    birth = d["insured.birth_date"]
    newborn = kind == "inpatient" and birth is not None and 0 <= (admission - birth).days <= 28
    special = newborn or d["visit.psychiatric_certificate"]
    filed = status in ("valid", "retroactive")
    if not away:
        treatment = "local"
    elif filed and ftype in LONG_TERM:
        treatment = "long_term"
    elif status == "deemed" or (filed and ftype == "emergency") or special:
        treatment = "emergency"
    elif filed and ftype == "referral":
        treatment = "referral"
    elif filed and ftype == "other_temporary":
        treatment = "other_temporary"
    elif d["visit.referral"] and not d["visit.emergency"]:
        treatment = "referral"
    else:
        treatment = "unfiled"

    unsupplemented = (has_filing and ftype in LONG_TERM and d["filing.basis"] == "commitment"
                      and (d["filing.supplemented_on"] is None or d["filing.supplemented_on"] > admission))
    reduction = Decimal(20) if (scope == "local" and status == "valid" and unsupplemented) else Decimal(REDUCTION[treatment])

    death = away and d["visit.died_after_emergency"] and d["visit.emergency"] and kind == "outpatient"
    chronic_manual = away and kind == "chronic_outpatient" and d["visit.chronic_disease"] not in CHRONIC
    if d["visit.trauma"] == "third_party":
        route = "none"
    elif ((away and status in ("absent", "expired") and treatment in ("unfiled", "referral"))
          or (away and not d["visit.networked"]) or d["visit.self_paid"] or d["visit.system_failure"]
          or (status == "retroactive" and d["filing.filed_on"] > d["visit.discharge_date"]) or death or chronic_manual):
        route = "manual"
    else:
        route = "direct"
    catalog = "treatment_place" if route == "direct" else "insured_place" if route == "manual" else None

    care = "inpatient" if death else kind
    row = BENEFIT.get((d["insured.scheme"], d["visit.hospital_level"])) if care == "inpatient" else None
    in_scope, total = d["costs.in_scope"], d["costs.total"]
    flags = []
    if away and care == "inpatient" and total >= 30000:
        flags.append("audit_referral_eligible")
    if chronic_manual:
        flags.append("chronic_not_direct")
    ratio = deductible = fund = personal = None
    if route == "none":
        ratio, fund = Decimal(0), Decimal(0)
    elif row is not None:
        base_deductible, base_ratio, cap = row
        ratio = max(base_ratio - reduction / 100, Decimal(0))
        deductible = min(base_deductible, in_scope)
        fund = min(((in_scope - deductible) * ratio).quantize(CENT, rounding=ROUND_HALF_UP), cap)
        flags.append("benefit_table_illustrative")
    if fund is not None:
        personal = total - fund
    if (treatment == "unfiled"
            or (away and has_filing and not matches and not d["visit.emergency"])
            or (away and status in ("absent", "expired") and d["visit.referral"] and not d["visit.emergency"] and not special)
            or (away and filed and ftype in LONG_TERM and special)
            or (away and status in ("absent", "expired") and treatment in ("unfiled", "referral") and route != "none")
            or (d["visit.system_failure"] and route != "none") or route == "none"):
        flags.append("interpretation_applied")
    return {
        "scope": scope, "route": route, "filing_status": status, "treatment": treatment, "catalog": catalog,
        "reduction_pp": reduction, "ratio": ratio,
        "amounts": {"in_scope": in_scope, "deductible": deductible, "fund": fund, "personal": personal},
        "flags": flags,
    }
