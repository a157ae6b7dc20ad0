"""Typed AST of the expression language.

Nodes are frozen dataclasses so a parsed expression can be shared between
threads and cached. Every node carries `start`/`end`: character offsets into
the expression text, which the policy loader maps back to the YAML file's
line and column. Offsets are excluded from equality so that two parses of the
same expression compare equal whatever their position.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Node:
    start: int = field(compare=False, repr=False, kw_only=True, default=0)
    end: int = field(compare=False, repr=False, kw_only=True, default=0)


@dataclass(frozen=True)
class Literal(Node):
    """A number (Decimal), string, bool, date or null written in the expression."""

    value: Decimal | str | bool | datetime.date | None


@dataclass(frozen=True)
class Path(Node):
    """A dotted name: `visit.admission_date`, `param.reduction.referral`, `h`.

    The checker decides what the path refers to (input field, parameter,
    decision variable, benefit column or comprehension variable).
    """

    parts: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Member(Node):
    """Member access on something that is not a plain name, e.g. `f(x).y`."""

    target: Node
    name: str


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]
    name_end: int = field(compare=False, repr=False, default=0)


@dataclass(frozen=True)
class ListExpr(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Comprehension(Node):
    """`[item for name in source if condition]`."""

    item: Node
    name: str
    source: Node
    condition: Node | None


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "not" | "-"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    """Arithmetic, comparison, `in`, `not in`, `and`, `or`."""

    op: str
    left: Node
    right: Node
    op_start: int = field(compare=False, repr=False, default=0)


@dataclass(frozen=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


def walk(node: Node):
    """Yield `node` and every node below it, parents first."""
    yield node
    if isinstance(node, Member):
        yield from walk(node.target)
    elif isinstance(node, Call | ListExpr):
        for child in node.args if isinstance(node, Call) else node.items:
            yield from walk(child)
    elif isinstance(node, Comprehension):
        yield from walk(node.source)
        yield from walk(node.item)
        if node.condition is not None:
            yield from walk(node.condition)
    elif isinstance(node, Unary):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, If):
        yield from walk(node.condition)
        yield from walk(node.then)
        yield from walk(node.otherwise)
