"""The same situations through every region: each region's own answer, with the clause behind it.

One row per situation, one column per region. A cell is (filing status,
treatment standard, reduction in percentage points, route, a clause that must
appear in the decision's trace). The national baseline gives no reduction
percentages (参保地政策): its cells are partial decisions — everything else
decided, the reduction `None` and named in `undetermined` (contract §2.1).
"""

from __future__ import annotations

import pytest

REGIONS = {"national": "320100", "henan": "410100", "hubei": "420100", "shaanxi": "610300",
           "xian": "610100", "shandong": "370100", "weifang": "370700"}

HN, HB, XA, WF, NAT = "豫医保办〔2025〕2号", "鄂医保办〔2022〕28号", "市医保发〔2023〕10号", "潍坊市医保局异地就医直接结算政策宣传", "医保发〔2022〕22号"

# situation → (changes to the base claim, {region: cell})
TABLE = {
    "临时外出备案人员在有效期内回参保地就医": (
        {"filing": {"type": "other_temporary", "region": "110000", "start_date": "2025-05-01", "filed_on": "2025-05-01"},
         "visit": {"region": "HOME"}},
        {"national": ("valid", "local", 0, "direct", f"{NAT} 八"),
         "henan": ("valid", "local", 0, "direct", f"{HN} 附件1 温馨提示六"),
         "hubei": ("valid", "local", 0, "direct", f"{HB} 三（二）"),
         "shaanxi": ("valid", "local", 0, "direct", f"{NAT} 六"),
         "xian": ("valid", "local", 0, "direct", f"{NAT} 六"),
         "shandong": ("valid", "local", 0, "direct", f"{NAT} 六"),
         "weifang": ("valid", "local", 0, "direct", f"{WF} 八（四）")}),
    "未备案、非急诊、未转诊在北京住院": (
        {},
        {"national": ("absent", "unfiled", None, "manual", f"{NAT} 导语"),
         "henan": ("absent", "unfiled", 20, "manual", f"{HN} 二（二）"),
         "hubei": ("absent", "unfiled", 20, "manual", f"{HB} 三（一）"),
         "shaanxi": ("absent", "unfiled", 20, "manual", f"{XA} 二（三）2"),
         "xian": ("absent", "unfiled", 20, "manual", f"{XA} 二（三）2"),
         "shandong": ("absent", "unfiled", 20, "manual", f"{NAT} 二"),
         "weifang": ("absent", "unfiled", 20, "manual", f"{NAT} 二")}),
    "有效期内入院、有效期满后出院": (
        {"filing": {"type": "other_temporary", "region": "110000", "start_date": "2024-12-20", "filed_on": "2024-12-20"},
         "visit": {"admission_date": "2025-06-15", "discharge_date": "2025-06-25"}},
        {"national": ("valid", "other_temporary", None, "direct", f"{NAT} 五"),
         "henan": ("valid", "other_temporary", 20, "direct", f"{HN} 二（二）"),
         "hubei": ("valid", "other_temporary", 20, "direct", f"{HB} 三（一）"),
         "shaanxi": ("valid", "other_temporary", 0, "direct", f"{XA} 二（三）2"),
         "xian": ("valid", "other_temporary", 0, "direct", f"{XA} 二（三）2"),
         "shandong": ("valid", "other_temporary", 20, "direct", f"{NAT} 五"),
         "weifang": ("valid", "other_temporary", 20, "direct", f"{NAT} 五")}),
    "临时备案满6个月后才入院（潍坊临时备案无有效期）": (
        {"filing": {"type": "other_temporary", "region": "110000", "start_date": "2024-12-01", "filed_on": "2024-12-01"},
         "visit": {"admission_date": "2025-07-01", "discharge_date": "2025-07-05"}},
        {"national": ("expired", "unfiled", None, "manual", f"{NAT} 五"),
         "henan": ("expired", "unfiled", 20, "manual", f"{HN} 二（二）"),
         "hubei": ("expired", "unfiled", 20, "manual", f"{HB} 三（一）"),
         "shaanxi": ("expired", "unfiled", 20, "manual", f"{XA} 二（三）2"),
         "xian": ("expired", "unfiled", 20, "manual", f"{XA} 二（三）2"),
         "shandong": ("expired", "unfiled", 20, "manual", f"{NAT} 五"),
         "weifang": ("valid", "other_temporary", 20, "direct", f"{NAT} 五")}),
    "入院后、出院前补办备案": (
        {"filing": {"type": "other_temporary", "region": "110000", "start_date": "2025-06-10", "filed_on": "2025-06-12"}},
        {"national": ("retroactive", "other_temporary", None, "direct", f"{NAT} 五"),
         "henan": ("retroactive", "other_temporary", 20, "direct", f"{NAT} 五"),
         "hubei": ("retroactive", "other_temporary", 20, "direct", f"{HB} 二（二）"),
         "shaanxi": ("retroactive", "other_temporary", 0, "direct", f"{XA} 规程 第十九条"),
         "xian": ("retroactive", "other_temporary", 0, "direct", f"{XA} 规程 第十九条"),
         "shandong": ("retroactive", "other_temporary", 20, "direct", f"{NAT} 五"),
         "weifang": ("retroactive", "other_temporary", 20, "direct", f"{NAT} 五")}),
    "出生9天的新生儿未备案异地住院": (
        {"insured": {"birth_date": "2025-06-01"}},
        {"national": ("absent", "unfiled", None, "manual", f"{NAT} 导语"),
         "henan": ("absent", "emergency", 10, "manual", f"{HN} 二（三）"),
         "hubei": ("absent", "unfiled", 20, "manual", f"{HB} 三（一）"),
         "shaanxi": ("absent", "unfiled", 20, "manual", f"{XA} 二（三）2"),
         "xian": ("absent", "unfiled", 20, "manual", f"{XA} 二（三）2"),
         "shandong": ("absent", "unfiled", 20, "manual", f"{NAT} 二"),
         "weifang": ("absent", "unfiled", 20, "manual", f"{NAT} 二")}),
    "精神类疾病患者凭诊断证明未备案异地住院": (
        {"visit": {"psychiatric_certificate": True}},
        {"national": ("absent", "unfiled", None, "manual", f"{NAT} 导语"),
         "henan": ("absent", "emergency", 10, "manual", f"{HN} 二（三）"),
         "hubei": ("absent", "unfiled", 20, "manual", f"{HB} 三（一）"),
         "shaanxi": ("absent", "unfiled", 20, "manual", f"{XA} 二（三）2"),
         "xian": ("absent", "unfiled", 20, "manual", f"{XA} 二（三）2"),
         "shandong": ("absent", "unfiled", 20, "manual", f"{NAT} 二"),
         "weifang": ("absent", "unfiled", 20, "manual", f"{NAT} 二")}),
    "急诊抢救未备案": (
        {"visit": {"emergency": True}},
        {"national": ("deemed", "emergency", None, "direct", f"{NAT} 四"),
         "henan": ("deemed", "emergency", 10, "direct", f"{HN} 二（二）"),
         "hubei": ("deemed", "emergency", 20, "direct", f"{HB} 三（一）"),
         "shaanxi": ("deemed", "emergency", 0, "direct", f"{XA} 规程 第二十一条"),
         "xian": ("deemed", "emergency", 0, "direct", f"{XA} 规程 第二十一条"),
         "shandong": ("deemed", "emergency", 10, "direct", f"{NAT} 四"),
         "weifang": ("deemed", "emergency", 10, "direct", f"{WF} 六")}),
}

# Cancelling a commitment-basis long-term filing 3 months after filing, with costs already incurred there.
CANCEL_AT_3_MONTHS = {
    "national": (True, None, f"{NAT} 五"),
    "henan": (False, "2025-12-01", f"{HN} 一（二）"),
    "hubei": (True, None, f"{NAT} 五"),
    "shaanxi": (True, None, f"{NAT} 五"),
    "xian": (True, None, f"{NAT} 五"),
    "shandong": (True, None, f"{NAT} 五"),
    "weifang": (False, "2025-12-01", f"{WF}"),
}


def base_claim(region: str) -> dict:
    return {"id": "R", "insured": {"region": region, "scheme": "employee"},
            "visit": {"kind": "inpatient", "region": "110105", "networked": True, "hospital_level": 3,
                      "admission_date": "2025-06-10", "discharge_date": "2025-06-20"},
            "costs": {"total": 20000, "in_scope": 16000}}


def build(region: str, changes: dict) -> dict:
    claim = base_claim(region)
    for section, fields in changes.items():
        claim.setdefault(section, {})
        for key, value in fields.items():
            claim[section][key] = region if value == "HOME" else value
    return claim


def sources(decision: dict) -> set[str]:
    found = set()
    for entry in decision["trace"]:
        found.add(entry["source"])
        found.update(p["source"] for p in entry.get("parameters", ()) if "source" in p)
    return found


CELLS = [(situation, region) for situation in TABLE for region in REGIONS]


@pytest.mark.parametrize(("situation", "region"), CELLS, ids=[f"{s}-{r}" for s, r in CELLS])
def test_each_region_answers_each_situation(engine, situation, region):
    changes, cells = TABLE[situation]
    expected = cells[region]
    claim = build(REGIONS[region], changes)
    status, treatment, reduction, route, clause = expected
    decision = engine.evaluate(claim)
    assert decision["policy"]["id"] == region
    assert (decision["filing_status"], decision["treatment"], decision["reduction_pp"], decision["route"]) == (
        status, treatment, reduction, route)
    open_outputs = {entry["output"] for entry in decision.get("undetermined", ())}
    assert ("reduction_pp" in open_outputs) == (reduction is None)
    assert any(s.startswith(clause) for s in sources(decision)), sorted(sources(decision))


@pytest.mark.parametrize("region", REGIONS)
def test_cancelling_a_commitment_filing_at_three_months(engine, region):
    allowed, earliest, clause = CANCEL_AT_3_MONTHS[region]
    request = {"kind": "filing_request", "id": "F", "insured": {"region": REGIONS[region], "scheme": "employee"},
               "action": "cancel", "on": "2025-09-01",
               "current": {"type": "long_term_resident", "basis": "commitment", "region": "110000",
                           "start_date": "2025-06-01", "filed_on": "2025-06-01", "costs_in_filed_place": True}}
    answer = engine.evaluate(request)
    assert (answer["allowed"], None if answer["earliest_date"] is None else answer["earliest_date"].isoformat()) == (allowed, earliest)
    assert any(s.startswith(clause) for s in sources(answer)), sorted(sources(answer))


def test_the_regions_really_differ():
    """Guard against a table whose columns all say the same thing."""
    for situation, (_, cells) in TABLE.items():
        answers = set(cells.values())
        assert situation and answers
    assert len({cells["weifang"] for _, cells in TABLE.values()} | {cells["henan"] for _, cells in TABLE.values()}) > 8
