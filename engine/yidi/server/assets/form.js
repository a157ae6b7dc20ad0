// A form generated from a JSON Schema (the claim and filing-request schemas, as /openapi.json carries them).
//
// The document is the model; the form is a view of it. Editing a field changes only that path, so a preset's
// explicit nulls and fields the form never touched travel unchanged. Labels and help come from the schema's
// Chinese titles and descriptions, choices from its enumerations, and the inline checks are the schema's own
// rules (required, type, enum, pattern, format date, minimum, minLength, x-yidi-decimals, if/then); whatever
// the schema cannot say (a discharge before admission) the server answers, and those messages are shown beside
// the fields they name too.

export const UNSET = Symbol("unset");

const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

// "visit.discharge_date", "history[0].start_date" → ["visit", "discharge_date"], ["history", 0, "start_date"]
export function splitPath(path) {
  const parts = [];
  for (const piece of path.split(".")) {
    const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(piece);
    if (!match) { parts.push(piece); continue; }
    if (match[1]) parts.push(match[1]);
    for (const index of match[2].matchAll(/\[(\d+)\]/g)) parts.push(Number(index[1]));
  }
  return parts;
}

export function getPath(object, path) {
  let node = object;
  for (const part of splitPath(path)) {
    if (node === null || typeof node !== "object" || !(part in node)) return undefined;
    node = node[part];
  }
  return node;
}

export function setPath(object, path, value) {
  const parts = splitPath(path);
  let node = object;
  for (let i = 0; i < parts.length - 1; i++) {
    if (node[parts[i]] === null || typeof node[parts[i]] !== "object") {
      if (value === UNSET) return;
      node[parts[i]] = typeof parts[i + 1] === "number" ? [] : {};
    }
    node = node[parts[i]];
  }
  const last = parts[parts.length - 1];
  if (value === UNSET) {
    if (Array.isArray(node) && typeof last === "number") node.splice(last, 1);
    else delete node[last];
  } else {
    node[last] = value;
  }
}

export function isRealDate(text) {
  if (!DATE_TEXT.test(text)) return false;
  const [y, m, d] = text.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function typeList(schema) {
  if (schema.type === undefined) {
    if (schema.enum) return [...new Set(schema.enum.map((v) => (v === null ? "null" : Number.isInteger(v) ? "integer" : typeof v)))];
    return [];
  }
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

// One place to read a schema: a $ref to #/components/schemas/X resolved, the referring node's own keywords kept.
export class Schemas {
  constructor(components) {
    this.components = components;
  }

  resolve(node) {
    if (!node || typeof node !== "object") return {};
    if (!node.$ref) return node;
    const name = decodeURIComponent(node.$ref.replace("#/components/schemas/", ""));
    const target = this.resolve(this.components[name] || {});
    const { $ref, ...own } = node;
    return { ...target, ...own };
  }

  // The schema of a dotted path inside `root` (arrays step into their items).
  at(root, path) {
    let node = this.resolve(root);
    for (const part of splitPath(path)) {
      if (typeof part === "number") { node = this.resolve(node.items); continue; }
      const properties = node.properties || {};
      if (!(part in properties)) return null;
      node = this.resolve(properties[part]);
    }
    return node;
  }
}

function allowsNull(schema) {
  return typeList(schema).includes("null") || (schema.enum || []).includes(null);
}

function isObjectSchema(schema) {
  return typeList(schema).includes("object") || schema.properties !== undefined;
}

function conditionHolds(condition, value, schemas) {
  if (!condition || value === null || typeof value !== "object") return false;
  for (const name of condition.required || []) if (!(name in value)) return false;
  for (const [name, prop] of Object.entries(condition.properties || {})) {
    if (!(name in value)) continue;
    const sub = schemas.resolve(prop);
    if (sub.enum && !sub.enum.includes(value[name])) return false;
    if ("const" in sub && sub.const !== value[name]) return false;
  }
  return true;
}

// Required names of an object schema for this value, with the reason when a condition (if/then) adds one.
export function requiredOf(schema, value, schemas) {
  const required = new Map((schema.required || []).map((name) => [name, null]));
  if (schema.if && schema.then && conditionHolds(schema.if, value, schemas)) {
    for (const name of schema.then.required || []) required.set(name, schema.then["x-yidi-note-zh"] || null);
  }
  return required;
}

function decimals(value) {
  const text = String(value);
  if (/e/i.test(text)) return 99;
  const dot = text.indexOf(".");
  return dot < 0 ? 0 : text.length - dot - 1;
}

// The schema's own rules, in Chinese; problems as the server reports them: {path, message}.
export function check(schemas, schema, value, path = "", problems = [], labelOf = (v) => String(v)) {
  const s = schemas.resolve(schema);
  const at = path;
  const problem = (message) => problems.push({ path: at, message });
  if (value === null) {
    if (!allowsNull(s)) problem("不能为空");
    return problems;
  }
  const types = typeList(s);
  if ("const" in s) {
    if (value !== s.const) problem(`应为 ${JSON.stringify(s.const)}`);
    return problems;
  }
  if (s.enum) {
    if (!s.enum.includes(value)) problem(`应为以下之一：${s.enum.filter((v) => v !== null).map(labelOf).join("、")}`);
    return problems;
  }
  if (types.includes("object") && typeof value === "object" && !Array.isArray(value)) {
    const required = requiredOf(s, value, schemas);
    for (const [name, note] of required) {
      if (!(name in value)) problems.push({ path: path ? `${path}.${name}` : name, message: note ? `必填（${note}）` : "必填" });
    }
    for (const [name, item] of Object.entries(value)) {
      const prop = (s.properties || {})[name];
      const sub = path ? `${path}.${name}` : name;
      if (prop === undefined) {
        if (s.additionalProperties === false) problems.push({ path: sub, message: `不认识的字段 ${name}` });
        continue;
      }
      check(schemas, prop, item, sub, problems, labelOf);
    }
    return problems;
  }
  if (types.includes("array") && Array.isArray(value)) {
    value.forEach((item, i) => check(schemas, s.items, item, `${path}[${i}]`, problems, labelOf));
    return problems;
  }
  if (types.includes("boolean") && typeof value === "boolean") return problems;
  if ((types.includes("number") || types.includes("integer")) && typeof value === "number") {
    if (types.includes("integer") && !types.includes("number") && !Number.isInteger(value)) problem("应为整数");
    if (s.minimum !== undefined && value < s.minimum) problem(`不能小于 ${s.minimum}`);
    if (s["x-yidi-decimals"] !== undefined && decimals(value) > s["x-yidi-decimals"]) problem(`最多 ${s["x-yidi-decimals"]} 位小数`);
    return problems;
  }
  if (types.includes("string") && typeof value === "string") {
    if (s.minLength !== undefined && value.length < s.minLength) problem(value.length === 0 ? "不能为空字符串" : `至少 ${s.minLength} 个字符`);
    else if (s.format === "date" && !DATE_TEXT.test(value)) problem("日期应写作 YYYY-MM-DD，例如 2025-03-05");
    else if (s.format === "date" && !isRealDate(value)) problem(`日期不存在：${value}`);
    else if (s.pattern && !new RegExp(s.pattern, "u").test(value)) problem(`格式不对：${s.description || s.title || s.pattern}`);
    return problems;
  }
  if (!types.length) return problems;                                      // the schema says nothing of its type
  const wanted = { string: "文字", number: "数字", integer: "整数", boolean: "是/否", object: "对象", array: "列表", null: "空" };
  problem(`应为${types.map((t) => wanted[t] || t).join("或")}`);
  return problems;
}

let uniqueForms = 0;

// The form for one kind of document: `schema` is its component schema (e.g. components.Claim).
export class DocForm {
  constructor({ schemas, schema, labels, idPrefix, name, submitLabel, onSubmit, regionList, blank }) {
    this.name = name;
    this.schemas = schemas;
    this.schema = schemas.resolve(schema);
    this.labels = labels;
    this.prefix = idPrefix || `form${++uniqueForms}`;
    this.onSubmit = onSubmit;
    this.regionList = regionList;
    this.blank = blank;
    this.model = clone(blank);
    this.mode = "form";
    this.meta = new WeakMap();
    this.element = this.build(submitLabel);
    this.setDocument(this.model);
  }

  id(path) {
    return `${this.prefix}-${path.replace(/[^A-Za-z0-9_]+/g, "-")}`;
  }

  valueLabel(path, value) {
    if (value === null) return "（空）";
    const byField = (this.labels.fields || {})[path.replace(/\[\d+\]/g, "")];
    if (byField && String(value) in byField) return `${value} ${byField[String(value)]}`;
    const word = (this.labels.values || {})[value];
    return word ? `${word}（${value}）` : String(value);
  }

  build(submitLabel) {
    const formTab = el("button", { type: "button", role: "tab", id: `${this.prefix}-mode-form`, "aria-selected": "true",
      "aria-controls": `${this.prefix}-form-panel` }, "表单");
    const jsonTab = el("button", { type: "button", role: "tab", id: `${this.prefix}-mode-json`, "aria-selected": "false",
      "aria-controls": `${this.prefix}-json-panel`, tabindex: "-1" }, "JSON");
    this.modeTabs = [formTab, jsonTab];
    formTab.addEventListener("click", () => this.switchMode("form"));
    jsonTab.addEventListener("click", () => this.switchMode("json"));
    for (const tab of this.modeTabs) tab.addEventListener("keydown", (event) => arrowKeys(event, this.modeTabs));

    this.summary = el("div", { class: "summary", id: `${this.prefix}-summary`, tabindex: "-1", hidden: true });
    this.fieldsPanel = el("div", { id: `${this.prefix}-form-panel`, role: "tabpanel", "aria-labelledby": formTab.id });
    this.renderObject(this.fieldsPanel, this.schema, "", true);

    this.jsonArea = el("textarea", { id: `${this.prefix}-json`, rows: "24", spellcheck: "false", autocomplete: "off",
      "aria-describedby": `${this.prefix}-json-help ${this.prefix}-json-error` });
    this.jsonError = el("p", { class: "error", id: `${this.prefix}-json-error`, hidden: true });
    this.jsonArea.addEventListener("input", () => { this.jsonDirty = true; });
    this.jsonArea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); this.form.requestSubmit(); }
    });
    this.jsonPanel = el("div", { id: `${this.prefix}-json-panel`, role: "tabpanel", "aria-labelledby": jsonTab.id, hidden: true },
      el("label", { for: this.jsonArea.id }, "JSON 文档"),
      el("small", { class: "help", id: `${this.prefix}-json-help` }, "可直接粘贴或修改整份文档；按 Ctrl+Enter 或下面的按钮提交，原文照发。"),
      this.jsonArea, this.jsonError);

    this.form = el("form", { class: "docform", novalidate: true, "aria-label": this.name },
      el("div", { class: "modes", role: "tablist", "aria-label": "编辑方式" }, formTab, jsonTab),
      this.summary, this.fieldsPanel, this.jsonPanel,
      el("div", { class: "actions" },
        el("button", { type: "submit", class: "primary" }, submitLabel),
        el("button", { type: "button", onclick: () => { this.setDocument(clone(this.blank)); this.clearProblems(); } }, "清空")));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.form.addEventListener("input", (event) => this.fieldEdited(event.target, false));
    this.form.addEventListener("change", (event) => this.fieldEdited(event.target, true));
    return this.form;
  }

  switchMode(mode) {
    if (mode === this.mode) return true;
    if (mode === "form" && this.jsonDirty) {
      if (!this.takeJson()) return false;
    }
    if (mode === "json") {
      this.jsonArea.value = JSON.stringify(this.model, null, 2);
      this.jsonDirty = false;
    }
    this.mode = mode;
    this.fieldsPanel.hidden = mode !== "form";
    this.jsonPanel.hidden = mode !== "json";
    this.modeTabs.forEach((tab, i) => {
      const selected = (i === 0) === (mode === "form");
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
    });
    return true;
  }

  // The JSON text into the model; false (with the parser's message beside the text) if it is not JSON.
  takeJson() {
    try {
      const parsed = JSON.parse(this.jsonArea.value);
      this.jsonError.hidden = true;
      this.setDocument(parsed);
      this.jsonDirty = false;
      return true;
    } catch (error) {
      this.jsonError.textContent = `不是有效的 JSON：${error.message}`;
      this.jsonError.hidden = false;
      return false;
    }
  }

  // ── building the fields ───────────────────────────────────────────────────────────────────────
  renderObject(container, schema, path, isRoot) {
    const required = requiredOf(schema, {}, this.schemas);
    for (const [name, prop] of Object.entries(schema.properties || {})) {
      const sub = path ? `${path}.${name}` : name;
      const s = this.schemas.resolve(prop);
      if ("const" in s || (s.enum && s.enum.length === 1)) continue;        // kind: fixed by the form itself
      if (isObjectSchema(s)) container.append(this.renderGroup(s, sub, required.has(name)));
      else if (typeList(s).includes("array")) container.append(this.renderArray(s, sub));
      else container.append(this.renderLeaf(s, sub, required.has(name)));
    }
    if (isRoot) this.conditional = schema.if && schema.then ? schema : null;
  }

  renderGroup(schema, path, required) {
    const optional = allowsNull(schema) || !required;
    const body = el("div", { class: "group-body" });
    const error = el("p", { class: "error", id: `${this.id(path)}-error`, hidden: true });
    const fieldset = el("fieldset", { class: "group", "data-group": path, "aria-describedby": error.id },
      el("legend", {}, schema.title || path));
    if (optional) {
      const toggle = el("input", { type: "checkbox", id: `${this.id(path)}-present`, "data-presence": path });
      this.meta.set(toggle, { path, presence: true, schema });
      const help = schema.description ? el("small", { class: "help", id: `${toggle.id}-help` }, schema.description) : null;
      if (help) toggle.setAttribute("aria-describedby", `${help.id} ${error.id}`);
      fieldset.append(el("div", { class: "field check presence" }, toggle, el("label", { for: toggle.id }, `填写${schema.title || path}`), help));
    } else if (schema.description) {
      fieldset.append(el("small", { class: "help" }, schema.description));
    }
    fieldset.append(error, body);
    this.renderObject(body, schema, path, false);
    return fieldset;
  }

  renderArray(schema, path) {
    const error = el("p", { class: "error", id: `${this.id(path)}-error`, hidden: true });
    const list = el("ol", { class: "items", "data-items": path });
    const add = el("button", { type: "button", class: "add" }, `添加一条${this.schemas.resolve(schema.items).title || ""}`);
    add.addEventListener("click", () => {
      const items = getPath(this.model, path) || [];
      items.push({});
      setPath(this.model, path, items);
      this.renderItems(path);
      this.changed();
      list.lastElementChild?.querySelector("input, select")?.focus();
    });
    const fieldset = el("fieldset", { class: "group", "data-group": path, "aria-describedby": error.id },
      el("legend", {}, schema.title || path),
      schema.description ? el("small", { class: "help" }, schema.description) : null, error, list, add);
    this.arrays = this.arrays || new Map();
    this.arrays.set(path, { schema, list });
    return fieldset;
  }

  renderItems(path) {
    const { schema, list } = this.arrays.get(path);
    const items = getPath(this.model, path);
    list.replaceChildren();
    const itemSchema = this.schemas.resolve(schema.items);
    (Array.isArray(items) ? items : []).forEach((_, i) => {
      const itemPath = `${path}[${i}]`;
      const remove = el("button", { type: "button", class: "remove" }, `删除第 ${i + 1} 条`);
      remove.addEventListener("click", () => {
        setPath(this.model, itemPath, UNSET);
        this.renderItems(path);
        this.changed();
      });
      const body = el("div", { class: "group-body" });
      this.renderObject(body, itemSchema, itemPath, false);
      list.append(el("li", {}, el("fieldset", { class: "group item", "data-group": itemPath },
        el("legend", {}, `${itemSchema.title || ""} 第 ${i + 1} 条`),
        el("p", { class: "error", id: `${this.id(itemPath)}-error`, hidden: true }), body, remove)));
    });
    this.fill(list);
  }

  renderLeaf(schema, path, required) {
    const id = this.id(path);
    const types = typeList(schema);
    const help = schema.description ? el("small", { class: "help", id: `${id}-help` }, schema.description) : null;
    const error = el("p", { class: "error", id: `${id}-error`, hidden: true });
    const described = [help && help.id, error.id].filter(Boolean).join(" ");
    // aria-required tells assistive technology; the mark, outside the label so the name stays the title, tells the eye.
    const mark = required ? el("span", { class: "required", "aria-hidden": "true", title: "必填" }, "＊") : null;
    let control;
    let kind;
    if (schema.enum) {
      kind = "select";
      control = el("select", { id, "aria-describedby": described });
      const nullable = schema.enum.includes(null);
      control.append(el("option", { value: "" }, required ? "（请选择）" : `（省略${schema.default !== undefined ? `，默认 ${this.valueLabel(path, schema.default)}` : ""}）`));
      if (nullable) control.append(el("option", { value: "null" }, "（空 null）"));
      for (const value of schema.enum.filter((v) => v !== null)) {
        control.append(el("option", { value: JSON.stringify(value) }, this.valueLabel(path, value)));
      }
    } else if (types.includes("boolean")) {
      kind = "checkbox";
      control = el("input", { type: "checkbox", id, "aria-describedby": described });
    } else if (schema.format === "date") {
      kind = "date";
      control = el("input", { type: "text", id, inputmode: "numeric", maxlength: "10", placeholder: "YYYY-MM-DD",
        autocomplete: "off", "aria-describedby": described });
    } else if (types.includes("number") || types.includes("integer")) {
      kind = "number";
      control = el("input", { type: "text", id, inputmode: "decimal", autocomplete: "off", "aria-describedby": described });
    } else {
      kind = "text";
      const isRegion = schema.pattern === "^[1-9][0-9]{5}$";
      control = el("input", { type: "text", id, autocomplete: "off", "aria-describedby": described,
        list: isRegion ? this.regionList : null, inputmode: isRegion ? "numeric" : null, maxlength: isRegion ? "6" : null });
    }
    if (required) control.setAttribute("aria-required", "true");
    control.dataset.path = path;
    this.meta.set(control, { path, kind, schema, nullable: allowsNull(schema), required });
    const label = el("label", { for: id }, schema.title || path);
    if (kind === "checkbox") return el("div", { class: "field check", "data-field": path }, control, label, mark, help, error);
    return el("div", { class: "field", "data-field": path }, el("div", { class: "label-row" }, label, mark), control, help, error);
  }

  // ── model ⇄ fields ─────────────────────────────────────────────────────────────────────────────
  setDocument(document) {
    this.model = document && typeof document === "object" && !Array.isArray(document) ? clone(document) : {};
    if (this.arrays) for (const path of this.arrays.keys()) this.renderItems(path);
    this.fill(this.fieldsPanel);
    this.updateRequired();
    if (this.mode === "json") { this.jsonArea.value = JSON.stringify(this.model, null, 2); this.jsonDirty = false; }
  }

  fill(scope) {
    for (const control of scope.querySelectorAll("[data-presence]")) {
      const value = getPath(this.model, control.dataset.presence);
      control.checked = value !== undefined && value !== null;
      this.setGroupEnabled(control.dataset.presence, control.checked);
    }
    for (const control of scope.querySelectorAll("[data-path]")) {
      const { kind } = this.meta.get(control);
      const value = getPath(this.model, control.dataset.path);
      if (kind === "checkbox") control.checked = value === true;
      else if (kind === "select") control.value = value === undefined ? "" : JSON.stringify(value);
      else control.value = value === undefined || value === null ? "" : String(value);
      if (kind === "select" && control.selectedIndex < 0) control.value = "";
    }
  }

  setGroupEnabled(path, enabled) {
    const body = this.fieldsPanel.querySelector(`fieldset[data-group="${CSS.escape(path)}"] > .group-body`);
    if (!body) return;
    body.hidden = !enabled;
    for (const control of body.querySelectorAll("input, select, textarea, button")) control.disabled = !enabled;
  }

  readControl(control) {
    const { kind, nullable } = this.meta.get(control);
    if (kind === "checkbox") return control.checked;
    if (kind === "select") return control.value === "" ? UNSET : JSON.parse(control.value);
    const text = control.value.trim();
    if (text === "") return nullable ? null : UNSET;
    if (kind === "number") return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    return text;
  }

  fieldEdited(control, committed) {
    const meta = this.meta.get(control);
    if (!meta) return;
    if (meta.presence) {
      if (!committed) return;
      const present = control.checked;
      setPath(this.model, meta.path, present ? (getPath(this.model, meta.path) || {}) : UNSET);
      this.setGroupEnabled(meta.path, present);
      this.fill(this.fieldsPanel.querySelector(`fieldset[data-group="${CSS.escape(meta.path)}"]`));
      this.clearProblems(meta.path);
      this.changed();
      return;
    }
    setPath(this.model, meta.path, this.readControl(control));
    // Checked when the value is committed (change), and while a field shown as wrong is being corrected.
    if (committed || meta.kind === "checkbox" || meta.kind === "select" || control.getAttribute("aria-invalid") === "true") {
      this.showProblems(this.checkPath(meta.path), { only: meta.path });
    }
    if (this.conditional) this.updateRequired();
    this.changed();
  }

  changed() {
    if (this.onChange) this.onChange(this.model);
  }

  // Conditionally required groups (a filing request's `new` for file and change) are marked as the choice changes.
  updateRequired() {
    if (!this.conditional) return;
    const required = requiredOf(this.conditional, this.model, this.schemas);
    for (const [name] of Object.entries(this.conditional.properties || {})) {
      const group = this.fieldsPanel.querySelector(`fieldset[data-group="${CSS.escape(name)}"] > legend`);
      if (!group) continue;
      group.querySelector(".required")?.remove();
      if (required.has(name)) group.append(el("span", { class: "required", "aria-hidden": "true", title: required.get(name) || "必填" }, "＊"));
    }
  }

  checkPath(path) {
    const all = check(this.schemas, this.schema, this.model, "", [], (v) => this.valueLabel(path, v));
    return all.filter((p) => p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`));
  }

  validate() {
    const problems = check(this.schemas, this.schema, this.model, "", [], (v) => this.valueLabel("", v));
    this.showProblems(problems);
    return problems;
  }

  // ── problems beside their fields ──────────────────────────────────────────────────────────────
  clearProblems(only) {
    for (const control of this.form.querySelectorAll("[aria-invalid=true]")) {
      const path = control.dataset.path || control.dataset.presence || "";
      if (only !== undefined && !(path === only || path.startsWith(`${only}.`) || path.startsWith(`${only}[`))) continue;
      control.removeAttribute("aria-invalid");
    }
    for (const error of this.form.querySelectorAll(".error")) {
      const owner = error.closest("[data-field], [data-group]");
      const path = owner ? owner.dataset.field || owner.dataset.group : "";
      if (only !== undefined && !(path === only || path.startsWith(`${only}.`) || path.startsWith(`${only}[`))) continue;
      if (error === this.jsonError && only !== undefined) continue;
      error.hidden = true;
      error.textContent = "";
    }
    if (only === undefined) { this.summary.hidden = true; this.summary.replaceChildren(); }
  }

  // Show each problem beside the field its path names (or the nearest group that holds it); return the rest.
  showProblems(problems, { only } = {}) {
    this.clearProblems(only);
    const unplaced = [];
    const placed = [];
    for (const problem of problems) {
      const target = this.placeFor(problem.path);
      if (!target) { unplaced.push(problem); continue; }
      const { error, control } = target;
      error.hidden = false;
      error.textContent = error.textContent ? `${error.textContent}；${problem.message}` : problem.message;
      if (control) control.setAttribute("aria-invalid", "true");
      placed.push({ problem, control, error });
    }
    if (only === undefined && problems.length) this.showSummary(placed, unplaced);
    return unplaced;
  }

  placeFor(path) {
    let current = path;
    while (true) {
      const field = this.fieldsPanel.querySelector(`[data-field="${CSS.escape(current)}"]`);
      if (field && !field.closest(".group-body[hidden]")) {
        return { error: field.querySelector(".error"), control: field.querySelector("[data-path]") };
      }
      const group = this.fieldsPanel.querySelector(`[data-group="${CSS.escape(current)}"]`);
      if (group) {
        return { error: group.querySelector(":scope > .error"), control: group.querySelector(":scope > .presence [data-presence]") };
      }
      if (!current) return null;
      const cut = Math.max(current.lastIndexOf("."), current.lastIndexOf("["));
      current = cut < 0 ? "" : current.slice(0, cut);
    }
  }

  showSummary(placed, unplaced) {
    const count = placed.length + unplaced.length;
    const list = el("ul");
    for (const { problem, control } of placed) {
      const name = this.titleOf(problem.path);
      const link = el("a", { href: `#${control ? control.id : this.summary.id}` }, `${name}：${problem.message}`);
      link.addEventListener("click", (event) => { event.preventDefault(); control?.focus(); });
      list.append(el("li", {}, link));
    }
    for (const problem of unplaced) list.append(el("li", {}, `${problem.path || "整份文档"}：${problem.message}`));
    this.summary.replaceChildren(el("p", {}, el("strong", {}, `有 ${count} 处需要修改，未作决定：`)), list);
    this.summary.hidden = false;
  }

  titleOf(path) {
    const parts = splitPath(path);
    const words = [];
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).reduce((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), "");
      if (typeof parts[i - 1] === "number") { words.push(`第 ${parts[i - 1] + 1} 条`); continue; }
      const s = this.schemas.at(this.schema, prefix);
      words.push(s && s.title ? s.title : String(parts[i - 1]));
    }
    return words.join(" › ") || "整份文档";
  }

  // What to send: the JSON text exactly as typed in the JSON tab, else the model.
  body() {
    if (this.mode === "json") {
      try { this.setDocumentKeepingText(JSON.parse(this.jsonArea.value)); } catch { /* sent as typed: the server says why */ }
      return this.jsonArea.value;
    }
    return JSON.stringify(this.model);
  }

  setDocumentKeepingText(parsed) {
    const text = this.jsonArea.value;
    this.setDocument(parsed);
    this.jsonArea.value = text;
  }

  submit() {
    if (this.mode === "json") {
      this.jsonError.hidden = true;
      const text = this.body();
      this.onSubmit(text, { raw: true });
      return;
    }
    const problems = this.validate();
    if (problems.length) {
      const first = this.form.querySelector("[aria-invalid=true]");
      (first || this.summary).focus();
      return;
    }
    this.onSubmit(this.body(), { raw: false });
  }
}

export function arrowKeys(event, tabs) {
  const index = tabs.indexOf(event.currentTarget);
  let next = null;
  if (event.key === "ArrowRight") next = (index + 1) % tabs.length;
  else if (event.key === "ArrowLeft") next = (index - 1 + tabs.length) % tabs.length;
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = tabs.length - 1;
  if (next === null) return;
  event.preventDefault();
  tabs[next].focus();
  tabs[next].click();
}
