"""The words of input errors: every message an officer reads about a bad document.

Kept apart from `yidi.documents` so the validation logic reads as logic and the
wording can be reviewed (and translated) in one place. Each function returns a
`(message_zh, message_en)` pair; messages say what was expected and what was
found, and where a near miss is likely, what the writer probably meant.
"""

from __future__ import annotations

import difflib
import heapq
import json
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported lazily at run time: only the thorough path needs jsonschema
    from jsonschema import ValidationError

Path = tuple[str | int, ...]
Pair = tuple[str, str]

REGION_PATTERN = "^[1-9][0-9]{5}$"
DATE_PATTERN = r"^(19|20)\d{2}-\d{2}-\d{2}$"  # contract §4: dates lie between 1900-01-01 and 2099-12-31
_DATE_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)

_TYPE_WORDS = {
    "object": ("对象", "an object"),
    "array": ("列表", "a list"),
    "string": ("字符串", "a string"),
    "number": ("数字", "a number"),
    "integer": ("整数", "an integer"),
    "boolean": ("布尔值（true 或 false）", "a boolean (true or false)"),
    "null": ("null", "null"),
}
_SHOWN_CHARS = 60
_SHOWN_KEY_CHARS = 80     # a longer key cannot be a contract field; its path shows the start of it
_SUGGESTED_CHARS = 64     # no "did you mean" for longer words: comparing them costs more than it helps
_SURROGATE = re.compile("[\ud800-\udfff]")


class Found(NamedTuple):
    """One problem before it becomes an `InputProblem`; `keyword` says which check found it."""

    path: Path
    message_zh: str
    message_en: str
    keyword: str


def format_path(path: Sequence[str | int]) -> str:
    """`("history", 0, "cancelled_on")` → `"history[0].cancelled_on"`; the root is `""`.

    A key that is not a plain name (empty, dotted, spaced) is quoted, `visit["a b"]`,
    so no path is ambiguous and none but the root's is empty. A key longer than
    any field name is shown by its start (`visit["aaaa…"]`), so a hostile key
    cannot make every message about it as long as itself.
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif len(part) > _SHOWN_KEY_CHARS:
            text += f"[{printable(json.dumps(part[:_SHOWN_KEY_CHARS], ensure_ascii=False))[:-1]}…\"]"
        elif not _PLAIN_KEY.fullmatch(part):
            text += f"[{printable(json.dumps(part, ensure_ascii=False))}]"
        else:
            text += f".{part}" if text else part
    return text


def printable(text: str) -> str:
    """`text` with any lone surrogate written as its escape (`\\ud800`), so it can be written as UTF-8."""
    return text if text.isascii() or not _SURROGATE.search(text) else _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def has_lone_surrogate(text: str) -> bool:
    """A str holding a lone UTF-16 surrogate is not Unicode text (contract §4): it cannot be written as UTF-8."""
    return not text.isascii() and _SURROGATE.search(text) is not None


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


def show(value: Any) -> str:
    """A value as JSON would spell it, shortened so a message stays one line."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str):
        text = printable(json.dumps(value[: _SHOWN_CHARS + 1], ensure_ascii=False))
        return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 4] + "…\""
    if isinstance(value, int | Decimal):
        text = str(value)
        return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"
    return ""


def describe(value: Any) -> Pair:
    """What was found, with its kind: `字符串 "abc"`, `数字 -5`, `null`, `列表`."""
    if value is None:
        return "null", "null"
    if isinstance(value, bool):
        return f"布尔值 {show(value)}", f"boolean {show(value)}"
    if isinstance(value, str):
        return f"字符串 {show(value)}", f"string {show(value)}"
    if isinstance(value, int | float | Decimal):
        return f"数字 {show(value)}", f"number {show(value)}"
    if isinstance(value, list | tuple):
        return f"列表（{len(value)} 项）", f"a list of {len(value)} items"
    if isinstance(value, dict):
        return "对象", "an object"
    name = type(value).__name__
    return f"不能用 JSON 表示的值（{name}）", f"a value JSON cannot express ({name})"


def _expected(types: str | Iterable[str]) -> Pair:
    names = [types] if isinstance(types, str) else list(types)
    words = [_TYPE_WORDS.get(n, (n, n)) for n in names]
    zh = "或".join(w[0] for w in words).replace("或null", "或 null")
    return zh, " or ".join(w[1] for w in words)


def _suggest(word: Any, candidates: Iterable[Any]) -> Pair:
    if not isinstance(word, str) or len(word) > _SUGGESTED_CHARS:
        return "", ""
    close = difflib.get_close_matches(word, [c for c in candidates if isinstance(c, str)], n=1, cutoff=0.6)
    if not close:
        return "", ""
    return f"。您是否想写 {show(close[0])}？", f"; did you mean {show(close[0])}?"


def _join(values: Iterable[Any]) -> Pair:
    shown = [show(v) for v in values]
    return "、".join(shown), ", ".join(shown)


def _note(schema: Any) -> Pair:
    if isinstance(schema, dict) and "x-yidi-note-zh" in schema:
        return f"（{schema['x-yidi-note-zh']}）", f" ({schema.get('x-yidi-note-en', '')})"
    return "", ""


# ---- schema errors -------------------------------------------------------------------------


def from_schema_error(error: ValidationError, limit: int) -> tuple[list[Found], int]:
    """Turn one jsonschema error into problems at the paths a writer would look at.

    `required` and `additionalProperties` errors are reported at the missing or
    unknown field's own path, one problem per field, not at the parent object.
    At most `limit` problems are written out; the second item counts the rest
    (90,000 unknown keys cost a count, not 90,000 messages).
    """
    path: Path = tuple(error.absolute_path)
    keyword = str(error.validator)
    instance, value, schema = error.instance, error.validator_value, error.schema
    note_zh, note_en = _note(schema)
    if keyword == "required":  # one error per missing name; listing all of them again is harmless, doubles merge
        return [
            Found((*path, name), f"缺少必填字段 {format_path((*path, name))}{note_zh}",
                  f"missing required field {format_path((*path, name))}{note_en}", keyword)
            for name in value
            if isinstance(instance, dict) and name not in instance
        ][:limit], 0
    if keyword == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        unused = [name for name in allowed if name not in instance] or allowed
        problems = []
        unknown = [k for k in instance if k not in allowed]
        for name in heapq.nsmallest(limit, unknown):
            hint_zh, hint_en = _suggest(name, unused)
            if not hint_zh:
                hint_zh = "。允许的字段：" + "、".join(allowed)
                hint_en = "; allowed fields: " + ", ".join(allowed)
            where = format_path((*path, name))
            problems.append(Found((*path, name), f"未知字段 {where}{hint_zh}", f"unknown field {where}{hint_en}", keyword))
        return problems, len(unknown) - len(problems)
    zh, en = _keyword_message(keyword, value, instance, error.message)
    return [Found(path, zh + note_zh, en + note_en, keyword)][:limit], 0


def _keyword_message(keyword: str, value: Any, instance: Any, fallback: str) -> Pair:
    found_zh, found_en = describe(instance)
    if keyword == "type":
        want_zh, want_en = _expected(value)
        return f"应为{want_zh}，实际为{_spaced(found_zh)}", f"expected {want_en}, found {found_en}"
    if keyword == "enum":
        allowed_zh, allowed_en = _join(value)
        hint_zh, hint_en = _suggest(instance, value)
        return (f"取值应为以下之一：{allowed_zh}；实际为{_spaced(found_zh)}{hint_zh}",
                f"expected one of {allowed_en}, found {found_en}{hint_en}")
    if keyword == "const":
        hint_zh, hint_en = _suggest(instance, [value])
        return f"应为 {show(value)}，实际为{_spaced(found_zh)}{hint_zh}", f"expected {show(value)}, found {found_en}{hint_en}"
    if keyword == "pattern":
        if value == REGION_PATTERN:
            return (f"区划代码应为6位数字（首位不为0），实际为 {show(instance)}",
                    f"a region code is 6 digits not starting with 0, found {show(instance)}")
        if value == DATE_PATTERN:
            if isinstance(instance, str) and _DATE_SHAPE.fullmatch(instance):
                return date_out_of_range(instance)
            return f"日期应为 YYYY-MM-DD 格式，实际为 {show(instance)}", f"expected a date YYYY-MM-DD, found {show(instance)}"
        return f"格式不符（应匹配 {value}），实际为 {show(instance)}", f"does not match {value}: {show(instance)}"
    if keyword == "minimum":
        if value == 0:
            return f"不能为负数，实际为 {show(instance)}", f"must not be negative, found {show(instance)}"
        return f"不能小于 {show(value)}，实际为 {show(instance)}", f"must be at least {show(value)}, found {show(instance)}"
    if keyword == "maximum":
        return f"不能大于 {show(value)}，实际为 {show(instance)}", f"must be at most {show(value)}, found {show(instance)}"
    if keyword == "minLength" and value == 1:
        return "不能为空字符串", "must not be an empty string"
    if keyword == "minItems":
        return f"至少应有 {value} 项，实际为{_spaced(found_zh)}", f"needs at least {value} items, found {found_en}"
    return f"不符合要求（{keyword}）：{fallback}", f"invalid ({keyword}): {fallback}"


def _spaced(text: str) -> str:
    """Chinese runs straight into a word (`实际为字符串`) but takes a space before a literal (`实际为 null`)."""
    return text if not text[:1].isascii() else " " + text


# ---- problems found before or after the schema ---------------------------------------------


def not_an_object(value: Any) -> Pair:
    zh, en = describe(value)
    return f"文档应为 JSON 对象，实际为{_spaced(zh)}", f"a document must be a JSON object, found {en}"


def unknown_kind(value: Any, kinds: Sequence[str]) -> Pair:
    found_zh, found_en = describe(value)
    allowed_zh, allowed_en = _join(kinds)
    hint_zh, hint_en = _suggest(value, kinds)
    return (f"文档类型应为以下之一：{allowed_zh}；实际为{_spaced(found_zh)}{hint_zh}",
            f"kind must be one of {allowed_en}, found {found_en}{hint_en}")


def non_finite_number(value: Any) -> Pair:
    return f"JSON 不能表示非有限数字，实际为 {value}", f"JSON cannot carry a non-finite number, found {value}"


def non_string_key(key: Any) -> Pair:
    return f"字段名应为字符串，实际为 {key!r}", f"field names must be strings, found {key!r}"


def too_deep() -> Pair:
    return "文档嵌套层数过深，无法读取", "the document is nested too deeply to read"


def date_out_of_range(text: str) -> Pair:
    return (f"日期应在 1900-01-01 至 2099-12-31 之间，实际为 {show(text)}",
            f"a date must lie between 1900-01-01 and 2099-12-31, found {show(text)}")


def lone_surrogate(where: str) -> Pair:
    """A string (or a field name) holds a lone UTF-16 surrogate such as "\\ud800": not Unicode text."""
    noun_zh, noun_en = ("字段名", "a field name") if where == "key" else ("文本", "the text")
    return (f"{noun_zh}含有孤立的 UTF-16 代理码元（如 \\ud800），不是有效的 Unicode 文本",
            f"{noun_en} holds a lone UTF-16 surrogate (such as \\ud800): not valid Unicode text")


def not_utf8(data: bytes, error: UnicodeDecodeError) -> Pair:
    """Bytes that are not UTF-8: say where, and name UTF-16/32 when that is what it looks like."""
    start = error.start
    line = data.count(b"\n", 0, start) + 1
    column = start - (data.rfind(b"\n", 0, start) + 1) + 1
    where_zh, where_en = f"第 {line} 行第 {column} 列（字节 {start}）", f"line {line}, column {column} (byte {start})"
    for marks, name in (((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"), "UTF-32"), ((b"\xff\xfe", b"\xfe\xff"), "UTF-16")):
        if data.startswith(marks):
            return (f"文本为 {name} 编码（以字节顺序标记开头）；yidi 只读取 UTF-8，请另存为 UTF-8",
                    f"the text is {name} (it starts with a byte order mark); yidi reads UTF-8 only: save it as UTF-8")
    return (f"文本不是有效的 UTF-8：{where_zh}处的字节 0x{data[start]:02x} 无法解码；yidi 只读取 UTF-8",
            f"the text is not valid UTF-8: byte 0x{data[start]:02x} at {where_en} cannot be decoded; yidi reads UTF-8 only")


def nul_in_text() -> Pair:
    return ("文本中含有 NUL 字节（0x00）：可能是 UTF-16 或 UTF-32 编码；yidi 只读取 UTF-8",
            "the text holds NUL bytes (0x00): UTF-16 or UTF-32 perhaps; yidi reads UTF-8 only")


def nested_too_deep(limit: int) -> Pair:
    return (f"嵌套超过 {limit} 层（合法的文档不超过几层）", f"nested more than {limit} levels deep (a valid document has a few)")


def invalid_date(text: str) -> Pair:
    return f"日期不存在：{show(text)}（应为真实的日历日期 YYYY-MM-DD）", f"no such calendar date: {show(text)}"


def too_many_decimals(value: Decimal, places: int) -> Pair:
    return f"金额最多{places}位小数，实际为 {show(value)}", f"money has at most {places} decimals, found {show(value)}"


def not_before(value: Any, other_name: str, other: Any) -> Pair:
    """`value` (at the reported path) lies before `other`, named like `入院日期 visit.admission_date`."""
    other_path = other_name.split(" ")[-1]
    return (f"不能早于{other_name}（{other}），实际为 {value}",
            f"must not be before {other_path} ({other}), found {value}")


def exceeds(value: Any, other_name: str, other: Any) -> Pair:
    """`value` is more than `other` (money), named like `医疗费总额 costs.total`."""
    other_path = other_name.split(" ")[-1]
    return (f"不能大于{other_name}（{show(other)}），实际为 {show(value)}",
            f"must not exceed {other_path} ({show(other)}), found {show(value)}")


# ---- malformed JSON text --------------------------------------------------------------------

_JSON_ERRORS_ZH = {
    "Expecting value": "此处应为一个值（对象、列表、字符串、数字、true、false 或 null）",
    "Expecting property name enclosed in double quotes": "此处应为用双引号括起的字段名（注意末尾不能有多余逗号）",
    "Expecting ',' delimiter": "此处缺少逗号 ,",
    "Expecting ':' delimiter": "此处缺少冒号 :",
    "Extra data": "JSON 结束后还有多余内容",
    "Unterminated string starting at": "字符串缺少结束的双引号",
    "Invalid control character at": "字符串中有未转义的控制字符（如换行）",
    "Invalid \\escape": "无效的转义序列",
    "Invalid \\uXXXX escape": "无效的 \\uXXXX 转义",
}


def bad_json(reason: str, line: int, column: int) -> Pair:
    zh = _JSON_ERRORS_ZH.get(reason, reason)
    return f"JSON 格式错误（第 {line} 行第 {column} 列）：{zh}", f"malformed JSON at line {line}, column {column}: {reason}"


def unreadable_json(reason: str) -> Pair:
    return f"无法读取 JSON：{reason}", f"cannot read JSON: {reason}"


def json_constant(name: str) -> Pair:
    return f"JSON 中不允许 {name}：数字必须是有限的", f"{name} is not allowed in JSON: numbers must be finite"


def duplicate_key(key: str) -> Pair:
    return (f"同一个 JSON 对象中字段 {show(key)} 出现了不止一次（无法判断以哪个为准）",
            f"field {show(key)} appears more than once in the same JSON object")
