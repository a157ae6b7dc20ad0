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


@functools.lru_cache(maxsize=8192)
def parse(text: str) -> ast.Node:
    """Parse `text`; raise ExpressionError (with offsets) if it is not an expression.

    Cached: a province's rules are checked again for every city below it,
    and the AST is immutable, so one parse per distinct text is enough.
    """
    if not text.strip():
        raise ExpressionError([ExprProblem(0, 0, "empty-expression", "表达式为空", "the expression is empty")])
    from .lark_parser import parse_with_lark

    return parse_with_lark(text)
