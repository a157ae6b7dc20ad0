"""The Henan decision as a sequence of simpleeval expressions (simpleeval ≥ 1.0).

Each step is `name = expression`; the expressions are parsed once by `prepare()` and
evaluated in order by one `EvalWithCompoundTypes` evaluator whose names are the claim's
values plus every step decided so far (`eval(text, previously_parsed=node)`, so no
parsing per claim). The values are Python's own: strings, `datetime.date`, `Decimal`, so
the money is exact. Expressions use Python syntax restricted by simpleeval: comparisons,
`and`/`or`/`not`, conditional expressions, `in` on tuple literals, string slices and
`.endswith`, date subtraction and `.days`/`.day`, `Decimal.quantize`.

Names given to the evaluator besides the claim (nothing else is reachable):
- functions `min`, `max`, and `add_months(date, n)` — the one custom operation: the same
  day n calendar months on, clamped to the end of a shorter month (what ZEN's
  `.add(n, "M")` does; Python's `date` has no month arithmetic);
- constants `ONE_DAY` (a `timedelta`), `CENT`, `ROUND_HALF_UP`, `ZERO`, and `BENEFIT`, the
  illustrative Henan inpatient table as data (`Decimal` literals do not exist in Python
  syntax: `0.90` would be a float).

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
    ("treatment", f'"local" if not away else ("long_term" if filed and filing_type in {LONG_TERM} else '
                  '("emergency" if status == "deemed" or (filed and filing_type == "emergency") or special else '
                  '("referral" if filed and filing_type == "referral" else '
                  '("other_temporary" if filed and filing_type == "other_temporary" else '
                  '("referral" if visit_referral and not visit_emergency else "unfiled")))))'),
    ("unsupplemented", f'has_filing and filing_type in {LONG_TERM} and filing_basis == "commitment" '
                       "and (filing_supplemented_on is None or filing_supplemented_on > visit_admission_date)"),
    ("reduction", '20 if scope == "local" and status == "valid" and unsupplemented else '
                  '(0 if treatment in ("local", "long_term") else (10 if treatment in ("referral", "emergency") else 20))'),
    ("death", 'away and visit_died_after_emergency and visit_emergency and visit_kind == "outpatient"'),
    ("chronic_manual", f'away and visit_kind == "chronic_outpatient" and visit_chronic_disease not in {CHRONIC}'),
    ("route", '"none" if visit_trauma == "third_party" else ("manual" if '
              '(away and unfiled_or_lapsed and treatment in ("unfiled", "referral")) or (away and not visit_networked) '
              'or visit_self_paid or visit_system_failure '
              'or (status == "retroactive" and filing_filed_on > visit_discharge_date) or death or chronic_manual '
              'else "direct")'),
    ("catalog", '"treatment_place" if route == "direct" else ("insured_place" if route == "manual" else None)'),
    ("care", '"inpatient" if death else visit_kind'),
    ("row", 'BENEFIT.get((insured_scheme, visit_hospital_level)) if care == "inpatient" else None'),
    ("ratio", 'ZERO if route == "none" else (None if row is None else max(row[1] - reduction * CENT, ZERO))'),
    ("deductible", 'None if route == "none" or row is None else min(row[0], costs_in_scope)'),
    ("fund", 'ZERO if route == "none" else (None if row is None else '
             "min(((costs_in_scope - deductible) * ratio).quantize(CENT, rounding=ROUND_HALF_UP), row[2]))"),
    ("personal", "None if fund is None else costs_total - fund"),
    ("interpretation", 'treatment == "unfiled" '
                       "or (away and has_filing and not matches and not visit_emergency) "
                       "or (away and unfiled_or_lapsed and visit_referral and not visit_emergency and not special) "
                       f"or (away and filed and filing_type in {LONG_TERM} and special) "
                       'or (away and unfiled_or_lapsed and treatment in ("unfiled", "referral") and route != "none") '
                       'or (visit_system_failure and route != "none") or route == "none"'),
    ("flags", '[flag for flag, on in ('
              '("audit_referral_eligible", away and care == "inpatient" and costs_total >= 30000), '
              '("chronic_not_direct", chronic_manual), '
              '("benefit_table_illustrative", route != "none" and row is not None), '
              '("interpretation_applied", interpretation)) if on]'),
]

INPUT_KEYS = ("insured.region", "insured.scheme", "insured.birth_date", "filing", "filing.type", "filing.basis",
              "filing.region", "filing.start_date", "filing.end_date", "filing.filed_on", "filing.supplemented_on",
              "visit.kind", "visit.region", "visit.networked", "visit.hospital_level", "visit.admission_date",
              "visit.discharge_date", "visit.emergency", "visit.referral", "visit.psychiatric_certificate",
              "visit.chronic_disease", "visit.trauma", "visit.died_after_emergency", "visit.self_paid",
              "visit.system_failure", "costs.total", "costs.in_scope")


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
                          "BENEFIT": _benefit()}
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
        "catalog": env["catalog"], "reduction_pp": Decimal(env["reduction"]), "ratio": env["ratio"],
        "amounts": {"in_scope": env["costs_in_scope"], "deductible": env["deductible"], "fund": env["fund"],
                    "personal": env["personal"]},
        "flags": env["flags"],
    }
