// The workbench: try a claim or a filing request, read the cited decision, ask "what if", look up the
// parameters in force — through the public HTTP API only, like any integrator. Every decision request
// carries X-Yidi-Client: workbench, so the server logs it like any other, marked as coming from here.
// A decision's document travels in the URL fragment (#claim=…, #filing=…), so a link reproduces it.

import { DocForm, Schemas, arrowKeys, clone, el, getPath, isRealDate } from "./form.js";
import { comparison, decisionCard, errorCard, filingCard, parametersTable, traceList } from "./render.js";

const CLIENT = { "X-Yidi-Client": "workbench" };
const BLANK = {
  claim: { kind: "claim", id: "WB-0001", insured: {}, visit: {}, costs: {} },
  filing: { kind: "filing_request", id: "WB-F-0001", insured: {} },
};
const WHATIF = ["visit.emergency", "visit.referral", "filing.type", "filing.basis", "filing.start_date", "visit.admission_date", "insured.birth_date"];

const $ = (id) => document.getElementById(id);
const state = { claimBase: null, whatifRun: 0 };

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}：HTTP ${response.status}`);
  return response.json();
}

async function evaluate(text) {
  const started = performance.now();
  try {
    const response = await fetch("v1/evaluate", { method: "POST", headers: { "Content-Type": "application/json", ...CLIENT }, body: text });
    let body = null;
    try { body = await response.json(); } catch { body = null; }
    return { status: response.status, body, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { status: 0, body: { error: "network", message: `无法连接服务：${error.message}` }, ms: 0 };
  }
}

function say(id, text, kind = "") {
  const node = $(id);
  node.textContent = text;
  node.className = `status ${kind}`;
}

// ── share links: the document in the fragment ───────────────────────────────────────────────────
function encode(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decode(data) {
  const binary = atob(data.replace(/-/g, "+").replace(/_/g, "/"));
  return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

function setFragment(key, value) {
  const params = new URLSearchParams();
  params.set(key, value);
  params.set("rev", state.data.revision);
  history.replaceState(null, "", `#${params.toString()}`);
  return location.href;
}

function shareBox(url) {
  const input = el("input", { type: "text", id: "share-link", readonly: true, value: url, "aria-describedby": "share-help" });
  const copy = el("button", { type: "button" }, "复制链接");
  copy.addEventListener("click", async () => {
    input.select();
    try { await navigator.clipboard.writeText(url); copy.textContent = "已复制"; } catch { copy.textContent = "请按 Ctrl+C 复制"; }
  });
  return el("div", { class: "share" }, el("label", { for: "share-link" }, "分享这个决定"), el("div", { class: "share-row" }, input, copy),
    el("small", { class: "help", id: "share-help" }, "链接里带着整份文档；同事打开它，会按当时的文档重新决定并看到同样的结果。"));
}

// ── tabs ────────────────────────────────────────────────────────────────────────────────────────
function selectTab(name) {
  for (const tab of document.querySelectorAll('.tabs [role="tab"]')) {
    const selected = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !selected;
  }
}

function wireTabs() {
  const tabs = [...document.querySelectorAll('.tabs [role="tab"]')];
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab.id.replace("tab-", "")));
    tab.addEventListener("keydown", (event) => arrowKeys(event, tabs));
  }
}

// ── the start controls: presets and the insured region ──────────────────────────────────────────
function wireStart(kind, form, presets, regions) {
  const preset = $(`${kind}-preset`);
  preset.append(el("option", { value: "" }, kind === "claim" ? "（空白申请）" : "（空白备案申请）"));
  for (const p of presets) preset.append(el("option", { value: p.id }, p.title));
  preset.addEventListener("change", () => {
    const chosen = presets.find((p) => p.id === preset.value);
    form.setDocument(chosen ? chosen.document : clone(BLANK[kind]));
    form.clearProblems();
    syncRegion(kind, form);
  });
  const region = $(`${kind}-region`);
  region.append(el("option", { value: "" }, "（按表单中的参保地）"));
  for (const r of regions) region.append(el("option", { value: r.region }, `${r.name}（${r.region}）`));
  region.addEventListener("change", () => {
    if (!region.value) return;
    const doc = form.model;
    doc.insured = doc.insured && typeof doc.insured === "object" ? doc.insured : {};
    doc.insured.region = region.value;
    form.setDocument(doc);
  });
  form.onChange = () => syncRegion(kind, form);
}

function syncRegion(kind, form) {
  const region = $(`${kind}-region`);
  const value = getPath(form.model, "insured.region");
  region.value = [...region.options].some((o) => o.value === value) ? value : "";
}

// ── claims ──────────────────────────────────────────────────────────────────────────────────────
async function decideClaim(text) {
  say("claim-status", "正在决定……", "busy");
  const answer = await evaluate(text);
  const result = $("claim-result");
  if (answer.status === 200) {
    const doc = JSON.parse(text);
    state.claimBase = { doc, decision: answer.body };
    const url = setFragment("claim", encode(text));
    result.replaceChildren(decisionCard(state.ctx, answer.body), shareBox(url), traceList(state.ctx, answer.body.trace));
    say("claim-status", `已决定（${answer.ms} 毫秒，政策版本 ${answer.body.policy ? answer.body.policy.revision : "?"}）`, "ok");
    startWhatIf(doc);
    showResult("claim");
    return;
  }
  state.claimBase = null;
  $("whatif").hidden = true;
  showRefusal("claim", state.claimForm, answer, result);
}

// In one column (a phone) the answer is below the long form: bring it into view.
function showResult(kind) {
  if (window.matchMedia("(max-width: 1000px)").matches) $(`${kind}-status`).scrollIntoView({ block: "start" });
}

function showRefusal(kind, form, answer, result) {
  const body = answer.body || {};
  if (answer.status === 422 || answer.status === 400) {
    const problems = Array.isArray(body.problems) ? body.problems : [];
    if (answer.status === 400 && form.mode === "json") {
      form.jsonError.textContent = problems.map((p) => p.message).join("；");
      form.jsonError.hidden = false;
    } else {
      form.showProblems(problems);
    }
    result.replaceChildren();
    say(`${kind}-status`, `输入有误（${problems.length} 处），未作决定；问题已标在对应字段旁。`, "bad");
    return;
  }
  result.replaceChildren(errorCard(body, answer.status));
  say(`${kind}-status`, answer.status === 409 ? "政策无法作出决定。" : `未作决定（HTTP ${answer.status}）。`, "bad");
  showResult(kind);
}

// ── what if ─────────────────────────────────────────────────────────────────────────────────────
function buildWhatIf() {
  const form = $("whatif-form");
  const claim = state.ctx.claimSchema;
  state.whatif = {};
  for (const path of WHATIF) {
    const schema = state.ctx.schemas.at(claim, path);
    const id = `whatif-${path.replace(/[^a-z_]+/g, "-")}`;
    const error = el("p", { class: "error", id: `${id}-error`, hidden: true });
    let control;
    let field;
    if (schema.type === "boolean") {
      control = el("input", { type: "checkbox", id });
      field = el("div", { class: "field check" }, control, el("label", { for: id }, schema.title));
    } else if (schema.enum) {
      control = el("select", { id });
      if (path === "filing.type") control.append(el("option", { value: "" }, "无备案"));
      for (const v of schema.enum.filter((x) => x !== null)) control.append(el("option", { value: v }, state.claimForm.valueLabel(path, v)));
      field = el("div", { class: "field" }, el("label", { for: id }, path === "filing.type" ? "备案人员类别" : schema.title), control);
    } else {
      control = el("input", { type: "text", id, inputmode: "numeric", maxlength: "10", placeholder: "YYYY-MM-DD", autocomplete: "off",
        "aria-describedby": error.id });
      field = el("div", { class: "field" }, el("label", { for: id }, schema.title), control, error);
    }
    field.dataset.whatif = path;
    state.whatif[path] = { control, error };
    form.append(field);
  }
  const reset = el("button", { type: "button" }, "恢复原申请的条件");
  reset.addEventListener("click", () => { startWhatIf(state.claimBase.doc); $("whatif-result").replaceChildren(); say("whatif-status", ""); });
  const adopt = el("button", { type: "button" }, "以假如的申请继续");
  adopt.addEventListener("click", () => {
    const variant = variantOf(state.claimBase.doc);
    if (!variant) return;
    state.claimForm.setDocument(variant);
    state.claimForm.switchMode("form");
    decideClaim(JSON.stringify(variant));
  });
  form.append(el("div", { class: "actions" }, reset, adopt));
  form.addEventListener("submit", (event) => { event.preventDefault(); runWhatIf(); });
  form.addEventListener("change", () => runWhatIf());
}

function startWhatIf(doc) {
  const w = state.whatif;
  w["visit.emergency"].control.checked = getPath(doc, "visit.emergency") === true;
  w["visit.referral"].control.checked = getPath(doc, "visit.referral") === true;
  w["filing.type"].control.value = getPath(doc, "filing.type") || "";
  w["filing.basis"].control.value = getPath(doc, "filing.basis") || "materials";
  w["filing.start_date"].control.value = getPath(doc, "filing.start_date") || "";
  w["visit.admission_date"].control.value = getPath(doc, "visit.admission_date") || "";
  w["insured.birth_date"].control.value = getPath(doc, "insured.birth_date") || "";
  for (const { error } of Object.values(w)) error.hidden = true;
  filingControls();
  $("whatif").hidden = false;
  $("whatif-result").replaceChildren();
  say("whatif-status", "");
}

function filingControls() {
  const none = !state.whatif["filing.type"].control.value;
  for (const path of ["filing.basis", "filing.start_date"]) state.whatif[path].control.disabled = none;
}

function shiftDate(text, days) {
  const [y, m, d] = text.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d) + days * 86400000).toISOString().slice(0, 10);
}

function daysBetween(a, b) {
  const t = (s) => Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10));
  return Math.round((t(b) - t(a)) / 86400000);
}

// The base document with the what-if choices applied; null (errors beside the fields) if a date is wrong.
function variantOf(base) {
  const w = state.whatif;
  let ok = true;
  for (const path of ["filing.start_date", "visit.admission_date", "insured.birth_date"]) {
    const { control, error } = w[path];
    const text = control.value.trim();
    const bad = text && !control.disabled && !isRealDate(text);
    error.hidden = !bad;
    error.textContent = bad ? "日期应为真实存在的 YYYY-MM-DD" : "";
    control.toggleAttribute("aria-invalid", Boolean(bad));
    if (bad) ok = false;
  }
  if (!ok) return null;
  const doc = clone(base);
  doc.visit = doc.visit || {};
  for (const flag of ["emergency", "referral"]) {
    const wanted = w[`visit.${flag}`].control.checked;
    if (wanted !== (doc.visit[flag] === true)) doc.visit[flag] = wanted;
  }
  const type = w["filing.type"].control.value;
  if (!type) delete doc.filing;
  else if (doc.filing) { if (doc.filing.type !== type) doc.filing.type = type; }
  else doc.filing = { type, basis: "materials", region: doc.visit.region, start_date: doc.visit.admission_date };
  if (doc.filing) {
    const basis = w["filing.basis"].control.value;
    if (basis && basis !== (doc.filing.basis || "materials")) doc.filing.basis = basis;
    const start = w["filing.start_date"].control.value.trim();
    if (start && start !== doc.filing.start_date) doc.filing.start_date = start;
  }
  const admission = w["visit.admission_date"].control.value.trim();
  if (admission && doc.visit.admission_date && admission !== doc.visit.admission_date) {
    const delta = daysBetween(doc.visit.admission_date, admission);
    doc.visit.admission_date = admission;
    for (const key of ["discharge_date", "settled_on"]) if (isRealDate(doc.visit[key] || "")) doc.visit[key] = shiftDate(doc.visit[key], delta);
  }
  const birth = w["insured.birth_date"].control.value.trim();
  doc.insured = doc.insured || {};
  if (birth !== (doc.insured.birth_date || "")) {
    if (birth) doc.insured.birth_date = birth;
    else delete doc.insured.birth_date;
  }
  return doc;
}

async function runWhatIf() {
  filingControls();
  if (!state.claimBase) return;
  const variant = variantOf(state.claimBase.doc);
  if (!variant) { say("whatif-status", "假如的日期有误，未重新决定。", "bad"); return; }
  const run = ++state.whatifRun;
  say("whatif-status", "正在重新决定……", "busy");
  const answer = await evaluate(JSON.stringify(variant));
  if (run !== state.whatifRun) return;            // a later change has been sent meanwhile
  const result = $("whatif-result");
  if (answer.status === 200) {
    const base = state.claimBase;
    result.replaceChildren(
      comparison(state.ctx, base.decision, answer.body, base.doc, variant, (p) => state.claimForm.titleOf(p)),
      el("details", { class: "variant" }, el("summary", {}, "假如的完整决定与依据链"),
        decisionCard(state.ctx, answer.body), traceList(state.ctx, answer.body.trace)));
    say("whatif-status", `已重新决定（${answer.ms} 毫秒）。`, "ok");
    return;
  }
  const body = answer.body || {};
  if (answer.status === 422) {
    result.replaceChildren(el("div", { class: "card error-card", role: "alert" }, el("h3", {}, "假如的申请无效"),
      el("ul", {}, ...(body.problems || []).map((p) => el("li", {}, `${state.claimForm.titleOf(p.path)}：${p.message}`)))));
  } else {
    result.replaceChildren(errorCard(body, answer.status));
  }
  say("whatif-status", "假如的申请未能决定。", "bad");
}

// ── filing requests ─────────────────────────────────────────────────────────────────────────────
async function decideFiling(text) {
  say("filing-status", "正在办理……", "busy");
  const answer = await evaluate(text);
  const result = $("filing-result");
  if (answer.status === 200) {
    const url = setFragment("filing", encode(text));
    result.replaceChildren(filingCard(state.ctx, answer.body, JSON.parse(text)), shareBox(url), traceList(state.ctx, answer.body.trace));
    say("filing-status", `已答复（${answer.ms} 毫秒）`, "ok");
    showResult("filing");
    return;
  }
  showRefusal("filing", state.filingForm, answer, result);
}

// ── parameters ──────────────────────────────────────────────────────────────────────────────────
function today() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

function fieldError(name, message) {
  const input = $(`parameters-${name}`);
  const error = $(`parameters-${name}-error`);
  error.textContent = message || "";
  error.hidden = !message;
  input.toggleAttribute("aria-invalid", Boolean(message));
}

async function lookUpParameters() {
  const region = $("parameters-region").value.trim();
  const on = $("parameters-on").value.trim();
  fieldError("region", /^[1-9][0-9]{5}$/.test(region) ? "" : "应为6位医保区划代码（首位不为0）");
  fieldError("on", isRealDate(on) ? "" : "日期应为真实存在的 YYYY-MM-DD");
  if (!/^[1-9][0-9]{5}$/.test(region) || !isRealDate(on)) { say("parameters-status", "请先改正标出的字段。", "bad"); return; }
  say("parameters-status", "正在查询……", "busy");
  const response = await fetch(`v1/regions/${encodeURIComponent(region)}/parameters?on=${encodeURIComponent(on)}`, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (response.status === 422) {
    for (const p of body.problems || []) fieldError(p.path, p.message);
    say("parameters-status", "输入有误，未查询。", "bad");
    return;
  }
  if (!response.ok) { $("parameters-result").replaceChildren(errorCard(body, response.status)); say("parameters-status", "查询失败。", "bad"); return; }
  $("parameters-result").replaceChildren(parametersTable(state.ctx, body));
  setFragment("parameters", `${region}@${on}`);
  say("parameters-status", `共 ${Object.keys(body.parameters || {}).length} 个参数有取值。`, "ok");
}

// ── opening a link ──────────────────────────────────────────────────────────────────────────────
function openFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const rev = params.get("rev");
  const notice = (kind) => {
    if (rev && rev !== state.data.revision) {
      say(`${kind}-status`, `注意：此链接生成时的政策版本是 ${rev}，现在服务的是 ${state.data.revision}，决定可能不同。`, "bad");
    }
  };
  for (const kind of ["claim", "filing"]) {
    if (!params.has(kind)) continue;
    let text;
    try { text = decode(params.get(kind)); } catch { say(`${kind}-status`, "链接中的文档无法读取（编码损坏）。", "bad"); return; }
    selectTab(kind);
    const form = kind === "claim" ? state.claimForm : state.filingForm;
    try { form.setDocument(JSON.parse(text)); } catch { form.switchMode("json"); form.jsonArea.value = text; }
    syncRegion(kind, form);
    (kind === "claim" ? decideClaim(text) : decideFiling(text)).then(() => notice(kind));
    return;
  }
  if (params.has("parameters")) {
    const [region, on] = params.get("parameters").split("@");
    selectTab("parameters");
    $("parameters-region").value = region || "";
    $("parameters-on").value = on || today();
    lookUpParameters();
  }
}

async function boot() {
  let openapi;
  let regions;
  let data;
  try {
    [openapi, regions, data] = await Promise.all([getJson("openapi.json"), getJson("v1/regions"), getJson("workbench/data.json")]);
  } catch (error) {
    $("boot").textContent = `无法加载工作台：${error.message}`;
    return;
  }
  const components = openapi.components.schemas;
  const schemas = new Schemas(components);
  state.data = data;
  state.ctx = {
    schemas, labels: data.labels, docs: data.docs,
    claimSchema: schemas.resolve(components.Claim),
    decisionSchema: schemas.resolve(components["Decision.decision"]),
    filingSchema: schemas.resolve(components["Decision.filing_answer"]),
  };
  $("served").textContent = `政策版本 ${regions.revision}（自 ${String(regions.since).slice(0, 19).replace("T", " ")} UTC 起服务）· ${regions.regions.length} 个地区政策`;
  $("region-list").replaceChildren(...regions.regions.map((r) => el("option", { value: r.region, label: r.name })));

  const presets = (kind) => data.presets.filter((p) => p.kind === kind);
  state.claimForm = new DocForm({ schemas, schema: components.Claim, labels: data.labels, idPrefix: "claim", name: "结算申请", submitLabel: "决定",
    onSubmit: (text) => decideClaim(text), regionList: "region-list", blank: BLANK.claim });
  $("claim-editor").append(state.claimForm.element);
  wireStart("claim", state.claimForm, presets("claim"), regions.regions);

  state.filingForm = new DocForm({ schemas, schema: components.FilingRequest, labels: data.labels, idPrefix: "filing", name: "备案办理申请", submitLabel: "办理",
    onSubmit: (text) => decideFiling(text), regionList: "region-list", blank: BLANK.filing });
  $("filing-editor").append(state.filingForm.element);
  wireStart("filing", state.filingForm, presets("filing_request"), regions.regions);

  buildWhatIf();
  $("parameters-on").value = today();
  $("parameters-form").addEventListener("submit", (event) => { event.preventDefault(); lookUpParameters(); });
  wireTabs();
  $("boot").remove();
  document.body.classList.add("ready");
  openFragment();
}

boot();
