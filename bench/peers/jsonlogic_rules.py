"""The Henan decision as JsonLogic rules (panzi-json-logic 1.0.1).

Implementation chosen: panzi-json-logic, over json-logic-qubit (0.9.1, last released in
2017, Python 2 era, needs six). Both install the same `json_logic` module, so only one can
be installed. qubit's arithmetic coerces every number through `int()`/`float()`
(a `Decimal` is truncated to an integer), its operations are global and its `method`
operation calls arbitrary methods of the data; panzi's interpreter is smaller, takes the
operation table per call (so custom operations stay local) and keeps ints as ints.

JsonLogic has no variables, so the decision is a sequence of named rules, applied in
order; each result is stored in the data under its name, where later rules read it with
`{"var": name}` (the same shape as the simpleeval peer and ZEN's expression node). The
rules are kept as a Python literal for the comments and go through their JSON text in
`prepare()`, as a JsonLogic deployment would load them.

Input: the flat document becomes the nested JSON document (`insured`, `filing`, `visit`,
`costs`), dates as day numbers (`date.toordinal()`), so comparisons and the newborn's age
in days are plain JsonLogic arithmetic; money as JSON numbers. Henan's in-force date
(2025-01-01) is written into the rules as a day number too (`IN_FORCE`). The conversion is
counted in the measured time.

Partial decisions follow the hand-written function: with no benefit table row (not
inpatient, a row missing, or paid from the personal account) `amounts` is null as a whole;
a claim filed for another place, settled under the pooling region's own rules, has a null
`reduction`, so `ratio`, `fund` and `personal` are null while `deductible` is decided.
JsonLogic cannot build an object, so the rule `amounts_decided` says whether there are
amounts, and `decide()` puts the four amounts in an object or returns null accordingly.

Custom operations (JsonLogic has no date arithmetic and no string suffix test):
- `add_months(day, n)`: the same day n calendar months on, clamped to the end of a
  shorter month (ZEN's `.add(n, "M")`);
- `day_of_month(day)`: the day of the month of a day number.
(Suffix tests are written with the standard `substr` and a negative start.)

Numbers: standard JsonLogic arithmetic is JavaScript's, binary floats: panzi converts
every operand with `float()`. There is no rounding operation; cents are rounded half-up
with standard operations (`x*100 + 0.5`, minus its `% 1`, over 100). With
`prepare(numbers="float")` (the default, standard JsonLogic) money is passed as floats
and comes back as floats, turned into `Decimal(repr(x))`: the amounts are not those of
exact arithmetic, and bench/run.py counts how many differ and by how much.
With `prepare(numbers="decimal")` the rules' JSON is read with `parse_float=Decimal`,
money is passed as `Decimal`, and seven more custom operations replace the arithmetic ones
(`+ - * / % min max`, the same operators on Python numbers without the float
conversion): the answers are then exact. Comparisons are left standard (they compare
through float, which cannot misorder two-decimal amounts against the 30,000 threshold).
"""

from __future__ import annotations

import calendar
import datetime
import json
from decimal import Decimal

from json_logic.apply import apply
from json_logic.builtins import BUILTINS

LONG_TERM = ["retiree_relocated", "long_term_resident", "stationed_worker"]
TEMPORARY = ["referral", "emergency", "other_temporary"]
CHRONIC = ["hypertension", "diabetes", "cancer_outpatient_therapy", "uremia_dialysis", "organ_transplant_antirejection",
           "copd", "rheumatoid_arthritis", "coronary_heart_disease", "viral_hepatitis", "ankylosing_spondylitis"]
THIRD_PARTY = ["third_party", "third_party_unpaid"]
IN_FORCE = datetime.date(2025, 1, 1).toordinal()  # Henan's in-force date, a day number like the input's dates


def V(path: str) -> dict:
    return {"var": path}


def eq(a, b) -> dict:
    return {"===": [a, b]}


def ne(a, b) -> dict:
    return {"!==": [a, b]}


def NOT(a) -> dict:
    return {"!": [a]}


def _city(region: str) -> dict:
    return {"if": [eq({"substr": [V(region), -4]}, "0000"), V(region), {"cat": [{"substr": [V(region), 0, 4]}, "00"]}]}


ADM = V("visit.admission_date")

STEPS = [
    ("insured_city", _city("insured.region")),
    ("visit_city", _city("visit.region")),
    ("scope", {"if": [eq(V("visit_city"), V("insured_city")), "local",
                      eq({"substr": [V("visit.region"), 0, 2]}, {"substr": [V("insured.region"), 0, 2]}), "intra_province",
                      "cross_province"]}),
    ("away", ne(V("scope"), "local")),
    ("has_filing", ne(V("filing"), None)),
    ("shifted", {"if": [{"and": [V("has_filing"), eq(V("filing.end_date"), None), {"in": [V("filing.type"), TEMPORARY]}]},
                        {"add_months": [V("filing.start_date"), 6]}, None]}),
    ("end", {"if": [ne(V("filing.end_date"), None), V("filing.end_date"),
                    eq(V("shifted"), None), None,
                    {"<": [{"day_of_month": [V("shifted")]}, {"day_of_month": [V("filing.start_date")]}]}, V("shifted"),
                    {"-": [V("shifted"), 1]}]}),
    ("in_window", {"and": [V("has_filing"), {"<=": [V("filing.start_date"), ADM]},
                           {"or": [eq(V("end"), None), {"<=": [ADM, V("end")]}]}]}),
    ("covers", {"and": [V("has_filing"), {"if": [
        eq({"substr": [V("filing.region"), -4]}, "0000"),
        eq({"substr": [V("filing.region"), 0, 2]}, {"substr": [V("visit.region"), 0, 2]}),
        eq({"substr": [V("filing.region"), -2]}, "00"),
        eq({"substr": [V("filing.region"), 0, 4]}, {"substr": [V("visit.region"), 0, 4]}),
        eq(V("filing.region"), V("visit.region"))]}]}),
    ("matches", {"and": [V("has_filing"), {"or": [eq(V("scope"), "local"), V("covers")]}]}),
    ("retro", {"and": [V("has_filing"), ne(V("filing.filed_on"), None), {">": [V("filing.filed_on"), ADM]}]}),
    ("usable", {"and": [V("matches"), V("in_window")]}),
    ("status", {"if": [{"and": [V("usable"), V("retro")]}, "retroactive",
                       V("usable"), "valid",
                       eq(V("scope"), "local"), "not_required",
                       V("visit.emergency"), "deemed",
                       {"and": [V("matches"), ne(V("end"), None), {">": [ADM, V("end")]}]}, "expired",
                       "absent"]}),
    ("newborn", {"and": [eq(V("visit.kind"), "inpatient"), ne(V("insured.birth_date"), None),
                         {"<=": [0, {"-": [ADM, V("insured.birth_date")]}, 28]}]}),
    ("special", {"or": [V("newborn"), V("visit.psychiatric_certificate")]}),
    ("filed", {"in": [V("status"), ["valid", "retroactive"]]}),
    ("unfiled_or_lapsed", {"in": [V("status"), ["absent", "expired"]]}),
    # the precedence of policies/national (header) and henan 二（二）: long-term, special cases, emergency, ...;
    # a filed other_temporary visit is still an emergency or a referral when the visit is one
    ("treatment", {"if": [NOT(V("away")), "local",
                          {"and": [V("filed"), {"in": [V("filing.type"), LONG_TERM]}]}, "long_term",
                          V("special"), "emergency",
                          {"or": [eq(V("status"), "deemed"), {"and": [V("filed"), eq(V("filing.type"), "emergency")]}]},
                          "emergency",
                          {"and": [V("filed"), eq(V("filing.type"), "referral")]}, "referral",
                          {"and": [V("filed"), eq(V("filing.type"), "other_temporary")]},
                          {"if": [V("visit.emergency"), "emergency", V("visit.referral"), "referral", "other_temporary"]},
                          {"and": [V("visit.referral"), NOT(V("visit.emergency"))]}, "referral",
                          "unfiled"]}),
    ("commitment", {"and": [V("has_filing"), {"in": [V("filing.type"), LONG_TERM]}, eq(V("filing.basis"), "commitment")]}),
    # henan 二（一）: judged at settlement (supplemented during the stay counts)
    ("unsupplemented", {"and": [V("commitment"), {"or": [eq(V("filing.supplemented_on"), None),
                                                         {">": [V("filing.supplemented_on"), V("visit.settled_on")]}]}]}),
    ("supplemented_during_stay", {"and": [V("commitment"), ne(V("filing.supplemented_on"), None),
                                          {"<": [ADM, V("filing.supplemented_on")]},
                                          {"<=": [V("filing.supplemented_on"), V("visit.settled_on")]}]}),
    ("home_commitment", {"and": [eq(V("scope"), "local"), eq(V("status"), "valid"), V("unsupplemented")]}),
    # 附件1 温馨提示二: filed for another place, so the pooling region's own rules apply (no Henan reduction)
    ("outside_place", {"and": [V("away"), V("has_filing"), NOT(V("matches")), eq(V("status"), "absent"),
                               {"in": [V("treatment"), ["unfiled", "referral"]]}]}),
    ("reduction", {"if": [V("home_commitment"),  # 五（二）: filings made before Henan's rules were in force are not cut
                          {"if": [{">=": [{"or": [V("filing.filed_on"), V("filing.start_date")]}, IN_FORCE]}, 20, 0]},
                          V("outside_place"), None,
                          {"in": [V("treatment"), ["local", "long_term"]]}, 0,
                          {"in": [V("treatment"), ["referral", "emergency"]]}, 10,
                          20]}),
    ("death", {"and": [V("away"), V("visit.died_after_emergency"), V("visit.emergency"), eq(V("visit.kind"), "outpatient")]}),
    ("chronic_manual", {"and": [V("away"), eq(V("visit.kind"), "chronic_outpatient"),
                                NOT({"in": [V("visit.chronic_disease"), CHRONIC]})]}),
    ("special_unfiled", {"and": [V("away"), eq(V("treatment"), "emergency"), V("unfiled_or_lapsed"), V("special")]}),
    ("route", {"if": [eq(V("visit.trauma"), "third_party"), "none",
                      eq(V("visit.trauma"), "third_party_unpaid"), "manual",
                      {"or": [{"and": [V("away"), V("unfiled_or_lapsed"), {"in": [V("treatment"), ["unfiled", "referral"]]}]},
                              V("special_unfiled"),
                              {"and": [V("away"), NOT(V("visit.networked"))]},
                              V("visit.self_paid"), V("visit.system_failure"),
                              {"and": [eq(V("status"), "retroactive"), {">": [V("filing.filed_on"), V("visit.discharge_date")]}]},
                              V("death"), V("chronic_manual")]}, "manual",
                      "direct"]}),
    ("catalog", {"if": [eq(V("route"), "direct"), "treatment_place", eq(V("route"), "manual"), "insured_place", None]}),
    ("care", {"if": [V("death"), "inpatient", V("visit.kind")]}),
    ("row", {"if": [{"or": [ne(V("care"), "inpatient"), eq(V("visit.payment_source"), "personal_account")]}, None,
                    # [deductible, ratio, cap], the illustrative Henan table
                    {"and": [eq(V("insured.scheme"), "employee"), eq(V("visit.hospital_level"), 1)]}, [300, 0.90, 400000],
                    {"and": [eq(V("insured.scheme"), "employee"), eq(V("visit.hospital_level"), 2)]}, [600, 0.88, 400000],
                    {"and": [eq(V("insured.scheme"), "employee"), eq(V("visit.hospital_level"), 3)]}, [900, 0.85, 400000],
                    {"and": [eq(V("insured.scheme"), "resident"), eq(V("visit.hospital_level"), 1)]}, [200, 0.85, 300000],
                    {"and": [eq(V("insured.scheme"), "resident"), eq(V("visit.hospital_level"), 2)]}, [500, 0.75, 300000],
                    {"and": [eq(V("insured.scheme"), "resident"), eq(V("visit.hospital_level"), 3)]}, [1000, 0.65, 300000],
                    None]}),
    ("ratio", {"if": [eq(V("route"), "none"), 0, {"or": [eq(V("row"), None), eq(V("reduction"), None)]}, None,
                      {"max": [{"-": [V("row.1"), {"/": [V("reduction"), 100]}]}, 0]}]}),
    ("deductible", {"if": [{"or": [eq(V("route"), "none"), eq(V("row"), None)]}, None,
                           {"min": [V("row.0"), V("costs.in_scope")]}]}),
    ("cents", {"if": [{"and": [ne(V("route"), "none"), ne(V("ratio"), None)]},  # fund in cents, + 0.5 to round half-up
                      {"+": [{"*": [{"-": [V("costs.in_scope"), V("deductible")]}, V("ratio"), 100]}, 0.5]}, None]}),
    ("fund", {"if": [eq(V("route"), "none"), 0, eq(V("ratio"), None), None,
                     {"min": [{"/": [{"-": [V("cents"), {"%": [V("cents"), 1]}]}, 100]}, V("row.2")]}]}),
    ("personal", {"if": [eq(V("fund"), None), None, {"-": [V("costs.total"), V("fund")]}]}),
    # JsonLogic builds no objects: this says whether `amounts` is decided (no table row: left undetermined)
    ("amounts_decided", {"or": [eq(V("route"), "none"), ne(V("row"), None)]}),
    # third-party trauma always gets the flag, so no other clause needs to leave it out
    ("interpretation", {"or": [
        {"in": [V("visit.trauma"), THIRD_PARTY]},
        {"and": [V("away"), V("has_filing"), NOT(V("matches")), NOT(V("visit.emergency"))]},
        {"and": [V("away"), V("unfiled_or_lapsed"), V("visit.referral"), NOT(V("visit.emergency")), NOT(V("special"))]},
        {"and": [V("away"), V("unfiled_or_lapsed"), {"in": [V("treatment"), ["unfiled", "referral"]]}]},
        V("visit.system_failure"),
        {"and": [V("away"), V("filed"), {"in": [V("filing.type"), LONG_TERM]}, V("special")]},
        V("special_unfiled"), V("supplemented_during_stay"), V("home_commitment"), V("death"),
        {"and": [eq(V("scope"), "intra_province"), eq(V("visit.kind"), "chronic_outpatient")]},
        {"and": [{"in": [V("treatment"), ["referral", "emergency", "other_temporary", "unfiled"]]}, NOT(V("outside_place"))]}]}),
    # below the national floor (医保发〔2022〕22号 八) for a filing in another province
    ("floor_conflict", {"and": [V("home_commitment"), {">": [V("reduction"), 10]},
                                ne({"substr": [V("filing.region"), 0, 2]}, {"substr": [V("insured.region"), 0, 2]})]}),
    ("flags", {"merge": [
        {"if": [{"and": [V("away"), eq(V("care"), "inpatient"), {">=": [V("costs.total"), 30000]}]},
                ["audit_referral_eligible"], []]},
        {"if": [V("chronic_manual"), ["chronic_not_direct"], []]},
        {"if": [{"and": [ne(V("route"), "none"), ne(V("row"), None)]}, ["benefit_table_illustrative"], []]},
        {"if": [V("interpretation"), ["interpretation_applied"], []]},
        {"if": [V("floor_conflict"), ["floor_conflict"], []]}]}),
]


def _add_months(data, day, months, *_ignored):
    start = datetime.date.fromordinal(int(day))
    index = start.year * 12 + start.month - 1 + int(months)
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1])).toordinal()


def _day_of_month(data, day, *_ignored):
    return datetime.date.fromordinal(int(day)).day


DATE_OPERATIONS = {"add_months": _add_months, "day_of_month": _day_of_month}


def _sum(data, *args):
    total = 0
    for arg in args:
        total = total + arg
    return total


def _product(data, *args):
    total = 1
    for arg in args:
        total = total * arg
    return total


DECIMAL_OPERATIONS = {  # the arithmetic operations without the float conversion (numbers="decimal" only)
    "+": _sum,
    "*": _product,
    "-": lambda data, a, b=None, *_: -a if b is None else a - b,
    "/": lambda data, a, b, *_: Decimal(a) / Decimal(b),
    "%": lambda data, a, b, *_: a % b,
    "min": lambda data, *args: min(args),
    "max": lambda data, *args: max(args),
}


class Prepared:
    def __init__(self, numbers: str) -> None:
        if numbers not in ("float", "decimal"):
            raise ValueError(numbers)
        self.numbers = numbers
        text = json.dumps([[name, rule] for name, rule in STEPS])
        self.steps = json.loads(text, parse_float=Decimal if numbers == "decimal" else float)
        self.operations = {**BUILTINS, **DATE_OPERATIONS}
        if numbers == "decimal":
            self.operations.update(DECIMAL_OPERATIONS)
        self.money = (lambda amount: amount) if numbers == "decimal" else float


def prepare(numbers: str = "float") -> Prepared:
    return Prepared(numbers)


def _day(value):
    return None if value is None else value.toordinal()


def convert(prepared: Prepared, d: dict) -> dict:
    """The flat document as the nested JSON document the rules read (dates as day numbers)."""
    filing = None
    if d["filing"] is not None:
        filing = {"type": d["filing.type"], "basis": d["filing.basis"], "region": d["filing.region"],
                  "start_date": _day(d["filing.start_date"]), "end_date": _day(d["filing.end_date"]),
                  "filed_on": _day(d["filing.filed_on"]), "supplemented_on": _day(d["filing.supplemented_on"])}
    money = prepared.money
    return {
        "insured": {"region": d["insured.region"], "scheme": d["insured.scheme"], "birth_date": _day(d["insured.birth_date"])},
        "filing": filing,
        "visit": {"kind": d["visit.kind"], "region": d["visit.region"], "networked": d["visit.networked"],
                  "hospital_level": d["visit.hospital_level"], "admission_date": _day(d["visit.admission_date"]),
                  "discharge_date": _day(d["visit.discharge_date"]), "settled_on": _day(d["visit.settled_on"]),
                  "emergency": d["visit.emergency"],
                  "referral": d["visit.referral"], "psychiatric_certificate": d["visit.psychiatric_certificate"],
                  "chronic_disease": d["visit.chronic_disease"], "trauma": d["visit.trauma"],
                  "died_after_emergency": d["visit.died_after_emergency"], "self_paid": d["visit.self_paid"],
                  "system_failure": d["visit.system_failure"], "payment_source": d["visit.payment_source"]},
        "costs": {"total": money(d["costs.total"]), "in_scope": money(d["costs.in_scope"])},
    }


def _amount(value):
    """A number that came out of the rules as a Decimal: ints and Decimals as they are, a float by its repr."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value))


def evaluate(prepared: Prepared, doc: dict) -> dict:
    """The rules alone, on an input already converted: every step's result lands in `doc`."""
    operations = prepared.operations
    for name, rule in prepared.steps:
        doc[name] = apply(rule, doc, operations)
    return doc


def decide(prepared: Prepared, flat: dict) -> dict:
    doc = evaluate(prepared, convert(prepared, flat))
    return {
        "scope": doc["scope"], "route": doc["route"], "filing_status": doc["status"], "treatment": doc["treatment"],
        "catalog": doc["catalog"], "reduction_pp": _amount(doc["reduction"]), "ratio": _amount(doc["ratio"]),
        "amounts": {"in_scope": _amount(doc["costs"]["in_scope"]), "deductible": _amount(doc["deductible"]),
                    "fund": _amount(doc["fund"]), "personal": _amount(doc["personal"])} if doc["amounts_decided"] else None,
        "flags": doc["flags"],
    }
