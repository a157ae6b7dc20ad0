"""Chinese words for what `yidi diff` reports: fields, values, policies and regions.

The words for enumerated values come from the docs site's glossary (one
source for both); codes stay visible in brackets where an officer may need
to search for them (policy ids, region codes).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .docsite.glossary import FLAGS, TREATMENTS, VALUES
from .policy.decision_model import OUTPUT_TITLES
from .policy.tree import PolicySet

FIELD_ZH = {
    "policy": "适用政策", "scope": "就医范围", "filing_status": "备案状态", "treatment": "待遇标准", "route": "结算方式",
    "catalog": "适用目录", "reduction_pp": "支付比例降低（百分点）", "ratio": "支付比例", "amounts.deductible": "起付标准",
    "amounts.fund": "基金支付", "amounts.personal": "个人负担", "flags": "标记", "undetermined": "未能确定的输出",
    "error": "无法决定的原因",
}
DIMENSION_ZH = {"insured_region": "参保地", "scheme": "险种", "visit_kind": "就医类型", "treatment": "待遇标准（新政策）"}
UNDECIDED = "无法决定"


class Labels:
    """Chinese labels, knowing the policies of both trees (for policy names and insured regions)."""

    def __init__(self, old: PolicySet | None = None, new: PolicySet | None = None):
        self.names: dict[str, str] = {}
        self.trees = [t for t in (new, old) if t is not None]
        for tree in reversed(self.trees):
            for policy_id, compiled in tree.policies.items():
                self.names[policy_id] = compiled.layered.policy.name

    def policy(self, policy_id: str | None) -> str:
        if policy_id is None:
            return UNDECIDED
        name = self.names.get(policy_id)
        return f"{name}（{policy_id}）" if name else policy_id

    def region(self, code: str) -> str:
        """'410302（洛阳市）': the code and the policy that decides its insured under the new tree."""
        for tree in self.trees:
            compiled, how = tree.for_region(code)
            name = compiled.layered.policy.name
            return f"{code}（{name}）" if how in ("exact", "city") else f"{code}（适用{name}政策）"
        return code

    def value(self, field: str, value: Any) -> str:
        """The label of one compared value."""
        if field == "policy":
            return self.policy(value)
        if field == "flags":
            return "、".join(FLAGS.get(f, f) for f in value) if value else "无"
        if field == "undetermined":
            return "、".join(OUTPUT_TITLES.get(o, o) for o in value) if value else "无"
        if field == "error":
            return value if value else "（可以决定）"
        if value is None:
            return "无" if field == "catalog" else "未能确定"
        if field.startswith("amounts."):
            return yuan(value, signed=False)
        if isinstance(value, Decimal):
            return number(value)
        if field == "treatment":
            return TREATMENTS.get(value, value)
        return VALUES.get(str(value), str(value))

    def dimension(self, dimension: str, key: Any) -> str:
        """The label of one row of a breakdown."""
        if dimension == "insured_region":
            return self.region(key)
        if key is None:
            return UNDECIDED
        if dimension == "treatment":
            return f"{TREATMENTS.get(key, key)}（{key}）"
        return f"{VALUES.get(key, key)}（{key}）"


def number(value: Decimal | int) -> str:
    """A number as officers write it: no exponent, no trailing zeros."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return str(int(value))
        return format(value.normalize(), "f")
    return str(value)


def yuan(value: Decimal | None, signed: bool = True) -> str:
    """'+1,234.50 元', '−20.00 元'; '—' when there is no amount."""
    if value is None:
        return "—"
    sign = ("+" if value > 0 else "−" if value < 0 else "") if signed else ("−" if value < 0 else "")
    return f"{sign}{abs(value).quantize(Decimal('0.01')):,} 元"


def percent(part: int, whole: int) -> str:
    return f"{part / whole:.2%}" if whole else "—"
