"""The Henan decision as a sequence of simpleeval expressions (simpleeval ≥ 1.0).

Each step is `name = expression`; the expressions are parsed once by `prepare()` and
evaluated in order by one `EvalWithCompoundTypes` evaluator whose names are the claim's
values plus every step decided so far (`eval(text, previously_parsed=node)`, so no
parsing per claim). The values are Python's own: strings, `datetime.date`, `Decimal`, so
the money is exact. Expressions use Python syntax restricted by simpleeval: comparisons,
`and`/`or`/`not` (`filed_on or start_date` takes the first that is set), conditional
expressions, `in` on tuple literals, string slices and `.endswith`, date subtraction and
`.days`/`.day`, `Decimal.quantize`, a list comprehension (the flags) and a dict literal
(the amounts).

Names given to the evaluator besides the claim (nothing else is reachable):
- functions `min`, `max`, and `add_months(date, n)` — the one custom operation: the same
  day n calendar months on, clamped to the end of a shorter month (what ZEN's
  `.add(n, "M")` does; Python's `date` has no month arithmetic);
- constants `ONE_DAY` (a `timedelta`), `CENT`, `ROUND_HALF_UP`, `ZERO`, `BENEFIT`, the
  illustrative Henan inpatient table as data (`Decimal` literals do not exist in Python
  syntax: `0.90` would be a float), and `IN_FORCE`, Henan's in-force date 2025-01-01 (a
  `date`; Python syntax has no date literal either).

Partial decisions are written as the hand-written function writes them: with no benefit
table row (not inpatient, a row missing, or paid from the personal account) `amounts` is
null as a whole; a claim filed for another place and settled under the pooling region's
own rules has a null `reduction_pp` and `ratio`, and its amounts keep `in_scope` and
`deductible` with a null `fund` and `personal`.

Input: the flat document's dotted keys become identifiers (`visit.kind` → `visit_kind`);
that copy is counted in the measured time.
"""

from __future__ import annotations

import calendar
import datetime
from decimal import ROUND_HALF_UP, Decimal

from simpleeval import EvalWithCompoundTypes

LONG_TERM = '("retiree_relocated", "long_term_resident", "stationed_worker")'
TEMPORARY = '("referral", "emergency", "other_temporary")'
CHRONIC = ('("hypertension", "diabetes", "cancer_outpatient_therapy", "uremia_dialysis", '
           '"organ_transplant_antirejection", "copd", "rheumatoid_arthritis", "coronary_heart_disease", '
           '"viral_hepatitis", "ankylosing_spondylitis")')
THIRD_PARTY = '("third_party", "third_party_unpaid")'


def _city(region: str) -> str:
    return f'{region} if {region}.endswith("0000") else {region}[:4] + "00"'


STEPS = [
    ("insured_city", _city("insured_region")),
    ("visit_city", _city("visit_region")),
    ("scope", '"local" if visit_city == insured_city else '
              '("intra_province" if visit_region[:2] == insured_region[:2] else "cross_province")'),
    ("away", 'scope != "local"'),
    ("has_filing", "filing is not None"),
    ("shifted", f"add_months(filing_start_date, 6) if has_filing and filing_end_date is None "
                f"and filing_type in {TEMPORARY} else None"),
    ("end", "filing_end_date if filing_end_date is not None else (None if shifted is None else "
            "(shifted if shifted.day < filing_start_date.day else shifted - ONE_DAY))"),
    ("in_window", "has_filing and filing_start_date <= visit_admission_date "
                  "and (end is None or visit_admission_date <= end)"),
    ("covers", 'has_filing and ((filing_region[:2] == visit_region[:2]) if filing_region.endswith("0000") else '
               '((filing_region[:4] == visit_region[:4]) if filing_region.endswith("00") else filing_region == visit_region))'),
    ("matches", 'has_filing and (scope == "local" or covers)'),
    ("retro", "has_filing and filing_filed_on is not None and filing_filed_on > visit_admission_date"),
    ("usable", "matches and in_window"),
    ("status", '("retroactive" if retro else "valid") if usable else ("not_required" if scope == "local" else '
               '("deemed" if visit_emergency else ("expired" if matches and end is not None and visit_admission_date > end '
               'else "absent")))'),
    ("newborn", 'visit_kind == "inpatient" and insured_birth_date is not None '
                "and 0 <= (visit_admission_date - insured_birth_date).days <= 28"),
    ("special", "newborn or visit_psychiatric_certificate"),
    ("filed", 'status in ("valid", "retroactive")'),
    ("unfiled_or_lapsed", 'status in ("absent", "expired")'),
    # the precedence of policies/national (header) and henan 二（二）: long-term, special cases, emergency, ...;
    # a filed other_temporary visit is still an emergency or a referral when the visit is one
    ("treatment", f'"local" if not away else ("long_term" if filed and filing_type in {LONG_TERM} else '
                  '("emergency" if special else '
                  '("emergency" if status == "deemed" or (filed and filing_type == "emergency") else '
                  '("referral" if filed and filing_type == "referral" else '
                  '(("emergency" if visit_emergency else ("referral" if visit_referral else "other_temporary")) '
                  'if filed and filing_type == "other_temporary" else '
                  '("referral" if visit_referral and not visit_emergency else "unfiled"))))))'),
    ("commitment", f'has_filing and filing_type in {LONG_TERM} and filing_basis == "commitment"'),
    # henan 二（一）: judged at settlement (supplemented during the stay counts)
    ("unsupplemented", "commitment and (filing_supplemented_on is None or filing_supplemented_on > visit_settled_on)"),
    ("supplemented_during_stay", "commitment and filing_supplemented_on is not None "
                                 "and visit_admission_date < filing_supplemented_on <= visit_settled_on"),
    ("home_commitment", 'scope == "local" and status == "valid" and unsupplemented'),
    # 附件1 温馨提示二: filed for another place, so the pooling region's own rules apply (no Henan reduction)
    ("outside_place", 'away and has_filing and not matches and status == "absent" and treatment in ("unfiled", "referral")'),
    # 五（二）: filings made before Henan's rules were in force are not cut
    ("reduction", "(20 if (filing_filed_on or filing_start_date) >= IN_FORCE else 0) if home_commitment else "
                  '(None if outside_place else '
                  '(0 if treatment in ("local", "long_term") else (10 if treatment in ("referral", "emergency") else 20)))'),
    ("death", 'away and visit_died_after_emergency and visit_emergency and visit_kind == "outpatient"'),
    ("chronic_manual", f'away and visit_kind == "chronic_outpatient" and visit_chronic_disease not in {CHRONIC}'),
    ("special_unfiled", 'away and treatment == "emergency" and unfiled_or_lapsed and special'),
    ("route", '"none" if visit_trauma == "third_party" else ("manual" if visit_trauma == "third_party_unpaid" else '
              '("manual" if (away and unfiled_or_lapsed and treatment in ("unfiled", "referral")) or special_unfiled '
              'or (away and not visit_networked) or visit_self_paid or visit_system_failure '
              'or (status == "retroactive" and filing_filed_on > visit_discharge_date) or death or chronic_manual '
              'else "direct"))'),
    ("catalog", '"treatment_place" if route == "direct" else ("insured_place" if route == "manual" else None)'),
    ("care", '"inpatient" if death else visit_kind'),
    ("row", 'BENEFIT.get((insured_scheme, visit_hospital_level)) '
            'if care == "inpatient" and visit_payment_source != "personal_account" else None'),
    ("ratio", 'ZERO if route == "none" else (None if row is None or reduction is None else '
              "max(row[1] - reduction * CENT, ZERO))"),
    ("deductible", 'None if route == "none" or row is None else min(row[0], costs_in_scope)'),
    ("fund", 'ZERO if route == "none" else (None if ratio is None else '
             "min(((costs_in_scope - deductible) * ratio).quantize(CENT, rounding=ROUND_HALF_UP), row[2]))"),
    ("personal", "None if fund is None else costs_total - fund"),
    ("amounts", 'None if route != "none" and row is None else '  # no table row: left undetermined
                '{"in_scope": costs_in_scope, "deductible": deductible, "fund": fund, "personal": personal}'),
    # third-party trauma always gets the flag, so no other clause needs to leave it out
    ("interpretation", f'visit_trauma in {THIRD_PARTY} '
                       "or (away and has_filing and not matches and not visit_emergency) "
                       "or (away and unfiled_or_lapsed and visit_referral and not visit_emergency and not special) "
                       'or (away and unfiled_or_lapsed and treatment in ("unfiled", "referral")) '
                       "or visit_system_failure "
                       f"or (away and filed and filing_type in {LONG_TERM} and special) "
                       "or special_unfiled or supplemented_during_stay or home_commitment or death "
                       'or (scope == "intra_province" and visit_kind == "chronic_outpatient") '
                       'or (treatment in ("referral", "emergency", "other_temporary", "unfiled") and not outside_place)'),
    # below the national floor (医保发〔2022〕22号 八) for a filing in another province
    ("floor_conflict", "home_commitment and reduction > 10 and filing_region[:2] != insured_region[:2]"),
    ("flags", '[flag for flag, on in ('
              '("audit_referral_eligible", away and care == "inpatient" and costs_total >= 30000), '
              '("chronic_not_direct", chronic_manual), '
              '("benefit_table_illustrative", route != "none" and row is not None), '
              '("interpretation_applied", interpretation), '
              '("floor_conflict", floor_conflict)) if on]'),
]

INPUT_KEYS = ("insured.region", "insured.scheme", "insured.birth_date", "filing", "filing.type", "filing.basis",
              "filing.region", "filing.start_date", "filing.end_date", "filing.filed_on", "filing.supplemented_on",
              "visit.kind", "visit.region", "visit.networked", "visit.hospital_level", "visit.admission_date",
              "visit.discharge_date", "visit.settled_on", "visit.emergency", "visit.referral", "visit.psychiatric_certificate",
              "visit.chronic_disease", "visit.trauma", "visit.died_after_emergency", "visit.self_paid",
              "visit.system_failure", "visit.payment_source", "costs.total", "costs.in_scope")


def add_months(start: datetime.date, months: int) -> datetime.date:
    """Calendar arithmetic, the one custom operation: the same day `months` months on, clamped."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


def _benefit() -> dict:
    rows = {("employee", 1): ("300", "0.90", "400000"), ("employee", 2): ("600", "0.88", "400000"),
            ("employee", 3): ("900", "0.85", "400000"), ("resident", 1): ("200", "0.85", "300000"),
            ("resident", 2): ("500", "0.75", "300000"), ("resident", 3): ("1000", "0.65", "300000")}
    return {key: tuple(Decimal(v) for v in values) for key, values in rows.items()}


class Prepared:
    def __init__(self) -> None:
        self.constants = {"True": True, "False": False, "None": None, "ONE_DAY": datetime.timedelta(days=1),
                          "CENT": Decimal("0.01"), "ROUND_HALF_UP": ROUND_HALF_UP, "ZERO": Decimal(0),
                          "BENEFIT": _benefit(), "IN_FORCE": datetime.date(2025, 1, 1)}
        self.evaluator = EvalWithCompoundTypes(functions={"min": min, "max": max, "add_months": add_months},
                                               names={})
        self.steps = [(name, text, EvalWithCompoundTypes.parse(text)) for name, text in STEPS]
        self.aliases = [(key.replace(".", "_"), key) for key in INPUT_KEYS]


def prepare() -> Prepared:
    return Prepared()


def convert(prepared: Prepared, flat: dict) -> dict:
    """The claim as evaluator names (dotted keys become identifiers)."""
    env = dict(prepared.constants)
    for alias, key in prepared.aliases:
        env[alias] = flat[key]
    return env


def evaluate(prepared: Prepared, env: dict) -> dict:
    """The expressions alone, on an input already converted: every step's value lands in `env`."""
    evaluator = prepared.evaluator
    evaluator.names = env
    for name, text, node in prepared.steps:
        env[name] = evaluator.eval(text, previously_parsed=node)
    return env


def decide(prepared: Prepared, flat: dict) -> dict:
    env = evaluate(prepared, convert(prepared, flat))
    return {
        "scope": env["scope"], "route": env["route"], "filing_status": env["status"], "treatment": env["treatment"],
        "catalog": env["catalog"], "reduction_pp": None if env["reduction"] is None else Decimal(env["reduction"]),
        "ratio": env["ratio"], "amounts": env["amounts"], "flags": env["flags"],
    }
