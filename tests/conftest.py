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
