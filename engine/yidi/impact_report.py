"""Reports of `yidi diff`: terminal summary, JSON, and one document rendered as Markdown or HTML.

The report answers, in this order: how many claims changed outcome (and how
many only changed the policy's name), how many became undecidable or lost a
known fund payment (counted apart, never as money), how much the fund pays
more or less and for whom (by insured region, scheme, visit kind and
treatment), and which claims show it best — everyone made worse off first,
then the largest changes, then one of each kind, each with the trace steps
that made the difference. Every count can be checked by hand against the
per-claim changes file (its columns are described at the end).

`document()` builds the report once as a list of blocks (headings,
paragraphs, tables, charts); `markdown()` here and `impact_html.html()`
render the same blocks, so the two reports cannot say different things.
"""

from __future__ import annotations

import dataclasses
import datetime
import pathlib
from decimal import Decimal
from typing import Any

from .impact import FIELDS
from .impact_html import html
from .impact_labels import DIMENSION_ZH, FIELD_ZH, Labels, number, percent, yuan
from .impact_summary import BIN_EDGES, DIMENSIONS, Summary, Tally
from .jsonout import dumps

REASONS = {
    "worse": "待遇变差（基金少付）",
    "unknown": "变为无法决定，或基金支付变为未能确定",
    "largest": "基金支付变化最大",
    "kind": "一类变化的示例",
}
TOP_ROWS = 30          # rows of a breakdown shown; the rest are summed in one line


@dataclasses.dataclass
class Context:
    old_label: str
    new_label: str
    claims: str
    seconds: float
    labels: Labels
    steps: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)   # line → differing trace steps
    changes_file: str | None = None
    html_file: str | None = None


# ── the blocks ────────────────────────────────────────────────────────────────
# ("h", level, text) · ("p", text) · ("list", [text…]) · ("note", text) · ("table", header, rows)
# · ("chart", kind, data). Text may hold **bold** and `code` (rendered by both formats).


def bin_label(index: int) -> str:
    """The words for one bin of the fund-change distribution (see impact_summary.fund_bin)."""
    size = abs(index)
    edges = [Decimal(0), *BIN_EDGES]
    if size > len(BIN_EDGES):
        span = f"超过 {int(BIN_EDGES[-1]):,} 元"
    else:
        span = f"{int(edges[size - 1]):,}～{int(edges[size]):,} 元"
    return ("多付 " if index > 0 else "少付 ") + span


def _headline(t: Tally, ctx: Context, partial: bool) -> list[tuple]:
    compared = t.claims
    both = compared - t.fund_unknown_old - t.fund_appeared   # claims with a known fund payment under both trees
    out: list[tuple] = []
    if partial:
        out.append(("note", "**运行被中断，以下只是已处理部分的结果。**"))
    out.append(("h", 2, "结论"))
    items = [
        f"结算申请 {t.claims + t.invalid + t.not_claims:,} 份：比较了 {compared:,} 份结算申请"
        + (f"；输入无效 {t.invalid:,} 份（未比较，见文末）" if t.invalid else "")
        + (f"；备案申请 {t.not_claims:,} 份（本报告只比较结算申请）" if t.not_claims else "") + "。",
        f"**决定结果有变化：{t.outcome:,} 份**（占 {percent(t.outcome, compared)}）。"
        f"另有 {t.label:,} 份只是适用政策的名称变了（如由省级政策改由新设的市级政策决定），结果完全相同，不算作影响。",
        f"**基金支付合计变化 {yuan(t.fund_delta)}**：只计两版政策都能确定基金支付的 {both:,} 份申请"
        f"（{yuan(t.fund_old, signed=False)} → {yuan(t.fund_new, signed=False)}）；"
        f"其中待遇变好（基金多付）{t.better:,} 份，**待遇变差（基金少付）{t.worse:,} 份**。",
        f"**无法决定、未能确定的申请单独计数，从不按 0 元计入金额**：政策无法决定的，原政策下 {t.undecidable_old:,} 份、"
        f"新政策下 {t.undecidable_new:,} 份（新变为无法决定 {t.became_undecidable:,} 份，由无法决定变为可以决定 {t.became_decidable:,} 份）；"
        f"基金支付未能确定的（含无法决定），原政策下 {t.fund_unknown_old:,} 份、新政策下 {t.fund_unknown_new:,} 份"
        f"（由能确定变为不能确定 {t.fund_vanished:,} 份，由不能确定变为能确定 {t.fund_appeared:,} 份）。",
    ]
    out.append(("list", items))
    out.append(("list", [f"原政策：`{ctx.old_label}`", f"新政策：`{ctx.new_label}`", f"结算申请文件：`{ctx.claims}`",
                         f"生成时间：{datetime.datetime.now():%Y-%m-%d %H:%M}，用时 {ctx.seconds:.1f} 秒"]))
    return out


def _breakdowns(t: Tally, ctx: Context) -> list[tuple]:
    out: list[tuple] = [("h", 2, "谁受影响：分类统计"),
                        ("p", "每张表覆盖全部比较了的申请。“基金支付变化”只计两版都能确定基金支付的申请；"
                              "“金额能否确定有变化”是基金支付由能确定变为不能确定（或反过来）的份数，不计金额。")]
    header = ["", "申请份数", "结果有变化", "仅政策名称变化", "变好（多付）", "变差（少付）", "基金支付变化", "单笔最大增加",
              "单笔最大减少", "金额能否确定有变化"]
    for dimension in DIMENSIONS:
        rows = t.groups[dimension]
        ordered = sorted(rows.items(), key=lambda kv: (-(kv[1].outcome + kv[1].unknown), -abs(kv[1].delta), -kv[1].label,
                                                       -kv[1].claims, str(kv[0])))
        touched = [(key, g) for key, g in ordered if g.outcome or g.label or g.unknown]
        shown = touched[:TOP_ROWS] if len(touched) < len(ordered) or len(ordered) > TOP_ROWS else ordered
        table = []
        for key, g in shown:
            table.append([ctx.labels.dimension(dimension, key), f"{g.claims:,}", f"{g.outcome:,}", f"{g.label:,}", f"{g.better:,}",
                          f"{g.worse:,}", yuan(g.delta), yuan(g.largest_gain), yuan(g.largest_loss), f"{g.unknown:,}"])
        rest = ordered[len(shown):]
        if rest:
            table.append([f"其余 {len(rest)} 项" + ("（无变化）" if not any(g.outcome or g.label or g.unknown for _, g in rest) else ""), f"{sum(g.claims for _, g in rest):,}", f"{sum(g.outcome for _, g in rest):,}",
                          f"{sum(g.label for _, g in rest):,}", f"{sum(g.better for _, g in rest):,}", f"{sum(g.worse for _, g in rest):,}",
                          yuan(sum((g.delta for _, g in rest), Decimal(0))), "", "", f"{sum(g.unknown for _, g in rest):,}"])
        out.append(("h", 3, f"按{DIMENSION_ZH[dimension]}"))
        out.append(("table", [DIMENSION_ZH[dimension], *header[1:]], table))
        if dimension == "insured_region":
            bars = [(ctx.labels.dimension(dimension, key), g.delta) for key, g in ordered if g.delta]
            if bars:
                out.append(("chart", "regions", {"title": "各参保地基金支付变化（元）", "bars": bars[:TOP_ROWS]}))
    return out


def _distribution(t: Tally) -> list[tuple]:
    if not t.bins:
        return []
    order = sorted(t.bins)
    rows = [[bin_label(i), f"{t.bins[i]:,}"] for i in order]
    return [("h", 2, "每份申请的基金支付变化分布"),
            ("p", f"基金支付有变化的 {t.better + t.worse:,} 份申请，按变化金额分档（少付为待遇变差）。"),
            ("chart", "histogram", {"title": "每份申请的基金支付变化（份数）", "bars": [(bin_label(i), t.bins[i], i) for i in order]}),
            ("table", ["变化金额", "份数"], rows)]


def _fields(t: Tally, ctx: Context) -> list[tuple]:
    if not t.fields:
        return []
    out: list[tuple] = [("h", 2, "变化的字段"),
                        ("table", ["字段", "变化份数"], [[f"{FIELD_ZH.get(f, f)}（`{f}`）", f"{n:,}"] for f, n in t.fields.most_common()]),
                        ("h", 2, "各字段怎样变化")]
    for f in FIELDS:
        counter = t.transitions.get(f)
        if not counter:
            continue
        rows = [[_value(ctx, f, a), _value(ctx, f, b), f"{n:,}"] for (a, b), n in counter.most_common(20)]
        if len(counter) > 20:
            rows.append(["…", "…", f"其余 {sum(n for _, n in counter.most_common()[20:]):,}"])
        out += [("h", 3, FIELD_ZH.get(f, f)), ("table", ["原", "新", "份数"], rows)]
    return out


def _value(ctx: Context, field: str, value: Any) -> str:
    return "…" if value == "…" else ctx.labels.value(field, value)


def _examples(s: Summary, ctx: Context) -> list[tuple]:
    chosen = s.examples()
    if not chosen:
        return []
    t = s.tally
    out: list[tuple] = [("h", 2, f"示例（{len(chosen)} 份，按影响挑选）"),
                        ("p", (f"先列出待遇变差的申请（共 {t.worse:,} 份，按少付金额从多到少"
                               + (f"，列出前 {s.sample} 份；全部见逐条变化文件" if t.worse > s.sample else "，全部列出") + "），"
                               if t.worse else "没有待遇变差（基金少付）的申请。先")
                              + "列出变为无法决定或基金支付未能确定的、变化最大的，最后每类变化各一例。"
                              "每份申请只列出两版政策下不同的依据步骤。")]
    section = None
    for reason, record in chosen:
        if reason != section:
            section = reason
            out.append(("h", 3, REASONS[reason]))
        out += _example(record, ctx)
    return out


def _example(record: dict[str, Any], ctx: Context) -> list[tuple]:
    labels = ctx.labels
    who = (f"参保地 {labels.region(record['insured_region'])}，{labels.dimension('scheme', record['scheme'])}，"
           f"{labels.dimension('visit_kind', record['visit_kind'])}；基金支付 {yuan(record['fund'][0], signed=False)} → "
           f"{yuan(record['fund'][1], signed=False)}（{yuan(record['fund_delta']) if record['fund_delta'] is not None else '金额未能确定，不计'}）")
    rows = [[FIELD_ZH.get(f, f), labels.value(f, a), labels.value(f, b)] for f, (a, b) in record["changes"].items()]
    out: list[tuple] = [("h", 4, f"`{record['id']}`（第 {record['line']:,} 行）"), ("p", who), ("table", ["字段", "原", "新"], rows)]
    steps = ctx.steps.get(str(record["line"]))
    if steps:
        out.append(("p", "**不同的依据步骤**："))
        out.append(("table", ["规则", "设定", "原", "新", "所用参数（原 → 新）"], [_step_row(step, labels) for step in steps]))
    elif record["rules_removed"] or record["rules_added"]:
        out.append(("p", f"不再适用：{_ids(record['rules_removed'])}；新适用：{_ids(record['rules_added'])}"))
    return out


def _step_row(step: dict[str, Any], labels: Labels) -> list[str]:
    rule = f"`{step['rule']}`" if step["rule"] else ""
    title = f"{rule} {step['title'] or ''}".strip() + (f"（{step['source']}）" if step.get("source") else "")
    variable = step.get("variable")
    shown = FIELD_ZH.get(variable or "", variable or "")
    old = "（不适用）" if step["applies"] == "new" else _step_value(labels, variable, step["old"])
    new = "（不适用）" if step["applies"] == "old" else _step_value(labels, variable, step["new"])
    params = "；".join(f"`{p['name']}` {_plain(p['old'])}"
                      + (f"（{p['old_source']}）" if p.get("old_source") else "")
                      + f" → {_plain(p['new'])}" + (f"（{p['new_source']}）" if p.get("new_source") else "")
                      for p in step["parameters"])
    return [title, shown, old, new, params or "—"]


def _step_value(labels: Labels, variable: str | None, value: Any) -> str:
    if variable in FIELD_ZH and not isinstance(value, dict | list):
        return labels.value(variable, value) if variable != "flags" else _plain(value)
    return _plain(value)


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal | int):
        return number(value)
    if isinstance(value, list | tuple):
        return "、".join(_plain(v) for v in value) or "（空）"
    if isinstance(value, dict):
        return "，".join(f"{k} {_plain(v)}" for k, v in value.items())
    return str(value)


def _ids(ids: list[str]) -> str:
    return "、".join(f"`{r}`" for r in ids) or "无"


def _invalid(s: Summary) -> list[tuple]:
    if not s.invalid_examples:
        return []
    return [("h", 2, "无效的输入行（未比较）"),
            ("table", ["行", "申请编号", "问题"], [[f"{i['line']:,}", i["id"] or "—", i["problems"]] for i in s.invalid_examples])]


def _files(ctx: Context) -> list[tuple]:
    if not ctx.changes_file:
        return []
    return [("h", 2, "逐条变化文件"),
            ("p", f"`{ctx.changes_file}` 每行一份有变化的申请（JSON），可按参保地、险种、就医类型筛选，逐项核对以上各数：`id`、`line`（输入文件行号）、"
                  "`insured_region`（参保地）、`scheme`（险种）、`visit_kind`（就医类型）、`policy` 与 `treatment`（[原, 新]）、"
                  "`change`（`outcome` 结果有变化，`label` 仅政策名称变化）、`changes`（变化的字段：[原, 新]）、"
                  "`fund`（基金支付 [原, 新]，未能确定为 null）、`fund_delta`（新减原；任一方未能确定时为 null，不计入合计）、"
                  "`rules_removed` / `rules_added`（不再适用 / 新适用的规则）。")]


def document(s: Summary, ctx: Context) -> list[tuple]:
    """The whole report as blocks."""
    t = s.tally
    blocks: list[tuple] = [("h", 1, "政策变更影响报告")]
    blocks += _headline(t, ctx, s.partial)
    if not t.changed:
        blocks.append(("p", "没有任何决定发生变化。"))
        return blocks + _invalid(s)
    blocks += _breakdowns(t, ctx)
    blocks += _distribution(t)
    blocks += _examples(s, ctx)
    blocks += _fields(t, ctx)
    blocks += _invalid(s)
    blocks += _files(ctx)
    return blocks


# ── Markdown ──────────────────────────────────────────────────────────────────
def markdown(blocks: list[tuple], html_file: str | None = None) -> str:
    out: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            out.append("#" * block[1] + " " + block[2] + "\n")
        elif kind == "p":
            out.append(block[1] + "\n")
        elif kind == "note":
            out.append("> " + block[1] + "\n")
        elif kind == "list":
            out.append("\n".join(f"- {item}" for item in block[1]) + "\n")
        elif kind == "table":
            header, rows = block[1], block[2]
            out.append("| " + " | ".join(_cell(h) for h in header) + " |\n|" + "---|" * len(header))
            out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
            out.append("")
        elif kind == "chart" and html_file:
            out.append(f"（图：{block[2]['title']}，见 HTML 报告 `{html_file}`）\n")
    return "\n".join(out)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# ── terminal and JSON ─────────────────────────────────────────────────────────
def terminal(s: Summary, ctx: Context) -> str:
    t = s.tally
    lines = (["（已中断，以下为已处理部分的结果）"] if s.partial else []) + [
        f"政策变更影响：{ctx.old_label} → {ctx.new_label}（用时 {ctx.seconds:.1f} 秒）",
        f"  结算申请 {t.claims:,} 份（输入无效 {t.invalid:,} 份）：决定结果有变化 {t.outcome:,} 份（{percent(t.outcome, t.claims)}），"
        f"仅政策名称变化 {t.label:,} 份",
        f"  基金支付合计（两版都能确定金额的申请）：{yuan(t.fund_delta)}；待遇变好 {t.better:,} 份，待遇变差 {t.worse:,} 份",
        f"  不计入金额：无法决定 原 {t.undecidable_old:,} / 新 {t.undecidable_new:,} 份（新变为无法决定 {t.became_undecidable:,} 份）；"
        f"基金支付未能确定 原 {t.fund_unknown_old:,} / 新 {t.fund_unknown_new:,} 份（变为不能确定 {t.fund_vanished:,} 份，"
        f"变为能确定 {t.fund_appeared:,} 份）"]
    if t.fields:
        lines.append("  变化的字段：" + "，".join(f"{FIELD_ZH.get(f, f)} {n:,}" for f, n in t.fields.most_common()))
    for f in FIELDS:
        for (a, b), n in t.transitions[f].most_common(3) if f in t.transitions else ():
            lines.append(f"    {FIELD_ZH.get(f, f)}：{_value(ctx, f, a)} → {_value(ctx, f, b)}  {n:,} 份")
    worse = [r for reason, r in s.examples() if reason == "worse"]
    if worse:
        lines.append(f"  待遇变差的申请（少付最多的 {min(len(worse), 5)} 份）：" + "，".join(
            f"{r['id']}（{yuan(r['fund_delta'])}）" for r in worse[:5]))
    return "\n".join(lines)


def to_json(s: Summary, ctx: Context) -> dict[str, Any]:
    t = s.tally
    return {
        "old": ctx.old_label, "new": ctx.new_label, "claims_file": ctx.claims, "partial": s.partial,
        "claims": t.claims + t.invalid + t.not_claims, "invalid": t.invalid, "not_claims": t.not_claims, "compared": t.claims,
        "changed": t.changed, "outcome_changed": t.outcome, "label_only": t.label,
        "changed_fields": dict(t.fields.most_common()),
        "transitions": {f: [{"old": _jsonable(a), "new": _jsonable(b), "count": n} for (a, b), n in c.most_common()]
                        for f, c in t.transitions.items() if c},
        "undecidable": {"old": t.undecidable_old, "new": t.undecidable_new, "became": t.became_undecidable, "stopped": t.became_decidable},
        "fund": {"old_total": t.fund_old, "new_total": t.fund_new, "delta": t.fund_delta, "better_off": t.better, "worse_off": t.worse,
                 "not_determined_old": t.fund_unknown_old, "not_determined_new": t.fund_unknown_new,
                 "appeared": t.fund_appeared, "vanished": t.fund_vanished},
        "distribution": [{"bin": i, "label": bin_label(i), "count": t.bins[i]} for i in sorted(t.bins)],
        "breakdown": {d: [{"key": key, "label": ctx.labels.dimension(d, key), **g.to_json()}
                          for key, g in sorted(t.groups[d].items(), key=lambda kv: str(kv[0]))] for d in DIMENSIONS},
        "examples": [{"reason": reason, **record, "steps": ctx.steps.get(str(record["line"]), [])} for reason, record in s.examples()],
        "invalid_examples": s.invalid_examples,
        "seconds": round(ctx.seconds, 1),
    }


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def write_json(path: str, data: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(dumps(data, indent=2) + "\n")


def write_reports(s: Summary, ctx: Context, steps, json_file: str | None, markdown_file: str | None,
                  html_file: str | None) -> list[str]:
    """Write the JSON, Markdown and HTML reports asked for; `steps()` words the examples' differing steps.

    One place for `yidi diff` and its Spark twin, so both write the same reports. The steps are
    computed only when some report is asked for (they re-decide the examples with full traces).
    Returns the paths written.
    """
    if json_file or markdown_file or html_file:
        ctx.steps = steps()
    if json_file:
        write_json(json_file, to_json(s, ctx))
    blocks = document(s, ctx) if markdown_file or html_file else []
    if markdown_file:
        pathlib.Path(markdown_file).write_text(markdown(blocks, html_file), encoding="utf-8")
    if html_file:
        pathlib.Path(html_file).write_text(html(blocks), encoding="utf-8")
    return [path for path in (json_file, markdown_file, html_file) if path]
