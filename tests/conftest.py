"""Shared fixtures: the shipped policy tree, loaded once per test session."""

from __future__ import annotations

import pathlib
import shutil
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT / "engine") not in sys.path:  # running from a checkout without installing
    sys.path.insert(0, str(ROOT / "engine"))

from yidi import Engine  # noqa: E402

POLICIES = ROOT / "policies"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load(POLICIES)


@pytest.fixture
def policy_copy(tmp_path: pathlib.Path) -> pathlib.Path:
    """A private copy of the shipped policy tree that a test may break."""
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target, ignore=shutil.ignore_patterns("tests"))
    return target


# A claim the shipped policies decide, but which a Henan rule planted by `plant_rule_conflict` makes contradictory:
# the planted rule and the national default both apply and disagree — a policy defect (HTTP 409, exit 3), not bad input.
CONFLICTING = {"id": "C-CONFLICT", "insured": {"region": "410100", "scheme": "employee"},
               "visit": {"kind": "inpatient", "region": "139901", "networked": True, "hospital_level": 3,
                         "admission_date": "2025-03-05", "discharge_date": "2025-03-12", "emergency": True},
               "costs": {"total": 1000, "in_scope": 800}}


def plant_rule_conflict(tree: pathlib.Path) -> pathlib.Path:
    """Append to Henan's policy a rule that disagrees with `national.route-direct` for `CONFLICTING` only."""
    policy = tree / "henan" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8") + """
  - id: henan.planted-conflict
    title: 测试用：与国家默认规则冲突、又不声明为例外的规则
    sets: route
    when: visit.region == "139901"
    value: manual
    source: {document: 豫医保办〔2025〕2号, clause: 二（二）}
""", encoding="utf-8")
    return tree
