// Answers as people read them: the decision card, the cited trace, the what-if comparison, the filing
// timeline and the parameters table. Field names come from the decision schema's Chinese titles (as
// /openapi.json carries them), codes from the glossary the docs site uses (/workbench/data.json); a code
// without a word is shown as code, never guessed. The card is generic: any field it does not know is still
// shown, and a null output listed in `undetermined` (contract §2.1) says so with the reason and the clause.

import { el, getPath } from "./form.js";

const SVG = "http://www.w3.org/2000/svg";
const SKIP = new Set(["claim_id", "request_id", "policy", "flags", "trace", "undetermined"]);

export function word(ctx, field, value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean") return value ? "是" : "否";
  const leaf = field ? field.split(".").pop() : "";
  if (leaf === "treatment" && ctx.labels.treatment[value]) return ctx.labels.treatment[value];
  if (field === "flags" && ctx.labels.flags[value]) return ctx.labels.flags[value];
  const byField = ctx.labels.fields[field];
  if (byField && String(value) in byField) return byField[String(value)];
  if (typeof value === "string" && ctx.labels.values[value]) return ctx.labels.values[value];
  return null;
}

function money(value) {
  return `${Number(value).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} 元`;
}

// A value as text: Chinese word first, the code beside it for integrators.
export function shown(ctx, field, value) {
  if (value === null || value === undefined) return el("span", { class: "none" }, "—");
  if (Array.isArray(value)) {
    if (!value.length) return el("span", { class: "none" }, "无");
    return el("span", {}, ...value.flatMap((v, i) => [i ? "、" : "", shown(ctx, field, v)]));
  }
  if (typeof value === "object") return el("code", {}, JSON.stringify(value));
  if (typeof value === "number") {
    if (field === "ratio") return el("span", {}, `${+(value * 100).toFixed(2)}%`);
    if (field === "reduction_pp") return el("span", {}, `${value} 个百分点`);
    if (field.startsWith("amounts.")) return el("span", {}, money(value));
  }
  const text = word(ctx, field, value);
  if (text === null) return el("span", {}, typeof value === "string" ? value : JSON.stringify(value));
  if (typeof value === "boolean") return el("span", {}, text);
  return el("span", {}, el("span", { class: "word" }, text), " ", el("code", {}, String(value)));
}

export function titleOf(ctx, schema, path) {
  const s = ctx.schemas.at(schema, path);
  if (s && s.title) return s.title;
  if (path === "undetermined") return "未能决定";
  return path;
}

function undeterminedOf(answer) {
  return Array.isArray(answer.undetermined) ? answer.undetermined : [];
}

function isUndetermined(answer, path) {
  return undeterminedOf(answer).some((u) => u && (u.output === path || path.startsWith(`${u.output}.`)));
}

function fact(ctx, schema, answer, path, value) {
  let dd;
  if (value === null && isUndetermined(answer, path)) dd = el("span", { class: "undetermined" }, "未决定（原因见下）");
  else if (value === null) dd = el("span", { class: "none" }, "—（无）");
  else dd = shown(ctx, path, value);
  const cut = path.lastIndexOf(".");
  const parent = cut > 0 ? el("span", { class: "parent" }, `${titleOf(ctx, schema, path.slice(0, cut))} · `) : null;
  return el("div", { class: "fact", "data-field": path }, el("dt", {}, parent, titleOf(ctx, schema, path)), el("dd", {}, dd));
}

function facts(ctx, schema, answer) {
  const list = el("dl", { class: "facts" });
  const order = [...Object.keys(schema.properties || {}), ...Object.keys(answer).filter((k) => !(k in (schema.properties || {})))];
  for (const key of order) {
    if (SKIP.has(key) || !(key in answer)) continue;
    const value = answer[key];
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [sub, item] of Object.entries(value)) list.append(fact(ctx, schema, answer, `${key}.${sub}`, item));
    } else {
      list.append(fact(ctx, schema, answer, key, value));
    }
  }
  return list;
}

function flagsBlock(ctx, schema, answer) {
  const flags = Array.isArray(answer.flags) ? answer.flags : [];
  return el("div", { class: "flags", "data-field": "flags" },
    el("h4", {}, titleOf(ctx, schema, "flags")),
    flags.length ? el("ul", {}, ...flags.map((f) => el("li", {}, el("span", { class: "word" }, ctx.labels.flags[f] || f), " ", el("code", {}, f))))
      : el("p", { class: "none" }, "无"));
}

function undeterminedBlock(ctx, schema, answer) {
  const items = undeterminedOf(answer);
  if (!items.length) return null;
  return el("section", { class: "undetermined-list", "data-field": "undetermined", "aria-label": "未能决定的项目" },
    el("h4", {}, `未能决定的项目（${items.length}）`),
    el("p", { class: "hint" }, "政策对这些项目没有作出规定，引擎如实留空（null），由下列条款所指的一方决定；其余项目照常决定。"),
    el("ul", {}, ...items.map((u) => el("li", { "data-output": u.output },
      el("strong", {}, titleOf(ctx, schema, u.output || "")), " ", el("code", {}, u.output || ""), "：",
      el("span", { class: "reason" }, u.reason || ""),
      u.source ? el("span", { class: "source" }, "（依据 ", el("cite", {}, u.source), "）") : null,
      u.reason_en ? el("span", { class: "en", lang: "en" }, u.reason_en) : null))));
}

function policyLine(answer) {
  const p = answer.policy;
  if (!p) return null;
  return el("p", { class: "policy" }, `适用政策：${p.name || p.id}（${p.id}，${p.region}）`,
    p.revision ? ` · 政策版本 ${p.revision}` : "", p.documents ? ` · 文件：${p.documents.join("、")}` : "");
}

export function decisionCard(ctx, decision) {
  const schema = ctx.decisionSchema;
  const headline = el("p", { class: "headline" },
    el("span", { class: `route route-${decision.route}` }, word(ctx, "route", decision.route) || String(decision.route)),
    " · ", word(ctx, "treatment", decision.treatment) || String(decision.treatment));
  return el("article", { class: "card decision", "aria-labelledby": "card-title" },
    el("h3", { id: "card-title" }, `结算决定 · ${decision.claim_id}`),
    policyLine(decision), headline, facts(ctx, schema, decision), flagsBlock(ctx, schema, decision),
    undeterminedBlock(ctx, schema, decision));
}

export function filingCard(ctx, answer, request) {
  const schema = ctx.filingSchema;
  const headline = el("p", { class: "headline" },
    el("span", { class: answer.allowed ? "route route-direct" : "route route-none" }, answer.allowed ? "允许办理" : "不允许办理"),
    answer.reason ? ` · ${answer.reason}` : "");
  return el("article", { class: "card filing", "aria-labelledby": "filing-card-title" },
    el("h3", { id: "filing-card-title" }, `备案办理答复 · ${answer.request_id}`),
    policyLine(answer), headline, facts(ctx, schema, answer), flagsBlock(ctx, schema, answer),
    undeterminedBlock(ctx, schema, answer), timeline(request, answer));
}

// ── the trace ───────────────────────────────────────────────────────────────────────────────────
export function ruleLink(ctx, rule) {
  const page = ctx.docs.rules[rule];
  if (!ctx.docs.base || !page) return null;
  return el("a", { class: "doclink", href: ctx.docs.base + page, "aria-label": `在文档站点查看规则 ${rule}` }, "查看规则文档");
}

function variableText(ctx, entry) {
  if (!entry.variable) return null;
  const known = ctx.schemas.at(ctx.decisionSchema, entry.variable) || ctx.schemas.at(ctx.filingSchema, entry.variable);
  const title = known && known.title ? known.title : (ctx.labels.variables || {})[entry.variable];
  return el("p", { class: "sets" }, "得出 ", el("strong", {}, title || entry.variable), " ＝ ", shown(ctx, entry.variable, entry.value),
    title ? el("code", { class: "var" }, entry.variable) : null);
}

export function traceList(ctx, trace) {
  const entries = Array.isArray(trace) ? trace : [];
  const note = ctx.docs.base ? null : el("p", { class: "hint" },
    "规则文档链接未开启：先运行 yidi docs --build，再以 yidi serve --docs-site build/docsite/site 启动（或用 --docs-url 指向已发布的文档站点）。");
  const list = el("ol", { class: "trace" });
  for (const entry of entries) {
    if (typeof entry === "string") { list.append(el("li", { class: "step", "data-rule": entry }, el("code", {}, entry))); continue; }
    const params = Array.isArray(entry.parameters) && entry.parameters.length
      ? el("ul", { class: "params" }, ...entry.parameters.map((p) => el("li", {}, "参数 ", el("code", {}, p.name), " ＝ ",
        shown(ctx, p.name, p.value), p.source ? `（${p.source}）` : "", p.illustrative ? " ⚠示例值" : "",
        p.interpretation ? ` ※解释：${p.interpretation}` : "")))
      : null;
    list.append(el("li", { class: "step", "data-rule": entry.rule },
      el("p", { class: "step-title" }, el("strong", {}, entry.title || entry.explanation || entry.rule), " ", el("code", {}, entry.rule)),
      entry.title && entry.explanation ? el("p", { class: "explanation" }, entry.explanation) : null,
      variableText(ctx, entry),
      el("p", { class: "cite" }, "依据 ", el("cite", {}, entry.source || "（无出处）"), " ", ruleLink(ctx, entry.rule)),
      entry.says ? el("blockquote", {}, `“${entry.says}”`) : null,
      entry.interpretation ? el("p", { class: "interpretation" }, `※ 解释：${entry.interpretation}`) : null,
      entry.illustrative ? el("p", { class: "illustrative" }, "⚠ 示例值：出处尚未核实，仅作演示") : null,
      params,
      entry.file ? el("p", { class: "where" }, `${entry.file}${entry.line ? `:${entry.line}` : ""}`) : null));
  }
  return el("section", { class: "trace-block", "aria-labelledby": "trace-title" },
    el("h3", { id: "trace-title" }, `依据链（${entries.length} 步，按先后）`), note, list);
}

// ── when the policy cannot decide (409) or the server refuses ───────────────────────────────────
const ERRORS = {
  "rule-conflict": "规则冲突", "no-applicable-rule": "没有适用的规则",
  "audit-unavailable": "决定日志不可写", "payload-too-large": "请求体过大", "internal-error": "内部错误",
};

export function errorCard(body, status) {
  const code = body && body.error ? String(body.error) : `HTTP ${status}`;
  return el("article", { class: "card error-card", role: "alert" },
    el("h3", {}, status === 409 ? "政策无法作出决定" : "未作决定"),
    el("p", {}, el("strong", {}, ERRORS[code] || code), " ", el("code", {}, code)),
    body && body.message ? el("p", {}, body.message) : null,
    body && Array.isArray(body.rules) && body.rules.length ? el("p", {}, "涉及规则：", ...body.rules.map((r) => el("code", {}, ` ${r} `))) : null,
    body && Array.isArray(body.where) && body.where.length ? el("p", {}, "位置：", body.where.join("、")) : null,
    status === 409 ? el("p", { class: "hint" }, "文档本身有效，是所适用的政策不完整；这一结果同样写入决定日志。") : null);
}

// ── what if: two decisions, field by field ──────────────────────────────────────────────────────
export function flatten(value, prefix = "", out = new Map()) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (!prefix && SKIP.has(key) && key !== "flags" && key !== "undetermined") continue;
      flatten(item, prefix ? `${prefix}.${key}` : key, out);
    }
  } else {
    out.set(prefix, value);
  }
  return out;
}

function same(a, b) {
  const norm = (v) => (Array.isArray(v) ? JSON.stringify([...v].map((x) => JSON.stringify(x)).sort()) : JSON.stringify(v));
  return norm(a) === norm(b);
}

function ruleFor(trace, path) {
  const entries = (Array.isArray(trace) ? trace : []).filter((e) => typeof e === "object" && e.variable &&
    (e.variable === path || (path === "flags" && e.variable.startsWith("flags."))));
  return entries.length ? entries[entries.length - 1] : null;
}

function ruleCell(ctx, entry) {
  if (!entry) return el("span", { class: "none" }, "—");
  return el("span", { class: "rule" }, el("strong", {}, entry.title || entry.rule), " ", el("code", {}, entry.rule), " ",
    el("cite", {}, entry.source || ""), " ", ruleLink(ctx, entry.rule));
}

export function comparison(ctx, base, variant, baseDoc, variantDoc, inputTitle) {
  const before = flatten(base);
  const after = flatten(variant);
  const paths = [...new Set([...before.keys(), ...after.keys()])];
  const changed = paths.filter((p) => !same(before.get(p), after.get(p)));
  const inputsBefore = flatten(baseDoc);
  const inputsAfter = flatten(variantDoc);
  const inputs = [...new Set([...inputsBefore.keys(), ...inputsAfter.keys()])].filter((p) => !same(inputsBefore.get(p), inputsAfter.get(p)));

  const conditions = el("ul", { class: "conditions" }, ...inputs.map((p) => el("li", {}, el("strong", {}, inputTitle(p)), "：",
    shown(ctx, p, inputsBefore.get(p) ?? null), " → ", shown(ctx, p, inputsAfter.get(p) ?? null))));
  const rows = changed.map((p) => {
    const field = p.startsWith("undetermined") ? "undetermined" : p;
    const was = ruleFor(base.trace, field);
    const now = ruleFor(variant.trace, field);
    let rule;
    if (was && now && was.rule === now.rule) {
      rule = el("div", {}, ruleCell(ctx, now), el("p", { class: "hint" }, "同一规则，取值随上游结果改变（见下方规则差异）"));
    } else if (!was && !now) {
      rule = el("span", { class: "none" }, "—");
    } else {
      // The rule that decided the what-if in full; the one it replaced by its id (its full entry is in the original trace).
      rule = el("div", {}, now ? ruleCell(ctx, now) : el("span", { class: "none" }, "（假如中无规则设定此项）"),
        was ? el("p", { class: "replaced" }, "原为 ", el("code", {}, was.rule), " ", el("cite", {}, was.source || "")) : null);
    }
    const show = (answer, value) => (value === null && isUndetermined(answer, p) ? el("span", { class: "undetermined" }, "未决定") : shown(ctx, p, value ?? null));
    return el("tr", { "data-field": p }, el("th", { scope: "row" }, titleOf(ctx, ctx.decisionSchema, p)),
      el("td", { class: "before" }, show(base, before.get(p) ?? null)), el("td", { class: "after" }, show(variant, after.get(p) ?? null)),
      el("td", {}, rule));
  });
  const ids = (t) => new Set((Array.isArray(t) ? t : []).map((e) => (typeof e === "string" ? e : e.rule)));
  const baseIds = ids(base.trace);
  const variantIds = ids(variant.trace);
  const entry = (trace, id) => (trace || []).find((e) => (typeof e === "string" ? e : e.rule) === id);
  const gained = [...variantIds].filter((id) => !baseIds.has(id)).map((id) => entry(variant.trace, id));
  const lost = [...baseIds].filter((id) => !variantIds.has(id)).map((id) => entry(base.trace, id));
  const ruleItems = (list) => (list.length ? el("ul", {}, ...list.map((e) => el("li", {}, ruleCell(ctx, e)))) : el("p", { class: "none" }, "无"));

  return el("section", { class: "comparison", "aria-labelledby": "comparison-title" },
    el("h3", { id: "comparison-title" }, changed.length ? `两次决定有 ${changed.length} 项不同` : "两次决定完全相同"),
    el("h4", {}, "改变的条件"), inputs.length ? conditions : el("p", { class: "none" }, "没有改变任何条件"),
    changed.length ? el("div", { class: "table-wrap" }, el("table", { class: "diff" },
      el("caption", {}, "逐项比较（只列出不同的项目）"),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "项目"), el("th", { scope: "col" }, "原决定"),
        el("th", { scope: "col" }, "假如"), el("th", { scope: "col" }, "起作用的规则"))),
      el("tbody", {}, ...rows))) : null,
    el("div", { class: "rule-diff" },
      el("div", {}, el("h4", {}, "假如中新触发的规则"), ruleItems(gained)),
      el("div", {}, el("h4", {}, "原决定中触发、假如中不再触发的规则"), ruleItems(lost))));
}

// ── a filing request on a small timeline ────────────────────────────────────────────────────────
function day(text) {
  return typeof text === "string" && /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.UTC(+text.slice(0, 4), +text.slice(5, 7) - 1, +text.slice(8, 10)) : null;
}

export function timeline(request, answer) {
  const points = [];
  const add = (date, label, kind) => { if (day(date) !== null) points.push({ date, label, kind }); };
  add(request && request.on, "申请日期", "on");
  add(answer.earliest_date, "最早可办理", "earliest");
  const current = request && request.current;
  if (current) add(current.start_date, "当前备案开始", "current");
  for (const h of (request && Array.isArray(request.history) ? request.history : [])) add(h.cancelled_on, "历史备案取消", "history");
  const validity = answer.validity && day(answer.validity.start_date) !== null ? answer.validity : null;
  if (!points.length && !validity) return null;

  const dates = points.map((p) => day(p.date));
  if (validity) { dates.push(day(validity.start_date)); if (day(validity.end_date) !== null) dates.push(day(validity.end_date)); }
  const span = Math.max(...dates) - Math.min(...dates) || 86400000 * 30;
  const from = Math.min(...dates) - span * 0.08;
  const to = Math.max(...dates) + span * (validity && !validity.end_date ? 0.3 : 0.08);
  const width = 640;
  const x = (t) => 20 + ((t - from) / (to - from)) * (width - 40);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} 150`);
  svg.setAttribute("class", "timeline");
  svg.setAttribute("role", "img");
  const text = [];
  const node = (tag, attrs, content) => {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (content !== undefined) n.textContent = content;
    svg.append(n);
    return n;
  };
  node("line", { x1: 20, x2: width - 20, y1: 100, y2: 100, class: "axis" });
  if (validity) {
    const start = x(day(validity.start_date));
    const end = validity.end_date ? x(day(validity.end_date)) : width - 20;
    node("rect", { x: start, y: 88, width: Math.max(2, end - start), height: 24, class: "validity" });
    node("text", { x: start + 4, y: 130, class: "label" }, `备案有效期 ${validity.start_date} 至 ${validity.end_date || "长期"}`);
    text.push(`备案有效期：${validity.start_date} 至 ${validity.end_date || "长期有效"}`);
  }
  points.sort((a, b) => day(a.date) - day(b.date)).forEach((p, i) => {
    const px = x(day(p.date));
    const row = i % 2 ? 52 : 24;
    node("line", { x1: px, x2: px, y1: row + 6, y2: 100, class: `tick ${p.kind}` });
    node("circle", { cx: px, cy: 100, r: 5, class: `dot ${p.kind}` });
    node("text", { x: px, y: row, class: "label", "text-anchor": px > width * 0.75 ? "end" : px < width * 0.25 ? "start" : "middle" }, `${p.label} ${p.date}`);
    text.push(`${p.label}：${p.date}`);
  });
  svg.setAttribute("aria-label", `时间轴：${text.join("；")}`);
  return el("figure", { class: "timeline-figure" }, svg,
    el("figcaption", {}, el("ul", {}, ...text.map((t) => el("li", {}, t)))));
}

// ── parameters in force ─────────────────────────────────────────────────────────────────────────
export function parametersTable(ctx, body) {
  const rows = Object.entries(body.parameters || {}).map(([name, p]) => el("tr", { "data-parameter": name },
    el("th", { scope: "row" }, el("span", {}, p.title || name), el("code", {}, name)),
    el("td", {}, shown(ctx, name, p.value), p.illustrative ? el("span", { class: "illustrative" }, " ⚠示例值") : null,
      p.interpretation ? el("span", { class: "interpretation" }, " ※解释") : null),
    el("td", {}, el("cite", {}, p.source || "—")),
    el("td", {}, `${p.from || "—"} 起`, p.until ? `，至 ${p.until} 前` : "，至今有效"),
    el("td", { class: "where" }, p.file ? `${p.file}${p.line ? `:${p.line}` : ""}` : "")));
  const unset = Array.isArray(body.unset) ? body.unset : [];
  const policy = body.policy || {};
  return el("section", { class: "parameters", "aria-labelledby": "parameters-title" },
    el("h3", { id: "parameters-title" }, `参保地 ${body.region} 在 ${body.on} 适用的参数`),
    el("p", { class: "policy" }, `适用政策：${policy.name || policy.id}（${policy.id}，${policy.region}）`,
      policy.documents ? ` · 文件：${policy.documents.join("、")}` : "", policy.revision ? ` · 政策版本 ${policy.revision}` : ""),
    el("div", { class: "table-wrap" }, el("table", {},
      el("thead", {}, el("tr", {}, ...["参数", "取值", "出处", "有效期间", "位置"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...rows))),
    unset.length ? el("div", {}, el("h4", {}, "该日没有取值的参数"),
      el("p", { class: "hint" }, "这些参数在该日没有生效的取值（例如上级文件交由参保地规定而此地尚未规定）；引擎不会猜一个值。"),
      el("ul", {}, ...unset.map((name) => el("li", {}, el("code", {}, String(name)))))) : null);
}

export { getPath };
