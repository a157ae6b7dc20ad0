"""Chinese messages for editors, written into the schemas an officer's editor reads.

Editors check policy files through the YAML language server (VS Code's
"YAML" extension and others), which knows only standard JSON Schema and a few
keywords of its own: `errorMessage` (replaces its English message for any
error of that subschema), `patternErrorMessage` (for `pattern`) and
`markdownDescription` (hover and completion text). The schemas' Chinese lives
in `title`, `description`, `x-pattern-zh` and `x-message-zh`, which
`yidi validate` reads; this module derives the editor keywords from them, so
there is one source for the words:

    python -m yidi.schema_editor            # rewrite schemas/{policy,sources,policy-test}.schema.json
    python -m yidi.schema_editor --check    # exit 1 if a schema is not up to date (a test does this)

Derived, per subschema:
* `markdownDescription`: the title in bold, the description, the allowed
  values of an enumeration, the format of a pattern;
* `patternErrorMessage`: `x-pattern-zh`;
* `errorMessage`: `x-message-zh` where the schema has one; else, for an
  object, the keys it may and must have (the language server uses it for an
  unknown or a missing key); for an enumeration, its values; for a scalar, the
  type expected and how to write it ("数字不要加引号").

The language server's own `errorMessage` replaces every message of its
subschema, which is why the object message lists the keys rather than naming
one. jsonschema, ajv and `yidi validate` ignore these keywords (ajv in
strict mode needs them declared: docs/editors.md).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

EDITOR_KEYWORDS = ("errorMessage", "patternErrorMessage", "markdownDescription")
FILES = ("policy.schema.json", "sources.schema.json", "policy-test.schema.json")
_NOT_SCHEMAS = {"enum", "const", "required", "examples", "default", "type"} | {k for k in EDITOR_KEYWORDS}
_TYPE_ZH = {"string": "文字", "number": "数字", "integer": "整数", "boolean": "true 或 false", "array": "列表",
            "object": "若干“键: 值”", "null": "null（空）"}
_HINT = {
    "number": "数字不要加引号", "integer": "写整数，不要加引号", "boolean": "只能写 true 或 false",
    "array": "列表的每一项单独一行，以“- ”开头；或写成 [甲, 乙]",
    "object": "在下一行多缩进一层，写若干“键: 值”",
}


def with_editor_messages(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` with the editor keywords derived anew from its Chinese texts."""
    return _node(schema, None)


def _node(node: Any, name: str | None) -> Any:
    if isinstance(node, list):
        return [_node(item, None) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in EDITOR_KEYWORDS:
            continue
        if key in ("properties", "patternProperties", "$defs") and isinstance(value, dict):
            out[key] = {k: _node(v, k) for k, v in value.items()}
        elif key in _NOT_SCHEMAS or key.startswith("x-"):
            out[key] = value
        else:
            out[key] = _node(value, None)
    out.update(_messages(node, name))
    return out


def _label(node: dict[str, Any], name: str | None) -> str:
    if node.get("title"):
        return f"「{node['title']}」"
    return f"`{name}`" if name else "这里"


def _types(node: dict[str, Any]) -> list[str]:
    kinds = node.get("type")
    return [kinds] if isinstance(kinds, str) else list(kinds or [])


def _messages(node: dict[str, Any], name: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    label = _label(node, name)
    if node.get("description"):
        text = (f"**{node['title']}**\n\n" if node.get("title") else "") + node["description"]
        if "enum" in node:
            text += "\n\n可选：" + "、".join(f"`{_show(v)}`" for v in node["enum"])
        if node.get("x-pattern-zh"):
            text += "\n\n格式：" + node["x-pattern-zh"]
        found["markdownDescription"] = text
    if node.get("pattern") and node.get("x-pattern-zh"):
        found["patternErrorMessage"] = node["x-pattern-zh"]
    kinds = _types(node)
    if node.get("x-message-zh"):
        found["errorMessage"] = node["x-message-zh"]
    elif "properties" in node and node.get("additionalProperties") is False:
        keys = "、".join(node["properties"])
        required = "、".join(node.get("required", ()))
        found["errorMessage"] = f"{label}可以写的键：{keys}" + (f"；必须写：{required}" if required else "") + "。请检查键的拼写和缩进"
    elif "enum" in node:
        found["errorMessage"] = f"{label}只能是 {'、'.join(_show(v) for v in node['enum'])} 之一"
    elif kinds:
        wanted = "或".join(_TYPE_ZH.get(k, k) for k in kinds)
        hint = next((_HINT[k] for k in kinds if k in _HINT), None)
        if "string" in kinds:
            hint = node.get("x-pattern-zh") or "像数字的文字（如区划代码）要加引号"
            if node.get("minLength"):
                hint += "；不能为空"
        found["errorMessage"] = f"{label}应为{wanted}" + (f"。{hint}" if hint else "")
    return found


def _show(value: Any) -> str:
    return "null" if value is None else json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def render(schema: dict[str, Any]) -> str:
    """The schema file's text, as the repository keeps it."""
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    from .resources import data_dir

    parser = argparse.ArgumentParser(prog="python -m yidi.schema_editor", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the schemas are up to date")
    parser.add_argument("--schemas", type=pathlib.Path, default=None, help="the schemas folder (default: the package's)")
    args = parser.parse_args(argv)
    folder = args.schemas or data_dir("schemas")
    stale = []
    for name in FILES:
        path = folder / name
        text = path.read_text(encoding="utf-8")
        wanted = render(with_editor_messages(json.loads(text)))
        if text != wanted:
            stale.append(name)
            if not args.check:
                path.write_text(wanted, encoding="utf-8")
    if args.check and stale:
        print("out of date: " + ", ".join(stale) + " (run python -m yidi.schema_editor)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
