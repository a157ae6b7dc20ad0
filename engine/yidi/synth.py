"""Synthetic claim corpora: realistic, deterministic, and free of personal data.

    from yidi.synth import generate
    for claim in generate(100_000, seed=7):     # dicts in the contract's claim form
        ...

Why: a policy change must be judged on many claims before it ships (`yidi
diff`), and benchmarks need millions. Real claims carry personal data and may
not leave the insurer; these carry none (ids are `SYN<seed>-<n>`, no names,
no ID numbers, birth dates only for newborns). The mix below is documented
in docs/synth.md, and tests/test_synth.py checks that a corpus matches it.

Insured regions come from the shipped policies (or `regions=`), so every
claim is decided by a real regional policy. Generation draws only from one
`random.Random(seed)`: the same seed gives the same corpus, byte for byte.
Speed matters (1,000,000 claims for benchmarks): dates are precomputed
strings, choices are table look-ups, and each claim is one dict literal.
"""

from __future__ import annotations

import bisect
import datetime
import json
import pathlib
import random
from collections.abc import Iterator, Mapping, Sequence
from itertools import accumulate

import yaml

# ── the mix (docs/synth.md lists the same numbers; a test checks them) ──────────
MIX = {
    "scheme.employee": 0.55,
    "scope": {"cross_province": 0.70, "intra_province": 0.20, "local": 0.10},
    "kind": {"inpatient": 0.60, "outpatient": 0.15, "chronic_outpatient": 0.15, "pharmacy": 0.10},
    "filing": {None: 0.22, "retiree_relocated": 0.10, "long_term_resident": 0.12, "stationed_worker": 0.08,
               "referral": 0.15, "emergency": 0.05, "other_temporary": 0.28},
    "filing.commitment": 0.30,           # of long-term filings; half of those supplemented materials later
    "filing.province_level": 0.30,       # filed to the visit's province rather than its city
    "filing.other_place": 0.03,          # filed for a different place than the one visited
    "filing.retroactive": 0.08,          # filed after admission (one in four of them after discharge)
    "level": {1: 0.15, 2: 0.35, 3: 0.50},
    "emergency": 0.10,
    "referral_certificate_unfiled": 0.03,
    "newborn": 0.02,                     # inpatients aged 0–35 days at admission (0–28 is a newborn)
    "psychiatric": 0.03,
    "year_crossing": 0.03,               # inpatient stays admitted late December, discharged in January
    "not_networked": 0.05,
    "trauma.no_third_party": 0.04,
    "trauma.third_party": 0.01,
    "died_after_emergency": 0.003,
    "self_paid": 0.02,
    "system_failure": 0.01,
    "outside_services": 0.01,
    "at_audit_threshold": 0.005,         # inpatient total exactly 30000.00
    "personal_account": 0.20,            # of employees' outpatient and pharmacy claims: paid from the personal account
}
CHRONIC = {"hypertension": 0.20, "diabetes": 0.20, "cancer_outpatient_therapy": 0.08, "uremia_dialysis": 0.06,
           "organ_transplant_antirejection": 0.03, "copd": 0.08, "rheumatoid_arthritis": 0.05,
           "coronary_heart_disease": 0.12, "viral_hepatitis": 0.05, "ankylosing_spondylitis": 0.03,
           "parkinsons_disease": 0.05, "hemophilia": 0.02, "systemic_lupus": 0.03}
# (low, high) of the total in yuan, drawn log-uniformly; in-scope share 55–97 %.
COSTS = {"inpatient": (1500, 150000), "outpatient": (40, 3000), "chronic_outpatient": (150, 8000), "pharmacy": (15, 900)}
ADMISSIONS = (datetime.date(2025, 1, 1), datetime.date(2026, 6, 30))

# Visit places outside the insured province: districts of large cities across China.
VISIT_PLACES = ("110105", "110108", "310104", "310115", "440106", "440305", "330106", "320102", "420106",
                "510107", "610113", "370212", "500103", "120101", "460105", "430104", "350203", "210102",
                "230103", "530102")
CITIES_PER_PROVINCE = 8


def policy_regions(root: pathlib.Path | None = None) -> dict[str, str]:
    """policy id → region of every policy in a tree (default: the shipped one), reading only the YAML."""
    from .policy.tree import find_policy_files
    from .resources import data_dir

    root = pathlib.Path(root) if root is not None else data_dir("policies")
    found = {}
    for path in find_policy_files(root):
        head = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(head, dict) and "id" in head and "region" in head:
            found[str(head["id"])] = str(head["region"])
    return found


def insured_regions(policies: Mapping[str, str]) -> list[str]:
    """Insured regions decided by each regional policy: 8 prefecture codes per province, a city and 2 districts per city."""
    regions = set(policies.values())
    out = []
    for region in sorted(regions):
        if region == "000000":
            continue
        if region.endswith("0000"):
            cities = [region[:2] + f"{k:02d}00" for k in range(1, CITIES_PER_PROVINCE + 1)]
            out += [c for c in cities if c not in regions]
        elif region.endswith("00"):
            out += [region, region[:4] + "02", region[:4] + "03"]
        else:
            out.append(region)
    return out


def _table(weights: Mapping) -> tuple[list, list[float]]:
    keys = list(weights)
    cumulative = list(accumulate(weights[k] for k in keys))
    total = cumulative[-1]
    return keys, [c / total for c in cumulative]


def generate(n: int, seed: int, regions: Sequence[str] | None = None, policies: pathlib.Path | None = None) -> Iterator[dict]:
    """Yield `n` synthetic claims (dicts in the contract's claim form); same seed, same claims."""
    regions = list(regions) if regions else insured_regions(policy_regions(policies))
    if not regions:
        raise ValueError("no insured regions: the policy tree has no regional policy")
    rng = random.Random(seed)
    rnd, randint, expo = rng.random, rng.randrange, rng.expovariate
    first, last = ADMISSIONS
    base = first - datetime.timedelta(days=3 * 366)
    days = [(base + datetime.timedelta(days=i)).isoformat() for i in range((last - base).days + 400)]
    adm_lo, adm_span = (first - base).days, (last - first).days + 1
    dec20 = [(datetime.date(y, 12, 20) - base).days for y in range(first.year, last.year)]
    scope_k, scope_c = _table(MIX["scope"])
    kind_k, kind_c = _table(MIX["kind"])
    filing_k, filing_c = _table(MIX["filing"])
    level_k, level_c = _table(MIX["level"])
    chronic_k, chronic_c = _table(CHRONIC)
    long_term = {"retiree_relocated", "long_term_resident", "stationed_worker"}
    cost_log = {k: (lo, hi / lo) for k, (lo, hi) in COSTS.items()}
    m = MIX
    by_province: dict[str, list[str]] = {}
    for r in regions:
        by_province.setdefault(r[:2], []).append(r)
    visits = {p: [v for v in VISIT_PLACES if v[:2] != p] for p in by_province}
    intra = {r: [o for o in by_province[r[:2]] if o[:4] != r[:4]] or [r[:2] + "9900"] for r in regions}
    n_regions = len(regions)
    pick = bisect.bisect
    died = m["died_after_emergency"] / (m["emergency"] * m["kind"]["outpatient"])

    p_at_audit_threshold = m["at_audit_threshold"]
    p_emergency = m["emergency"]
    p_filing_commitment = m["filing.commitment"]
    p_filing_other_place = m["filing.other_place"]
    p_filing_province_level = m["filing.province_level"]
    p_filing_retroactive = m["filing.retroactive"]
    p_newborn_inpatient = m["newborn"] / m["kind"]["inpatient"]
    p_not_networked = m["not_networked"]
    p_outside_services = m["outside_services"]
    p_psychiatric = m["psychiatric"]
    p_referral_certificate_unfiled = m["referral_certificate_unfiled"]
    p_scheme_employee = m["scheme.employee"]
    p_self_paid = m["self_paid"]
    p_system_failure = m["system_failure"]
    p_trauma_no_third_party = m["trauma.no_third_party"]
    p_trauma_third_party = m["trauma.third_party"]
    p_year_crossing = m["year_crossing"]
    p_personal_account = m["personal_account"]
    for i in range(n):
        insured = regions[randint(n_regions)]
        prov = insured[:2]
        scope = scope_k[pick(scope_c, rnd())]
        if scope == "cross_province":
            places = visits[prov]
            visit = places[randint(len(places))]
        elif scope == "intra_province":
            others = intra[insured]
            visit = others[randint(len(others))]
        else:
            visit = insured
        kind = kind_k[pick(kind_c, rnd())]
        if kind == "inpatient" and rnd() < p_year_crossing and dec20:
            admitted = dec20[randint(len(dec20))] + randint(12)
            discharged = admitted + 13 + randint(14)
        else:
            admitted = adm_lo + randint(adm_span)
            discharged = admitted + (1 + min(int(expo(0.12)), 90) if kind == "inpatient" else 0)
        emergency = rnd() < p_emergency
        ftype = filing_k[pick(filing_c, rnd())]
        filing = None
        referral = ftype == "referral"
        if ftype is not None:
            lt = ftype in long_term
            start = admitted - (randint(900) if lt else randint(200))
            filed = start
            r = rnd()
            if r < p_filing_retroactive:
                start = admitted
                filed = admitted + 1 + randint(max(discharged - admitted, 1)) if r < 0.75 * p_filing_retroactive else discharged + 1 + randint(20)
            place = VISIT_PLACES[randint(len(VISIT_PLACES))] if scope == "local" else visit
            if rnd() < p_filing_other_place:
                place = VISIT_PLACES[randint(len(VISIT_PLACES))]
            commitment = lt and rnd() < p_filing_commitment
            filing = {"type": ftype, "basis": "commitment" if commitment else "materials",
                      "region": place[:2] + "0000" if rnd() < p_filing_province_level else place[:4] + "00",
                      "start_date": days[start], "end_date": None, "filed_on": days[filed],
                      "supplemented_on": days[filed + 30 + randint(270)] if commitment and rnd() < 0.5 else None}
        elif rnd() < p_referral_certificate_unfiled:
            referral = True
        level = level_k[pick(level_c, rnd())]
        lo, ratio = cost_log[kind]
        total = int(lo * ratio ** rnd() * 100 + 0.5) / 100
        if kind == "inpatient" and rnd() < p_at_audit_threshold:
            total = 30000.0
        in_scope = int(total * (55 + 42 * rnd()) + 0.5) / 100
        trauma_r = rnd()
        claim = {
            "kind": "claim",
            "id": f"SYN{seed}-{i:07d}",
            "insured": {"region": insured, "scheme": "employee" if rnd() < p_scheme_employee else "resident"},
            "filing": filing,
            "visit": {
                "kind": kind, "region": visit, "networked": rnd() >= p_not_networked,
                "hospital_level": None if kind == "pharmacy" else level,
                "admission_date": days[admitted], "discharge_date": days[discharged],
                "emergency": emergency, "referral": referral,
                "psychiatric_certificate": rnd() < p_psychiatric,
                "chronic_disease": chronic_k[pick(chronic_c, rnd())] if kind == "chronic_outpatient" else None,
                "trauma": "third_party" if trauma_r < p_trauma_third_party else
                          "no_third_party" if trauma_r < p_trauma_third_party + p_trauma_no_third_party else None,
                "died_after_emergency": emergency and kind == "outpatient" and rnd() < died,
                "outside_services": kind == "inpatient" and rnd() < p_outside_services,
                "self_paid": rnd() < p_self_paid,
                "system_failure": rnd() < p_system_failure,
            },
            "costs": {"total": total, "in_scope": in_scope},
        }
        if kind in ("outpatient", "pharmacy") and claim["insured"]["scheme"] == "employee" and rnd() < p_personal_account:
            claim["visit"]["payment_source"] = "personal_account"  # left out otherwise: the default, pooling_fund
        if kind == "inpatient" and rnd() < p_newborn_inpatient:
            claim["insured"]["birth_date"] = days[admitted - randint(36)]
        yield claim


def write_jsonl(claims, out) -> int:
    count = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for claim in claims:
        out.write(dumps(claim))
        out.write("\n")
        count += 1
    return count
