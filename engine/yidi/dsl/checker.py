"""Type-check an expression against the names a policy can see.

The checker resolves every dotted name (input field, parameter, decision
variable, benefit column, comprehension variable), computes the type of every
node, and collects *all* problems rather than stopping at the first. It
understands `x != null` tests: inside `x != null and …` (and the matching
`if`/`or` forms) `x` is no longer optional, so rules can use optional fields
safely without the engine ever guessing a value for a missing one.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import ast
from .errors import ExpressionError, ExprProblem
from .functions import FUNCTIONS
from .types import BOOL, DATE, LIST, NULL, NUMBER, OBJECT, STRING, T_BOOL, T_NUMBER, T_NULL, Type, same_kind, unify


@dataclass(frozen=True)
class Ref:
    """What a name refers to; the compiler turns it into a lookup."""

    kind: str            # "input" | "param" | "var" | "benefit" | "local"
    name: str            # dotted input path, parameter or variable name, column, or local name
    rest: tuple[str, ...] = ()   # member accesses after a local name


@dataclass
class Environment:
    """Everything an expression may name, with its type.

    `inputs` maps every dotted input path (objects and lists included) to the
    field's own type; optionality of enclosing objects is applied on lookup.
    """

    inputs: Mapping[str, Type]
    params: Mapping[str, Type] = field(default_factory=dict)
    variables: Mapping[str, Type] = field(default_factory=dict)
    benefit: Mapping[str, Type] = field(default_factory=dict)
    # Equal for environments naming the same things with the same types (None: unknown), so that a check made
    # in one may be reused in another (policy/compile.py). Whoever sets it keeps the mappings unchanged.
    key: Any = None


@dataclass(frozen=True)
class CheckedExpr:
    node: ast.Node
    type: Type
    refs: Mapping[int, Ref]            # id(ast.Path) → what it names
    variables_used: frozenset[str]     # decision/policy variables read (for ordering)
    params_used: frozenset[str]


_ERROR = Type("error")  # stands for "already reported": suppresses follow-up errors


def check(node: ast.Node, env: Environment, expected: Type | None = None, assume: ast.Node | None = None) -> CheckedExpr:
    """Check `node`; raise ExpressionError with every problem found.

    `assume` is a condition known to hold where `node` is evaluated (a rule's
    `when` for its `value`): its `x != null` tests narrow `x` inside `node`.
    """
    checker = _Checker(env)
    narrowed = _non_null_when(assume, True) if assume is not None else frozenset()
    result = checker.visit(node, narrowed, {})
    if expected is not None and result.kind != "error":
        checker.expect(node, result, expected)
    if checker.problems:
        raise ExpressionError(sorted(checker.problems, key=lambda p: (p.start, p.code)))
    return CheckedExpr(node, result, checker.refs, frozenset(checker.variables_used), frozenset(checker.params_used))


def _suggest(word: str, choices) -> tuple[str | None, str | None]:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not match:
        return None, None
    return f"您是否想写 “{match[0]}”？", f"did you mean {match[0]!r}?"


class _Checker:
    def __init__(self, env: Environment):
        self.env = env
        self.problems: list[ExprProblem] = []
        self.refs: dict[int, Ref] = {}
        self.variables_used: set[str] = set()
        self.params_used: set[str] = set()

    # -- reporting -----------------------------------------------------
    def error(self, node: ast.Node, code: str, zh: str, en: str, help_zh=None, help_en=None, start=None, end=None) -> Type:
        self.problems.append(ExprProblem(
            node.start if start is None else start, node.end if end is None else end, code, zh, en, help_zh, help_en,
        ))
        return _ERROR

    def expect(self, node: ast.Node, got: Type, want: Type) -> None:
        from .types import assignable

        if got.kind == "error":
            return
        if want.enum is not None and got.kind == STRING and got.enum is None and isinstance(node, ast.Literal):
            got = Type(STRING, enum=frozenset([node.value]))  # checked below against the enum
        if not assignable(got, want):
            if got.kind == STRING and want.kind == STRING and want.enum and got.enum:
                bad = sorted(got.enum - want.enum)
                hz, he = _suggest(bad[0], want.enum)
                self.error(node, "bad-value", f"“{bad[0]}” 不是允许的取值；允许：{'、'.join(sorted(want.enum))}",
                           f"{bad[0]!r} is not an allowed value; allowed: {', '.join(sorted(want.enum))}", hz, he)
            elif got.optional and not want.optional and got.kind == want.kind:
                self.error(node, "maybe-null", "此值可能为空，但这里需要一个确定的值；请先用 != null 判断或用 coalesce()",
                           "this value may be null where a value is required; test it with != null or use coalesce()")
            else:
                self.error(node, "wrong-type", f"类型不符：应为{want.zh()}，实际为{got.zh()}",
                           f"type mismatch: expected {want.en()}, got {got.en()}")

    # -- dispatch ------------------------------------------------------
    def visit(self, node: ast.Node, narrowed: frozenset[str], locals_: dict[str, Type]) -> Type:
        method = getattr(self, "visit_" + type(node).__name__)
        return method(node, narrowed, locals_)

    def visit_Literal(self, node: ast.Literal, narrowed, locals_) -> Type:
        value = node.value
        if value is None:
            return T_NULL
        if isinstance(value, bool):
            return T_BOOL
        if isinstance(value, str):
            # A literal is its own one-value enumeration, so `if … then "emergency" else "local"`
            # fits an enumerated output such as `treatment`.
            return Type(STRING, enum=frozenset([value]))
        if hasattr(value, "isoformat"):
            return Type(DATE)
        return T_NUMBER

    def visit_Path(self, node: ast.Path, narrowed, locals_) -> Type:
        parts = node.parts
        head = parts[0]
        if head in locals_:
            return self._member_chain(node, locals_[head], parts[1:], Ref("local", head, parts[1:]), narrowed, head)
        if head == "param":
            return self._param(node, parts[1:])
        if head == "benefit":
            found = self._benefit(node, parts[1:])
            return found.as_optional(False) if node.dotted in narrowed and found.kind != "error" else found
        dotted = node.dotted
        # Variables may have dotted names (amounts.fund): take the longest that matches.
        for k in range(len(parts), 0, -1):
            name = ".".join(parts[:k])
            if name in self.env.variables:
                if k != len(parts):
                    return self.error(node, "unknown-name", f"变量 {name} 没有成员 “{parts[k]}”", f"variable {name} has no member {parts[k]!r}")
                self.refs[id(node)] = Ref("var", name)
                self.variables_used.add(name)
                declared = self.env.variables[name]
                return declared.as_optional(False) if name in narrowed else declared
        if dotted in self.env.inputs:
            self.refs[id(node)] = Ref("input", dotted)
            return self._input_type(parts, narrowed)
        return self._unknown_name(node, parts)

    def _input_type(self, parts: tuple[str, ...], narrowed) -> Type:
        optional = False
        for k in range(1, len(parts) + 1):
            prefix = ".".join(parts[:k])
            own = self.env.inputs[prefix]
            optional = (optional or own.optional) and prefix not in narrowed
        return self.env.inputs[".".join(parts)].as_optional(optional)

    def _unknown_name(self, node: ast.Path, parts) -> Type:
        # Find the longest known prefix to say precisely which part is wrong.
        known = ""
        for k in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:k])
            if prefix in self.env.inputs:
                known = prefix
                break
        if known:
            siblings = [p[len(known) + 1:] for p in self.env.inputs if p.startswith(known + ".") and "." not in p[len(known) + 1:]]
            wrong = parts[len(known.split("."))]
            hz, he = _suggest(wrong, siblings)
            return self.error(node, "unknown-field", f"字段 {known} 中没有 “{wrong}”；可用：{'、'.join(sorted(siblings))}",
                              f"{known} has no field {wrong!r}; available: {', '.join(sorted(siblings))}", hz, he)
        candidates = {p.split(".")[0] for p in self.env.inputs} | set(self.env.variables) | {"param", "benefit"}
        hz, he = _suggest(node.dotted, list(candidates) + list(self.env.inputs))
        return self.error(node, "unknown-name", f"未知名称 “{node.dotted}”", f"unknown name {node.dotted!r}", hz, he)

    def _param(self, node: ast.Path, rest: tuple[str, ...]) -> Type:
        for k in range(len(rest), 0, -1):
            name = ".".join(rest[:k])
            if name in self.env.params:
                if k != len(rest):
                    return self.error(node, "unknown-param", f"参数 {name} 没有成员 “{rest[k]}”", f"parameter {name} has no member {rest[k]!r}")
                self.refs[id(node)] = Ref("param", name)
                self.params_used.add(name)
                return self.env.params[name]
        wanted = ".".join(rest)
        hz, he = _suggest(wanted, self.env.params)
        return self.error(node, "unknown-param", f"未定义的参数 “{wanted}”", f"undefined parameter {wanted!r}", hz, he)

    def _benefit(self, node: ast.Path, rest: tuple[str, ...]) -> Type:
        column = ".".join(rest)
        if column not in self.env.benefit:
            hz, he = _suggest(column, self.env.benefit)
            return self.error(node, "unknown-field", f"待遇表中没有 “{column}”；可用：{'、'.join(self.env.benefit)}",
                              f"benefit table has no column {column!r}", hz, he)
        self.refs[id(node)] = Ref("benefit", column)
        return self.env.benefit[column]

    def _member_chain(self, node, base: Type, rest, ref: Ref, narrowed, label: str) -> Type:
        current = base
        path = label
        for name in rest:
            if current.kind == "error":
                return current
            if current.kind != OBJECT:
                return self.error(node, "unknown-field", f"{path} 不是对象，不能取 “{name}”", f"{path} is not an object; cannot take {name!r}")
            found = current.field(name)
            if found is None:
                names = [k for k, _ in current.fields or ()]
                hz, he = _suggest(name, names)
                return self.error(node, "unknown-field", f"{path} 中没有 “{name}”；可用：{'、'.join(names)}",
                                  f"{path} has no field {name!r}", hz, he)
            path = f"{path}.{name}"
            optional = (current.optional or found.optional) and path not in narrowed
            current = found.as_optional(optional)
        self.refs[id(node)] = ref
        return current

    def visit_Member(self, node: ast.Member, narrowed, locals_) -> Type:
        return self.error(node, "unsupported", "只能对字段名取成员（如 visit.kind）", "member access is only allowed on names")

    def visit_Call(self, node: ast.Call, narrowed, locals_) -> Type:
        args = [self.visit(a, narrowed, locals_) for a in node.args]
        function = FUNCTIONS.get(node.function)
        if function is None:
            hz, he = _suggest(node.function, FUNCTIONS)
            return self.error(node, "unknown-function", f"未知函数 “{node.function}”", f"unknown function {node.function!r}",
                              hz or "可用函数：" + "、".join(sorted(FUNCTIONS)), he, end=node.name_end or node.end)
        if any(a.kind == "error" for a in args):
            return _ERROR
        result = function.check(args)
        if isinstance(result, tuple):
            return self.error(node, "wrong-type", f"{node.function}(): {result[0]}", f"{node.function}(): {result[1]}",
                              f"用法：{function.signature}", function.signature)
        if node.function == "round" and not _round_places_ok(node.args[1]):
            return self.error(node.args[1], "bad-round-places",
                              f"round 的小数位数须直接写 0 到 {MAX_ROUND_PLACES} 之间的整数",
                              f"round() takes a whole number of places from 0 to {MAX_ROUND_PLACES}, written as a number",
                              "金额通常写 round(金额, 2)", "money is usually round(amount, 2)")
        return result

    def visit_ListExpr(self, node: ast.ListExpr, narrowed, locals_) -> Type:
        element: Type | None = None
        for item in node.items:
            t = self.visit(item, narrowed, locals_)
            if t.kind == "error":
                return _ERROR
            if item is node.items[0]:
                element = t
                continue
            merged = unify(element, t) if element else t
            if merged is None:
                return self.error(item, "wrong-type", "列表中的元素类型应一致", "list items must have one type")
            element = merged
        if element is not None and element.kind == STRING and element.enum is None and all(isinstance(i, ast.Literal) for i in node.items):
            element = Type(STRING, element.optional, enum=frozenset(i.value for i in node.items))
        return Type(LIST, element=element or T_NULL)

    def visit_Comprehension(self, node: ast.Comprehension, narrowed, locals_) -> Type:
        source = self.visit(node.source, narrowed, locals_)
        if source.kind == "error":
            return _ERROR
        if source.kind != LIST or source.optional:
            return self.error(node.source, "wrong-type", f"for … in 之后应为列表，实际为{source.zh()}", f"'for … in' needs a list, got {source.en()}")
        inner = dict(locals_)
        inner[node.name] = source.element or T_NULL
        item_narrowed = narrowed
        if node.condition is not None:
            cond = self.visit(node.condition, narrowed, inner)
            self._need_bool(node.condition, cond)
            item_narrowed = narrowed | _non_null_when(node.condition, True)
        item = self.visit(node.item, item_narrowed, inner)
        if item.kind == "error":
            return _ERROR
        return Type(LIST, element=item)

    def visit_Unary(self, node: ast.Unary, narrowed, locals_) -> Type:
        t = self.visit(node.operand, narrowed, locals_)
        if node.op == "not":
            self._need_bool(node.operand, t)
            return T_BOOL
        return self._need(node.operand, t, NUMBER)

    def visit_If(self, node: ast.If, narrowed, locals_) -> Type:
        cond = self.visit(node.condition, narrowed, locals_)
        self._need_bool(node.condition, cond)
        then = self.visit(node.then, narrowed | _non_null_when(node.condition, True), locals_)
        otherwise = self.visit(node.otherwise, narrowed | _non_null_when(node.condition, False), locals_)
        if "error" in (then.kind, otherwise.kind):
            return _ERROR
        result = unify(then, otherwise)
        if result is None:
            return self.error(node, "wrong-type", f"then 与 else 的类型应一致：{then.zh()} 与 {otherwise.zh()}",
                              f"'then' and 'else' must have one type: {then.en()} vs {otherwise.en()}")
        return result

    def visit_Binary(self, node: ast.Binary, narrowed, locals_) -> Type:
        op = node.op
        if op in ("and", "or"):
            left = self.visit(node.left, narrowed, locals_)
            extra = _non_null_when(node.left, op == "and")
            right = self.visit(node.right, narrowed | extra, locals_)
            self._need_bool(node.left, left)
            self._need_bool(node.right, right)
            return T_BOOL
        left = self.visit(node.left, narrowed, locals_)
        right = self.visit(node.right, narrowed, locals_)
        if "error" in (left.kind, right.kind):
            return T_BOOL if op in ("==", "!=", "<", "<=", ">", ">=", "in", "not in") else _ERROR
        if op in ("==", "!="):
            return self._equality(node, left, right)
        if op in ("in", "not in"):
            return self._membership(node, left, right)
        if op in ("<", "<=", ">", ">="):
            for side, t in ((node.left, left), (node.right, right)):
                if t.optional or t.kind == NULL:
                    self.error(side, "maybe-null", "比较的值可能为空，请先用 != null 判断", "compared value may be null; test it with != null first")
                    return T_BOOL
            if left.kind != right.kind or left.kind not in (NUMBER, DATE):
                self.error(node, "wrong-type", f"不能比较{left.zh()}与{right.zh()}（只能比较数字与数字、日期与日期）",
                           f"cannot compare {left.en()} with {right.en()} (only numbers with numbers, dates with dates)",
                           start=node.op_start, end=node.op_start + len(op))
            return T_BOOL
        # arithmetic
        self._need(node.left, left, NUMBER)
        self._need(node.right, right, NUMBER)
        return T_NUMBER

    def _equality(self, node: ast.Binary, left: Type, right: Type) -> Type:
        if left.kind == NULL and right.kind == NULL:
            return T_BOOL
        for this, other, other_node in ((left, right, node.right), (right, left, node.left)):
            if other.kind == NULL and not this.optional:
                self.error(node, "never-null", "此值永远不为空，与 null 比较没有意义", "this value is never null; comparing with null is pointless")
                return T_BOOL
            this_node = node.left if other_node is node.right else node.right
            if (this.enum is not None and not isinstance(this_node, ast.Literal)
                    and isinstance(other_node, ast.Literal) and isinstance(other_node.value, str)):
                self._literal_in_enum(other_node, this)
        if not same_kind(left, right):
            self.error(node, "wrong-type", f"不能比较{left.zh()}与{right.zh()}", f"cannot compare {left.en()} with {right.en()}",
                       start=node.op_start, end=node.op_start + 2)
        return T_BOOL

    def _membership(self, node: ast.Binary, left: Type, right: Type) -> Type:
        if right.kind != LIST or right.optional:
            self.error(node.right, "wrong-type", f"in 之后应为列表，实际为{right.zh()}", f"'in' needs a list, got {right.en()}")
            return T_BOOL
        element = right.element
        if element is not None and element.kind != NULL and not same_kind(left, element):
            self.error(node, "wrong-type", f"不能在{right.zh()}中查找{left.zh()}", f"cannot look for {left.en()} in {right.en()}")
        elif left.enum is not None and not isinstance(node.left, ast.Literal) and isinstance(node.right, ast.ListExpr):
            for item in node.right.items:
                if isinstance(item, ast.Literal) and isinstance(item.value, str):
                    self._literal_in_enum(item, left)
        return T_BOOL

    def _literal_in_enum(self, literal: ast.Literal, enum_type: Type) -> None:
        if literal.value not in enum_type.enum:
            hz, he = _suggest(literal.value, enum_type.enum)
            self.error(literal, "bad-value", f"“{literal.value}” 不是允许的取值；允许：{'、'.join(sorted(enum_type.enum))}",
                       f"{literal.value!r} is not an allowed value; allowed: {', '.join(sorted(enum_type.enum))}", hz, he)

    def _need(self, node: ast.Node, t: Type, kind: str) -> Type:
        if t.kind == "error":
            return _ERROR
        if t.optional or t.kind == NULL:
            self.error(node, "maybe-null", "此值可能为空，请先用 != null 判断", "this value may be null; test it with != null first")
        elif t.kind != kind:
            self.error(node, "wrong-type", f"应为{Type(kind).zh()}，实际为{t.zh()}", f"expected {kind}, got {t.en()}")
        return Type(kind)

    def _need_bool(self, node: ast.Node, t: Type) -> None:
        self._need(node, t, BOOL)


MAX_ROUND_PLACES = 10
"""round(x, n) takes 0 ≤ n ≤ 10, written as a number: the places are known when the policy is checked."""


def _round_places_ok(places: ast.Node) -> bool:
    value = places.value if isinstance(places, ast.Literal) else None
    return (isinstance(value, Decimal) and value == value.to_integral_value()
            and 0 <= value <= MAX_ROUND_PLACES)


def _non_null_when(node: ast.Node, outcome: bool) -> frozenset[str]:
    """Dotted names known not to be null when `node` evaluates to `outcome`."""
    if isinstance(node, ast.Binary):
        if node.op in ("==", "!=") and (_is_null(node.left) or _is_null(node.right)):
            other = node.right if _is_null(node.left) else node.left
            if isinstance(other, ast.Path) and (node.op == "!=") == outcome:
                return frozenset([other.dotted])
            return frozenset()
        if node.op == "and" and outcome:
            return _non_null_when(node.left, True) | _non_null_when(node.right, True)
        if node.op == "or" and not outcome:
            return _non_null_when(node.left, False) | _non_null_when(node.right, False)
    if isinstance(node, ast.Unary) and node.op == "not":
        return _non_null_when(node.operand, not outcome)
    return frozenset()


def _is_null(node: ast.Node) -> bool:
    return isinstance(node, ast.Literal) and node.value is None
