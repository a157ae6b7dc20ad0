"""If/elif chains only where rules are proven unable to apply together, shared first tests — and the same answers."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings

from yidi import Engine
from yidi.dsl import ast
from yidi.dsl.parser import parse
from yidi.policy import compile as compile_module
from yidi.policy.exclusive import conjuncts, exclusive
from yidi.synth import generate

from .conftest import POLICIES
from .strategies import henan_claims


class _Rule:  # the two fields `exclusive` reads
    def __init__(self, start=None, until=None):
        self.effective_from, self.effective_until = start, until


class _Param:
    def __init__(self, *versions):
        self.values = [type("V", (), {"value": tuple(v)})() for v in versions]


PARAMS = {
    "long_term": _Param(["retiree_relocated", "long_term_resident"], ["retiree_relocated", "long_term_resident", "stationed_worker"]),
    "temporary": _Param(["referral", "emergency", "other_temporary"]),
}


def apart(a: str, b: str) -> bool:
    return exclusive(_Rule(), _Rule(), parse(a), parse(b), PARAMS)


@pytest.mark.parametrize("a, b", [
    ("visit.emergency", "not visit.emergency"),
    ('treatment == "local"', 'treatment == "referral"'),
    ('treatment == "local"', 'treatment != "local"'),
    ('treatment in ["local", "referral"]', 'treatment == "emergency"'),
    ('treatment in ["local", "referral"]', 'not (treatment in ["local", "referral", "emergency"])'),
    ("filing == null", "filing != null and filing.type == \"referral\""),
    ("filing.type in param.long_term", "filing.type in param.temporary"),
    ('filing.type in param.long_term and x', 'filing.type == "referral"'),
    ("a and b and not c", "c and d"),
    ("a and b", "not (a and b) and e"),
    ("not (a or b)", "b"),
])
def test_contradictions_it_proves(a, b):
    assert apart(a, b) and apart(b, a)


@pytest.mark.parametrize("a, b", [
    ("visit.emergency", "visit.referral"),                                       # both may hold
    ('treatment == "local"', 'scope == "local"'),                                 # different subjects
    ('treatment in ["local", "referral"]', 'treatment in ["referral"]'),          # a value in common
    ('filing.type in param.long_term', 'filing.type == "stationed_worker"'),      # in the list in some version
    ('filing.type in param.long_term', 'not (filing.type in param.temporary)'),  # possible together
    ("a or b", "not a"),                                                          # b alone satisfies both
    ("same_province(visit.region, insured.region)", "city_of(visit.region) != city_of(insured.region)"),  # both may hold
])
def test_what_it_does_not_claim(a, b):
    assert not apart(a, b) and not apart(b, a)


def test_disjoint_effective_windows_are_exclusive():
    old, new = _Rule(until=datetime.date(2025, 1, 1)), _Rule(start=datetime.date(2025, 1, 1))
    assert exclusive(old, new, None, None, {})
    assert not exclusive(old, _Rule(start=datetime.date(2024, 12, 31)), None, None, {})


def test_conjuncts_read_through_not_and_or():
    parts = conjuncts(parse("a and not (b or not c)"))
    assert [(positive, node.parts[0]) for positive, node in parts if isinstance(node, ast.Path)] == [(True, "a"), (False, "b"), (True, "c")]


def test_the_generated_code_chains_only_proven_variables():
    source = Engine.load(POLICIES).policies.policies["national"].programs["claim"].source
    filing_end = source.split("# filing_end\n")[1].split("\n    # ")[0]
    route = source.split("# route\n")[1].split("\n    # ")[0]
    assert "elif" in filing_end and "conflict(" not in filing_end
    assert "elif" not in route and "conflict(" in route  # several manual-route rules may fire together


@pytest.fixture(scope="module")
def unchained() -> Engine:
    """The same policies compiled plainly: every variable on the checked path."""
    saved = compile_module.chain_order
    compile_module.chain_order = lambda *args, **kwargs: None
    try:
        return Engine.load(POLICIES, generate_now=True)     # the code is written while chain_order is replaced
    finally:
        compile_module.chain_order = saved


def test_chained_and_checked_code_decide_synthetic_claims_alike(engine, unchained):
    claims = list(generate(3000, 5))
    plain = unchained.policies.policies["henan"].programs["claim"].source
    assert "elif" not in plain and "else:" not in plain
    chained = engine.policies.policies["henan"].programs["claim"].source
    assert "elif" in chained
    for claim in claims:
        assert engine.evaluate(claim, "full") == unchained.evaluate(claim, "full")


@settings(max_examples=300, deadline=None)
@given(henan_claims())
def test_chained_and_checked_code_decide_henan_claims_alike(engine, unchained, claim):
    assert engine.evaluate(claim, "full") == unchained.evaluate(claim, "full")


def test_equal_cities_are_in_the_same_province():
    assert apart("city_of(visit.region) == city_of(insured.region)", "not same_province(insured.region, visit.region)")
    assert apart("same_city(visit.region, insured.region) and x", "not same_province(visit.region, insured.region)")
    assert not apart("city_of(visit.region) == city_of(insured.region)", "not same_province(visit.region, filing.region)")
