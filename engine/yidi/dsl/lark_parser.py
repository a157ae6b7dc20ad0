"""The reference parser of grammar.lark, and its Chinese syntax errors.

Lark builds the grammar once per process, and keeps the built parser in
the user's cache folder between processes (as data, in a folder only the
user may write: see `_lark`). Parse failures become `ExpressionError`s with a Chinese message
and the offset of the offending character.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import pathlib
import sys
from decimal import Decimal

import lark
import msgspec

from ..private_folder import PrivateFolder
from ..resources import user_cache_dir
from . import ast
from .errors import ExpressionError, ExprProblem

_GRAMMAR = pathlib.Path(__file__).with_name("grammar.lark")

# Names of grammar terminals as an officer would say them, for "expected …".
_TERMINAL_NAMES = {
    "NAME": ("名称", "a name"),
    "NUMBER": ("数字", "a number"),
    "STRING": ("字符串", "a string"),
    "DATE": ("日期", "a date"),
    "RPAR": ("右括号 )", "')'"),
    "LPAR": ("左括号 (", "'('"),
    "RSQB": ("右方括号 ]", "']'"),
    "COMMA": ("逗号 ,", "','"),
    "THEN": ("then", "'then'"),
    "ELSE": ("else", "'else'"),
    "IN": ("in", "'in'"),
    "COMPARE": ("比较运算符", "a comparison operator"),
    "$END": ("表达式结束", "end of expression"),
    "LSQB": ("列表 [", "'['"),
    "MINUS": ("负号 -", "'-'"),
    "NOT": ("not", "'not'"),
    "IF": ("if", "'if'"),
    "TRUE": ("true", "'true'"),
    "FALSE": ("false", "'false'"),
    "NULL": ("null", "'null'"),
    "AND": ("and", "'and'"),
    "OR": ("or", "'or'"),
    "ADD_OP": ("+ 或 -", "'+' or '-'"),
    "MUL_OP": ("* 或 /", "'*' or '/'"),
}


_OPTIONS = {"parser": "lalr", "propagate_positions": True, "maybe_placeholders": True}
_CACHE_WHAT = ("表达式解析器缓存", "expression parser cache")


@functools.lru_cache(maxsize=1)
def _lark() -> lark.Lark:
    """The parser: from the user's cache folder when an intact copy is there, else built (and kept there)."""
    grammar = _GRAMMAR.read_text(encoding="utf-8")
    name = _cache_name(grammar)
    folder = PrivateFolder.open(user_cache_dir(), _CACHE_WHAT)
    if folder is None:
        return lark.Lark(grammar, **_OPTIONS)
    with folder:
        data = folder.read(name)
        if data is not None:
            try:
                return _from_data(data)
            except Exception:  # damaged or from another Lark: build again
                pass
        parser = lark.Lark(grammar, **_OPTIONS)
        folder.write(name, _to_data(parser))
        return parser


def _cache_name(grammar: str) -> str:
    """One file per grammar text, options, Lark and Python version."""
    key = f"{lark.__version__}\0{sys.version_info[:2]}\0{sorted(_OPTIONS.items())}\0{grammar}"
    return f"lark-grammar-{hashlib.sha256(key.encode()).hexdigest()[:16]}.msgpack"


# The built parser is kept as data, not as Lark's own pickle: its tables and
# terminal patterns serialised by Lark (`memo_serialize`, as Lark's standalone
# parsers embed them) and written as MessagePack. Loading it creates no
# objects but Lark's own rules, terminals and tables, and runs no code from the file.
_BIG_INT = 1  # MessagePack extension code: an integer beyond 64 bits (a terminal's "unbounded" width)


def _to_data(parser: lark.Lark) -> bytes:
    data, memo = parser.memo_serialize([lark.lexer.TerminalDef, lark.grammar.Rule])
    return msgspec.msgpack.encode({"data": _wide_ints(data), "memo": _wide_ints(memo)})


def _from_data(raw: bytes) -> lark.Lark:
    decoded = msgspec.msgpack.Decoder(ext_hook=_ext).decode(raw)
    return lark.Lark._load_from_dict(decoded["data"], decoded["memo"])


def _wide_ints(value):
    if isinstance(value, dict):
        return {_wide_ints(k): _wide_ints(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wide_ints(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and not -(1 << 63) <= value < 1 << 64:
        return msgspec.msgpack.Ext(_BIG_INT, str(value).encode("ascii"))
    return value


def _ext(code: int, data: memoryview) -> int:
    if code != _BIG_INT:
        raise ValueError(f"unknown extension {code}")
    return int(bytes(data).decode("ascii"))


def parse_with_lark(text: str, max_depth: int) -> ast.Node:
    """Parse non-empty `text`; raise ExpressionError (with offsets) if it is not an expression.

    Lark's LALR parser keeps its own stack, but turning its tree into AST
    nodes recurses per level: a tree deeper than `max_depth` is refused first.
    """
    try:
        tree = _lark().parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        raise ExpressionError([_syntax_problem(text, exc)]) from None
    too_deep = _first_below(tree, max_depth)
    if too_deep is not None:
        start = _span(too_deep.meta)["start"] if isinstance(too_deep, lark.Tree) else getattr(too_deep, "start_pos", 0) or 0
        raise ExpressionError([ExprProblem(
            start, start + 1, "expression-too-deep", f"表达式嵌套超过 {max_depth} 层",
            f"the expression nests deeper than {max_depth} levels",
            "每个运算符、if、函数调用、列表和成员访问“.”都算一层；很长的 a or b or … 请改写成 x in [...]，或拆成几个中间变量",
            "each operator, if, call, list and member `.` is a level; write long `or` chains as `x in [...]`, or split into variables")])
    try:
        return _ToAst(text).transform(tree)
    except lark.exceptions.VisitError as exc:  # a literal the transformer refused
        if isinstance(exc.orig_exc, ExpressionError):
            raise exc.orig_exc from None
        raise


def _first_below(tree: lark.Tree, max_depth: int):
    """The first node (tree or token) deeper than `max_depth`, found without recursion; else None."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return node
        if isinstance(node, lark.Tree):
            stack.extend((child, depth + 1) for child in reversed(node.children) if child is not None)
    return None


def _syntax_problem(text: str, exc: lark.exceptions.UnexpectedInput) -> ExprProblem:
    pos = getattr(exc, "pos_in_stream", None)
    if pos is None or pos < 0:
        pos = len(text)
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        ch = text[pos] if pos < len(text) else ""
        return ExprProblem(
            pos, pos + 1, "syntax-error",
            f"无法识别的字符 “{ch}”", f"unexpected character {ch!r}",
            "字符串请用英文双引号 \" 括起；运算符有 == != < <= > >= + - * /",
            "strings are written in double quotes; operators are == != < <= > >= + - * /",
        )
    if isinstance(exc, lark.exceptions.UnexpectedEOF) or (
        isinstance(exc, lark.exceptions.UnexpectedToken) and exc.token.type == "$END"
    ):
        expected = _expected(getattr(exc, "expected", ()))
        return ExprProblem(
            len(text), len(text), "syntax-error",
            f"表达式不完整，此处应为{expected[0]}", f"the expression ends too early; expected {expected[1]}",
        )
    token = exc.token  # type: ignore[attr-defined]
    expected = _expected(exc.expected)  # type: ignore[attr-defined]
    return ExprProblem(
        pos, pos + max(len(str(token)), 1), "syntax-error",
        f"此处不应出现 “{token}”，应为{expected[0]}", f"unexpected {str(token)!r}; expected {expected[1]}",
    )


def _expected(names) -> tuple[str, str]:
    zh, en = [], []
    for name in sorted(names):
        z, e = _TERMINAL_NAMES.get(name, (name.lower(), name.lower()))
        if z not in zh:
            zh.append(z)
            en.append(e)
    if not zh:
        return "其他内容", "something else"
    return "：" + "、".join(zh[:6]), ", ".join(en[:6])


def _span(meta) -> dict[str, int]:
    if getattr(meta, "empty", True):
        return {"start": 0, "end": 0}
    return {"start": meta.start_pos, "end": meta.end_pos}


@lark.v_args(meta=True)
class _ToAst(lark.Transformer):
    """Turn Lark's parse tree into AST nodes; literals are decoded here."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def number(self, meta, children):
        return ast.Literal(Decimal(str(children[0])), **_span(meta))

    def string(self, meta, children):
        raw = str(children[0])
        return ast.Literal(_unescape(raw[1:-1], children[0].start_pos + 1), **_span(meta))

    def date(self, meta, children):
        token = children[0]
        try:
            value = datetime.date.fromisoformat(str(token))
        except ValueError:
            raise ExpressionError([ExprProblem(
                token.start_pos, token.end_pos, "bad-date",
                f"“{token}” 不是有效日期", f"{str(token)!r} is not a valid date",
            )]) from None
        return ast.Literal(value, **_span(meta))

    def true(self, meta, children):
        return ast.Literal(True, **_span(meta))

    def false(self, meta, children):
        return ast.Literal(False, **_span(meta))

    def null(self, meta, children):
        return ast.Literal(None, **_span(meta))

    def name(self, meta, children):
        return ast.Path((str(children[0]),), **_span(meta))

    def member(self, meta, children):
        target, name = children
        if isinstance(target, ast.Path):
            return ast.Path((*target.parts, str(name)), **_span(meta))
        return ast.Member(target, str(name), **_span(meta))

    def call(self, meta, children):
        name, args = children
        return ast.Call(str(name), tuple(args or ()), name_end=name.end_pos, **_span(meta))

    def arguments(self, meta, children):
        return [c for c in children if c is not None]

    def list_expr(self, meta, children):
        return ast.ListExpr(tuple(children[0] or ()), **_span(meta))

    def comprehension(self, meta, children):
        item, name, source, condition = children
        return ast.Comprehension(item, str(name), source, condition, **_span(meta))

    def negate(self, meta, children):
        return ast.Unary("-", children[0], **_span(meta))

    def not_expr(self, meta, children):
        return ast.Unary("not", children[0], **_span(meta))

    def _binary(self, meta, op, left, right, op_start):
        return ast.Binary(op, left, right, op_start=op_start, **_span(meta))

    def compare(self, meta, children):
        left, op, right = children
        return self._binary(meta, str(op), left, right, op.start_pos)

    def arith(self, meta, children):
        left, op, right = children
        return self._binary(meta, str(op), left, right, op.start_pos)

    def in_expr(self, meta, children):
        left, right = children
        return self._binary(meta, "in", left, right, left.end)

    def not_in_expr(self, meta, children):
        left, right = children
        return self._binary(meta, "not in", left, right, left.end)

    def and_expr(self, meta, children):
        left, right = children
        return self._binary(meta, "and", left, right, left.end)

    def or_expr(self, meta, children):
        left, right = children
        return self._binary(meta, "or", left, right, left.end)

    def if_expr(self, meta, children):
        condition, then, otherwise = children
        return ast.If(condition, then, otherwise, **_span(meta))


_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def _unescape(body: str, offset: int) -> str:
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in _ESCAPES:
                raise ExpressionError([ExprProblem(
                    offset + i, offset + i + 2, "bad-escape",
                    f"字符串中不支持转义 “\\{nxt}”", f"unsupported escape '\\{nxt}' in a string",
                )])
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)
