"""What the engine computes: the contract's outputs, and the names rules may read.

The outputs of a decision (contract §2) and of a filing answer (§3) are
declared here, with their types and defaults; policies add intermediate
variables of their own. The input side — every field of a claim or filing
request with its type — is derived from the contract's JSON Schemas, so the
type checker and the input validator can never disagree.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..contract import Field, model
from ..dsl.types import BOOL, DATE, LIST, NUMBER, OBJECT, STRING, T_BOOL, T_DATE, T_NUMBER, T_STRING, Type, enum_type

CLAIM, FILING_REQUEST = "claim", "filing_request"
KINDS = (CLAIM, FILING_REQUEST)

_NO_DEFAULT = object()


@dataclass(frozen=True)
class Output:
    name: str
    kind: str
    type: Type
    title_zh: str
    default: Any = _NO_DEFAULT

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT


CARE_KINDS = ("inpatient", "outpatient", "chronic_outpatient", "pharmacy")
TREATMENTS = ("local", "long_term", "referral", "emergency", "other_temporary", "unfiled")
FILING_STATUSES = ("valid", "deemed", "retroactive", "not_required", "expired", "absent")

OUTPUTS: tuple[Output, ...] = (
    Output("scope", CLAIM, enum_type(("local", "intra_province", "cross_province")), "就医范围（本地/省内异地/跨省）"),
    Output("filing_status", CLAIM, enum_type(FILING_STATUSES), "备案状态"),
    Output("treatment", CLAIM, enum_type(TREATMENTS), "待遇标准"),
    Output("route", CLAIM, enum_type(("direct", "manual", "none")), "结算方式"),
    Output("catalog", CLAIM, enum_type(("treatment_place", "insured_place"), optional=True), "适用目录", None),
    Output("reduction_pp", CLAIM, T_NUMBER, "支付比例降低（百分点）"),
    Output("benefit_care", CLAIM, enum_type(CARE_KINDS), "按何种就医类型查待遇表"),
    Output("ratio", CLAIM, T_NUMBER.as_optional(), "最终支付比例", None),
    Output("amounts.deductible", CLAIM, T_NUMBER.as_optional(), "起付标准", None),
    Output("amounts.fund", CLAIM, T_NUMBER.as_optional(), "基金支付", None),
    Output("amounts.personal", CLAIM, T_NUMBER.as_optional(), "个人负担", None),
    Output("flags.audit_referral_eligible", CLAIM, T_BOOL, "达到协查标准", False),
    Output("flags.chronic_not_direct", CLAIM, T_BOOL, "门诊慢特病不能直接结算", False),
    Output("allowed", FILING_REQUEST, T_BOOL, "是否允许办理"),
    Output("earliest_date", FILING_REQUEST, T_DATE.as_optional(), "最早可办理日期", None),
    Output("reason", FILING_REQUEST, T_STRING.as_optional(), "原因", None),
    Output("validity.start_date", FILING_REQUEST, T_DATE.as_optional(), "备案有效期开始", None),
    Output("validity.end_date", FILING_REQUEST, T_DATE.as_optional(), "备案有效期结束（含；空为长期有效）", None),
    Output("filed_region", FILING_REQUEST, T_STRING.as_optional(), "备案登记的就医地区划", None),
)

# The answer's keys in the contract's order (schemas/decision.schema.json; tests/test_documents.py keeps
# them in step). Each key is the document's id (claim_id, request_id), the policy block, the flags, the
# trace, the output of that name, or a group: the document fields ECHOED into it, then the outputs named
# `<key>.<field>` in OUTPUTS' order — null when every one of those outputs is undetermined. The answers
# are built from this (evaluation.decision.answer_builder), never written out by hand.
ANSWER_LAYOUT: Mapping[str, tuple[str, ...]] = MappingProxyType({
    CLAIM: ("claim_id", "policy", "scope", "route", "filing_status", "treatment", "catalog", "reduction_pp", "ratio",
            "amounts", "flags", "trace"),
    FILING_REQUEST: ("request_id", "policy", "allowed", "earliest_date", "reason", "validity", "filed_region", "flags", "trace"),
})
DOCUMENT_ID = ("claim_id", "request_id")
ECHOED: Mapping[str, str] = MappingProxyType({"amounts.in_scope": "costs.in_scope"})  # answer field ← document field

# Every output by name, in the contract's order, with its Chinese title (for messages and `undetermined`).
OUTPUT_TITLES: Mapping[str, str] = MappingProxyType({o.name: o.title_zh for o in OUTPUTS})

CARE_ZH = {"inpatient": "住院", "outpatient": "普通门诊", "chronic_outpatient": "门诊慢特病", "pharmacy": "定点药店购药"}

# Columns of a benefit-table row as rules read them (`benefit.ratio`).
BENEFIT_COLUMNS = {
    "deductible": T_NUMBER.as_optional(),
    "ratio": T_NUMBER.as_optional(),
    "cap": T_NUMBER.as_optional(),
}

# The date that picks parameter values and rule versions, per kind.
SETTLEMENT_DATE = {CLAIM: "visit.settled_on", FILING_REQUEST: "on"}

BENEFIT_LOOKUP_READS = ("visit.payment_source", "insured.scheme", "visit.hospital_level")
"""What the benefit-table lookup (`tree.BenefitLookup.function`) reads of the document it is given."""

def outputs_for(kind: str) -> dict[str, Output]:
    return {o.name: o for o in OUTPUTS if o.kind == kind}


@functools.cache
def input_types(kind: str) -> Mapping[str, Type]:
    """Every dotted input path of a `kind` document, with the field's own type (from the contract's field model).

    Read once per kind: every policy's compilation asks for it.
    """
    return MappingProxyType({f.dotted: _type(f) for f in model(kind).walk() if f.dotted != "kind"})


def _type(f: Field, required: bool | None = None) -> Type:
    """The expression language's type for a field: optional when it may be null once normalised."""
    defaulted = (f.has_default and f.default is not None) or f.defaulted
    optional = f.nullable or (not (f.required if required is None else required) and not defaulted)
    if f.kind == "object":
        return Type(OBJECT, optional, fields=tuple((sub.name, _type(sub)) for sub in f.fields))
    if f.kind == "array":
        return Type(LIST, optional, element=Type(OBJECT, False, fields=tuple((sub.name, _type(sub)) for sub in f.fields)))
    if f.kind in ("number", "integer"):
        return Type(NUMBER, optional)
    if f.kind == "boolean":
        return Type(BOOL, optional)
    if f.date:
        return Type(DATE, optional)
    if f.enum is not None:
        return enum_type(f.enum, optional)
    return Type(STRING, optional)
