"""Every YAML test case next to every shipped policy, one pytest test each."""

from __future__ import annotations

import pytest

from yidi import Engine
from yidi.diagnostics import render
from yidi.testing import load_cases, run_case

from .conftest import POLICIES

_ENGINE = Engine.load(POLICIES)
_PROBLEMS: list = []
CASES = load_cases(_ENGINE, POLICIES, _PROBLEMS)


def test_test_files_are_valid():
    assert not _PROBLEMS, render(_PROBLEMS)


def test_every_policy_has_test_cases():
    covered = {c.policy_id for c in CASES}
    assert covered == set(_ENGINE.policies.policies), f"policies without test cases: {set(_ENGINE.policies.policies) - covered}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_policy_case(case):
    outcome = run_case(_ENGINE, case)
    assert outcome.passed, render(outcome.failures)
