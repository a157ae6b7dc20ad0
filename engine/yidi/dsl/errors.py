"""Problems found in one expression, positioned by character offset.

The DSL knows nothing about YAML files: it reports offsets into the
expression text, and the policy loader turns them into file:line:col
diagnostics. Keeping the two apart lets the DSL be tested on plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExprProblem:
    start: int
    end: int
    code: str
    message_zh: str
    message_en: str
    help_zh: str | None = None
    help_en: str | None = None


class ExpressionError(Exception):
    """One or more problems in an expression; `problems` lists them all."""

    def __init__(self, problems: list[ExprProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.start}: {p.message_en}" for p in problems))
