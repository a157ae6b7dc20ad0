"""Chinese words for the engine's names, so generated pages read like policy text.

Policy officers read Chinese, not field paths. Input fields take their
titles from the contract's JSON Schemas (one source of truth: a field the
schema renames is renamed here too); outputs take the titles the engine
declares; enumerated values come from the contract's tables (§1.1, §1.2, §2).
A name that has no entry is shown as code — never guessed.
"""

from __future__ import annotations

import functools
from typing import Any

from ..policy.decision_model import OUTPUTS
from ..contract import CLAIM, FILING_REQUEST, model

# Contract §1.1, §1.2, §2 and the schemas' descriptions.
VALUES: dict[str, str] = {
    # filing types
    "retiree_relocated": "异地安置退休人员", "long_term_resident": "异地长期居住人员",
    "stationed_worker": "常驻异地工作人员", "referral": "异地转诊就医人员",
    "emergency": "异地急诊抢救人员", "other_temporary": "其他临时外出就医人员",
    # basis, scheme
    "materials": "材料制", "commitment": "承诺制", "employee": "职工医保", "resident": "城乡居民医保",
    # visit kinds
    "inpatient": "住院", "outpatient": "普通门诊", "chronic_outpatient": "门诊慢特病", "pharmacy": "定点药店购药",
    # scope
    "local": "本地就医", "intra_province": "省内异地", "cross_province": "跨省异地",
    # routes, catalogs
    "direct": "直接结算", "manual": "回参保地手工报销", "none": "不予医保支付",
    "treatment_place": "就医地目录", "insured_place": "参保地目录",
    # filing statuses
    "valid": "有效", "deemed": "视同已备案", "retroactive": "补办有效", "not_required": "免备案",
    "expired": "已过期", "absent": "未备案",
    # trauma
    "no_third_party": "无第三方责任外伤", "third_party": "有第三方责任外伤",
    "third_party_unpaid": "有第三方责任、第三人不支付或无法确定（基金先行支付）",
    # payment sources
    "pooling_fund": "统筹基金", "personal_account": "职工医保个人账户",
    # filing-request actions
    "file": "新增", "change": "变更", "cancel": "取消",
    # chronic diseases
    "hypertension": "高血压", "diabetes": "糖尿病", "cancer_outpatient_therapy": "恶性肿瘤门诊放化疗",
    "uremia_dialysis": "尿毒症透析", "organ_transplant_antirejection": "器官移植术后抗排异治疗",
    "copd": "慢性阻塞性肺疾病", "rheumatoid_arthritis": "类风湿关节炎", "coronary_heart_disease": "冠心病",
    "viral_hepatitis": "病毒性肝炎", "ankylosing_spondylitis": "强直性脊柱炎",
}

# Treatment standards (contract §2) read differently from the filing types of the same name.
TREATMENTS: dict[str, str] = {
    "local": "本地待遇", "long_term": "异地长期居住待遇", "referral": "异地转诊待遇",
    "emergency": "临时外出急诊待遇", "other_temporary": "其他临时外出待遇", "unfiled": "未备案（非急诊、未转诊）",
}

# Flags on a decision or a filing answer (contract §2, decision.schema.json).
FLAGS: dict[str, str] = {
    "audit_referral_eligible": "达到协查标准", "chronic_not_direct": "门诊慢特病不能直接结算",
    "benefit_table_illustrative": "待遇表为示例值", "illustrative_value_used": "用到了示例参数值",
    "interpretation_applied": "适用了解释（来源未作规定处）",
    "floor_conflict": "低于上级规定的保底（待确认）",
}

FILING_TYPES = ("retiree_relocated", "long_term_resident", "stationed_worker", "referral", "emergency", "other_temporary")

# Enumerated values are labelled by the variable they belong to when that matters.
_VALUES_BY_NAME = {"treatment": TREATMENTS}

# Words for the engine's own intermediate names that are not in a schema.
_EXTRA = {
    "benefit.ratio": "待遇表支付比例", "benefit.deductible": "待遇表起付标准", "benefit.cap": "待遇表最高支付限额",
    "costs.total": "医疗费总额", "costs.in_scope": "符合范围金额",
}


@functools.lru_cache(maxsize=1)
def field_titles() -> dict[str, str]:
    """Dotted input path → Chinese title, from the claim and filing-request field models (list items' fields under the list's name)."""
    titles: dict[str, str] = {}
    for kind in (CLAIM, FILING_REQUEST):
        _titles(model(kind).root.fields, "", titles)
    return titles


def _titles(fields, prefix: str, out: dict[str, str]) -> None:
    for f in fields:
        path = f"{prefix}{f.name}"
        if f.title and path not in out:
            out[path] = f.title
        if f.kind in ("object", "array"):
            _titles(f.fields, path + ".", out)


@functools.lru_cache(maxsize=1)
def output_titles() -> dict[str, str]:
    return {o.name: o.title_zh for o in OUTPUTS}


def name_label(name: str) -> str | None:
    """Chinese label of an input field, an engine output or a benefit column; None if unknown."""
    if name in _EXTRA:
        return _EXTRA[name]
    if name in output_titles():
        return output_titles()[name]
    return field_titles().get(name)


def value_label(value: Any, of: str | None = None) -> str:
    """Chinese label of an enumerated value (of variable `of` when given); the value itself otherwise."""
    if value is None:
        return "空"
    if isinstance(value, bool):
        return "是" if value else "否"
    text = str(value)
    by_name = _VALUES_BY_NAME.get(of or "")
    if by_name and text in by_name:
        return by_name[text]
    return VALUES.get(text, text)


def has_value(value: str, of: str | None = None) -> bool:
    return value in _VALUES_BY_NAME.get(of or "", {}) or value in VALUES


def treatment_label(value: str | None) -> str:
    return TREATMENTS.get(value or "", str(value))
