"""Load YAML policy files while remembering where every value was written.

Officers edit these files by hand, so every later check (schema, expression
types, policy linking) must be able to point at file:line:column. PyYAML's
composer gives node positions; we build the Python values ourselves so that
only JSON-like types come out (no floats, no YAML 1.1 surprises such as
`no` → False or 2025-01-01 → date) and so that each scalar can map a
character offset in its loaded string back to the exact place in the file.
"""

from __future__ import annotations

import bisect
import pathlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from collections.abc import Mapping
from typing import Any

import yaml

from . import speedups
from .diagnostics import Diagnostic, DiagnosticError, sort_diagnostics

Path = tuple[str | int, ...]

_BREAKS = "\n\x85\u2028\u2029"  # after \r\n and \r are normalised to \n
_END = "\0"  # sentinel appended to the text, as PyYAML's reader does
_LINE_BREAK = re.compile(f"[{_BREAKS}]")


@dataclass(frozen=True)
class Position:
    file: str
    line: int  # 1-based
    column: int  # 1-based, in characters


class _Text:
    """The file's text plus a line-start table for index → Position."""

    def __init__(self, file: str, text: str):
        self.file = file
        self.text = text
        self.padded = text + _END
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def column0(self, index: int) -> int:
        return index - self.starts[bisect.bisect_right(self.starts, index) - 1]

    def position(self, index: int) -> Position:
        index = max(0, min(index, len(self.text)))
        line = bisect.bisect_right(self.starts, index) - 1
        return Position(self.file, line + 1, index - self.starts[line] + 1)


@dataclass
class NodeInfo:
    """Where one value (and its mapping key, if any) sits in the file."""

    key: Position | None
    value: Position
    style: str | None
    _src: _Text | None = field(default=None, repr=False, compare=False)
    _start: int = field(default=0, repr=False, compare=False)
    _end: int = field(default=0, repr=False, compare=False)
    _raw: str | None = field(default=None, repr=False, compare=False)
    _indices: list[int] | None = field(default=None, repr=False, compare=False)

    def offset_position(self, offset: int) -> Position:
        """File position of character `offset` of the scalar's loaded string.

        `offset == len(string)` gives the position just after the last
        character; anything out of range is clamped. Characters produced by
        folding a line break point at that line break, characters produced
        by an escape (`\\n`, `''`) point at the escape's first character.
        """
        if self._src is None or self._raw is None:
            return self.value
        indices = self._char_indices()
        if not indices:
            return self.value
        offset = max(0, min(offset, len(indices) - 1))
        return self._src.position(indices[offset])

    def _char_indices(self) -> list[int]:
        """Text index of every character of the loaded string, plus its end."""
        if self._indices is None:
            self._indices = _scalar_indices(self._src, self._start, self._end, self.style, self._raw)
        return self._indices


@dataclass
class LocatedDocument:
    file: str
    text: str
    data: Any
    nodes: dict[Path, NodeInfo]

    def node(self, path) -> NodeInfo | None:
        return self.nodes.get(tuple(path))

    def at(self, path) -> Position:
        """The value at `path`, else its nearest existing ancestor."""
        path = tuple(path)
        while path not in self.nodes and path:
            path = path[:-1]
        info = self.nodes.get(path)
        return info.value if info else Position(self.file, 1, 1)

    def key_at(self, path) -> Position:
        """Where the key of `path` is written; `at(path)` when there is none."""
        info = self.nodes.get(tuple(path))
        if info is not None and info.key is not None:
            return info.key
        return self.at(path)

    def lines(self) -> list[str]:
        return self.text.splitlines()


# --------------------------------------------------------------------------
# Scalar character positions. These mirror PyYAML's scanner (scan_plain,
# scan_flow_scalar, scan_block_scalar) step by step, recording for every
# output character the index it came from in the raw text.


def _break_char(ch: str) -> str:
    return ch if ch in "\u2028\u2029" else "\n"


def _plain_chars(t: str, start: int, end: int) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    i = start
    while i < end:
        if t[i] != " " and t[i] not in _BREAKS:
            out.append((t[i], i))
            i += 1
            continue
        j, breaks = i, []
        while j < end and (t[j] == " " or t[j] in _BREAKS):
            if t[j] in _BREAKS:
                breaks.append(j)
            j += 1
        if not breaks:
            out.extend((" ", k) for k in range(i, j))
        else:
            first = _break_char(t[breaks[0]])
            if first != "\n":
                out.append((first, breaks[0]))
            elif len(breaks) == 1:
                out.append((" ", breaks[0]))
            out.extend((_break_char(t[b]), b) for b in breaks[1:])
        i = j
    return out


_ESCAPES = {
    "0": "\0", "a": "\x07", "b": "\x08", "t": "\t", "\t": "\t", "n": "\n",
    "v": "\x0b", "f": "\x0c", "r": "\r", "e": "\x1b", " ": " ", '"': '"',
    "\\": "\\", "/": "/", "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029",
}
_ESCAPE_CODES = {"x": 2, "u": 4, "U": 8}


def _quoted_chars(t: str, start: int) -> list[tuple[str, int]]:
    double = t[start] == '"'
    out: list[tuple[str, int]] = []

    def breaks(i: int) -> int:
        while True:
            while t[i] in " \t":
                i += 1
            if t[i] not in _BREAKS:
                return i
            out.append((_break_char(t[i]), i))
            i += 1

    def non_spaces(i: int) -> int:
        while True:
            ch = t[i]
            if ch not in "'\"\\\0 \t" + _BREAKS:
                out.append((ch, i))
                i += 1
            elif not double and ch == "'" and t[i + 1] == "'":
                out.append(("'", i))
                i += 2
            elif (double and ch == "'") or (not double and ch in '"\\'):
                out.append((ch, i))
                i += 1
            elif double and ch == "\\":
                esc = t[i + 1]
                if esc in _ESCAPES:
                    out.append((_ESCAPES[esc], i))
                    i += 2
                elif esc in _ESCAPE_CODES:
                    n = _ESCAPE_CODES[esc]
                    out.append((chr(int(t[i + 2 : i + 2 + n], 16)), i))
                    i += 2 + n
                elif esc in _BREAKS:
                    i = breaks(i + 2)  # escaped line break: joined, no space
                else:
                    return i
            else:
                return i

    def spaces(i: int) -> int:
        j = i
        while t[j] in " \t":
            j += 1
        if t[j] not in _BREAKS:
            out.extend((t[k], k) for k in range(i, j))
            return j
        first, mark = len(out), j
        j = breaks(j + 1)
        folded = _break_char(t[mark])
        if folded != "\n":
            out.insert(first, (folded, mark))
        elif len(out) == first:
            out.append((" ", mark))
        return j

    i = non_spaces(start + 1)
    while t[i] != t[start] and t[i] != _END:
        i = non_spaces(spaces(i))
    return out


def _block_chars(src: _Text, start: int, min_indent: int) -> list[tuple[str, int]]:
    t, col = src.padded, src.column0
    folded = t[start] == ">"
    i, chomping, increment = start + 1, None, None
    for _ in range(2):  # chomping and indentation indicators, in any order
        if t[i] in "+-":
            chomping, i = t[i] == "+", i + 1
        elif t[i] in "123456789":
            increment, i = int(t[i]), i + 1
    while t[i] not in _END + _BREAKS:  # rest of the header line: spaces, comment
        i += 1
    i += 1 if t[i] in _BREAKS else 0

    def block_breaks(i: int, indent: int) -> tuple[list[tuple[str, int]], int]:
        found = []
        while col(i) < indent and t[i] == " ":
            i += 1
        while t[i] in _BREAKS:
            found.append((_break_char(t[i]), i))
            i += 1
            while col(i) < indent and t[i] == " ":
                i += 1
        return found, i

    if increment is None:
        brks, max_indent = [], 0
        while t[i] in " " + _BREAKS:
            if t[i] != " ":
                brks.append((_break_char(t[i]), i))
            elif col(i) + 1 > max_indent:
                max_indent = col(i) + 1
            i += 1
        indent = max(min_indent, max_indent)
    else:
        indent = min_indent + increment - 1
        brks, i = block_breaks(i, indent)

    out: list[tuple[str, int]] = []
    line_break: tuple[str, int] | None = None
    while col(i) == indent and t[i] != _END:
        out.extend(brks)
        leading_non_space = t[i] not in " \t"
        while t[i] not in _END + _BREAKS:
            out.append((t[i], i))
            i += 1
        line_break = (_break_char(t[i]), i) if t[i] in _BREAKS else None
        i += 1 if line_break else 0
        brks, i = block_breaks(i, indent)
        if not (col(i) == indent and t[i] != _END):
            break
        if folded and line_break and line_break[0] == "\n" and leading_non_space and t[i] not in " \t":
            if not brks:
                out.append((" ", line_break[1]))
        elif line_break:
            out.append(line_break)
    if chomping is not False and line_break:
        out.append(line_break)
    if chomping is True:
        out.extend(brks)
    return out


def _scalar_indices(src: _Text, start: int, end: int, style: str | None, raw: str) -> list[int]:
    """Per-character source indices; falls back to a straight run if unsure."""
    chars: list[tuple[str, int]] | None = None
    if style is None:
        chars = _plain_chars(src.text, start, end)
    elif style in "'\"":
        chars = _quoted_chars(src.padded, start)
    elif style in "|>":
        # The parent's indentation is not on the node, so try each plausible
        # one and keep the reading that reproduces PyYAML's string exactly.
        limit = max((len(line) - len(line.lstrip(" ")) for line in src.text[start:end].split("\n")), default=0)
        for min_indent in range(1, limit + 2):
            candidate = _block_chars(src, start, min_indent)
            if "".join(c for c, _ in candidate) == raw:
                chars = candidate
                break
    if chars is None or "".join(c for c, _ in chars) != raw:
        first = start + (1 if style in ("'", '"') else 0)
        return [min(first + k, end) for k in range(len(raw) + 1)]
    indices = [i for _, i in chars]
    if style in ("'", '"'):
        indices.append(end - 1)  # the closing quote
    elif style is None:
        indices.append(end)
    else:
        indices.append(indices[-1] + 1 if indices else start)
    return indices


# --------------------------------------------------------------------------
# Composing and constructing.


MAX_DEPTH = 32
"""Deepest nesting of mappings and lists a YAML file may have (a policy file needs about 8).

Checked while the file is composed, before anything that recurses over the
values (building them, schema checks, test expectations) sees them."""


class _TooDeep(Exception):
    """A collection nested deeper than MAX_DEPTH starts at `mark`."""

    def __init__(self, mark):
        super().__init__(mark)
        self.mark = mark


class _Composer(yaml.SafeLoader):
    """SafeLoader's composer, noting the YAML features we refuse instead of
    resolving them, so that all such problems are reported together."""

    def __init__(self, text: str):
        super().__init__(text)
        self.refused: list[tuple[str, yaml.Event]] = []
        self.depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self.get_event()
            self.refused.append(("alias", event))
            return yaml.ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        if event.anchor is not None:
            self.refused.append(("anchor", event))
        if getattr(event, "tag", None) is not None:
            self.refused.append(("tag", event))
        if not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        self.depth += 1  # PyYAML's composer recurses per level: stop long before Python's limit
        if self.depth > MAX_DEPTH:
            raise _TooDeep(event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def plain_value(text: str) -> Any:
    """JSON-like value of a plain (unquoted) scalar.

    Only true/false are booleans, only decimal numerals are numbers; numbers
    with a fraction or exponent become Decimal so 0.85 stays exactly 0.85.
    Everything else (yes, 2025-01-01, 0410, 1_000, .inf) stays a string.
    """
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if _INT.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return Decimal(text)
    return text


_KEEP_IT_PLAIN = ("政策文件要求每个值都直接写在它所在的位置，便于审阅", "policy files keep every value where it applies, for review")
# code → (message zh, message en, help zh, help en); {x} is filled in.
_REFUSED = {
    "yaml-complex-key": ("键必须是一个简单的名称，不能是列表或映射", "a mapping key must be a plain scalar, not a list or mapping",
                         "检查这一行的 “?”、“[” 或 “{{”；如果它们是文字内容，请加引号", "quote '?', '[' or '{{' if they are text"),
    "yaml-merge-key": ("不支持 YAML 合并键 “<<”：请把要用的键逐个写出来", "YAML merge keys '<<' are not supported: write the keys out",
                       *_KEEP_IT_PLAIN),
    "duplicate-key": ("键 `{x}` 重复：第 {line} 行第 {column} 列已经写过",
                      "duplicate key `{x}` (first written at line {line}, column {column})",
                      "同一层里一个键只能写一次；请删除或合并其中一处", "a key may appear only once per mapping; remove or merge one"),
    "yaml-anchor": ("不支持 YAML 锚点和别名（`{x}`）：请把内容直接写出来",
                    "YAML anchors and aliases (`{x}`) are not supported: write the content out",
                    _KEEP_IT_PLAIN[0] + "；如果 “&”/“*” 是文字内容，请加引号", _KEEP_IT_PLAIN[1] + "; quote '&'/'*' if it is text"),
    "yaml-tag": ("不支持 YAML 标签 `{x}`", "YAML tags such as `{x}` are not supported",
                 "去掉标签；需要文字时给值加引号即可", "remove the tag; quote the value if it is text"),
}


class _Builder:
    """Turns composed nodes into values, recording a NodeInfo per path."""

    def __init__(self, src: _Text):
        self.src = src
        self.nodes: dict[Path, NodeInfo] = {}
        self.problems: list[Diagnostic] = []

    def pos(self, mark) -> Position:
        return Position(self.src.file, mark.line + 1, mark.column + 1)

    def problem(self, mark, code: str, **fill) -> None:
        p = self.pos(mark)
        zh, en, help_zh, help_en = (text.format(**fill) for text in _REFUSED[code])
        self.problems.append(Diagnostic(code, zh, en, p.file, p.line, p.column, "error", help_zh, help_en))

    def build(self, node, path: Path, key: Position | None) -> Any:
        info = NodeInfo(key, self.pos(node.start_mark), None)
        self.nodes[path] = info
        if isinstance(node, yaml.ScalarNode):
            info.style = node.style
            info._src, info._raw = self.src, node.value
            info._start, info._end = node.start_mark.index, node.end_mark.index
            return plain_value(node.value) if node.style is None else node.value
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,), None) for i, child in enumerate(node.value)]
        result: dict[str, Any] = {}
        first_seen: dict[str, Position] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.problem(key_node.start_mark, "yaml-complex-key")
            elif key == "<<" and key_node.style is None:
                self.problem(key_node.start_mark, "yaml-merge-key")
            elif key in first_seen:
                first = first_seen[key]
                self.problem(key_node.start_mark, "duplicate-key", x=key, line=first.line, column=first.column)
            else:
                first_seen[key] = self.pos(key_node.start_mark)  # also where the value's key is (immutable, so shared)
                result[key] = self.build(value_node, path + (key,), first_seen[key])
        return result

    def refused(self, kind: str, event) -> None:
        if kind == "tag":
            self.problem(event.start_mark, "yaml-tag", x=event.tag.replace("tag:yaml.org,2002:", "!!"))
        else:
            self.problem(event.start_mark, "yaml-anchor", x=("*" if kind == "alias" else "&") + event.anchor)


def node_rows(doc: LocatedDocument) -> dict[Path, tuple]:
    """`doc.nodes` as plain rows (numbers and strings): what `CompactNodes` makes them again from.

    A test file kept in the cache is read back from these: unpickling ~500
    `NodeInfo` and `Position` objects costs about what parsing the YAML does.
    """
    rows = {}
    for path, info in doc.nodes.items():
        key = (info.key.line, info.key.column) if info.key is not None else None
        rows[path] = (key, info.value.line, info.value.column, info.style, info._start, info._end, info._raw)
    return rows


class CompactNodes(Mapping):
    """A document's node table from `node_rows`, each `NodeInfo` made when first asked for (a test run asks
    for a few: the position of each case, of a failing expectation)."""

    def __init__(self, file: str, text: str, rows: dict[Path, tuple]):
        self._file, self._text, self._rows = file, text, rows
        self._made: dict[Path, NodeInfo] = {}
        self._src: _Text | None = None

    def __getitem__(self, path) -> NodeInfo:
        made = self._made.get(path)
        if made is None:
            key, line, column, style, start, end, raw = self._rows[path]
            made = NodeInfo(Position(self._file, *key) if key is not None else None, Position(self._file, line, column), style)
            if raw is not None:     # a scalar: it can locate a character within itself (its line table, made once)
                if self._src is None:
                    self._src = _Text(self._file, self._text)
                made._src, made._raw, made._start, made._end = self._src, raw, start, end
            self._made[path] = made
        return made

    def __contains__(self, path) -> bool:
        return path in self._rows

    def __iter__(self):
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


# --------------------------------------------------------------------------
# Errors in the YAML text itself.

# (problem substring, message, help) for the PyYAML errors officers meet most.
_SYNTAX = [
    ("mapping values are not allowed", ("此处不能出现 “: ”（冒号加空格）", "可能是缩进不对；如果冒号是文字内容的一部分，请给整个值加引号")),
    ("could not find expected ':'", ("缺少冒号 “:”", "每个键后面要写英文冒号和空格，例如 `title: 标题`；也可能是引号没有闭合")),
    ("did not find expected key", ("此处应当写一个键（`键: 值`）", "多半是缩进不对：同一层的键要左对齐")),
    ("did not find expected '-'", ("此处应当是列表项（以 “- ” 开头）", "同一列表的各项要左对齐")),
    ("expected <block end>", ("缩进不一致", "同一层的键或列表项必须左对齐，请检查这一行的缩进")),
    ("found unexpected end of stream", ("引号没有闭合", "检查字符串开头的引号在结尾处是否有对应的引号")),
    ("unknown escape character", ("双引号字符串中有无法识别的转义符", "双引号里的反斜杠 \\ 是转义符；需要反斜杠本身请写 \\\\，或改用单引号")),
    ("expected ',' or ']'", ("方括号列表 [...] 缺少逗号或右方括号 “]”", "列表各项之间用英文逗号分隔，最后以 ] 结束")),
    ("expected ',' or '}'", ("花括号 {...} 缺少逗号或右花括号 “}”", "各项之间用英文逗号分隔，最后以 } 结束")),
    ("found another document", ("一个文件只能有一个 YAML 文档", "不要用 `---` 分隔多个文档")),
    ("that cannot start any token", ("这个字符不能作为值的开头", "请给整个值加引号")),
    ("indentation indicator", ("块标记 “|” 或 “>” 后的缩进数字必须是 1—9", "通常不需要写缩进数字，直接写 `|` 或 `>` 即可")),
    ("expected chomping or indentation", ("块标记 “|” 或 “>” 后面只能跟 “+”、“-” 或数字", "把文字写到下一行并缩进")),
    ("expected a comment or a line break", ("块标记 “|” 或 “>” 后面不能直接写文字", "把文字写到下一行并缩进")),
    ("expected alphabetic or numeric character", ("“&” 或 “*” 开头表示 YAML 锚点/别名，本格式不支持", "如果这是文字内容，请给整个值加引号")),
]


def _tab_problem(file: str, line: int, column: int) -> Diagnostic:
    return Diagnostic("yaml-tab", "这里有制表符（Tab）：YAML 只能用空格缩进", "tab character: YAML is indented with spaces only",
                      file, line, column, "error", "把 Tab 换成空格（编辑器里可设置“用空格代替 Tab”）", "replace the tab with spaces")


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Diagnostic:
    problem = exc.problem or ""
    mark = exc.problem_mark or exc.context_mark
    context = exc.context or ""
    if "'\\t'" in problem or "tab character" in problem:
        return _tab_problem(file, mark.line + 1, mark.column + 1)
    zh, help_zh = f"YAML 语法错误：{problem}", None
    for needle, (z, h) in _SYNTAX:
        if needle in problem:
            zh, help_zh = f"YAML 语法错误：{z}", h
            break
    # For an unclosed quote or a key without colon, the start is what to fix.
    if exc.context_mark is not None and (
        "unexpected end of stream" in problem or "simple key" in context
    ):
        mark = exc.context_mark
    elif exc.context_mark is not None and exc.problem_mark is not None and exc.context_mark.line != mark.line:
        related = f"相关位置：第 {exc.context_mark.line + 1} 行第 {exc.context_mark.column + 1} 列"
        help_zh = f"{help_zh}（{related}）" if help_zh else related
    en = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    if mark is None:
        return Diagnostic("yaml-syntax", zh, en, file, None, None, "error", help_zh)
    return Diagnostic("yaml-syntax", zh, en, file, mark.line + 1, mark.column + 1, "error", help_zh)


def _indentation_tabs(text: str, file: str) -> list[Diagnostic]:
    """Tabs in leading whitespace: PyYAML's own message for them is cryptic."""
    if "\t" not in text:
        return []
    found = []
    for n, line in enumerate(text.split("\n"), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            found.append(_tab_problem(file, n, indent.index("\t") + 1))
    return found


_CLoader = getattr(yaml, "CSafeLoader", None)


def _compose_fast(text: str):
    """Compose with libyaml when the document is plain YAML (no anchors, aliases, tags) — a speed-up (yidi.speedups).

    libyaml counts marks in characters like the Python parser, ten times
    faster. Nodes are built here, in one pass over its events, rather than by
    libyaml's composer: that would need a second pass to look for anchors and
    tags, and it resolves an implicit tag for every scalar, which `_Builder`
    never reads (it types plain scalars itself). Anything unusual, including
    syntax errors, goes to the Python composer, which reports it precisely.
    Returns (root node or None, refused features).
    """
    if _CLoader is None or not speedups.ENABLED or "\t" in text:  # tabs get the Python path's precise messages
        return None, []
    loader = _CLoader(text)
    try:
        return _nodes_from_events(loader), []
    except (yaml.YAMLError, _Unusual):
        return None, []
    finally:
        loader.dispose()


class _Unusual(Exception):
    """The document needs the Python composer (anchor, alias, tag, several documents)."""


def _nodes_from_events(loader):
    """The document's node tree, as SafeLoader's composer builds it but with tags unresolved."""
    root = None
    open_nodes: list = []    # collections being filled, innermost last
    keys: list = []          # for each open collection: the mapping key waiting for its value
    documents = 0
    check, get = loader.check_event, loader.get_event
    while check():
        event = get()
        kind = type(event)
        if kind is yaml.ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unusual
            node = yaml.ScalarNode(None, event.value, event.start_mark, event.end_mark, event.style or None)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unusual
            if len(open_nodes) >= MAX_DEPTH:
                raise _TooDeep(event.start_mark)
            node_class = yaml.MappingNode if kind is yaml.MappingStartEvent else yaml.SequenceNode
            open_nodes.append(node_class(None, [], event.start_mark, None, event.flow_style))
            keys.append(None)
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            node = open_nodes.pop()
            keys.pop()
            node.end_mark = event.end_mark
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Unusual
            continue
        elif kind is yaml.AliasEvent:
            raise _Unusual
        else:  # stream start/end, document end
            continue
        if not open_nodes:
            root = node
        elif isinstance(open_nodes[-1], yaml.SequenceNode):
            open_nodes[-1].value.append(node)
        elif keys[-1] is None:
            keys[-1] = node
        else:
            open_nodes[-1].value.append((keys[-1], node))
            keys[-1] = None
    return root


def load_yaml(text: str, file: str) -> LocatedDocument:
    """Parse one YAML document; raise DiagnosticError listing every problem."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    src = _Text(file, text)
    tabs = _indentation_tabs(text, file)
    if tabs:
        raise DiagnosticError(tabs)
    loader = None
    try:
        root, refused = _compose_fast(text)
        if root is None:  # the C parser is absent, or the file uses something we refuse: explain it
            loader = _Composer(text)
            root = loader.get_single_node()
            refused = loader.refused
    except _TooDeep as exc:
        raise DiagnosticError([Diagnostic(
            "yaml-too-deep", f"嵌套超过 {MAX_DEPTH} 层：政策文件和用例文件不需要这么深的结构",
            f"mappings and lists nested deeper than {MAX_DEPTH} levels", file, exc.mark.line + 1, exc.mark.column + 1,
            "error", "检查这里的缩进和括号 [ { 是否多写了", "check the indentation and brackets here")]) from None
    except yaml.MarkedYAMLError as exc:
        raise DiagnosticError([_syntax_problem(exc, file)]) from None
    except yaml.reader.ReaderError as exc:
        p, char = src.position(exc.position), f"U+{exc.character:04X}"
        raise DiagnosticError([Diagnostic(
            "yaml-syntax", f"文件中有不可见的控制字符 {char}", f"the file contains the control character {char}",
            file, p.line, p.column, "error", "请删除它（常见于从 Word 或网页复制的文字）", "delete it")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    builder = _Builder(src)
    builder.nodes[()] = NodeInfo(None, Position(file, 1, 1), None)  # for an empty file
    data = None if root is None else builder.build(root, (), None)
    for kind, event in refused:
        builder.refused(kind, event)
    if builder.problems:
        raise DiagnosticError(sort_diagnostics(builder.problems))
    return LocatedDocument(file, text, data, builder.nodes)


def load_yaml_file(path: pathlib.Path, display_name: str | None = None, raw: bytes | None = None) -> LocatedDocument:
    """Read a UTF-8 file and `load_yaml` it; `display_name` is shown in errors; `raw`: its bytes, if already read."""
    name = display_name or str(path)
    try:
        if raw is None:
            raw = pathlib.Path(path).read_bytes()
    except OSError as exc:
        raise DiagnosticError([Diagnostic("file-unreadable", f"无法读取文件：{exc.strerror or exc}",
                                          f"cannot read the file: {exc}", name)]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise DiagnosticError([Diagnostic(
            "file-encoding", "文件不是 UTF-8 编码", "the file is not UTF-8 encoded", name, line, column, "error",
            "请在编辑器中把文件另存为 UTF-8 编码（不要用 GBK/GB2312）", "save the file as UTF-8")]) from None
    return load_yaml(text, name)
