"""Values the policies do not determine, and how they travel through a decision (contract §2.1).

A decision is partial, not refused, when some output depends on something the
policy tree does not give: a parameter with no value in force on the
settlement date (no policy for the insured place, a date before the policy
took effect), or a benefit table the insured place's policy does not have.
Everything else is still decided.

The mechanism is small and strict:

* reading such a parameter (or a column of a missing benefit table) raises
  `Undetermined`, carrying a `Cause`;
* the generated code catches it around each variable's rules, and the
  variable becomes an `Unknown` — a value that raises `Undetermined` again on
  *any* use (comparison, truth test, arithmetic, indexing, attribute), so a
  rule can never read it as if it were an ordinary value;
* the decision lists each output that ended undetermined, with the cause's
  reason and the clause that leaves it to someone else.

A condition that would read an undetermined value makes its variable
undetermined, even where another rule might have decided it: never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    """Why a value is not determined: a parameter with no value in force, or a missing benefit table.

    `kind` is "parameter" (name = the parameter) or "benefit" (name = the kind
    of care whose table row was looked up).
    """

    kind: str
    name: str


class Undetermined(Exception):
    """Raised when a rule reads something the policies leave undetermined.

    `via` names the variable the value came through (None when the rule read
    the missing parameter or table itself).
    """

    def __init__(self, cause: Cause, via: str | None = None):
        super().__init__(cause.kind, cause.name, via)
        self.cause = cause
        self.via = via


class Unknown:
    """The value of a variable the policies leave undetermined: any use raises `Undetermined`.

    Python calls special methods on the type, so each operation a generated
    rule can apply is defined here to raise; everything else goes through
    `__getattr__`, which raises too. Only identity (`is`) cannot be
    intercepted: the compiler writes `== None` instead of `is None` wherever
    a variable's value could be an Unknown (see dsl/compiler.py).
    """

    __slots__ = ("cause", "variable")

    def __init__(self, cause: Cause, variable: str):
        object.__setattr__(self, "cause", cause)
        object.__setattr__(self, "variable", variable)

    def error(self) -> Undetermined:
        return Undetermined(self.cause, self.variable)

    def _raise(self, *_args):
        raise self.error()

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _raise
    __bool__ = __hash__ = __len__ = __iter__ = __contains__ = __getitem__ = _raise
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _raise
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _raise
    __neg__ = __pos__ = __abs__ = __int__ = __float__ = __index__ = __round__ = _raise

    def __getattr__(self, name):
        raise self.error()

    def __setattr__(self, name, value):
        raise AttributeError("Unknown is immutable")

    def __repr__(self) -> str:
        return f"Unknown({self.cause.kind}:{self.cause.name} via {self.variable})"


class UnknownRow:
    """The benefit-table row for a claim whose insured place's policy has no table for that care."""

    __slots__ = ("cause",)

    def __init__(self, cause: Cause):
        self.cause = cause

    def __getitem__(self, column):
        raise Undetermined(self.cause)

    def get(self, key, default=None):
        return default

    def __repr__(self) -> str:
        return f"UnknownRow({self.cause.name})"
