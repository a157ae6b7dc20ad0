"""Check a loaded YAML document against a JSON Schema, in plain Chinese.

jsonschema's own messages ("Additional properties are not allowed ('sourse'
was unexpected)") are written for programmers and point at JSON paths. An
officer needs to know which line to fix and what to write instead, so each
error is turned into a `Diagnostic` placed on the offending key or value,
with a suggestion when a near-miss spelling or a wrong indentation explains
it. Schemas may carry `x-message-zh`/`x-message-en` on a subschema (used as
the message for any error raised by that subschema's own keywords) and
`x-pattern-zh`/`x-pattern-en` on a property (explains its `pattern`).
"""

from __future__ import annotations

import dataclasses
import difflib
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .diagnostics import Diagnostic, sort_diagnostics
from . import speedups
from .schema_compiled import compiled_schema
from .schema_regex import ecma_regex, ecma_validator_class
from .source import LocatedDocument

if TYPE_CHECKING:  # imported when a document has errors to explain (see _validator)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_VALIDATORS: dict[Any, tuple[dict, Draft202012Validator]] = {}

_TYPE_ZH = {
    "string": "字符串", "number": "数字", "integer": "整数", "boolean": "布尔值（true/false）",
    "array": "列表", "object": "映射（若干 `键: 值`）", "null": "空值（null）",
}
_TYPE_EN = {"boolean": "boolean (true/false)", "array": "list", "object": "mapping", "null": "null"}

# Lower rank wins when several errors land on the same spot.
_RANK = {"type": 1, "required": 1, "additionalProperties": 1, "unevaluatedProperties": 1,
         "const": 2, "enum": 2, "pattern": 3}


def _validator(schema: dict) -> Draft202012Validator:
    """One validator per schema `$id` (or per schema object without one).

    jsonschema is imported here, not at module level: a valid document never
    needs it (see check_against_schema).
    """
    key = schema.get("$id") or id(schema)
    cached = _VALIDATORS.get(key)
    if cached is None or (not schema.get("$id") and cached[0] is not schema):
        validator_class = ecma_validator_class()  # `$` ends the text: "henan\n" is not a policy id
        validator_class.check_schema(schema)
        cached = (schema, validator_class(schema))
        _VALIDATORS[key] = cached
    return cached[1]


def check_against_schema(doc: LocatedDocument, schema: dict) -> list[Diagnostic]:
    """Every schema violation in `doc`, at most one per key or value.

    The compiled check (yidi.schema_compiled, a speed-up: yidi.speedups) answers
    first; only a document it does not accept is walked by jsonschema, whose
    errors are explained.
    """
    accepts = compiled_schema(schema) if speedups.ENABLED else None
    if accepts is not None and accepts(doc.data):
        return []
    chosen: dict[tuple, tuple[int, Diagnostic]] = {}
    explainer = _Explainer(doc, schema)
    for error in _validator(schema).iter_errors(doc.data):
        for leaf in _leaves(error):
            for where, rank, diagnostic in explainer.explain(leaf):
                if where not in chosen or rank < chosen[where][0]:
                    chosen[where] = (rank, diagnostic)
    return sort_diagnostics(d for _, d in chosen.values())


def _custom(error: ValidationError) -> bool:
    return isinstance(error.schema, dict) and "x-message-zh" in error.schema


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The error(s) worth reporting for one anyOf/oneOf failure.

    An officer meant one of the alternatives; report only the errors of
    the one that fits best: the instance has its type, its const/enum
    "discriminator" keys match, it has the fewest errors, and (as in
    jsonschema's best_match) it got deepest. A subschema that explains
    itself with x-message-zh, or a pure "one of these types" failure, is
    reported whole.
    """
    if _custom(error) or not error.context:
        return [error]
    if all(e.validator == "type" and not e.relative_path for e in error.context):
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)

    def fit(errors: list[ValidationError]):
        wrong_type = any(e.validator == "type" and not e.relative_path for e in errors)
        mismatched = sum(e.validator in ("const", "enum") for e in errors)
        return (wrong_type, mismatched, len(errors), -max(len(e.path) for e in errors))

    best = min(branches.values(), key=fit)
    return [leaf for sub in best for leaf in _leaves(sub)]


# --------------------------------------------------------------------------
# Reading the schema by instance path (for titles and allowed keys).


def _resolve(root: dict, node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#") and seen < 20:
        target: Any = root
        for part in node["$ref"][1:].split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        node, seen = target, seen + 1
    return node


def _branches(root: dict, node: Any) -> list[dict]:
    """`node` and every subschema that applies to the same instance."""
    node = _resolve(root, node)
    if not isinstance(node, dict):
        return []
    found = [node]
    for word in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(word, []):
            found.extend(_branches(root, sub))
    for word in ("then", "else"):
        if word in node:
            found.extend(_branches(root, node[word]))
    return found


def _properties(root: dict, node: Any, deep: bool = True) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for branch in _branches(root, node) if deep else [_resolve(root, node)]:
        if isinstance(branch, dict):
            for name, sub in branch.get("properties", {}).items():
                props.setdefault(name, sub)
    return props


def _child(root: dict, node: Any, part: str | int) -> Any:
    for branch in _branches(root, node):
        if isinstance(part, int):
            if "items" in branch:
                return branch["items"]
            continue
        if part in branch.get("properties", {}):
            return branch["properties"][part]
        for pattern, sub in branch.get("patternProperties", {}).items():
            if ecma_regex(pattern).search(part):
                return sub
        if isinstance(branch.get("additionalProperties"), dict):
            return branch["additionalProperties"]
    return None


def _node_at(root: dict, path: tuple) -> Any:
    """The (unresolved) subschema for the instance at `path`, or None."""
    node: Any = root
    for part in path:
        node = _child(root, node, part)
        if node is None:
            return None
    return node


def _schema_at(root: dict, path: tuple) -> dict:
    node = _resolve(root, _node_at(root, path))
    return node if isinstance(node, dict) else {}


def _meta(root: dict, node: Any, word: str) -> str | None:
    """`title`/`description`, preferring the one written next to a $ref."""
    if isinstance(node, dict) and node.get(word):
        return node[word]
    for branch in _branches(root, node):
        if branch.get(word):
            return branch[word]
    return None


# --------------------------------------------------------------------------
# Wording.


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if not value.isprintable():  # a line break or control character is shown, not obeyed
            value = value.encode("unicode_escape").decode("ascii")
        return value if len(value) <= 40 else value[:37] + "…"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    return "列表" if isinstance(value, list) else "映射"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, (float, Decimal)):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "string")


def _path_en(path: tuple) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return text or "the top level"


def _label(path: tuple, title: str | None) -> str:
    """How to name the thing at `path`: `rules` 第 1 项（规则）."""
    if not path:
        return "文件顶层"
    last = path[-1]
    if isinstance(last, int):
        owner = f"`{path[-2]}` " if len(path) > 1 and isinstance(path[-2], str) else ""
        name = f"{owner}第 {last + 1} 项"
    else:
        name = f"`{last}`"
    return f"{name}（{title}）" if title else f"{name} "


def _suggest(word: str, options: list[str]) -> str | None:
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    found = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return found[0] if found else None


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else "、".join(words[:-1]) + "或" + words[-1]


def _type_help(expected: list[str], value: Any, schema: dict) -> str | None:
    found = _kind(value)
    if value is None:
        return "这里不能留空"
    if "string" in expected and found in ("integer", "number", "boolean"):
        pattern = schema.get("pattern")
        if schema.get("x-pattern-zh") and pattern and not ecma_regex(pattern).search(_show(value)):
            return schema["x-pattern-zh"]
        return f"如果这是文字（如文号、区划代码、年份），请加引号，例如 \"{_show(value)}\""
    if found == "string" and ({"number", "integer"} & set(expected)):
        try:
            Decimal(value)
            return "数字不要加引号"
        except ArithmeticError:
            return "这里应当写一个数字"
    if "object" in expected:
        return "在下一行比这个键多缩进一层，写若干 `键: 值`"
    if "array" in expected:
        return "列表的每一项单独一行，以 “- ” 开头；或写成 [甲, 乙]"
    return None


class _Explainer:
    """Turns one jsonschema error into (where, rank, Diagnostic) triples."""

    def __init__(self, doc: LocatedDocument, root: dict):
        self.doc, self.root = doc, root

    def make(self, code, pos, zh, en, help_zh=None, help_en=None) -> Diagnostic:
        return Diagnostic(code, zh, en, pos.file, pos.line, pos.column, "error", help_zh, help_en)

    def explain(self, error: ValidationError) -> list[tuple[tuple, int, Diagnostic]]:
        path = tuple(error.absolute_path)
        schema = error.schema if isinstance(error.schema, dict) else {}
        kw = error.validator
        if "propertyNames" in error.absolute_schema_path:
            results = [self.bad_name(path, error, schema)]
        elif kw in ("additionalProperties", "unevaluatedProperties"):
            results = self.unknown_keys(path, error, schema)
        elif kw == "required":
            results = self.missing_keys(path, error, schema)
        else:
            results = [self.other(path, error, schema)]
        if _custom(error):
            results = [(where, 0, dataclasses.replace(
                d, message_zh=schema["x-message-zh"], message_en=schema.get("x-message-en", d.message_en)))
                for where, _, d in results]
        return results

    def title_at(self, path: tuple, schema: dict | None = None) -> str | None:
        if schema and schema.get("title"):
            return schema["title"]
        return _meta(self.root, _node_at(self.root, path), "title")

    def unknown_keys(self, path, error, schema):
        deep = error.validator == "unevaluatedProperties"
        props = _properties(self.root, schema, deep=deep)
        patterns = [p for b in (_branches(self.root, schema) if deep else [schema])
                    for p in b.get("patternProperties", {})]
        instance = error.instance if isinstance(error.instance, dict) else {}
        extras = [k for k in instance if k not in props and not any(ecma_regex(p).search(k) for p in patterns)]
        where_zh = _label(path, self.title_at(path, schema))
        results = []
        for key in extras:
            help_zh, help_en = self.key_hint(path, key, list(props))
            zh = f"{where_zh.rstrip()}{'中' if path else ''}没有 `{key}` 这个键"
            en = f"unknown key `{key}` in {_path_en(path)}"
            diagnostic = self.make("unknown-key", self.doc.key_at(path + (key,)), zh, en, help_zh, help_en)
            results.append((path + (key,), _RANK["additionalProperties"], diagnostic))
        return results

    def key_hint(self, path: tuple, key: str, allowed: list[str]) -> tuple[str, str]:
        """Suggest the intended key: a near spelling, or the right depth."""
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.8)
        if close:
            return (f"您是否想写 `{close[0]}`？", f"did you mean `{close[0]}`?")
        here = _schema_at(self.root, path)
        for name, sub in _properties(self.root, here).items():
            sub = _schema_at(self.root, path + (name,))
            inner = _child(self.root, sub, 0) if "items" in sub else sub
            if key in _properties(self.root, inner):
                return (f"`{key}` 应当写在 `{name}` 里面：请检查缩进",
                        f"`{key}` belongs inside `{name}`: check the indentation")
        owner = path
        while owner and isinstance(owner[-1], int):
            owner = owner[:-1]
        if owner:
            owner = owner[:-1]
            if key in _properties(self.root, _schema_at(self.root, owner)):
                return (f"`{key}` 应当写在上一层：请减少这一行的缩进",
                        f"`{key}` belongs one level up: indent it less")
        listing = "、".join(allowed)
        guess = _suggest(key, allowed)
        if guess:
            return (f"您是否想写 `{guess}`？可用的键：{listing}", f"did you mean `{guess}`? allowed keys: {', '.join(allowed)}")
        return (f"可用的键：{listing}" if allowed else "这里不能写任何键",
                f"allowed keys: {', '.join(allowed)}" if allowed else "no keys are allowed here")

    def missing_keys(self, path, error, schema):
        instance = error.instance if isinstance(error.instance, dict) else {}
        where_zh = _label(path, self.title_at(path, schema))
        results = []
        for key in error.validator_value:
            if key in instance:
                continue
            sub = _properties(self.root, _schema_at(self.root, path)).get(key)
            title, desc = _meta(self.root, sub, "title"), _meta(self.root, sub, "description")
            zh = f"{where_zh.rstrip()}缺少 `{key}`" + (f"（{title}）" if title else "")
            en = f"missing key `{key}` in {_path_en(path)}"
            help_zh = f"请添加 `{key}:`" + (f"——{desc}" if desc else "")
            diagnostic = self.make("missing-key", self.doc.key_at(path), zh, en, help_zh, f"add `{key}:`")
            results.append((path + (key,), _RANK["required"], diagnostic))
        return results

    def bad_name(self, path, error, schema):
        key = str(error.instance)
        pos = self.doc.key_at(path + (key,))
        rule = schema.get("x-pattern-zh") or schema.get("description") or "名称格式不对"
        zh = f"名称 `{_show(key)}` 不符合要求：{rule}"
        en = f"the name `{_show(key)}` in {_path_en(path)} is not allowed: {schema.get('x-pattern-en', error.message)}"
        return (path + (key, "#name"), _RANK["pattern"], self.make("bad-name", pos, zh, en))

    def other(self, path, error, schema):
        kw, value, instance = error.validator, error.validator_value, error.instance
        pos = self.doc.key_at(path) if isinstance(instance, (dict, list)) else self.doc.at(path)
        label = _label(path, self.title_at(path, schema))
        rank = _RANK.get(kw, 5)
        at_en = _path_en(path)
        if kw in ("anyOf", "oneOf") and error.context and all(e.validator == "type" for e in error.context):
            kw, value, rank = "type", [t for e in error.context for t in _as_list(e.validator_value)], 1
        if kw == "type":
            expected = _as_list(value)
            zh = f"{label}应为{_either([_TYPE_ZH.get(t, t) for t in expected])}，实际是{_TYPE_ZH[_kind(instance)]}"
            if not isinstance(instance, (dict, list)) and instance is not None:
                zh += f" {_show(instance)}"
            en = f"{at_en} should be {' or '.join(_TYPE_EN.get(t, t) for t in expected)}, found {_TYPE_EN.get(_kind(instance), _kind(instance))}"
            return (path, rank, self.make("wrong-type", pos, zh, en, _type_help(expected, instance, schema)))
        if kw in ("enum", "const"):
            options = _as_list(value) if kw == "enum" else [value]
            shown = "、".join(_show(o) for o in options)
            guess = _suggest(_show(instance), [_show(o) for o in options]) if isinstance(instance, str) else None
            zh = f"{label}的取值 `{_show(instance)}` 不在允许范围内" if kw == "enum" else f"{label}只能是 `{shown}`"
            help_zh = (f"您是否想写 `{guess}`？" if guess else "") + f"允许的取值：{shown}"
            en = f"{at_en}: `{_show(instance)}` is not one of {', '.join(_show(o) for o in options)}"
            return (path, rank, self.make("bad-value", pos, zh, en, help_zh, f"allowed: {', '.join(_show(o) for o in options)}"))
        if kw == "pattern":
            rule = schema.get("x-pattern-zh") or schema.get("description") or "格式不对"
            zh = f"{label}的取值 `{_show(instance)}` 不符合要求：{rule}"
            en = f"{at_en}: `{_show(instance)}` does not match {schema.get('x-pattern-en', value)}"
            return (path, rank, self.make("bad-value", pos, zh, en))
        zh, en = _bounds(kw, value, instance, label, at_en)
        if zh is None:
            zh = f"{label}不符合要求（{kw}）"
            en = f"{at_en}: {error.message}"
        return (path, rank, self.make("bad-value", pos, zh, en))


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _bounds(kw, value, instance, label, at_en) -> tuple[str | None, str]:
    shown = _show(instance)
    table = {
        "minimum": (f"{label}的取值 {shown} 小于允许的最小值 {value}", f"{at_en}: {shown} is below the minimum {value}"),
        "maximum": (f"{label}的取值 {shown} 大于允许的最大值 {value}", f"{at_en}: {shown} is above the maximum {value}"),
        "exclusiveMinimum": (f"{label}的取值 {shown} 必须大于 {value}", f"{at_en}: {shown} must be above {value}"),
        "exclusiveMaximum": (f"{label}的取值 {shown} 必须小于 {value}", f"{at_en}: {shown} must be below {value}"),
        "minItems": (f"{label}至少要有 {value} 项", f"{at_en} needs at least {value} item(s)"),
        "maxItems": (f"{label}最多只能有 {value} 项", f"{at_en} allows at most {value} item(s)"),
        "minLength": (f"{label}不能为空" if value == 1 else f"{label}至少要有 {value} 个字", f"{at_en} is too short"),
        "maxLength": (f"{label}最多只能有 {value} 个字", f"{at_en} is too long"),
        "uniqueItems": (f"{label}中有重复的项", f"{at_en} has duplicate items"),
        "minProperties": (f"{label}至少要有 {value} 个键", f"{at_en} needs at least {value} key(s)"),
        "not": (f"这里不允许写 {label.rstrip()}", f"{at_en} is not allowed here"),
        None: (f"这里不允许写 {label.rstrip()}", f"{at_en} is not allowed here"),
    }
    return table.get(kw, (None, ""))
