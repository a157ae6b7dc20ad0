"""Which rules of one variable can never apply together.

The compiled policy normally evaluates every rule's condition, so that two
rules applying at once with different values is caught as a conflict. When
every pair of a variable's rules is *proven* unable to apply together, at
most one can fire, the check can never trigger, and the compiler may write
an if/elif chain that stops at the first rule that applies — the same
answer and trace, with fewer conditions evaluated.

The proof is syntactic and deliberately modest. Two rules are exclusive when
  - one overrides the other (directly or through others);
  - their effective-date windows do not overlap; or
  - their conditions, read as conjunctions, contain contradicting parts:
    `X` and `not X`; `X == a` and `X == b` (or `X in [...]`) with no value
    in common; `X == a` and `X != a`; `X == null` and `X != null`.
Anything it cannot prove leaves the variable on the checked path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..dsl import ast
from ..dsl.functions import FUNCTIONS
from .model import Parameter, Rule

Atom = tuple[bool, ast.Node]  # (holds?, the expression)


def conjuncts(node: ast.Node, positive: bool = True) -> list[Atom]:
    """The parts that must all hold: `a and not (b or c)` → a, not b, not c."""
    if isinstance(node, ast.Unary) and node.op == "not":
        return conjuncts(node.operand, not positive)
    if isinstance(node, ast.Binary):
        if (node.op == "and" and positive) or (node.op == "or" and not positive):
            return conjuncts(node.left, positive) + conjuncts(node.right, positive)
        if node.op in ("!=", "not in"):  # written as the negation of == / in, so both forms compare
            return [(not positive, ast.Binary(op="==" if node.op == "!=" else "in", left=node.left, right=node.right))]
    return [(positive, node)]


def _values(atom: Atom, params: Mapping[str, Parameter]) -> tuple[ast.Node, frozenset, frozenset, bool] | None:
    """(subject, values it may surely take, values it may at most take, whether it must be one of them).

    For `X == lit` and `X in [lits]` both sets are the literals; for `X in param.P`
    they are what P holds in every version and in some version.
    """
    positive, node = atom
    if not isinstance(node, ast.Binary):
        return None
    left, right = node.left, node.right
    if node.op == "==":
        if isinstance(left, ast.Literal) and not isinstance(right, ast.Literal):
            left, right = right, left
        if isinstance(right, ast.Literal):
            one = frozenset([right.value])
            return left, one, one, positive
    if node.op == "in" and isinstance(right, ast.ListExpr) and all(isinstance(i, ast.Literal) for i in right.items):
        items = frozenset(i.value for i in right.items)
        return left, items, items, positive
    if node.op == "in" and isinstance(right, ast.Path) and right.parts[0] == "param":
        parameter = params.get(".".join(right.parts[1:]))
        if parameter is None or not parameter.values or not all(isinstance(v.value, tuple) for v in parameter.values):
            return None
        versions = [frozenset(v.value) for v in parameter.values]
        return left, frozenset.intersection(*versions), frozenset.union(*versions), positive
    return None


def _disjoint(a: frozenset, b: frozenset) -> bool:
    return not any(x == y for x in a for y in b)  # == as Python compares at run time (1 == 1.0)


def _contradict(a: Atom, b: Atom, params: Mapping[str, Parameter]) -> bool:
    if a[1] == b[1] and a[0] != b[0]:
        return True
    va, vb = _values(a, params), _values(b, params)
    if va is None or vb is None or va[0] != vb[0]:
        return False
    (_, surely_a, at_most_a, in_a), (_, surely_b, at_most_b, in_b) = va, vb
    if in_a and in_b:
        return _disjoint(at_most_a, at_most_b)
    if in_a != in_b:  # must be in one set and outside the other: impossible if the first lies inside the second
        at_most_inside, surely_outside = (at_most_a, surely_b) if in_a else (at_most_b, surely_a)
        return all(any(x == y for y in surely_outside) for x in at_most_inside)
    return False


def _refuted(atom: Atom, others: list[Atom]) -> bool:
    """`not (A and B)` cannot hold beside A and B."""
    positive, node = atom
    return not positive and all(part in others for part in conjuncts(node))


def _with_implied(parts: list[Atom]) -> list[Atom]:
    """The parts, plus what the library's functions make them imply (`Function.implies`, `equal_results_imply`).

    E.g. `city_of(a) == city_of(b)` implies `same_province(a, b)` (and with a
    and b swapped), and so does `same_city(a, b)`: each function's entry
    in `dsl.functions` states such facts, with the reason they hold.
    """
    implied = list(parts)
    for positive, node in parts:
        if not positive:
            continue
        pair, facts = None, ()
        if isinstance(node, ast.Binary) and node.op == "==":
            left, right = node.left, node.right
            if (isinstance(left, ast.Call) and isinstance(right, ast.Call) and left.function == right.function
                    and len(left.args) == len(right.args) == 1 and left.function in FUNCTIONS):
                pair, facts = (left.args[0], right.args[0]), FUNCTIONS[left.function].equal_results_imply
        elif isinstance(node, ast.Call) and len(node.args) == 2 and node.function in FUNCTIONS:
            pair, facts = (node.args[0], node.args[1]), FUNCTIONS[node.function].implies
        for fact in facts:
            for x, y in (pair, pair[::-1]):
                implied.append((True, ast.Call(function=fact, args=(x, y))))
    return implied


def _windows_overlap(a: Rule, b: Rule) -> bool:
    starts = [r.effective_from for r in (a, b) if r.effective_from is not None]
    ends = [r.effective_until for r in (a, b) if r.effective_until is not None]
    return not (starts and ends and max(starts) >= min(ends))


def exclusive(a: Rule, b: Rule, when_a: ast.Node | None, when_b: ast.Node | None,
              params: Mapping[str, Parameter]) -> bool:
    """Proven: rules `a` and `b` (conditions given as checked ASTs) never both apply."""
    return _exclusive(a, b, _parts(when_a), _parts(when_b), params)


def _parts(when: ast.Node | None) -> list[Atom] | None:
    return None if when is None else _with_implied(conjuncts(when))


def _exclusive(a: Rule, b: Rule, parts_a: list[Atom] | None, parts_b: list[Atom] | None,
               params: Mapping[str, Parameter]) -> bool:
    if not _windows_overlap(a, b):
        return True
    if parts_a is None or parts_b is None:
        return False
    return (any(_contradict(x, y, params) for x in parts_a for y in parts_b)
            or any(_refuted(x, parts_b) for x in parts_a) or any(_refuted(y, parts_a) for y in parts_b))


def chain_order(indices: Sequence[int], rules: Sequence[Rule], whens: Sequence[ast.Node | None],
                exceptions: dict[int, set[int]], params: Mapping[str, Parameter]) -> list[int] | None:
    """The rules of one variable in an order an if/elif chain may take them, or None if not provably safe.

    Safe when every pair is exclusive or one overrides the other; overriding
    rules come first, so reaching a rule means every rule that would override it did not apply.
    """
    for i in indices:
        if i in exceptions[i]:
            return None
    parts = {i: _parts(whens[i]) for i in indices}  # each rule's conjuncts once, not once per pair
    for position, i in enumerate(indices):
        for j in indices[position + 1:]:
            if j in exceptions[i] or i in exceptions[j]:
                continue
            if not _exclusive(rules[i], rules[j], parts[i], parts[j], params):
                return None
    order: list[int] = []
    placed: set[int] = set()
    remaining = list(indices)
    while remaining:  # stable: file order among rules that do not override one another
        ready = next(i for i in remaining if exceptions[i] <= placed)
        order.append(ready)
        placed.add(ready)
        remaining.remove(ready)
    return order
