"""The Henan decision as a GoRules JSON Decision Model (zen-engine 2.1.3).

Two graphs, the same rules (`jdm(variant)`; `python -m peers.zen_jdm tables` prints one):

- "tables", the idiomatic JDM, in evaluation order (each node passes its input through,
  adding its output):

      input → facts (expression node) → filing status (decision table, first hit)
            → treatment (table) → reduction (table) → route (table) → benefit (table)
            → interpretation (table) → flags (table, collect hit) → answer (expression node) → output

  The reduction table also says where the reduction comes from (`reduction_basis`: a
  commitment filing at home, a filing for another place — the pooling region's own rules,
  no reduction — or the kind of treatment); the interpretation and flags tables read it.

- "expressions": input → one expression node (the same facts, then the tables' decisions
  written as conditionals in the same row order, then the answer) → output. Fewer nodes,
  so less copying of the context between nodes.

Everything the decision needs is written in ZEN: region codes are compared by string
slices, the 6-month filing window and the newborn age in days use ZEN's own date
functions (`d(…)`, `.add(6, "M")`, `.day()`, `.sub(1, "d")`, `.diff(…, "d")`; Henan's
in-force date is the literal `d("2025-01-01")`, and `filed_on ?? start_date` is ZEN's null
coalescing), the money is ZEN decimal arithmetic with `round(x, 2)` (half away from zero,
which is half-up for the non-negative amounts here). No custom node and no custom function
is used.

Partial decisions, as in the hand-written function: with no benefit table row (not
inpatient, a row missing, or paid from the personal account) `amounts` is null as a whole;
with no reduction (`reduction_pp` null: filed for another place) the ratio, the fund and
the personal share are null while `in_scope` and `deductible` are decided.

Input: the flat document is turned into the nested JSON document the rules read
(`insured`, `filing`, `visit`, `costs`) and encoded with msgspec, dates as ISO strings and
money as exact JSON numbers; the engine takes the bytes (a Python dict would pass money
through a float, which loses digits past the 15th). Output: the answer node turns
every amount into a string with ZEN's `string(…)`, so the decimal comes back exactly and
`Decimal(text)` rebuilds it; numbers returned as numbers arrive as Python floats. `amounts`
is built in the answer node as an object literal (its null members kept), or null; ZEN
leaves a null-valued key of the answer node itself out of its output, so the Python side
reads those with `get`.

The engine is called through a static loader (`ZenEngine({"loader": {"type": "static",
…}}).evaluate(key, context)`), which in zen-engine 2.1.3 is several times faster per call
than `create_decision(content).evaluate(context)` (`decide_created`; bench/run.py reports
both).

A caution seen while writing it: a decision-table cell that fails to evaluate (say the
unary test `not "none"`, which ZEN rejects at run time) is not an error, the row simply
does not match.
"""

from __future__ import annotations

import json
from decimal import Decimal

import msgspec
import zen

KEY = "henan"

LONG_TERM = '["retiree_relocated", "long_term_resident", "stationed_worker"]'
TEMPORARY = '["referral", "emergency", "other_temporary"]'
CHRONIC = ('["hypertension", "diabetes", "cancer_outpatient_therapy", "uremia_dialysis", '
           '"organ_transplant_antirejection", "copd", "rheumatoid_arthritis", "coronary_heart_disease", '
           '"viral_hepatitis", "ankylosing_spondylitis"]')
THIRD_PARTY = '["third_party", "third_party_unpaid"]'
IN_FORCE = 'd("2025-01-01")'  # Henan's in-force date (policies/henan/policy.yaml, an interpretation)
FILED = '"valid", "retroactive"'  # a unary test: the status is one of these
LAPSED = '"absent", "expired"'


def _city(region: str) -> str:
    return f'endsWith({region}, "0000") ? {region} : {region}[0:3] + "00"'  # ZEN slices include both ends


FACTS = [  # expression node: (key, expression); `$.key` reads a key computed above it
    ("adm", "d(visit.admission_date)"),
    ("settled", "d(visit.settled_on)"),
    ("insured_city", _city("insured.region")),
    ("visit_city", _city("visit.region")),
    ("scope", '$.visit_city == $.insured_city ? "local" : '
              '(visit.region[0:1] == insured.region[0:1] ? "intra_province" : "cross_province")'),
    ("away", '$.scope != "local"'),
    ("has_filing", "filing != null"),
    ("shifted", f'$.has_filing and filing.end_date == null and filing.type in {TEMPORARY} '
                f'? d(filing.start_date).add(6, "M") : null'),  # the same day 6 months on, clamped to the month's end
    ("end", 'filing.end_date != null ? d(filing.end_date) : ($.shifted == null ? null : '
            '($.shifted.day() < d(filing.start_date).day() ? $.shifted : $.shifted.sub(1, "d")))'),
    ("in_window", "$.has_filing and d(filing.start_date) <= $.adm and ($.end == null or $.adm <= $.end)"),
    ("covers", '$.has_filing and (endsWith(filing.region, "0000") ? filing.region[0:1] == visit.region[0:1] : '
               '(endsWith(filing.region, "00") ? filing.region[0:3] == visit.region[0:3] : filing.region == visit.region))'),
    ("matches", '$.has_filing and ($.scope == "local" or $.covers)'),
    ("retro", "$.has_filing and filing.filed_on != null and d(filing.filed_on) > $.adm"),
    ("usable", "$.matches and $.in_window"),
    ("lapsed", "$.matches and $.end != null and $.adm > $.end"),
    ("other_place", "$.away and $.has_filing and not $.matches"),  # filed, but for another place
    ("other_province_filing", "$.has_filing and filing.region[0:1] != insured.region[0:1]"),
    ("newborn", 'visit.kind == "inpatient" and insured.birth_date != null '
                'and $.adm.diff(d(insured.birth_date), "d") in [0..28]'),
    ("special", "$.newborn or visit.psychiatric_certificate"),
    ("commitment", f'$.has_filing and filing.type in {LONG_TERM} and filing.basis == "commitment"'),
    ("unsupplemented", "$.commitment and (filing.supplemented_on == null "  # henan 二（一）, judged at settlement
                       "or d(filing.supplemented_on) > $.settled)"),
    ("supplemented_during_stay", "$.commitment and filing.supplemented_on != null "
                                 "and $.adm < d(filing.supplemented_on) and d(filing.supplemented_on) <= $.settled"),
    ("filed_from_in_force", f"$.has_filing and d(filing.filed_on ?? filing.start_date) >= {IN_FORCE}"),
    ("filed_after_discharge", "$.has_filing and filing.filed_on != null "
                              "and d(filing.filed_on) > d(visit.discharge_date)"),
    ("death", '$.away and visit.died_after_emergency and visit.emergency and visit.kind == "outpatient"'),
    ("chronic_manual", f'$.away and visit.kind == "chronic_outpatient" and not (visit.chronic_disease in {CHRONIC})'),
    ("care", '$.death ? "inpatient" : visit.kind'),
    ("third_party", f"visit.trauma in {THIRD_PARTY}"),
]

# Decision tables: (name, hit policy, output path or None, input fields, output fields, rows).
# A row is (input cells..., output expressions...); "" is "any"; cells are ZEN unary tests.
TABLES = [
    ("filing status", "first", None,
     ["f.usable", "f.retro", "f.scope", "visit.emergency", "f.lapsed"], ["status"], [
         ("true", "true", "", "", "", '"retroactive"'),
         ("true", "", "", "", "", '"valid"'),
         ("", "", '"local"', "", "", '"not_required"'),
         ("", "", "", "true", "", '"deemed"'),
         ("", "", "", "", "true", '"expired"'),
         ("", "", "", "", "", '"absent"'),
     ]),
    ("treatment", "first", None,
     ["f.away", "status", "filing.type", "f.special", "visit.referral", "visit.emergency"], ["treatment"], [
         ("false", "", "", "", "", "", '"local"'),  # the precedence of national (header) and henan 二（二）
         ("", FILED, LONG_TERM.strip("[]"), "", "", "", '"long_term"'),
         ("", "", "", "true", "", "", '"emergency"'),
         ("", '"deemed"', "", "", "", "", '"emergency"'),
         ("", FILED, '"emergency"', "", "", "", '"emergency"'),
         ("", FILED, '"referral"', "", "", "", '"referral"'),
         ("", FILED, '"other_temporary"', "", "", "true", '"emergency"'),
         ("", FILED, '"other_temporary"', "", "true", "", '"referral"'),
         ("", FILED, '"other_temporary"', "", "", "", '"other_temporary"'),
         ("", "", "", "", "true", "false", '"referral"'),
         ("", "", "", "", "", "", '"unfiled"'),
     ]),
    ("reduction", "first", None,
     ["f.scope", "status", "f.unsupplemented", "f.filed_from_in_force", "f.other_place", "treatment"],
     ["reduction_pp", "reduction_basis"], [
         # a long-term filing at home on a commitment, not supplemented by settlement; 五（二）: filings
         # made before Henan's rules were in force are not cut
         ('"local"', '"valid"', "true", "true", "", "", "20", '"home_commitment"'),
         ('"local"', '"valid"', "true", "", "", "", "0", '"home_commitment"'),
         # 附件1 温馨提示二: filed for another place, so the pooling region's own rules apply
         ("", '"absent"', "", "", "true", '"unfiled", "referral"', "null", '"outside_place"'),
         ("", "", "", "", "", '"local", "long_term"', "0", '"treatment"'),
         ("", "", "", "", "", '"referral", "emergency"', "10", '"treatment"'),
         ("", "", "", "", "", '"other_temporary", "unfiled"', "20", '"treatment"'),
     ]),
    ("route", "first", None,
     ["visit.trauma", "f.away", "status", "treatment", "f.special", "visit.networked", "visit.self_paid",
      "visit.system_failure", "f.filed_after_discharge", "f.death", "f.chronic_manual"], ["route", "catalog"], [
         ('"third_party"', "", "", "", "", "", "", "", "", "", "", '"none"', "null"),
         ('"third_party_unpaid"', "", "", "", "", "", "", "", "", "", "", '"manual"', '"insured_place"'),
         ("", "true", LAPSED, '"unfiled", "referral"', "", "", "", "", "", "", "", '"manual"', '"insured_place"'),
         # a newborn or psychiatric case treated as an emergency without a usable filing
         ("", "true", LAPSED, '"emergency"', "true", "", "", "", "", "", "", '"manual"', '"insured_place"'),
         ("", "true", "", "", "", "false", "", "", "", "", "", '"manual"', '"insured_place"'),
         ("", "", "", "", "", "", "true", "", "", "", "", '"manual"', '"insured_place"'),
         ("", "", "", "", "", "", "", "true", "", "", "", '"manual"', '"insured_place"'),
         ("", "", '"retroactive"', "", "", "", "", "", "true", "", "", '"manual"', '"insured_place"'),
         ("", "", "", "", "", "", "", "", "", "true", "", '"manual"', '"insured_place"'),
         ("", "", "", "", "", "", "", "", "", "", "true", '"manual"', '"insured_place"'),
         ("", "", "", "", "", "", "", "", "", "", "", '"direct"', '"treatment_place"'),
     ]),
    ("benefit", "first", "benefit",  # the illustrative Henan inpatient table; no row: amounts undetermined
     ["f.care", "visit.payment_source", "insured.scheme", "visit.hospital_level"], ["deductible", "ratio", "cap"], [
         ('"inpatient"', '!= "personal_account"', '"employee"', "1", "300", "0.90", "400000"),
         ('"inpatient"', '!= "personal_account"', '"employee"', "2", "600", "0.88", "400000"),
         ('"inpatient"', '!= "personal_account"', '"employee"', "3", "900", "0.85", "400000"),
         ('"inpatient"', '!= "personal_account"', '"resident"', "1", "200", "0.85", "300000"),
         ('"inpatient"', '!= "personal_account"', '"resident"', "2", "500", "0.75", "300000"),
         ('"inpatient"', '!= "personal_account"', '"resident"', "3", "1000", "0.65", "300000"),
     ]),
    ("interpretation", "first", None,  # third-party trauma comes first, so no later row needs to leave it out
     ["f.third_party", "f.other_place", "visit.emergency", "f.away", "status", "visit.referral", "f.special",
      "treatment", "visit.system_failure", "filing.type", "f.supplemented_during_stay", "reduction_basis", "f.death",
      "f.scope", "visit.kind"], ["interpretation"], [
         ("true", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "true"),
         ("", "true", "false", "", "", "", "", "", "", "", "", "", "", "", "", "true"),
         ("", "", "false", "true", LAPSED, "true", "false", "", "", "", "", "", "", "", "", "true"),
         ("", "", "", "true", LAPSED, "", "", '"unfiled", "referral"', "", "", "", "", "", "", "", "true"),
         ("", "", "", "", "", "", "", "", "true", "", "", "", "", "", "", "true"),
         ("", "", "", "true", FILED, "", "true", "", "", LONG_TERM.strip("[]"), "", "", "", "", "", "true"),
         ("", "", "", "true", LAPSED, "", "true", '"emergency"', "", "", "", "", "", "", "", "true"),
         ("", "", "", "", "", "", "", "", "", "", "true", "", "", "", "", "true"),
         ("", "", "", "", "", "", "", "", "", "", "", '"home_commitment"', "", "", "", "true"),
         ("", "", "", "", "", "", "", "", "", "", "", "", "true", "", "", "true"),
         ("", "", "", "", "", "", "", "", "", "", "", "", "", '"intra_province"', '"chronic_outpatient"', "true"),
         ("", "", "", "", "", "", "", '"referral", "emergency", "other_temporary", "unfiled"', "", "", "",
          '!= "outside_place"', "", "", "", "true"),
         ("", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "false"),
     ]),
    ("flags", "collect", "flag_rows",
     ["f.away", "f.care", "costs.total", "f.chronic_manual", "route", "benefit != null", "interpretation",
      "reduction_basis", "reduction_pp", "f.other_province_filing"], ["flag"], [
         ("true", '"inpatient"', ">= 30000", "", "", "", "", "", "", "", '"audit_referral_eligible"'),
         ("", "", "", "true", "", "", "", "", "", "", '"chronic_not_direct"'),
         ("", "", "", "", '!= "none"', "true", "", "", "", "", '"benefit_table_illustrative"'),
         ("", "", "", "", "", "", "true", "", "", "", '"interpretation_applied"'),
         # below the national floor (医保发〔2022〕22号 八) for a filing in another province
         ("", "", "", "", "", "", "", '"home_commitment"', "> 10", "true", '"floor_conflict"'),
     ]),
]

# The same decisions as the tables above, written as expressions in the facts' node (the
# "expressions" variant: one expression node, no tables). Rows of a first-hit table become
# a chain of conditionals, in the same order.
DECISIONS = [
    ("status", '$.usable ? ($.retro ? "retroactive" : "valid") : ($.scope == "local" ? "not_required" : '
               '(visit.emergency ? "deemed" : ($.lapsed ? "expired" : "absent")))'),
    ("filed", '$.status in ["valid", "retroactive"]'),
    ("unfiled_or_lapsed", '$.status in ["absent", "expired"]'),
    ("treatment", f'not $.away ? "local" : ($.filed and filing.type in {LONG_TERM} ? "long_term" : '
                  '($.special ? "emergency" : '
                  '($.status == "deemed" or ($.filed and filing.type == "emergency") ? "emergency" : '
                  '($.filed and filing.type == "referral" ? "referral" : '
                  '($.filed and filing.type == "other_temporary" ? '
                  '(visit.emergency ? "emergency" : (visit.referral ? "referral" : "other_temporary")) : '
                  '(visit.referral and not visit.emergency ? "referral" : "unfiled"))))))'),
    ("home_commitment", '$.scope == "local" and $.status == "valid" and $.unsupplemented'),
    ("outside_place", '$.other_place and $.status == "absent" and $.treatment in ["unfiled", "referral"]'),
    ("reduction_pp", '$.home_commitment ? ($.filed_from_in_force ? 20 : 0) : ($.outside_place ? null : '
                     '($.treatment in ["local", "long_term"] ? 0 : ($.treatment in ["referral", "emergency"] ? 10 : 20)))'),
    ("special_unfiled", '$.away and $.treatment == "emergency" and $.unfiled_or_lapsed and $.special'),
    ("route", 'visit.trauma == "third_party" ? "none" : (visit.trauma == "third_party_unpaid" ? "manual" : '
              '(($.away and $.unfiled_or_lapsed and $.treatment in ["unfiled", "referral"]) or $.special_unfiled '
              'or ($.away and not visit.networked) or visit.self_paid or visit.system_failure '
              'or ($.status == "retroactive" and $.filed_after_discharge) '
              'or $.death or $.chronic_manual ? "manual" : "direct"))'),
    ("catalog", '$.route == "direct" ? "treatment_place" : ($.route == "manual" ? "insured_place" : null)'),
    ("benefit", '$.care != "inpatient" or visit.payment_source == "personal_account" ? null : '
                '(insured.scheme == "employee" ? '
                '(visit.hospital_level == 1 ? {deductible: 300, ratio: 0.90, cap: 400000} : '
                '(visit.hospital_level == 2 ? {deductible: 600, ratio: 0.88, cap: 400000} : '
                '(visit.hospital_level == 3 ? {deductible: 900, ratio: 0.85, cap: 400000} : null))) : '
                '(insured.scheme == "resident" ? '
                '(visit.hospital_level == 1 ? {deductible: 200, ratio: 0.85, cap: 300000} : '
                '(visit.hospital_level == 2 ? {deductible: 500, ratio: 0.75, cap: 300000} : '
                '(visit.hospital_level == 3 ? {deductible: 1000, ratio: 0.65, cap: 300000} : null))) : null))'),
    ("interpretation", '$.third_party '  # third-party trauma always gets the flag: no clause needs to leave it out
                       'or ($.other_place and not visit.emergency) '
                       'or ($.away and $.unfiled_or_lapsed and visit.referral and not visit.emergency and not $.special) '
                       'or ($.away and $.unfiled_or_lapsed and $.treatment in ["unfiled", "referral"]) '
                       'or visit.system_failure '
                       f'or ($.away and $.filed and filing.type in {LONG_TERM} and $.special) '
                       'or $.special_unfiled or $.supplemented_during_stay or $.home_commitment or $.death '
                       'or ($.scope == "intra_province" and visit.kind == "chronic_outpatient") '
                       'or ($.treatment in ["referral", "emergency", "other_temporary", "unfiled"] and not $.outside_place)'),
    ("flag_list", 'filter(['
                  '$.away and $.care == "inpatient" and costs.total >= 30000 ? "audit_referral_eligible" : null, '
                  '$.chronic_manual ? "chronic_not_direct" : null, '
                  '$.route != "none" and $.benefit != null ? "benefit_table_illustrative" : null, '
                  '$.interpretation ? "interpretation_applied" : null, '
                  '$.home_commitment and $.reduction_pp > 10 and $.other_province_filing ? "floor_conflict" : null'
                  '], # != null)'),
]


def _answer(ref, flags: str) -> list:
    """The answer node: numbers stay numbers under `n.`, amounts leave as exact decimal strings.
    `ref(name)` is how a decided value is read: `route` after the tables, `$.route` in one node.
    No benefit table row leaves `amounts` undetermined (null as a whole); no reduction (the pooling
    region's own rules apply) leaves the ratio, the fund and the personal share undetermined."""
    route, benefit, reduction = ref("route"), ref("benefit"), ref("reduction_pp")
    return [
        ("n.ratio", f'{route} == "none" ? 0 : ({benefit} == null or {reduction} == null ? null : '
                    f'max([{benefit}.ratio - {reduction} / 100, 0]))'),
        ("n.deductible", f'{route} == "none" or {benefit} == null ? null : min([{benefit}.deductible, costs.in_scope])'),
        ("n.fund", f'{route} == "none" ? 0 : ($.n.ratio == null ? null : '
                   f'min([round((costs.in_scope - $.n.deductible) * $.n.ratio, 2), {benefit}.cap]))'),
        ("scope", ref("scope")),
        ("route", route),
        ("filing_status", ref("status")),
        ("treatment", ref("treatment")),
        ("catalog", ref("catalog")),
        ("reduction_pp", f"{reduction} == null ? null : string({reduction})"),
        ("ratio", "$.n.ratio == null ? null : string($.n.ratio)"),
        ("amounts", f'{route} != "none" and {benefit} == null ? null : {{'
                    'in_scope: string(costs.in_scope), '
                    'deductible: $.n.deductible == null ? null : string($.n.deductible), '
                    'fund: $.n.fund == null ? null : string($.n.fund), '
                    'personal: $.n.fund == null ? null : string(costs.total - $.n.fund)}'),
        ("flags", flags),
    ]


ANSWER_AFTER_TABLES = _answer(lambda name: "f.scope" if name == "scope" else name, "map(flag_rows, #.flag)")
ANSWER_IN_ONE_NODE = _answer(lambda name: f"$.{name}", "$.flag_list")


def _expression_node(name: str, rows, pass_through: bool, output_path) -> dict:
    return {"id": name, "name": name, "type": "expressionNode",
            "content": {"expressions": [{"id": f"{name}-{i}", "key": key, "value": value}
                                        for i, (key, value) in enumerate(rows)],
                        "passThrough": pass_through, "inputField": None, "outputPath": output_path,
                        "executionMode": "single"}}


def _table_node(name: str, hit: str, output_path, inputs, outputs, rows) -> dict:
    ins = [{"id": f"i{i}", "name": field, "field": field} for i, field in enumerate(inputs)]
    outs = [{"id": f"o{i}", "name": field, "field": field} for i, field in enumerate(outputs)]
    rules = []
    for r, row in enumerate(rows):
        assert len(row) == len(ins) + len(outs), (name, r)
        rule = {"_id": f"{name}-{r}"}
        rule.update({column["id"]: cell for column, cell in zip(ins + outs, row)})
        rules.append(rule)
    return {"id": name, "name": name, "type": "decisionTableNode",
            "content": {"hitPolicy": hit, "inputs": ins, "outputs": outs, "rules": rules,
                        "passThrough": True, "inputField": None, "outputPath": output_path,
                        "executionMode": "single"}}


def jdm(variant: str = "tables") -> dict:
    """The JSON Decision Model document (what a GoRules editor would save).

    "tables": facts → seven decision tables → answer; "expressions": a single expression
    node holding the facts, the same decisions as conditionals, and the answer."""
    nodes = [{"id": "input", "name": "input", "type": "inputNode", "content": {}}]
    if variant == "tables":
        nodes.append(_expression_node("facts", FACTS, True, "f"))
        nodes += [_table_node(*table) for table in TABLES]
        nodes.append(_expression_node("answer", ANSWER_AFTER_TABLES, False, None))
    elif variant == "expressions":
        nodes.append(_expression_node("decision", FACTS + DECISIONS + ANSWER_IN_ONE_NODE, False, None))
    else:
        raise ValueError(variant)
    nodes.append({"id": "output", "name": "output", "type": "outputNode", "content": {}})
    edges = [{"id": f"e{i}", "type": "edge", "sourceId": a["id"], "targetId": b["id"]}
             for i, (a, b) in enumerate(zip(nodes, nodes[1:]))]
    return {"nodes": nodes, "edges": edges}


class Prepared:
    def __init__(self, variant: str) -> None:
        self.variant = variant
        self.content = json.dumps(jdm(variant))
        self.engine = zen.ZenEngine({"loader": {"type": "static", "content": {KEY: json.loads(self.content)}}})
        self.encoder = msgspec.json.Encoder(decimal_format="number")
        self.created = self.engine.create_decision(self.content)  # the other path, kept for comparison


def prepare(variant: str = "tables") -> Prepared:
    return Prepared(variant)


def convert(prepared: Prepared, d: dict) -> bytes:
    """The flat document as the nested JSON document the rules read (dates ISO, money exact numbers)."""
    filing = None
    if d["filing"] is not None:
        filing = {"type": d["filing.type"], "basis": d["filing.basis"], "region": d["filing.region"],
                  "start_date": d["filing.start_date"], "end_date": d["filing.end_date"],
                  "filed_on": d["filing.filed_on"], "supplemented_on": d["filing.supplemented_on"]}
    return prepared.encoder.encode({
        "insured": {"region": d["insured.region"], "scheme": d["insured.scheme"], "birth_date": d["insured.birth_date"]},
        "filing": filing,
        "visit": {"kind": d["visit.kind"], "region": d["visit.region"], "networked": d["visit.networked"],
                  "hospital_level": d["visit.hospital_level"], "admission_date": d["visit.admission_date"],
                  "discharge_date": d["visit.discharge_date"], "settled_on": d["visit.settled_on"],
                  "emergency": d["visit.emergency"],
                  "referral": d["visit.referral"], "psychiatric_certificate": d["visit.psychiatric_certificate"],
                  "chronic_disease": d["visit.chronic_disease"], "trauma": d["visit.trauma"],
                  "died_after_emergency": d["visit.died_after_emergency"], "self_paid": d["visit.self_paid"],
                  "system_failure": d["visit.system_failure"], "payment_source": d["visit.payment_source"]},
        "costs": {"total": d["costs.total"], "in_scope": d["costs.in_scope"]},
    })


def _decimal(text):
    return None if text is None else Decimal(text)


def answer(result: dict) -> dict:
    """The engine's result (amounts as decimal strings) in the hand-written function's shape.
    ZEN leaves a top-level key whose value is null out of its output, hence `get`."""
    amounts = result.get("amounts")
    return {
        "scope": result["scope"], "route": result["route"], "filing_status": result["filing_status"],
        "treatment": result["treatment"], "catalog": result.get("catalog"),
        "reduction_pp": _decimal(result.get("reduction_pp")), "ratio": _decimal(result.get("ratio")),
        "amounts": None if amounts is None else {
            "in_scope": Decimal(amounts["in_scope"]), "deductible": _decimal(amounts.get("deductible")),
            "fund": _decimal(amounts.get("fund")), "personal": _decimal(amounts.get("personal"))},
        "flags": result["flags"],
    }


def evaluate(prepared: Prepared, converted: bytes) -> dict:
    """The engine alone, on an input already converted."""
    return prepared.engine.evaluate(KEY, converted)["result"]


def decide(prepared: Prepared, flat: dict) -> dict:
    return answer(prepared.engine.evaluate(KEY, convert(prepared, flat))["result"])


def decide_created(prepared: Prepared, flat: dict) -> dict:
    """The same through `create_decision(content).evaluate(context)`, the path the docs show first."""
    return answer(prepared.created.evaluate(convert(prepared, flat))["result"])


if __name__ == "__main__":  # print the JDM document: python -m peers.zen_jdm [tables|expressions]
    import sys
    print(json.dumps(jdm(*sys.argv[1:2]), indent=2, ensure_ascii=False))
