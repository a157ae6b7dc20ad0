"""The validated policy, as Python values.

These are what the loader builds from a YAML file once it has passed the
schema: every item remembers the file position it came from, so later
stages (expression checking, assembly, evaluation) can point back at the
line an officer wrote.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..dsl.types import Type
from ..source import Position


@dataclass(frozen=True)
class Citation:
    document: str
    clause: str
    says: str | None = None

    def label(self) -> str:
        return f"{self.document} {self.clause}"


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    issuer: str | None = None
    issued: str | None = None
    in_force: str | None = None
    nature: str | None = None        # None: the document itself; "summary": a press summary or Q&A about it
    nature_note: str | None = None   # what the summary is, in one sentence (shown with every citation of it)


@dataclass(frozen=True)
class InForce:
    """From when a policy file's rules apply (by settlement date), and what that date rests on.

    The date is also readable in expressions as the parameter `in_force.<policy id>`,
    with the same source and interpretation, so transition rules compare filing dates with it.
    """

    start: datetime.date
    source: Citation
    interpretation: str | None
    note: str | None
    position: Position


class FixedPosition:
    """Every offset maps to one position: for literals (picklable, for the cache)."""

    def __init__(self, position: Position):
        self.position = position

    def __call__(self, offset: int) -> Position:
        return self.position


@dataclass(frozen=True)
class ExpressionText:
    """An expression as written in YAML, with a way back to file positions."""

    text: str
    position: Position
    locate: Callable[[int], Position] = field(compare=False, repr=False)
    literal: Any = None          # set when `value:` was a YAML literal (number, bool, enum word)
    is_literal: bool = False


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    sets: str
    when: ExpressionText | None
    value: ExpressionText
    overrides: tuple[str, ...]
    source: Citation
    interpretation: str | None
    effective_from: datetime.date | None
    effective_until: datetime.date | None
    policy_id: str
    position: Position
    overrides_positions: tuple[Position, ...] = ()
    guard: str | None = None     # why this rule, kept on purpose, cannot take effect under the current values


@dataclass(frozen=True)
class ParameterValue:
    start: datetime.date
    until: datetime.date | None
    value: Any                   # Decimal, str, bool, date, or tuple of those
    source: Citation | None
    illustrative: bool
    note: str | None
    interpretation: str | None
    position: Position
    approval: Citation | None = None   # the approval by the level above, where that level requires one


@dataclass(frozen=True)
class Bounds:
    minimum: Decimal | None
    maximum: Decimal | None
    source: Citation | None


@dataclass(frozen=True)
class Parameter:
    name: str
    title: str
    type: Type
    type_name: str
    values: tuple[ParameterValue, ...]
    bounds: Bounds | None
    policy_id: str
    position: Position
    description: str | None = None
    set_by: Citation | None = None   # the clause that leaves the value to a lower level (named when it is undetermined)
    changes_need_approval: Citation | None = None  # a lower level's values must each cite an approval


@dataclass(frozen=True)
class Variable:
    name: str
    title: str
    for_kind: str                # "claim" | "filing_request"
    type: Type
    type_name: str
    policy_id: str
    position: Position
    description: str | None = None


@dataclass(frozen=True)
class BenefitRow:
    scheme: str
    level: int | None
    deductible: Decimal
    ratio: Decimal
    cap: Decimal | None


@dataclass(frozen=True)
class BenefitTable:
    id: str
    title: str
    care: tuple[str, ...]
    illustrative: bool
    note: str | None
    source: Citation | None
    rows: tuple[BenefitRow, ...]
    policy_id: str
    position: Position


@dataclass(frozen=True)
class Floor:
    """A level a decision may not fall below, set by this policy for itself and every level under it.

    Where `when` holds and `holds` does not, the decision carries the flag
    `floor_conflict` and the trace names the floor; `yidi validate` lists such
    situations for an officer to confirm. It never changes a decision.
    """

    id: str
    title: str
    for_kind: str
    when: ExpressionText | None
    holds: ExpressionText
    source: Citation
    policy_id: str
    position: Position


@dataclass(frozen=True)
class Policy:
    id: str
    region: str
    name: str
    extends: str | None
    documents: tuple[Document, ...]
    parameters: tuple[Parameter, ...]
    variables: tuple[Variable, ...]
    benefits: tuple[BenefitTable, ...]
    rules: tuple[Rule, ...]
    file: str
    position: Position
    extends_position: Position | None = None
    in_force: InForce | None = None
    floors: tuple[Floor, ...] = ()
    region_position: Position | None = None
