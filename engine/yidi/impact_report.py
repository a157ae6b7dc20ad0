"""Reports of `yidi diff`: terminal summary, JSON, and Markdown for a change request.

The Markdown is written for the officer who attaches it to a change request:
Chinese headings, plain tables, the fund delta in yuan with cents, and for
each sampled claim the fields that moved and the rules that fired before and
after — so a reviewer can see *why* a decision changed, not only that it did.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from .impact import FIELDS, Summary, _show
from .jsonout import dumps

FIELD_ZH = {
    "policy": "适用政策", "scope": "就医范围", "filing_status": "备案状态", "treatment": "待遇标准", "route": "结算方式",
    "catalog": "适用目录", "reduction_pp": "支付比例降低（百分点）", "ratio": "支付比例", "amounts.deductible": "起付标准",
    "amounts.fund": "基金支付", "amounts.personal": "个人负担", "flags": "标记", "undetermined": "未能确定的输出",
    "error": "无法决定的原因",
}


def yuan(value: Decimal) -> str:
    sign = "+" if value > 0 else "−" if value < 0 else ""
    return f"{sign}{abs(value).quantize(Decimal('0.01')):,} 元"


def to_json(s: Summary, old_label: str, new_label: str, claims: str, seconds: float) -> dict[str, Any]:
    return {
        "old": old_label, "new": new_label, "claims_file": claims, "partial": s.partial,
        "claims": s.total, "invalid": s.invalid, "decided": s.total - s.invalid, "changed": s.changed,
        "changed_fields": dict(s.fields.most_common()),
        "transitions": {f: [{"old": a, "new": b, "count": n} for (a, b), n in c.most_common()] for f, c in s.transitions.items() if c},
        "changed_by_policy": dict(s.by_policy.most_common()),
        "fund": {"old_total": s.fund_old, "new_total": s.fund_new, "delta": s.fund_delta,
                 "claims_up": s.fund_up, "claims_down": s.fund_down, "appeared": s.fund_appeared, "vanished": s.fund_vanished,
                 "not_determined_old": s.fund_unknown_old, "not_determined_new": s.fund_unknown_new},
        "sample": s.sample,
        "invalid_examples": [{"id": i, "problems": p} for i, p in s.invalid_examples],
        "seconds": round(seconds, 1),
    }


def write_json(path: str, data: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(dumps(data, indent=2) + "\n")


def terminal(s: Summary, old_label: str, new_label: str, seconds: float) -> str:
    lines = (["（已中断，以下为已处理部分的结果）"] if s.partial else []) + [f"政策变更影响：{old_label} → {new_label}",
             f"  结算申请 {s.total:,} 份（输入无效 {s.invalid:,} 份），决定有变化 {s.changed:,} 份"
             + (f"（{s.changed / max(s.total - s.invalid, 1):.2%}）" if s.total else "") + f"，用时 {seconds:.1f} 秒"]
    if s.fields:
        lines.append("  变化的字段：" + "，".join(f"{FIELD_ZH.get(f, f)} {n:,}" for f, n in s.fields.most_common()))
    for f, counter in s.transitions.items():
        for (a, b), n in counter.most_common(3):
            lines.append(f"    {FIELD_ZH.get(f, f)}：{a} → {b}  {n:,} 份")
    lines.append(f"  基金支付合计（两版都能确定金额的申请）：{s.fund_old.quantize(Decimal('0.01')):,} → {s.fund_new.quantize(Decimal('0.01')):,}"
                 f"（{yuan(s.fund_delta)}）；增加 {s.fund_up:,} 份，减少 {s.fund_down:,} 份")
    if s.fund_unknown_old or s.fund_unknown_new:
        lines.append(f"  基金支付未能确定（不计入合计，不按0计）：原政策 {s.fund_unknown_old:,} 份，新政策 {s.fund_unknown_new:,} 份；"
                     f"由不能确定变为能确定 {s.fund_appeared:,} 份，由能确定变为不能确定 {s.fund_vanished:,} 份")
    return "\n".join(lines)


def markdown(s: Summary, old_label: str, new_label: str, claims: str, seconds: float) -> str:
    decided = s.total - s.invalid
    out = ["# 政策变更影响报告\n",
           f"- 原政策：`{old_label}`\n- 新政策：`{new_label}`\n- 结算申请：`{claims}`，共 {s.total:,} 份（输入无效 {s.invalid:,} 份）"
           f"\n- 生成时间：{datetime.datetime.now():%Y-%m-%d %H:%M}，用时 {seconds:.1f} 秒\n"]
    if s.partial:
        out.append("> **注意：运行被中断，以下只是已处理部分的结果。**\n")
    share = f"（占 {s.changed / decided:.2%}）" if decided else ""
    if s.fund_unknown_old or s.fund_unknown_new:
        out.append(f"> 基金支付合计只计两版政策都能确定金额的申请。原政策下 {s.fund_unknown_old:,} 份、新政策下 "
                   f"{s.fund_unknown_new:,} 份的基金支付未能确定（部分决定，或政策无法决定），不计入合计、不按 0 计；"
                   f"其中由不能确定变为能确定 {s.fund_appeared:,} 份，由能确定变为不能确定 {s.fund_vanished:,} 份。\n")
    out.append(f"## 结论\n\n两版政策对 **{s.changed:,}** 份结算申请作出了不同的决定{share}；"
               f"基金支付合计变化 **{yuan(s.fund_delta)}**（由 {s.fund_old.quantize(Decimal('0.01')):,} 元变为 "
               f"{s.fund_new.quantize(Decimal('0.01')):,} 元；增加 {s.fund_up:,} 份，减少 {s.fund_down:,} 份）。\n")
    if not s.changed:
        out.append("没有任何决定发生变化。\n")
        return "\n".join(out)
    out.append("## 变化的字段\n\n| 字段 | 变化份数 |\n|---|---|")
    out += [f"| {FIELD_ZH.get(f, f)}（`{f}`） | {n:,} |" for f, n in s.fields.most_common()]
    out.append("\n## 各字段的变化\n")
    for f in FIELDS:
        counter = s.transitions.get(f)
        if not counter:
            continue
        out.append(f"### {FIELD_ZH.get(f, f)}\n\n| 原 | 新 | 份数 |\n|---|---|---|")
        out += [f"| {_cell(a)} | {_cell(b)} | {n:,} |" for (a, b), n in counter.most_common(20)]
        if len(counter) > 20:
            out.append(f"| … | … | 其余 {sum(n for _, n in counter.most_common()[20:]):,} |")
        out.append("")
    out.append("## 按适用政策\n\n| 政策 | 变化份数 |\n|---|---|")
    out += [f"| {p} | {n:,} |" for p, n in s.by_policy.most_common()]
    out.append(f"\n## 变化示例（{len(s.sample)} 份）\n")
    for item in s.sample:
        out.append(f"### `{item['id']}`\n\n| 字段 | 原 | 新 |\n|---|---|---|")
        out += [f"| {FIELD_ZH.get(f, f)} | {_cell(_show(a))} | {_cell(_show(b))} |" for f, (a, b) in item["changes"].items()]
        old_rules, new_rules = set(item["old_trace"]), set(item["new_trace"])
        gone = [r for r in item["old_trace"] if r not in new_rules]
        added = [r for r in item["new_trace"] if r not in old_rules]
        out.append(f"\n原依据：{_rules(item['old_trace'])}  \n新依据：{_rules(item['new_trace'])}")
        if gone or added:
            out.append(f"  \n不再适用：{_rules(gone) or '无'}；新适用：{_rules(added) or '无'}")
        out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def _rules(ids: list[str]) -> str:
    return "、".join(f"`{r}`" for r in ids if r != "yidi.policy-selection")
