"""Render rule expressions as readable Chinese — honestly.

The expression is parsed with the engine's own parser, so what is rendered is
what runs. Names become their Chinese titles (glossary, parameter and
variable titles); `and`/`or`/`not` become 且/或/非; comparisons keep their
symbols; a list comprehension reads as "历史备案中满足【…】者的取消日期".
Anything the renderer has no faithful words for (member access on a computed
value, an unknown function) makes it give up on the whole expression rather
than paraphrase it misleadingly — and the docs build fails, naming the rule
(`yidi docs` never publishes a rule in code a reader cannot read).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from ..dsl import ast
from ..dsl.errors import ExpressionError
from ..dsl.functions import FUNCTIONS
from ..dsl.operators import ATOM, AND, COMPARE, IF, NEGATE, NOT, OPERATORS, OR, PRODUCT, SUM
from ..dsl.parser import parse
from . import glossary


class Unsure(Exception):
    """The renderer has no faithful words for this expression."""


# Binding strengths and the operators' Chinese words come from the one operator table (dsl/operators.py).
_IF, _OR, _AND, _NOT, _CMP, _SUM, _PROD, _NEG, _ATOM = IF, OR, AND, NOT, COMPARE, SUM, PRODUCT, NEGATE, ATOM
_CMP_OPS = {s: op.words_zh for s, op in OPERATORS.items() if op.group in ("equality", "order")}
_NUM_OPS = {s: op.symbol_zh for s, op in OPERATORS.items() if op.group == "equality"}
_ARITH = {s: op.symbol_zh for s, op in OPERATORS.items() if op.group == "arithmetic"}
_OBJECTS = {"filing": "备案", "current": "当前备案", "new": "新备案"}

@dataclass(frozen=True)
class Rendered:
    """An expression as readable text (None when unsure) and as written."""

    code: str
    text: str | None
    conjuncts: tuple[str, ...] = ()   # top-level `and` parts, for a bullet list


class Namer:
    """Chinese names for the paths of one policy: parameters, its variables, fields, outputs."""

    def __init__(self, parameters: dict[str, str] | None = None, variables: dict[str, str] | None = None,
                 bound: dict[str, str] | None = None):
        self.parameters = parameters or {}
        self.variables = variables or {}
        self.bound = bound or {}        # comprehension variable → the path of the list it runs over

    def binding(self, name: str, source: str) -> Namer:
        """This namer, with `name` standing for one item of the list at path `source`."""
        return Namer(self.parameters, self.variables, {**self.bound, name: source})

    def name(self, path: str) -> str:
        head, _, rest = path.partition(".")
        if head in self.bound:                  # a field of the current item: its own title
            if not rest:
                raise Unsure(f"the item {head} itself")
            label = glossary.name_label(f"{self.bound[head]}.{rest}")
            if label is None:
                raise Unsure(path)
            return label
        if path.startswith("param."):
            title = self.parameters.get(path[len("param."):])
            return f"「{title}」" if title else f"`{path}`"
        if path in self.variables:
            return _short(self.variables[path])
        if path in _OBJECTS:
            return _OBJECTS[path]
        head, _, rest = path.partition(".")
        label = glossary.name_label(path)
        if label and path in glossary.output_titles():
            return _short(label)
        if head in _OBJECTS and label and rest:
            prefix = _OBJECTS[head]
            if head == "filing":
                return label if label.startswith("备案") else prefix + label
            return prefix + (label[2:] if label.startswith("备案") else label)
        return label if label else f"`{path}`"


def render(text: str, namer: Namer, sets: str | None = None) -> Rendered:
    """Render expression `text`; `Rendered.text` is None when the renderer is unsure.

    `sets` names the variable a `value:` expression sets: a bare word there
    is an enumerated value (`value: emergency`), as the compiler reads it.
    """
    word = text.strip()
    if sets and word.isidentifier() and word not in namer.variables and glossary.has_value(word, sets):
        return Rendered(word, f"“{glossary.value_label(word, sets)}”")
    try:
        node = parse(text)
    except ExpressionError:
        return Rendered(text.strip(), None)
    try:
        words = _Renderer(namer).top(node)
        parts = tuple(_Renderer(namer).top(p) for p in _conjuncts(node)) if _is_and(node) else ()
    except Unsure:
        return Rendered(text.strip(), None)
    return Rendered(text.strip(), words, parts)


def _short(title: str) -> str:
    """A variable's title without its trailing note: 就医范围（本地/省内异地/跨省） → 就医范围."""
    if title.endswith("）") and "（" in title:
        head = title[: title.rindex("（")]
        if head and not head.endswith("）"):
            title = head
    return f"“{title}”" if "，" in title else title


def _is_and(node: ast.Node) -> bool:
    return isinstance(node, ast.Binary) and node.op == "and"


def _conjuncts(node: ast.Node) -> list[ast.Node]:
    if _is_and(node):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


class _Renderer:
    def __init__(self, namer: Namer):
        self.namer = namer

    def top(self, node: ast.Node) -> str:
        return self.go(node, _IF)

    def go(self, node: ast.Node, context: int) -> str:
        words, strength = self.words(node)
        return f"（{words}）" if strength < context else words

    def words(self, node: ast.Node) -> tuple[str, int]:
        if isinstance(node, ast.Literal):
            return self.literal(node.value, None), _ATOM
        if isinstance(node, ast.Path):
            return self.namer.name(node.dotted), _ATOM
        if isinstance(node, ast.Unary):
            if node.op == "not":
                inner = self.go(node.operand, _NOT)
                return ("非" + inner if isinstance(node.operand, ast.Path) or inner.startswith("（") else f"非（{inner}）"), _NOT
            return "−" + self.go(node.operand, _NEG), _NEG
        if isinstance(node, ast.Binary):
            return self.binary(node)
        if isinstance(node, ast.If):
            return (f"若{self.go(node.condition, _OR)}，则{self.go(node.then, _OR)}，否则{self.go(node.otherwise, _OR)}", _IF)
        if isinstance(node, ast.Call):
            return self.call(node), _ATOM
        if isinstance(node, ast.ListExpr):
            return "、".join(self.go(i, _ATOM) for i in node.items), _CMP
        if isinstance(node, ast.Comprehension):
            return self.comprehension(node), _ATOM
        raise Unsure(type(node).__name__)  # member access on computed values

    def comprehension(self, node: ast.Comprehension) -> str:
        """`[h.cancelled_on for h in history if c]` → 历史备案中满足【c】者的取消日期."""
        if not isinstance(node.source, ast.Path) or node.source.dotted in self.namer.bound:
            raise Unsure("a comprehension over a computed list")
        source = node.source.dotted
        inner = _Renderer(self.namer.binding(node.name, source))
        whole = self.namer.name(source)
        which = f"{whole}中满足【{inner.top(node.condition)}】者" if node.condition is not None else f"{whole}中各项"
        if isinstance(node.item, ast.Path) and node.item.dotted == node.name:
            return which
        return f"{which}的{inner.go(node.item, _ATOM)}"

    def literal(self, value, of: str | None) -> str:
        if value is None:
            return "空"
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime.date):
            return value.isoformat()
        return f"“{glossary.value_label(value, of)}”" if of else f"“{value}”"

    def binary(self, node: ast.Binary) -> tuple[str, int]:
        op = node.op
        if op == "and":
            return f"{self.go(node.left, _AND)} {OPERATORS['and'].words_zh} {self.go(node.right, _AND)}", _AND
        if op == "or":  # brackets around `and` inside `or`: 且/或 carry no precedence for a reader
            return f"{self.go(node.left, _NOT)} {OPERATORS['or'].words_zh} {self.go(node.right, _NOT)}", _OR
        if op in _ARITH:
            strength = OPERATORS[op].strength
            right_context = strength + 1  # a - (b - c) keeps its brackets
            return f"{self.go(node.left, strength)} {_ARITH[op]} {self.go(node.right, right_context)}", strength
        if op in ("in", "not in"):
            return self.membership(node), _CMP
        if op in _CMP_OPS:
            return self.compare(node), _CMP
        raise Unsure(op)

    def compare(self, node: ast.Binary) -> str:
        left, right, op = node.left, node.right, node.op
        if isinstance(left, ast.Literal) and not isinstance(right, ast.Literal):
            left, right = right, left
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        of = left.dotted if isinstance(left, ast.Path) else None
        if isinstance(right, ast.Literal) and right.value is None and op in ("==", "!="):
            if isinstance(left, ast.Path) and left.dotted in _OBJECTS:
                return ("无" if op == "==" else "有") + _OBJECTS[left.dotted]
            return f"{self.go(left, _SUM)}{'为空' if op == '==' else '不为空'}"
        if isinstance(right, ast.Literal) and isinstance(right.value, bool) and op in ("==", "!="):
            positive = right.value == (op == "==")
            return self.go(left, _NOT) if positive else "非" + self.go(left, _ATOM)
        if isinstance(right, ast.Literal) and isinstance(right.value, str):
            word = _CMP_OPS[op] if op in ("==", "!=") else f" {_CMP_OPS[op]} "
            return f"{self.go(left, _SUM)}{word}{self.literal(right.value, of)}"
        symbol = _NUM_OPS.get(op, _CMP_OPS[op])
        return f"{self.go(left, _SUM)} {symbol} {self.go(right, _SUM)}"

    def membership(self, node: ast.Binary) -> str:
        negated = node.op == "not in"
        left = self.go(node.left, _SUM)
        if isinstance(node.right, ast.ListExpr):
            of = node.left.dotted if isinstance(node.left, ast.Path) else None
            items = "、".join(self.literal(i.value, of) if isinstance(i, ast.Literal) else self.go(i, _ATOM)
                             for i in node.right.items)
            return f"{left}{'不为' if negated else '为'}{items}{'中任何一项' if negated else '之一'}"
        return f"{left}{'不属于' if negated else '属于'}{self.go(node.right, _SUM)}"

    def call(self, node: ast.Call) -> str:
        """The function's own words (`dsl.functions`, `Function.words`) over the rendered arguments."""
        args = [self.go(a, _ATOM) for a in node.args]
        function = FUNCTIONS.get(node.function)
        template = function.words if function is not None else None
        if template is None:
            raise Unsure(node.function)
        try:
            return template(*args)
        except TypeError as exc:
            raise Unsure(node.function) from exc
