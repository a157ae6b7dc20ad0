"""Every YAML test case next to every shipped policy, one pytest test each."""

from __future__ import annotations

import functools

from yidi import Engine
from yidi.diagnostics import render
from yidi.testing import load_cases, run_case

from .conftest import POLICIES


@functools.cache
def _shipped():
    """(engine, cases, problems) of the shipped tree, loaded when pytest first asks — not when this module is imported."""
    engine = Engine.load(POLICIES)
    problems: list = []
    return engine, load_cases(engine, POLICIES, problems), problems


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        cases = _shipped()[1]
        metafunc.parametrize("case", cases, ids=[c.label for c in cases])


def test_test_files_are_valid():
    assert not _shipped()[2], render(_shipped()[2])


def test_every_policy_has_test_cases():
    engine, cases, _ = _shipped()
    covered = {c.policy_id for c in cases}
    assert covered == set(engine.policies.policies), f"policies without test cases: {set(engine.policies.policies) - covered}"


def test_policy_case(case):
    outcome = run_case(_shipped()[0], case)
    assert outcome.passed, render(outcome.failures)
