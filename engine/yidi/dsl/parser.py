"""Parse expression text into the typed AST of `yidi.dsl.ast`.

The language is defined by `grammar.lark` and parsed by Lark
(`yidi.dsl.lark_parser`), which also turns syntax errors into Chinese
messages with offsets. Lark is imported on the first parse, so a process that
reads compiled policies from the cache never loads it.
"""

from __future__ import annotations

import functools

from . import ast
from .errors import ExpressionError, ExprProblem


MAX_LENGTH = 5000
"""Longest expression, in characters (the shipped policies' longest is under 500)."""

MAX_DEPTH = 64
"""Deepest nesting of an expression: each operator, `if`, call, list, member `.` and bracket is a level.

Every pass over an expression (building the tree, type-checking, writing
Python, Python's own compiler) recurses per level; this limit keeps them
all far from Python's recursion limit and from the 200 nested brackets its
parser accepts. `a and b and c …` nests one level per `and`: a long
alternative of equalities reads better as `x in [...]` anyway.
"""


@functools.lru_cache(maxsize=8192)
def parse(text: str) -> ast.Node:
    """Parse `text`; raise ExpressionError (with offsets) if it is not an expression.

    Cached: a province's rules are checked again for every city below it,
    and the AST is immutable, so one parse per distinct text is enough.
    """
    if not text.strip():
        raise ExpressionError([ExprProblem(0, 0, "empty-expression", "表达式为空", "the expression is empty")])
    if len(text) > MAX_LENGTH:
        raise ExpressionError([ExprProblem(
            0, 0, "expression-too-long", f"表达式长 {len(text)} 个字符，超过上限 {MAX_LENGTH}",
            f"the expression is {len(text)} characters long, over the limit of {MAX_LENGTH}",
            "把它拆成几个中间变量（variables），各由一条规则计算", "split it into intermediate variables, each set by its own rule")])
    from .lark_parser import parse_with_lark

    return parse_with_lark(text, MAX_DEPTH)
