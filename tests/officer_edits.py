"""Edits a policy officer makes, applied to a copy of a policy tree: the scenario of issue 14.

Tests that need a policy in a known state write that state themselves —
`set_values` replaces a parameter's whole timeline — instead of assuming the
shipped policy's current values, so a legitimate change to the shipped
policies (a new value from a date, a new city) never breaks the engine's tests.
"""

from __future__ import annotations

import pathlib
import shutil
from typing import Any

import yaml

HENAN_DOC = "豫医保办〔2025〕2号"
CLAUSE = {"document": HENAN_DOC, "clause": "二（二）"}


def _load(path: pathlib.Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _dump(path: pathlib.Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1 << 20), encoding="utf-8")


def set_values(tree: pathlib.Path, policy: str, name: str, values: list[dict[str, Any]]) -> None:
    """Give parameter `name` of the policy in folder `policy` (e.g. "henan") exactly `values`."""
    path = tree / policy / "policy.yaml"
    data = _load(path)
    data["parameters"][name]["values"] = values
    _dump(path, data)


def value(start: str, amount: Any, until: str | None = None, **extra: Any) -> dict[str, Any]:
    """One dated value citing Henan's notice (a test's own value, not the shipped one)."""
    item: dict[str, Any] = {"from": start}
    if until is not None:
        item["until"] = until
    return {**item, "value": amount, "source": dict(CLAUSE), **extra}


LUOYANG = """\
# yaml-language-server: $schema=../../../schemas/policy.schema.json
id: luoyang
region: "410300"
name: 洛阳市
extends: henan
documents:
  - id: 洛医保〔2026〕1号
    title: 洛阳市异地就医直接结算实施细则（测试用）
    issuer: 洛阳市医疗保障局
    issued: "2025-12-01"
    in_force: "2026-01-01"
  - id: 豫医保函〔2025〕9号
    title: 河南省医疗保障局关于同意洛阳市调整异地就医支付比例的函（测试用）
    issuer: 河南省医疗保障局
    issued: "2025-11-20"

parameters:
{parameters}
"""

LUOYANG_SOURCES = """\
# yaml-language-server: $schema=../../../schemas/sources.schema.json
documents:
  - document: 洛医保〔2026〕1号
    clauses:
      - clause: 二
        summary: 异地转诊人员、异地急诊抢救人员的支付比例降低幅度
  - document: 豫医保函〔2025〕9号
    clauses:
      - clause: 一
        summary: 同意洛阳市调整
        not_encoded: 批准文件，由取值的 approval 引用
"""


LUOYANG_TESTS = """\
# yaml-language-server: $schema=../../../../schemas/policy-test.schema.json
cases:
  - name: 洛阳参保人员2026年异地住院由洛阳市政策决定
    checks: [{document: 洛医保〔2026〕1号, clause: 二}]
    input:
      kind: claim
      id: LY-001
      insured: {region: "410302", scheme: employee}
      filing: {type: referral, basis: materials, region: "110000", start_date: 2026-02-01, filed_on: 2026-02-01}
      visit: {kind: inpatient, region: "110105", networked: true, hospital_level: 3,
              admission_date: 2026-02-10, discharge_date: 2026-02-20, referral: true}
      costs: {total: 10000.00, in_scope: 8000.00}
    expect:
      policy: {id: luoyang}
      treatment: referral
"""


def luoyang_parameter(name: str, start: str, amount: Any) -> str:
    """The YAML of one Luoyang parameter with a single value from `start` (approved by Henan, as Henan requires)."""
    return (f"  {name}:\n    title: 洛阳市的{name}\n    type: number\n    values:\n"
            f"      - from: {start}\n        value: {amount}\n"
            f"        source: {{document: 洛医保〔2026〕1号, clause: 二}}\n"
            f"        approval: {{document: 豫医保函〔2025〕9号, clause: 一}}\n")


def add_luoyang(tree: pathlib.Path, parameters: dict[str, tuple[str, Any]]) -> pathlib.Path:
    """Add the city 洛阳 (410300) under Henan, overriding `parameters` {name: (from, value)}; returns its policy file."""
    folder = tree / "henan" / "luoyang"
    folder.mkdir(parents=True, exist_ok=True)
    body = "".join(luoyang_parameter(name, start, amount) for name, (start, amount) in parameters.items())
    path = folder / "policy.yaml"
    path.write_text(LUOYANG.format(parameters=body), encoding="utf-8")
    (folder / "sources.yaml").write_text(LUOYANG_SOURCES, encoding="utf-8")
    (folder / "tests").mkdir(exist_ok=True)
    (folder / "tests" / "luoyang.yaml").write_text(LUOYANG_TESTS, encoding="utf-8")
    return path


def officer_change(source: pathlib.Path, old: pathlib.Path, new: pathlib.Path) -> None:
    """The change of issue 14, as two trees copied from `source`: in `old`, Henan's other-temporary reduction is
    20 throughout; in `new`, 20 until 2026-01-01 and 15 from then, and the new city 洛阳 gives referral 5 from
    then. The test and the benchmark (bench/run.py, row g) use the same change."""
    for tree in (old, new):
        shutil.copytree(source, tree, ignore=shutil.ignore_patterns("tests"))
        shutil.rmtree(tree / "henan" / "luoyang", ignore_errors=True)     # the city this change adds
    set_values(old, "henan", "reduction.other_temporary", [value("2025-01-01", 20)])
    set_values(new, "henan", "reduction.other_temporary", [value("2025-01-01", 20, until="2026-01-01"), value("2026-01-01", 15)])
    add_luoyang(new, {"reduction.referral": ("2026-01-01", 5)})
