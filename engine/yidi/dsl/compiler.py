"""Translate a checked expression into a Python expression (source text).

The policy compiler (`yidi.policy.compile`) puts these snippets into one
generated function per policy and document kind, compiled once at load. The
text is deterministic — same expression, same code — and uses only names
the generated module defines:

    i_visit_D_kind    an input field (read once from the flattened document `d`
                      at the top of the generated function: see `input_name`)
    p["name"]         a parameter value in force on the settlement date
    b["ratio"]        a column of the matching benefit-table row
    v_treatment       a decision or policy variable computed earlier
    l_x               a comprehension's variable `x` (the grammar's names are identifiers already)
    f_days_between    a library function (the smallest are written in place: `Function.inline`)
    K0, K1, …         constants (Decimal numbers, dates, tuples) hoisted out

Policy names reach the code only through `variable_name` and `input_name`
(an injective spelling, see `identifier_part`) or as string literals
(`p["name"]`, written with repr); the generated function's own locals
(`d p B on m w x b c0 …`) carry none of the prefixes `v_ i_ l_`.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from . import ast
from .checker import CheckedExpr, Ref
from .functions import FUNCTIONS
from .operators import OPERATORS


class ConstantPool:
    """Hoisted constants, numbered in order of first use (so output is deterministic)."""

    def __init__(self) -> None:
        self.values: list[object] = []
        self._index: dict[tuple[str, object], int] = {}

    def name(self, value: object) -> str:
        key = (type(value).__name__, value)
        if key not in self._index:
            self._index[key] = len(self.values)
            self.values.append(value)
        return f"K{self._index[key]}"


def variable_name(name: str) -> str:
    """Python local for a decision variable: `amounts.fund` → `v_amounts_D_fund`."""
    return "v_" + identifier_part(name)


def input_name(path: str) -> str:
    """Python local for an input field: `visit.kind` → `i_visit_D_kind` (a local is cheaper than a dict lookup per use)."""
    return "i_" + identifier_part(path)


def identifier_part(name: str) -> str:
    """`name` spelled with identifier characters, so that different names never meet.

    Lower-case letters, digits and `_` stay; `.` becomes `_D_` and any other
    character `_X<hex>_`. Nothing else writes an upper-case letter, so the
    spelling can be read back: `amounts.fund` → `amounts_D_fund` and
    `amounts__fund` → `amounts__fund` stay two names (issue 11, item 8).
    Every other name in the generated code (`d`, `m`, `c3`, `K0`, `f_min`, …)
    has no `v_`/`i_`/`l_` prefix, so a policy's names cannot meet those either.
    """
    return _UNSAFE.sub(_escape, name)


_UNSAFE = re.compile(r"[^0-9a-z_]")


def _escape(match: re.Match) -> str:
    char = match.group()
    return "_D_" if char == "." else f"_X{ord(char):x}_"





def to_python(checked: CheckedExpr, constants: ConstantPool, node: ast.Node | None = None) -> str:
    """Python for the checked expression — or for `node`, a part of it (its names resolve the same way)."""
    return _Emitter(checked.refs, constants).emit(checked.node if node is None else node)


class _Emitter:
    def __init__(self, refs, constants: ConstantPool):
        self.refs = refs
        self.constants = constants

    def emit(self, node: ast.Node) -> str:
        return getattr(self, "emit_" + type(node).__name__)(node)

    def emit_Literal(self, node: ast.Literal) -> str:
        value = node.value
        if value is None or isinstance(value, bool):
            return repr(value)
        if isinstance(value, str):
            return repr(value)
        if isinstance(value, Decimal | datetime.date):
            return self.constants.name(value)
        raise TypeError(f"unexpected literal {value!r}")

    def emit_Path(self, node: ast.Path) -> str:
        ref: Ref = self.refs[id(node)]
        if ref.kind == "input":
            return input_name(ref.name)
        if ref.kind == "param":
            return f"p[{ref.name!r}]"
        if ref.kind == "benefit":
            return f"b[{ref.name!r}]"
        if ref.kind == "var":
            return variable_name(ref.name)
        # A comprehension variable; member access on a possibly-missing
        # object yields None, mirroring flattened input paths.
        code = "l_" + ref.name
        for member in ref.rest:
            code = f"{code}[{member!r}]"
        return code

    def emit_Call(self, node: ast.Call) -> str:
        """A library call: its special form, else its inline template (`FUNCTIONS[name].inline`), else a call."""
        args = [self.emit(a) for a in node.args]
        function = FUNCTIONS[node.function]
        if function.emit is not None:
            special = function.emit(node.args, args, self.constants.name)
            if special is not None:
                return special
        if function.inline is not None:  # each argument once in the template: nothing is evaluated twice
            return function.inline.format(*args)
        return f"f_{node.function}({', '.join(args)})"

    def emit_ListExpr(self, node: ast.ListExpr) -> str:
        if all(isinstance(i, ast.Literal) for i in node.items):
            return self.constants.name(tuple(i.value for i in node.items))
        return "(" + "".join(self.emit(i) + ", " for i in node.items) + ")"

    def emit_Comprehension(self, node: ast.Comprehension) -> str:
        code = f"[{self.emit(node.item)} for l_{node.name} in {self.emit(node.source)}"
        if node.condition is not None:
            code += f" if {self.emit(node.condition)}"
        return code + "]"

    def emit_Unary(self, node: ast.Unary) -> str:
        return f"(not {self.emit(node.operand)})" if node.op == "not" else f"(-{self.emit(node.operand)})"

    def emit_Binary(self, node: ast.Binary) -> str:
        if node.op in ("==", "!=") and _is_null(node.right) != _is_null(node.left):
            value = node.left if _is_null(node.right) else node.right
            if may_be_unknown(self.refs, value):  # `is` cannot notice an Unknown; `==` raises on one
                return f"({self.emit(value)} {node.op} None)"
            return f"({self.emit(value)} {'is' if node.op == '==' else 'is not'} None)"
        return f"({self.emit(node.left)} {OPERATORS[node.op].python} {self.emit(node.right)})"

    def emit_If(self, node: ast.If) -> str:
        return f"({self.emit(node.then)} if {self.emit(node.condition)} else {self.emit(node.otherwise)})"

    def emit_Member(self, node: ast.Member) -> str:  # rejected by the checker
        raise TypeError("member access on an expression is not supported")


def may_be_unknown(refs, node: ast.Node) -> bool:
    """Can `node` evaluate to a variable's value without operating on it?

    A variable left undetermined holds an `Unknown`, which raises on any
    operation — but not when merely handed on (`value: other_variable`,
    `coalesce(v, …)`, `latest([v])`, a branch of `if`) or tested with `is`.
    The compiler uses this to write `== None` there, and to re-check a
    variable's value after its rules ran.
    """
    if isinstance(node, ast.Path):
        ref = refs.get(id(node))
        return ref is not None and ref.kind == "var"
    if isinstance(node, ast.If):
        return may_be_unknown(refs, node.then) or may_be_unknown(refs, node.otherwise)
    if isinstance(node, ast.Call) and FUNCTIONS[node.function].passes_argument:
        return any(may_be_unknown(refs, a) for a in node.args)
    if isinstance(node, ast.ListExpr):
        return any(may_be_unknown(refs, i) for i in node.items)
    if isinstance(node, ast.Comprehension):
        return may_be_unknown(refs, node.item)
    return False


def _is_null(node: ast.Node) -> bool:
    return isinstance(node, ast.Literal) and node.value is None
