"""One page per region, in Chinese, written from the compiled policy.

Sections follow what an officer checks: which documents; the benefit table
(marked where its figures are only examples); filing rules (validity,
change/cancel limits, filings made late); the ratio reductions by treatment
standard; every rule with its condition in words and its clause; the
clause-coverage matrix; the interpretations; the policy's own test cases.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic
from ..policy.coverage import ClauseRow
from ..policy.model import Parameter, ParameterValue, Rule
from ..policy.tree import CompiledPolicy
from ..testing import Outcome
from . import facts, glossary
from .exprtext import Namer, Rendered, render
from .markdown import anchor, code, details, esc, number, pre, table
from .svg import describe, timeline


@dataclass
class PageContext:
    """Everything a region page needs besides its own policy."""

    as_of: datetime.date
    revision: str
    page_of: dict[str, str]                      # policy id → page file name (same folder)
    names: dict[str, str]                        # policy id → Chinese name
    matrix: list[ClauseRow] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    validity: dict[str, list[facts.Validity]] = field(default_factory=dict)
    handbook: bool = False                       # the hand-written pages are in the site (links to them work)
    summaries: dict[str, str] = field(default_factory=dict)  # documents that are only summaries (press Q&A) → what they are
    floor_conflicts: list = field(default_factory=list)       # `floor-conflict` findings of the static checks


class Untranslatable(Exception):
    """An expression the site cannot put into Chinese: the build stops and names the rule, rather than
    publish a condition in code an officer cannot read."""

    def __init__(self, rule: Rule, part: str, text: str):
        super().__init__(f"{rule.id} {part}: {text}")
        self.diagnostic = Diagnostic(
            "untranslatable-expression",
            f"规则 {rule.id} 的{'条件' if part == 'when' else '取值'}无法可靠地译成中文，文档网站不予发布：{text.strip()}",
            f"the {part} of rule {rule.id} cannot be put into Chinese words reliably; the docs site is not built: {text.strip()}",
            rule.position.file, rule.position.line, rule.position.column, "error",
            "改写为文档能转述的写法（见 docs/dsl.md），或为转述程序补上这种写法（engine/yidi/docsite/exprtext.py）",
            "rewrite it in a form the docs can put into words (docs/dsl.md), or teach engine/yidi/docsite/exprtext.py the form")


def words(rule: Rule, part: str, namer: Namer) -> Rendered:
    """The rule's `when` or `value` in Chinese; Untranslatable if it has no faithful words."""
    expression = rule.when if part == "when" else rule.value
    assert expression is not None
    shown = render(expression.text, namer, rule.sets if part == "value" else None)
    if shown.text is None:
        raise Untranslatable(rule, part, expression.text)
    return shown


def namer_for(compiled: CompiledPolicy) -> Namer:
    layered = compiled.layered
    return Namer({k: p.title for k, p in layered.parameters.items()}, {k: v.title for k, v in layered.variables.items()})


def rule_link(rule: Rule, here: str, ctx: PageContext) -> str:
    page = "" if rule.policy_id == here else ctx.page_of.get(rule.policy_id, "")
    return f"[{code(rule.id)}]({page}#{anchor(rule.id)})"


def citation(source, summaries: dict[str, str] | None = None) -> str:
    """文号 条款：“原文”; a citation of a summary (press Q&A) says so, so its words are not taken for the regulation's."""
    if source is None:
        return "（无出处）"
    says = f"：“{esc(source.says)}”" if source.says else ""
    summary = "（转述，非原文）" if summaries and source.document in summaries else ""
    return f"{esc(source.document)} {esc(source.clause)}{summary}{says}"


def value_cell(value: ParameterValue) -> str:
    until = f"至 {value.until.isoformat()} 前" if value.until else "起"
    marks = ""
    if value.illustrative:
        marks += " ⚠示例值"
    if value.interpretation:
        marks += " ※解释"
    shown = "、".join(glossary.value_label(v) for v in value.value) if isinstance(value.value, tuple) else number(value.value)
    return f"**{esc(shown)}**（{value.start.isoformat()} {until}）{marks}"


def parameter_cells(param: Parameter | None, summaries: dict[str, str] | None = None) -> tuple[str, str]:
    """(values, sources) for a parameter; a parameter without values says so."""
    if param is None:
        return "—", "—"
    if not param.values:
        return f"未规定（{esc(param.description or '上级文件未给出数值')}）", "—"
    values = "<br>".join(value_cell(v) for v in param.values)
    sources = "<br>".join(citation(v.source, summaries) for v in param.values)
    return values, sources


def region_page(compiled: CompiledPolicy, engine, ctx: PageContext) -> str:
    policy = compiled.layered.policy
    chain = " → ".join(ctx.names.get(p.id, p.id) for p in compiled.layered.chain)
    parts = [
        f"# {esc(policy.name)}（{policy.region}）\n",
        f"!!! note \"由政策文件自动生成\"\n    本页由 `yidi docs` 根据 `{policy.file}` 生成（政策版本 `{ctx.revision}`，取值日期 {ctx.as_of.isoformat()}），"
        f"请修改政策文件而不是本页。层级：{esc(chain)}。\n",
        _documents(compiled, ctx),
        _benefits(compiled),
        _filing(compiled, ctx),
        _reductions(compiled, ctx),
        _rules(compiled, ctx),
        _coverage(compiled, ctx),
        _interpretations(compiled, ctx),
        _floors(compiled, ctx),
        _tests(compiled, ctx),
    ]
    return "\n".join(p for p in parts if p)


def _documents(compiled: CompiledPolicy, ctx: PageContext) -> str:
    rows, notes = [], []
    for level in reversed(compiled.layered.chain):
        own = "本级" if level.id == compiled.id else f"继承自 [{esc(ctx.names.get(level.id, level.id))}]({ctx.page_of.get(level.id, '')})"
        for doc in level.documents:
            title = esc(doc.title) + (" ⚠ 转述" if doc.nature == "summary" else "")
            rows.append([esc(doc.id), title, esc(doc.issuer or "—"), esc(doc.issued or "—"), esc(doc.in_force or "—"), own])
            if doc.nature == "summary":
                notes.append(f"!!! warning \"{esc(doc.id)}：出处是转述，不是文件原文\"\n    {esc(doc.nature_note or '')}。"
                             "引用它的条款编号和原文摘录都出自这份转述；依据链中这类出处带 `source_nature: summary`。\n")
    out = ["## 文件\n", table(["文号", "标题", "发文机关", "印发", "施行", "层级"], rows), *notes]
    for level in compiled.layered.chain:
        if level.in_force is not None:
            mark = "（※解释）" if level.in_force.interpretation else ""
            why = (level.in_force.interpretation or level.in_force.note or "").rstrip("。")
            reason = f"：{esc(why)}" if why else ""
            out.append(f"{esc(ctx.names.get(level.id, level.id))}政策的规则自 **{level.in_force.start.isoformat()}**（按结算日期）起适用{mark}"
                       f"{reason}。此前结算的，只适用上级政策；上级没有规定的输出列为未能确定。\n")
    return "\n".join(out)


def _benefits(compiled: CompiledPolicy) -> str:
    out = ["## 待遇表\n"]
    if not compiled.layered.benefits:
        out.append("本政策及其上级没有待遇表：决定中不计算支付比例和金额（ratio、基金支付为空）。\n")
    for t in compiled.layered.benefits:
        mark = " ⚠ 示例值" if t.illustrative else ""
        origin = "" if t.policy_id == compiled.id else f"（继承自 {esc(t.policy_id)}）"
        out.append(f"### {esc(t.title)}{mark}{origin}\n")
        if t.illustrative:
            out.append(f"!!! warning \"示例值，未经公开文件确认\"\n    {esc(t.note or '')}\n    使用本表计算的决定带有 `benefit_table_illustrative` 标记。\n")
        elif t.note:
            out.append(esc(t.note) + "\n")
        if t.source is not None:
            out.append(f"依据：{citation(t.source)}\n")
        care = "、".join(glossary.value_label(c) for c in t.care)
        out.append(f"适用就医类型：{care}。位置：`{t.position.file}:{t.position.line}`\n")
        rows = [[glossary.value_label(r.scheme), f"{r.level}级" if r.level else "不分等级", number(r.deductible) + " 元",
                 number(r.ratio), (number(r.cap) + " 元") if r.cap is not None else "不封顶"] for r in t.rows]
        out.append(table(["险种", "医院等级", "起付标准", "支付比例", "最高支付限额"], rows))
    return "\n".join(out)


def _filing(compiled: CompiledPolicy, ctx: PageContext) -> str:
    on_claims, on_requests, params = facts.filing_rules(compiled)
    namer = namer_for(compiled)
    out = ["## 备案规则\n", "### 备案有效期\n"]
    validity = ctx.validity.get(compiled.id, [])
    if validity:
        rows = [(glossary.value_label(v.filing_type), v) for v in validity]
        out.append(f'<div class="yidi-figure">{timeline(rows, f"{compiled.layered.policy.name}：{validity[0].start.isoformat()} 办理的备案有效期")}</div>\n')
        out.append("下表由本政策对每类人员的一份备案申请作出的答复得出（`validity.end_date`）：\n")
        out.append(table(["人员类别", "有效期"], [[glossary.value_label(v.filing_type), esc(describe(v))] for v in validity]))
    if params:
        rows = []
        for p in params:
            values, sources = parameter_cells(p, ctx.summaries)
            rows.append([esc(p.title), code(p.name), values, sources])
        out.append("### 备案参数\n\n" + table(["参数", "名称", "取值", "依据"], rows))
    retro = facts.retro_rules(compiled)
    if retro:
        out.append("### 补办备案\n")
        out += [_rule_line(r, compiled, ctx, namer) for r in retro]
    if on_requests:
        out.append("\n### 备案办理、变更、取消\n")
        out += [_rule_line(r, compiled, ctx, None) for r in on_requests]
    if on_claims:
        out.append("\n### 结算时如何判定备案状态\n")
        out += [_rule_line(r, compiled, ctx, None) for r in on_claims]
    return "\n".join(out) + "\n"


def _rule_line(rule: Rule, compiled: CompiledPolicy, ctx: PageContext, namer: Namer | None) -> str:
    """A rule as one list item; with `namer`, its condition in words too."""
    condition = f"：当 {esc(words(rule, 'when', namer).text)}" if rule.when is not None and namer is not None else ""
    return f"- {esc(rule.title)}{condition}（{esc(rule.source.label())}；{rule_link(rule, compiled.id, ctx)}）"


def _reductions(compiled: CompiledPolicy, ctx: PageContext) -> str:
    by_treatment, others = facts.reductions(compiled)
    out = ["## 支付比例降低（按待遇标准）\n",
           "降低的百分点从参保地同级别医疗机构的支付比例中扣减（“就医地目录、参保地政策”）。"
           "※ 表示取值依据解释，⚠ 表示示例值。\n"]
    rows = []
    for row in by_treatment:
        values, sources = (parameter_cells(row.parameter, ctx.summaries) if row.parameter
                           else (_value_words(row.rule, compiled), citation(row.rule.source, ctx.summaries)))
        rows.append([glossary.treatment_label(row.treatment), values, sources, rule_link(row.rule, compiled.id, ctx)])
    out.append(table(["待遇标准", "降低百分点", "依据", "规则"], rows) or "本政策没有按待遇标准设定降低幅度的规则。\n")
    if others:
        namer = namer_for(compiled)
        rows = []
        for row in others:
            condition = esc(words(row.rule, "when", namer).text) if row.rule.when else "总是"
            values, _ = parameter_cells(row.parameter) if row.parameter else (_value_words(row.rule, compiled), "")
            rows.append([esc(row.rule.title), condition, values, citation(row.rule.source, ctx.summaries), rule_link(row.rule, compiled.id, ctx)])
        out.append("\n### 其他情形\n\n" + table(["情形", "条件", "降低百分点", "依据", "规则"], rows))
    return "\n".join(out) + "\n"


def _value_words(rule: Rule, compiled: CompiledPolicy) -> str:
    if rule.value.is_literal:
        return esc(glossary.value_label(rule.value.literal, rule.sets))
    return esc(words(rule, "value", namer_for(compiled)).text)


def _rules(compiled: CompiledPolicy, ctx: PageContext) -> str:
    namer = namer_for(compiled)
    own = [r for r in compiled.layered.rules if r.policy_id == compiled.id]
    inherited = [r for r in compiled.layered.rules if r.policy_id != compiled.id]
    out = ["## 规则\n", f"本级规则 {len(own)} 条，继承的规则 {len(inherited)} 条。规则是默认规则，"
           "写明“例外于”的规则在适用时排除被例外的规则"
           + ("（见[政策文件格式](../policy-format.md)）。\n" if ctx.handbook else "。\n")]
    if own:
        out.append("### 本级规则\n")
        out += [_rule_block(r, compiled, ctx, namer) for r in own]
    if inherited:
        rows = [[rule_link(r, compiled.id, ctx), esc(r.title), glossary.name_label(r.sets) or code(r.sets), esc(r.source.label())]
                for r in inherited]
        out.append("### 继承的规则\n\n" + table(["编号", "标题", "设置", "依据"], rows))
    return "\n".join(out) + "\n"


def _rule_block(rule: Rule, compiled: CompiledPolicy, ctx: PageContext, namer: Namer) -> str:
    sets = glossary.name_label(rule.sets) or namer.variables.get(rule.sets) or rule.sets
    lines = [f"#### {esc(rule.title)} {{#{anchor(rule.id)}}}\n",
             f"- 编号 {code(rule.id)}，设置 **{esc(sets)}**（{code(rule.sets)}），位置 `{rule.position.file}:{rule.position.line}`"]
    if rule.when is None:
        lines.append("- 条件：总是适用（作为默认规则）")
    else:
        shown = words(rule, "when", namer)
        if len(shown.conjuncts) > 1:
            lines.append("- 条件：同时满足")
            lines += [f"    - {esc(c)}" for c in shown.conjuncts]
        else:
            lines.append(f"- 条件：{esc(shown.text)}")
    if rule.value.is_literal:
        lines.append(f"- 取值：“{esc(glossary.value_label(rule.value.literal, rule.sets))}”")
    else:
        lines.append(f"- 取值：{esc(words(rule, 'value', namer).text)}")
    if rule.overrides:
        targets = "、".join("同一变量的所有其他规则" if t == "*" else _link_by_id(t, compiled, ctx) for t in rule.overrides)
        lines.append(f"- 例外于：{targets}")
    if rule.effective_from or rule.effective_until:
        lines.append(f"- 适用期间：{number(rule.effective_from) if rule.effective_from else '—'} 至 "
                     f"{number(rule.effective_until) + ' 前' if rule.effective_until else '长期'}")
    lines.append(f"- 依据：{citation(rule.source, ctx.summaries)}")
    if rule.guard:
        lines.append(f"- 防护规则（现行取值下不会适用）：{esc(rule.guard)}")
    if rule.interpretation:
        lines.append(f"- ※ 解释：{esc(rule.interpretation)}")
    code_text = "\n".join(f"{k}: {e.text.strip()}" for k, e in (("when", rule.when), ("value", rule.value)) if e is not None)
    lines.append("\n" + details("表达式原文", pre(code_text)))
    return "\n".join(lines) + "\n"


def _link_by_id(rule_id: str, compiled: CompiledPolicy, ctx: PageContext) -> str:
    for rule in compiled.layered.rules:
        if rule.id == rule_id:
            return rule_link(rule, compiled.id, ctx)
    return code(rule_id)


def _coverage(compiled: CompiledPolicy, ctx: PageContext) -> str:
    rows = []
    for row in ctx.matrix:
        if row.policy_id != compiled.id:
            continue
        rules = "<br>".join(_link_by_id(r, compiled, ctx) for r in row.rules)
        params = "<br>".join(code(p.split(":", 1)[-1]) for p in row.parameters)
        cases = "<br>".join(esc(c.split("::", 1)[-1]) for c in row.cases)
        status = f"不编码：{esc(row.not_encoded)}" if row.not_encoded else ("已编码、已测试" if row.cases else "⚠ 缺测试")
        rows.append([esc(row.document), esc(row.clause), esc(row.summary), rules, params, cases, status])
    if not rows:
        return ""
    return ("## 条款覆盖\n\n每条条款或由规则、参数实现并有测试用例检验，或写明不编码的原因（`sources.yaml`）。\n\n"
            + table(["文件", "条款", "内容", "规则", "参数", "测试用例", "状态"], rows))


def _interpretations(compiled: CompiledPolicy, ctx: PageContext) -> str:
    found = facts.interpretations(compiled)
    if not found:
        return "## 解释\n\n本政策及其上级没有依据解释的规则或取值。\n"
    rows = []
    for kind, name, policy_id, text in found:
        shown = _link_by_id(name, compiled, ctx) if kind == "规则" else code(name)
        rows.append([kind, shown, esc(ctx.names.get(policy_id, policy_id)), esc(text)])
    return ("## 解释\n\n文件没有明确规定、由规则补足的地方。凡据此作出的决定都带有 `interpretation_applied` 标记，"
            "请经办人员确认或更正。\n\n" + table(["类别", "名称", "所属政策", "解释"], rows))


def _floors(compiled: CompiledPolicy, ctx: PageContext) -> str:
    """The floors set above (or here), and the situations where this policy's decisions fall below one."""
    layered = compiled.layered
    if not layered.floors:
        return ""
    rows = [[code(f.id), esc(f.title), citation(f.source, ctx.summaries), esc(ctx.names.get(f.policy_id, f.policy_id))]
            for f in layered.floors]
    out = ["## 保底（上级规定的待遇下限）\n",
           "决定低于保底时，引擎仍按适用的规则决定，但带 `floor_conflict` 标记并在依据链中指出保底条款；"
           "`yidi validate` 把这类情形列为“待确认”。\n", table(["保底", "内容", "依据", "规定者"], rows)]
    conflicts = [c for c in ctx.floor_conflicts if c.file == layered.policy.file]
    if conflicts:
        out.append("\n### 与保底相抵触、待确认的规定\n")
        out += [f"- {esc(c.message_zh)}（`{c.file}:{c.line}`）" for c in conflicts]
        out.append("")
    return "\n".join(out)


def _tests(compiled: CompiledPolicy, ctx: PageContext) -> str:
    mine = [o for o in ctx.outcomes if o.case.policy_id == compiled.id]
    if not mine:
        return "## 测试用例 {#tests}\n\n本政策还没有测试用例。\n"
    rows = [["✓" if o.passed else "✗ 未通过", esc(o.case.name), f"`{o.case.file}`",
             "、".join(esc(c.label()) for c in o.case.checks)] for o in mine]
    passed = sum(o.passed for o in mine)
    return (f"## 测试用例 {{#tests}}\n\n共 {len(mine)} 个，通过 {passed} 个（`yidi test` 的结果）。\n\n"
            + table(["结果", "用例", "文件", "检验条款"], rows))
