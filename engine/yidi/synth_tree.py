"""A synthetic national policy tree: ~400 pooling regions, for benchmarks and scale tests.

    from yidi.synth_tree import write_national_tree
    write_national_tree(pathlib.Path("/tmp/national"), cities=375, seed=1)

Why: China has about 400 pooling regions; the shipped tree has seven
policies. Validation, loading and `yidi test` must stay fast at national
scale, and that can only be measured and tested on a tree of that size.
These are fixtures, never shipped policies: every document, value and table
is invented (documents are titled 合成, tables are `illustrative`).

The tree is the shipped one plus a policy for every province that has none
(except Jiangsu and Guangdong, whose insured regions the national baseline's
own test cases use) and cities spread over the provinces. Each synthetic
region has its own document, overridden parameters, a benefit table, a
sources.yaml listing its clauses, and a test file whose expected values are
computed here from the values written (not by the engine); each city also
has its own rule. Generation draws from one `random.Random(seed)`: the same
arguments give the same tree, byte for byte.
"""

from __future__ import annotations

import pathlib
import random
import shutil

from .resources import data_dir

# The 31 provinces: code → name.
PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区", "21": "辽宁省", "22": "吉林省",
    "23": "黑龙江省", "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省",
    "37": "山东省", "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区", "61": "陕西省", "62": "甘肃省",
    "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区",
}
# Provinces whose insured regions the national baseline's test cases use: left to the baseline.
BASELINE_PROVINCES = ("32", "44")
# Regions that shipped policies' test cases (or shipped cities) use: no synthetic city takes them over.
RESERVED = {"410100", "410300", "420100", "420500", "610100", "610300", "370100", "370600", "370700"}
# Percentage points a region may lower the ratio by, within every shipped province's bounds.
REDUCTION_CHOICES = {"long_term": (0, 5, 10), "referral": (0, 5, 10), "emergency": (0, 5, 10), "other_temporary": (5, 10, 15, 20),
                     "unfiled": (10, 15, 20, 25, 30)}
REDUCTIONS = tuple(REDUCTION_CHOICES)
TITLES = {"long_term": "异地长期居住人员", "referral": "异地转诊人员", "emergency": "异地急诊抢救人员",
          "other_temporary": "其他临时外出就医人员", "unfiled": "未备案、非急诊、未转诊就医的"}
HEADER = "# yaml-language-server: $schema={up}schemas/{schema}\n# 合成政策（yidi.synth_tree 生成），仅用于性能测试和规模测试，不是真实政策。\n"


def write_national_tree(out: pathlib.Path, cities: int = 375, seed: int = 1, source: pathlib.Path | None = None,
                        provinces: int | None = None) -> dict[str, int]:
    """Write the shipped tree plus synthetic provinces and `cities` cities under `out`; return the counts.

    `provinces` limits how many provinces are added (default: every one without a policy), for a smaller tree.

    `out` must not exist or be empty (nothing is overwritten).
    """
    out = pathlib.Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"目录 {out} 已存在且不为空 / {out} exists and is not empty")
    shipped = pathlib.Path(source) if source is not None else data_dir("policies")
    shutil.copytree(shipped, out, dirs_exist_ok=True)
    rng = random.Random(seed)
    parents = _shipped_provinces(out)
    made_provinces = 0
    for code, name in PROVINCES.items():
        if code in parents or code in BASELINE_PROVINCES or (provinces is not None and made_provinces >= provinces):
            continue
        folder = out / f"p{code}"
        parents[code] = (f"p{code}", folder)
        _write_region(folder, f"p{code}", f"{code}0000", f"{name}（合成）", "national", rng, depth=1, city=False)
        made_provinces += 1
    order = sorted(parents)
    made = 0
    slot = {code: 1 for code in order}
    while made < cities:
        for code in order:
            if made >= cities:
                break
            while f"{code}{slot[code]:02d}00" in RESERVED:
                slot[code] += 1
            if slot[code] > 90:
                continue
            region = f"{code}{slot[code]:02d}00"
            slot[code] += 1
            parent_id, parent_folder = parents[code]
            _write_region(parent_folder / f"c{region}", f"c{region}", region, f"{PROVINCES[code]}第{region[2:4]}市（合成）",
                          parent_id, rng, depth=len(parent_folder.relative_to(out).parts) + 1, city=True)
            made += 1
    return {"provinces": made_provinces, "cities": made}


def _shipped_provinces(root: pathlib.Path) -> dict[str, tuple[str, pathlib.Path]]:
    """Province code → (policy id, folder) of the provinces the copied tree already has."""
    import yaml

    found = {}
    for path in sorted(root.glob("*/policy.yaml")):
        head = yaml.safe_load(path.read_text(encoding="utf-8"))
        region = str(head["region"])
        if region.endswith("0000") and region != "000000":
            found[region[:2]] = (str(head["id"]), path.parent)
    return found


def _write_region(folder: pathlib.Path, policy_id: str, region: str, name: str, parent: str, rng: random.Random,
                  depth: int, city: bool) -> None:
    document = f"合成医保发〔2024〕{region}号"
    reductions = {kind: rng.choice(choices) for kind, choices in REDUCTION_CHOICES.items()}
    overridden = REDUCTIONS if not city else tuple(k for k in REDUCTIONS if rng.random() < 0.5) or ("unfiled",)
    base = rng.choice((200, 300, 400, 500))
    rows = []
    for scheme, share in (("employee", 1.0), ("resident", 0.8)):
        for level in (1, 2, 3):
            deductible = int(base * level * (1 if scheme == "employee" else 1.5))
            ratio = f"0.{int((92 - 5 * level) * share):02d}"
            rows.append(f"      - {{scheme: {scheme}, level: {level}, deductible: {deductible}, ratio: {ratio}, cap: {rng.choice((200000, 300000, 450000))}}}")
    lines = [HEADER.format(up="../" * (depth + 1), schema="policy.schema.json"),
             f"id: {policy_id}", f'region: "{region}"', f"name: {name}", f"extends: {parent}", "documents:",
             f"  - id: {document}", f"    title: {name}基本医疗保险异地就医直接结算办法（合成）", f"    issuer: {name}医疗保障局（合成）",
             '    issued: "2024-01-15"', "", "parameters:"]
    for kind in overridden:
        lines += [f"  reduction.{kind}:", f"    title: {TITLES[kind]}支付比例降低（百分点）", "    type: number", "    values:",
                  "      - from: 2023-01-01", f"        value: {reductions[kind]}",
                  f"        source: {{document: {document}, clause: 二, says: 支付比例降低{reductions[kind]}个百分点}}"]
        if city:  # some provinces require their approval for a city's own value
            lines.append(f"        approval: {{document: {document}, clause: 二, says: 已报省级医保、财政部门备案同意}}")
    lines += ["", "benefits:", f"  - id: {policy_id}.inpatient", f"    title: {name}住院待遇（示例值）", "    care: [inpatient]",
              "    illustrative: true", "    rows:", *rows]
    if not city:
        lines += [f"  - id: {policy_id}.outpatient", f"    title: {name}门诊待遇（示例值）", "    care: [outpatient, chronic_outpatient, pharmacy]",
                  "    illustrative: true", "    rows:", "      - {scheme: employee, level: null, deductible: 0, ratio: 0.60, cap: 5000}",
                  "      - {scheme: resident, level: null, deductible: 0, ratio: 0.50, cap: 3000}"]
    deductible3 = int(base * 3)
    if city:
        lines += ["", "rules:", f"  - id: {policy_id}.cross-year-one-settlement", "    title: 住院跨自然年度的，按一笔费用整体结算（只计一次起付标准）",
                  "    sets: amounts.deductible", "    when: >",
                  '      route != "none" and visit.kind == "inpatient" and year(visit.admission_date) != year(visit.discharge_date)',
                  "      and benefit.deductible != null", "    value: min(benefit.deductible, costs.in_scope)",
                  "    overrides: [national.deductible]",
                  f"    source: {{document: {document}, clause: 三, says: 住院跨自然年度的按一笔费用整体结算}}"]
    folder.mkdir(parents=True)
    (folder / "policy.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    clauses = ["  - document: " + document, "    clauses:",
               "      - clause: 一", "        summary: 总则", "        not_encoded: 总则，不影响任何决定。",
               "      - clause: 二", "        summary: 支付比例降低幅度"]
    if city:
        clauses += ["      - clause: 三", "        summary: 跨年度住院一笔结算"]
    (folder / "sources.yaml").write_text(HEADER.format(up="../" * (depth + 1), schema="sources.schema.json") + "documents:\n" + "\n".join(clauses) + "\n",
                                         encoding="utf-8")
    insured = region if city else region[:2] + "9800"
    cases = [_case(f"未备案、非急诊的跨省住院，支付比例降低 {reductions['unfiled'] if 'unfiled' in overridden else '（上级）'}",
                   document, "二", insured, "SYN-U", filing=None, admission="2025-03-01", discharge="2025-03-08",
                   expect={"scope": "cross_province", "filing_status": "absent"} if "unfiled" not in overridden else
                   {"scope": "cross_province", "filing_status": "absent", "reduction_pp": reductions["unfiled"]})]
    if city:
        cases.append(_case("跨年度的转诊住院按一笔整体结算，只扣一次起付标准", document, "三", insured, "SYN-Y",
                           filing="referral",
                           admission="2025-12-20", discharge="2026-01-05", referral=True,
                           expect={"amounts": {"deductible": deductible3}}, rules=[f"{policy_id}.cross-year-one-settlement"]))
    cases.append(_case("入院日期不存在（2025-02-30），拒绝", document, "二", insured, "SYN-B", filing=None,
                       admission="2025-02-30", discharge="2025-03-05", expect_error=["visit.admission_date"]))
    tests = folder / "tests"
    tests.mkdir()
    (tests / "synthetic.yaml").write_text(HEADER.format(up="../" * (depth + 2), schema="policy-test.schema.json") + "cases:\n" + "".join(cases),
                                          encoding="utf-8")


def _case(name: str, document: str, clause: str, insured: str, case_id: str, filing: str | None, admission: str, discharge: str,
          referral: bool = False, expect: dict | None = None, rules: list[str] | None = None, expect_error: list[str] | None = None) -> str:
    visit, filed = ("310104", "310000") if not insured.startswith("31") else ("110105", "110000")  # another province
    lines = [f"  - name: {name}", "    checks:", f"      - {{document: {document}, clause: {clause}}}", "    input:",
             "      kind: claim", f"      id: {case_id}-{insured}", f'      insured: {{region: "{insured}", scheme: employee}}']
    if filing:
        lines.append(f'      filing: {{type: {filing}, region: "{filed}", start_date: 2025-12-01, filed_on: 2025-12-01}}')
    lines += [f'      visit: {{kind: inpatient, region: "{visit}", networked: true, hospital_level: 3, admission_date: "{admission}", '
              f'discharge_date: {discharge}{", referral: true" if referral else ""}}}',
              "      costs: {total: 26000.00, in_scope: 22000.00}"]
    if expect is not None:
        lines.append("    expect: " + _flow(expect))
    if rules:
        lines.append("    expect_rules: [" + ", ".join(rules) + "]")
    if expect_error is not None:
        lines.append("    expect_error: [" + ", ".join(expect_error) + "]")
    return "\n".join(lines) + "\n\n"


def _flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    return str(value)
