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


IN_FORCE = datetime.date(2025, 1, 1)         # policies/henan/policy.yaml in_force (an interpretation)
THIRD_PARTY = ("third_party", "third_party_unpaid")


def decide(d: dict) -> dict:
    insured, visit_region = d["insured.region"], d["visit.region"]
    admission, settled = d["visit.admission_date"], d["visit.settled_on"]
    kind = d["visit.kind"]
    if _city(visit_region) == _city(insured):
        scope = "local"
    elif visit_region[:2] == insured[:2]:
        scope = "intra_province"
    else:
        scope = "cross_province"
    away = scope != "local"
    trauma = d["visit.trauma"]
    emergency, referral_slip = d["visit.emergency"], d["visit.referral"]

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
    elif emergency:
        status = "deemed"
    elif matches and end is not None and admission > end:
        status = "expired"
    else:
        status = "absent"
    unfiled = status in ("absent", "expired")

    birth = d["insured.birth_date"]
    newborn = kind == "inpatient" and birth is not None and 0 <= (admission - birth).days <= 28
    special = newborn or d["visit.psychiatric_certificate"]
    filed = status in ("valid", "retroactive")
    # the precedence written in policies/national (header) and henan 二（二）
    if not away:
        treatment = "local"
    elif filed and ftype in LONG_TERM:
        treatment = "long_term"
    elif special:
        treatment = "emergency"
    elif status == "deemed" or (filed and ftype == "emergency"):
        treatment = "emergency"
    elif filed and ftype == "referral":
        treatment = "referral"
    elif filed and ftype == "other_temporary":
        treatment = "emergency" if emergency else "referral" if referral_slip else "other_temporary"
    elif referral_slip and not emergency:
        treatment = "referral"
    else:
        treatment = "unfiled"

    supplemented = d["filing.supplemented_on"]
    commitment = has_filing and ftype in LONG_TERM and d["filing.basis"] == "commitment"
    unsupplemented = commitment and (supplemented is None or supplemented > settled)   # 二（一）, judged at settlement
    filed_on = (d["filing.filed_on"] or d["filing.start_date"]) if has_filing else None
    home_commitment = scope == "local" and status == "valid" and unsupplemented
    outside_place = away and has_filing and not matches and status == "absent" and treatment in ("unfiled", "referral")
    if home_commitment:
        reduction = Decimal(20) if filed_on >= IN_FORCE else Decimal(0)             # 五（二）: earlier filings are not cut
    elif outside_place:
        reduction = None                                                             # 附件1 温馨提示二: the pooling region's rules
    else:
        reduction = Decimal(REDUCTION[treatment])

    death = away and d["visit.died_after_emergency"] and emergency and kind == "outpatient"
    chronic_manual = away and kind == "chronic_outpatient" and d["visit.chronic_disease"] not in CHRONIC
    special_unfiled = away and treatment == "emergency" and unfiled and special
    if trauma == "third_party":
        route = "none"
    elif trauma == "third_party_unpaid":
        route = "manual"
    elif ((away and unfiled and treatment in ("unfiled", "referral")) or special_unfiled
          or (away and not d["visit.networked"]) or d["visit.self_paid"] or d["visit.system_failure"]
          or (status == "retroactive" and d["filing.filed_on"] > d["visit.discharge_date"]) or death or chronic_manual):
        route = "manual"
    else:
        route = "direct"
    catalog = "treatment_place" if route == "direct" else "insured_place" if route == "manual" else None

    care = "inpatient" if death else kind
    personal_account = d["visit.payment_source"] == "personal_account"
    row = BENEFIT.get((d["insured.scheme"], d["visit.hospital_level"])) if care == "inpatient" and not personal_account else None
    in_scope, total = d["costs.in_scope"], d["costs.total"]
    flags = []
    if away and care == "inpatient" and total >= 30000:
        flags.append("audit_referral_eligible")
    if chronic_manual:
        flags.append("chronic_not_direct")
    ratio = deductible = fund = personal = None
    if route == "none":
        amounts = {"in_scope": in_scope, "deductible": None, "fund": Decimal(0), "personal": total}
        ratio = Decimal(0)
    elif row is None:                                                                # no table: left undetermined
        amounts = None
    else:
        base_deductible, base_ratio, cap = row
        deductible = min(base_deductible, in_scope)
        if reduction is not None:
            ratio = max(base_ratio - reduction / 100, Decimal(0))
            fund = min(((in_scope - deductible) * ratio).quantize(CENT, rounding=ROUND_HALF_UP), cap)
            personal = total - fund
        amounts = {"in_scope": in_scope, "deductible": deductible, "fund": fund, "personal": personal}
        flags.append("benefit_table_illustrative")
    if (
        (away and has_filing and not matches and not emergency)                       # national.filing-status-other-place
        or (away and unfiled and referral_slip and not emergency and not special)     # national.treatment-referral-certificate
        or (away and unfiled and treatment in ("unfiled", "referral") and trauma not in THIRD_PARTY)
        or (d["visit.system_failure"] and trauma not in THIRD_PARTY) or trauma in THIRD_PARTY
        or (away and filed and ftype in LONG_TERM and special)                        # henan.long-term-filer-keeps-standard
        or (special_unfiled and trauma not in THIRD_PARTY)
        or (commitment and supplemented is not None and admission < supplemented <= settled)
        or home_commitment                                                            # in_force (interpretation) decides
        or (death and trauma not in THIRD_PARTY) or (scope == "intra_province" and kind == "chronic_outpatient")
        or (treatment in ("referral", "emergency", "other_temporary", "unfiled") and not outside_place)  # 左右
    ):
        flags.append("interpretation_applied")
    if (home_commitment and reduction > 10 and d["filing.region"][:2] != insured[:2]):
        flags.append("floor_conflict")                                               # below 医保发〔2022〕22号 八
    return {
        "scope": scope, "route": route, "filing_status": status, "treatment": treatment, "catalog": catalog,
        "reduction_pp": reduction, "ratio": ratio, "amounts": amounts, "flags": flags,
    }
