"""A check is reused only where the environment answers every lookup it made the same way."""

from __future__ import annotations

import pytest

from yidi.dsl.checker import Environment, check
from yidi.dsl.errors import ExpressionError
from yidi.dsl.parser import parse

read = parse.__wrapped__  # a fresh tree each time, not the memoised one
from yidi.dsl.types import OBJECT, T_BOOL, T_NUMBER, T_STRING, Type, enum_type

INPUTS = {"visit": Type(OBJECT), "visit.kind": enum_type(["inpatient", "outpatient"]), "costs": Type(OBJECT),
          "costs.total": T_NUMBER}
TEXT = 'visit.kind == "inpatient" and costs.total > param.limit and flags.ok'


def env(**changes) -> Environment:
    base = {"inputs": INPUTS, "params": {"limit": T_NUMBER}, "variables": {"flags.ok": T_BOOL}, "benefit": {}}
    return Environment(**(base | changes))


def summary(checked):
    return checked.type, checked.variables_used, checked.params_used, sorted(map(repr, checked.refs.values()))


def test_unrelated_names_do_not_prevent_reuse():
    node = read(TEXT)
    first = check(node, env(), T_BOOL)
    again = check(node, env(params={"limit": T_NUMBER, "other": T_STRING}, variables={"flags.ok": T_BOOL, "x": T_NUMBER}), T_BOOL)
    assert again is first
    assert summary(again) == summary(check(read(TEXT), env(), T_BOOL))  # as a fresh tree is checked


@pytest.mark.parametrize("changed", [
    {"params": {"limit": Type(T_NUMBER.kind, optional=True)}},      # a looked-up type differs
    {"variables": {"flags.ok": T_BOOL, "visit": Type(OBJECT)}},      # a name looked up and missing now exists
    {"variables": {"flags.ok": T_BOOL, "visit.kind": T_STRING}},
])
def test_a_different_answer_means_a_new_check(changed):
    node = read(TEXT)
    first = check(node, env(), T_BOOL)
    try:
        other = check(node, env(**changed), T_BOOL)
    except ExpressionError:
        return  # checked afresh, and refused
    assert other is not first
    assert summary(other) == summary(check(read(TEXT), env(**changed), T_BOOL))


def test_failed_checks_are_not_reused():
    node = read("param.missing + 1")
    for _ in range(2):
        with pytest.raises(ExpressionError) as info:
            check(node, env(), T_NUMBER)
        assert info.value.problems[0].code == "unknown-param"
    assert check(node, env(params={"missing": T_NUMBER}), T_NUMBER).params_used == {"missing"}


def test_expected_type_and_assumption_are_part_of_the_key():
    node = read("costs.total")
    assert check(node, env(), T_NUMBER).type == T_NUMBER
    with pytest.raises(ExpressionError):
        check(node, env(), T_BOOL)
