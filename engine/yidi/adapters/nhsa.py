"""Claims in the national 医疗保障信息平台 vocabulary, translated to the contract and back.

Hospitals and agencies already hold settlement data under the platform's
field names (`insuplc_admdvs`, `med_type`, `medfee_sumamt`, …) and codes
(`insutype` 310/390, `med_type` 11…41). This module turns such a record into
a contract claim, so the engine and its policies stay platform-neutral, and
renders a decision with the settlement sheet's names (`act_pay_dedc`,
`hifp_pay`, `psn_part_amt`, …).

Rules it keeps, and why:

* A code it does not know is an error naming the code — never a guess; a
  wrong benefit standard is worse than a refused request.
* Every error names the *platform* field the caller sent (`begntime`,
  `yidi_filing.start_date`), also when the problem is found later by the
  contract's own validation, so the caller can fix the record it has.
* Facts the platform record does not carry come from extra fields named
  `yidi_…` (documented in docs/nhsa-mapping.md). A misspelled `yidi_…` field
  is an error; other platform fields (`psn_no`, `fixmedins_code`, …) are
  ignored, since real records carry dozens that do not affect the decision.
"""

from __future__ import annotations

import datetime
import heapq
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ..documents import normalize_document
from ..errors import SHOWN_PROBLEMS, InputError, InputProblem

MEDIA_TYPE = "application/vnd.nhsa+json"

# 险种类型 insutype → insured.scheme
INSUTYPE: dict[str, tuple[str, str]] = {
    "310": ("employee", "职工基本医疗保险"),
    "390": ("resident", "城乡居民基本医疗保险"),
}

# 医疗类别 med_type → visit.kind and the visit flags the code itself states
MED_TYPE: dict[str, tuple[str, str, dict[str, Any]]] = {
    "11": ("普通门诊", "outpatient", {}),
    "13": ("急诊", "outpatient", {"emergency": True}),
    "14": ("门诊慢特病", "chronic_outpatient", {}),
    "21": ("普通住院", "inpatient", {}),
    "22": ("外伤住院", "inpatient", {"trauma": True}),
    "23": ("转外诊治住院", "inpatient", {"referral": True}),
    "24": ("急诊转住院", "inpatient", {"emergency": True}),
    "41": ("定点药店购药", "pharmacy", {}),
}

# platform field → (中文, contract path it fills)
PLATFORM_FIELDS: dict[str, tuple[str, str]] = {
    "mdtrt_id": ("就诊ID", "id"),
    "insuplc_admdvs": ("参保地医保区划", "insured.region"),
    "insutype": ("险种类型", "insured.scheme"),
    "brdy": ("出生日期", "insured.birth_date"),
    "mdtrtarea_admvs": ("就医地医保区划", "visit.region"),
    "med_type": ("医疗类别", "visit.kind"),
    "begntime": ("开始时间", "visit.admission_date"),
    "endtime": ("结束时间", "visit.discharge_date"),
    "setl_time": ("结算时间", "visit.settled_on"),
    "trum_flag": ("外伤标志", "visit.trauma"),
    "rel_ttp_flag": ("涉及第三方标志", "visit.trauma"),
    "medfee_sumamt": ("医疗费总额", "costs.total"),
    "inscp_scp_amt": ("符合政策范围金额", "costs.in_scope"),
}

# yidi extra field → (中文, contract path) — facts the platform record lacks
EXTRA_FIELDS: dict[str, tuple[str, str]] = {
    "yidi_networked": ("异地联网定点医药机构（必填）", "visit.networked"),
    "yidi_hospital_level": ("医院等级 1|2|3|null", "visit.hospital_level"),
    "yidi_filing": ("异地就医备案（契约 filing 格式）", "filing"),
    "yidi_referral": ("有转诊转院单", "visit.referral"),
    "yidi_chronic_disease": ("门诊慢特病病种（契约病种名）", "visit.chronic_disease"),
    "yidi_psychiatric_certificate": ("精神类疾病诊断证明", "visit.psychiatric_certificate"),
    "yidi_died_after_emergency": ("急诊抢救无效死亡", "visit.died_after_emergency"),
    "yidi_outside_services": ("住院期间外院检查治疗", "visit.outside_services"),
    "yidi_self_paid": ("出院自费结算", "visit.self_paid"),
    "yidi_system_failure": ("系统原因未能直接结算", "visit.system_failure"),
    "yidi_payment_source": ("支付来源 pooling_fund 统筹基金 | personal_account 个人账户", "visit.payment_source"),
    "yidi_third_party_unpaid": ("第三人不支付或无法确定第三人（须 rel_ttp_flag 为 1）：基金先行支付", "visit.trauma"),
}

REQUIRED = ("mdtrt_id", "insuplc_admdvs", "insutype", "mdtrtarea_admvs", "med_type", "begntime",
            "medfee_sumamt", "inscp_scp_amt", "yidi_networked")

# settlement sheet (结算信息 setlinfo) field ← decision path
SHEET_FIELDS: dict[str, tuple[str, str]] = {
    "mdtrt_id": ("就诊ID", "claim_id"),
    "inscp_scp_amt": ("符合政策范围金额", "amounts.in_scope"),
    "act_pay_dedc": ("实际支付起付线", "amounts.deductible"),
    "hifp_pay": ("基本医疗保险统筹基金支出", "amounts.fund"),
    "pool_prop_selfpay": ("基本医疗保险统筹基金支付比例", "ratio"),
    "psn_part_amt": ("个人负担总金额", "amounts.personal"),
}

_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?", re.ASCII)
_AMOUNT = re.compile(r"\d{1,15}(\.\d+)?", re.ASCII)
_SAME_DAY = ("outpatient", "chronic_outpatient", "pharmacy")


def _problem(field: str, zh: str, en: str) -> InputProblem:
    return InputProblem(field, zh, en)


class _Translation:
    """Collects the contract document and every problem, each named by its platform field."""

    def __init__(self, raw: dict[str, Any]):
        self.raw = raw
        self.problems: list[InputProblem] = []
        self.doc: dict[str, Any] = {"kind": "claim", "insured": {}, "visit": {}, "costs": {}}
        self.sources: dict[str, str] = {}  # contract path → the platform field it came from
        self.more = 0  # problems counted but not described (InputError.more)

    def put(self, path: str, value: Any, field: str) -> None:
        *parents, key = path.split(".")
        node = self.doc
        for part in parents:
            node = node.setdefault(part, {})
        node[key] = value
        self.sources.setdefault(path, field)

    def bad(self, field: str, zh: str, en: str) -> None:
        self.problems.append(_problem(field, zh, en))


def _code(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _date(t: _Translation, field: str) -> datetime.date | None:
    value = t.raw.get(field)
    match = _DATETIME.fullmatch(value) if isinstance(value, str) else None
    if match:
        try:
            return datetime.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    t.bad(field, f"{field}（{PLATFORM_FIELDS[field][0]}）不是有效的日期时间：{value!r}，应为 yyyy-MM-dd HH:mm:ss 或 yyyy-MM-dd",
          f"{field} is not a valid date-time: {value!r}; expected yyyy-MM-dd HH:mm:ss or yyyy-MM-dd")
    return None


def _amount(t: _Translation, field: str) -> None:
    value = t.raw[field]
    if isinstance(value, str) and _AMOUNT.fullmatch(value.strip()):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            pass
    if isinstance(value, str):
        t.bad(field, f"{field}（{PLATFORM_FIELDS[field][0]}）不是金额：{value!r}", f"{field} is not an amount: {value!r}")
        return
    t.put(PLATFORM_FIELDS[field][1], value, field)


def _flag(t: _Translation, field: str) -> bool | None:
    """A platform 0/1 flag; absent or null is None."""
    value = t.raw.get(field)
    if value is None:
        return None
    if not isinstance(value, bool) and value in ("0", "1", 0, 1):
        return str(value) == "1"
    t.bad(field, f"{field}（{PLATFORM_FIELDS[field][0]}）应为 \"0\" 或 \"1\"，而不是 {value!r}", f"{field} must be \"0\" or \"1\", not {value!r}")
    return None


def _scheme(t: _Translation) -> None:
    code = _code(t.raw["insutype"])
    if code in INSUTYPE:
        t.put("insured.scheme", INSUTYPE[code][0], "insutype")
        return
    known = "、".join(f"{c} {name}" for c, (_, name) in INSUTYPE.items())
    t.bad("insutype", f"险种类型 insutype {t.raw['insutype']!r} 不在 yidi 支持的范围内（{known}），未作猜测",
          f"insutype {t.raw['insutype']!r} is not a code yidi knows (310 employee, 390 resident); nothing guessed")


def _care(t: _Translation) -> tuple[str | None, dict[str, Any]]:
    code = _code(t.raw["med_type"])
    if code not in MED_TYPE:
        known = "、".join(f"{c} {name}" for c, (name, _, _) in MED_TYPE.items())
        t.bad("med_type", f"医疗类别 med_type {t.raw['med_type']!r} 不在 yidi 支持的范围内（{known}），未作猜测",
              f"med_type {t.raw['med_type']!r} is not a code yidi knows ({', '.join(MED_TYPE)}); nothing guessed")
        return None, {}
    _, kind, implied = MED_TYPE[code]
    t.put("visit.kind", kind, "med_type")
    return code, implied


def _trauma(t: _Translation, code: str | None, implied: dict[str, Any]) -> None:
    """trum_flag/rel_ttp_flag (and med_type 22) → visit.trauma; contradictions are errors."""
    trauma, third = _flag(t, "trum_flag"), _flag(t, "rel_ttp_flag")
    if implied.get("trauma"):
        if trauma is False:
            t.bad("trum_flag", "医疗类别 22 外伤住院，但外伤标志 trum_flag 为 0", "med_type 22 (trauma stay) contradicts trum_flag 0")
            return
        trauma = True
    if trauma:
        if third is None and "rel_ttp_flag" not in t.raw:
            t.bad("rel_ttp_flag", "外伤就医须填写涉及第三方标志 rel_ttp_flag（0 或 1），以区分有无第三方责任",
                  "rel_ttp_flag (0 or 1) is required for trauma care: it decides third-party liability")
        elif third is not None:
            unpaid = t.raw.get("yidi_third_party_unpaid")
            if unpaid not in (None, True, False):
                t.bad("yidi_third_party_unpaid", "yidi_third_party_unpaid 应为 true 或 false", "yidi_third_party_unpaid must be true or false")
            elif unpaid and not third:
                t.bad("yidi_third_party_unpaid", "yidi_third_party_unpaid 为 true，但涉及第三方标志 rel_ttp_flag 不为 1",
                      "yidi_third_party_unpaid is true but rel_ttp_flag is not 1")
            else:
                value = ("third_party_unpaid" if unpaid else "third_party") if third else "no_third_party"
                t.put("visit.trauma", value, "yidi_third_party_unpaid" if unpaid else "trum_flag" if "trum_flag" in t.raw else "med_type")
        return
    if t.raw.get("yidi_third_party_unpaid"):
        t.bad("yidi_third_party_unpaid", "yidi_third_party_unpaid 为 true，但不是外伤就医", "yidi_third_party_unpaid is true but the care is not trauma")
    if third:
        t.bad("rel_ttp_flag", "涉及第三方标志 rel_ttp_flag 为 1，但不是外伤（trum_flag 不为 1）",
              "rel_ttp_flag 1 without trauma (trum_flag is not 1)")
    if trauma is False or code is not None:
        t.put("visit.trauma", None, "trum_flag")


def translate(raw: Any) -> dict[str, Any]:
    """A contract claim from a platform record, or InputError naming every offending platform field."""
    if not isinstance(raw, dict):
        raise InputError([_problem("", "医保平台结算数据应为 JSON 对象", "a platform claim must be a JSON object")])
    t = _Translation(raw)
    for field in REQUIRED:
        if raw.get(field) is None:
            name = PLATFORM_FIELDS.get(field, EXTRA_FIELDS.get(field, ("", "")))[0]
            t.bad(field, f"缺少必填字段 {field}（{name}）", f"required field {field} is missing")
    unknown = [k for k in raw if isinstance(k, str) and k.startswith("yidi_") and k not in EXTRA_FIELDS]
    for field in heapq.nsmallest(SHOWN_PROBLEMS, unknown):  # the rest are counted, not described
        t.bad(field, f"未知的 yidi 扩展字段 {field}（可用：{'、'.join(EXTRA_FIELDS)}）", f"unknown yidi extra field {field}")
    t.more = len(unknown) - min(len(unknown), SHOWN_PROBLEMS)
    if raw.get("mdtrt_id") is not None:
        t.put("id", raw["mdtrt_id"] if not isinstance(raw["mdtrt_id"], int) or isinstance(raw["mdtrt_id"], bool) else str(raw["mdtrt_id"]), "mdtrt_id")
    for field in ("insuplc_admdvs", "mdtrtarea_admvs"):
        if raw.get(field) is not None:
            t.put(PLATFORM_FIELDS[field][1], raw[field], field)
    if raw.get("insutype") is not None:
        _scheme(t)
    code, implied = _care(t) if raw.get("med_type") is not None else (None, {})
    _visit_dates(t, code)
    for field in ("medfee_sumamt", "inscp_scp_amt"):
        if raw.get(field) is not None:
            _amount(t, field)
    for key in ("emergency", "referral"):
        if implied.get(key):
            t.put(f"visit.{key}", True, "med_type")
    _trauma(t, code, implied)
    _extras(t, implied)
    if t.problems:
        raise InputError(t.problems + _contract_problems(t, quiet=True), t.more)
    _contract_problems(t, quiet=False)
    return t.doc


def _visit_dates(t: _Translation, code: str | None) -> None:
    begin = _date(t, "begntime") if t.raw.get("begntime") is not None else None
    if begin is not None:
        t.put("visit.admission_date", begin.isoformat(), "begntime")
    if t.raw.get("endtime") is not None:
        end = _date(t, "endtime")
        if end is not None:
            t.put("visit.discharge_date", end.isoformat(), "endtime")
    elif code is not None and MED_TYPE[code][1] in _SAME_DAY:
        if begin is not None:  # the contract: same-day care ends the day it starts
            t.put("visit.discharge_date", begin.isoformat(), "begntime")
    elif code is not None:
        t.bad("endtime", "住院须填写结束时间 endtime（出院时间）", "endtime (discharge) is required for a stay")
    if t.raw.get("brdy") is not None:
        birth = _date(t, "brdy")
        if birth is not None:
            t.put("insured.birth_date", birth.isoformat(), "brdy")
    if t.raw.get("setl_time") is not None:
        settled = _date(t, "setl_time")
        if settled is not None:
            t.put("visit.settled_on", settled.isoformat(), "setl_time")


def _extras(t: _Translation, implied: dict[str, Any]) -> None:
    for field, (_, path) in EXTRA_FIELDS.items():
        if field not in t.raw or field == "yidi_third_party_unpaid":  # read with the trauma flags
            continue
        value = t.raw[field]
        if field == "yidi_referral" and implied.get("referral") and value is not True:
            t.bad(field, "医疗类别 23 转外诊治住院，但 yidi_referral 不为 true", "med_type 23 (referral stay) contradicts yidi_referral")
            continue
        t.put(path, value, field)


_CONTRACT_TO_PLATFORM: dict[str, str] = {}
for _field, (_, _path) in {**PLATFORM_FIELDS, **EXTRA_FIELDS}.items():
    _CONTRACT_TO_PLATFORM.setdefault(_path, _field)


def _platform_path(t: _Translation, path: str) -> str:
    """The platform field a contract path came from (longest known prefix), else the contract path."""
    parts = path.split(".") if path else []
    for table in (t.sources, _CONTRACT_TO_PLATFORM):
        for end in range(len(parts), 0, -1):
            prefix = ".".join(parts[:end])
            if prefix in table:
                return table[prefix] + path[len(prefix):]
    return path


def _contract_problems(t: _Translation, quiet: bool) -> list[InputProblem]:
    """Validate the translated document against the contract; report under platform field names.

    With `quiet`, problems at platform fields already reported (often: left
    out of the document because they were bad) are dropped and the rest
    returned; otherwise any problem is raised.
    """
    try:
        normalize_document(t.doc)
    except InputError as exc:
        reported = {p.path for p in t.problems}
        out = []
        for p in exc.problems:
            field = _platform_path(t, p.path)
            if quiet and field.split(".")[0] in reported:
                continue
            note_zh, note_en = (f"（契约字段 {p.path}）", f" (contract field {p.path})") if field != p.path else ("", "")
            out.append(InputProblem(field, p.message_zh + note_zh, p.message_en + note_en))
        t.more += exc.more
        if not quiet:
            raise InputError(out, t.more) from None
        return out
    return []


def evaluate(engine: Any, raw: Any, trace: str = "full") -> dict[str, Any]:
    """Translate and decide; InputError names platform fields, also for problems the contract finds."""
    return engine.evaluate(translate(raw), trace)  # type: ignore[no-any-return]


def _get(decision: dict[str, Any], path: str) -> Any:
    node: Any = decision
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def render_decision(decision: dict[str, Any]) -> dict[str, Any]:
    """A claim decision as the settlement sheet (setlinfo); what the sheet has no field for stays under `yidi`.

    A filing answer has no settlement sheet and is returned unchanged.
    """
    if "claim_id" not in decision:
        return decision
    sheet = {field: _get(decision, path) for field, (_, path) in SHEET_FIELDS.items()}
    rest = {k: v for k, v in decision.items() if k not in ("claim_id", "ratio", "amounts")}
    return {"setlinfo": sheet, "yidi": rest}


def input_schema() -> dict[str, Any]:
    """JSON Schema of a platform claim, built from the tables above (for OpenAPI and editors)."""
    code = {"type": ["string", "integer"]}
    date_time = {"type": "string", "examples": ["2025-03-05 08:30:00"]}
    amount = {"type": ["number", "string"]}
    flag: dict[str, Any] = {"enum": ["0", "1", 0, 1, None]}
    shapes: dict[str, dict[str, Any]] = {
        "mdtrt_id": {"type": ["string", "integer"]}, "insuplc_admdvs": {"type": "string"}, "mdtrtarea_admvs": {"type": "string"},
        "insutype": {**code, "examples": list(INSUTYPE)}, "med_type": {**code, "examples": list(MED_TYPE)},
        "begntime": date_time, "endtime": date_time, "setl_time": date_time, "brdy": date_time,
        "medfee_sumamt": amount, "inscp_scp_amt": amount, "trum_flag": flag, "rel_ttp_flag": flag,
        "yidi_networked": {"type": "boolean"}, "yidi_hospital_level": {"enum": [1, 2, 3, None]},
        "yidi_filing": {"type": ["object", "null"]}, "yidi_chronic_disease": {"type": ["string", "null"]},
    }
    properties = {}
    for field, (name, path) in {**PLATFORM_FIELDS, **EXTRA_FIELDS}.items():
        properties[field] = {"description": f"{name} → {path}", **shapes.get(field, {"type": "boolean"})}
    return {"title": "医保信息平台结算数据", "type": "object", "required": list(REQUIRED), "properties": properties,
            "description": "医疗保障信息平台字段名与代码的结算申请，由 yidi 转换为接口约定的结算申请（见 docs/nhsa-mapping.md）。"}


def output_schema() -> dict[str, Any]:
    """JSON Schema of a decision rendered with the settlement sheet's names."""
    sheet = {field: {"description": f"{name} ← {path}"} for field, (name, path) in SHEET_FIELDS.items()}
    return {"title": "结算单（医保信息平台字段名）", "type": "object", "required": ["setlinfo", "yidi"],
            "properties": {"setlinfo": {"type": "object", "properties": sheet}, "yidi": {"type": "object"}}}

