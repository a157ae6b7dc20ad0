"""The binary operators of the expression language, in one table.

Each row says how an operator is written, what Python the compiler writes
for it, how the documentation site says it in Chinese, how tightly it binds
(for the renderer's brackets: the same levels as `grammar.lark`) and which
typing rule of the checker applies (`group`). The grammar itself stays in
`grammar.lark` (Lark reads it); `dsl/compiler.py` and `docsite/exprtext.py`
read this table.
"""

from __future__ import annotations

from dataclasses import dataclass

# Binding strength, loosest first (as in grammar.lark): the renderer brackets a part that binds looser than its place.
IF, OR, AND, NOT, COMPARE, SUM, PRODUCT, NEGATE, ATOM = range(9)


@dataclass(frozen=True)
class Operator:
    symbol: str       # as written in an expression
    python: str       # as the compiler writes it
    group: str        # logic | equality | order | membership | arithmetic: the checker's typing rule
    strength: int     # binding strength (above)
    words_zh: str     # Chinese for it between a name and a word or value (为, 不为, ＜ …)
    symbol_zh: str    # Chinese for it between two numbers or expressions (＝, ≠, ＋ …)


OPERATORS: dict[str, Operator] = {op.symbol: op for op in [
    Operator("or", "or", "logic", OR, "或", "或"),
    Operator("and", "and", "logic", AND, "且", "且"),
    Operator("==", "==", "equality", COMPARE, "为", "＝"),
    Operator("!=", "!=", "equality", COMPARE, "不为", "≠"),
    Operator("<", "<", "order", COMPARE, "＜", "＜"),
    Operator("<=", "<=", "order", COMPARE, "≤", "≤"),
    Operator(">", ">", "order", COMPARE, "＞", "＞"),
    Operator(">=", ">=", "order", COMPARE, "≥", "≥"),
    Operator("in", "in", "membership", COMPARE, "为", "属于"),
    Operator("not in", "not in", "membership", COMPARE, "不为", "不属于"),
    Operator("+", "+", "arithmetic", SUM, "＋", "＋"),
    Operator("-", "-", "arithmetic", SUM, "−", "−"),
    Operator("*", "*", "arithmetic", PRODUCT, "×", "×"),
    Operator("/", "/", "arithmetic", PRODUCT, "÷", "÷"),
]}
