"""Shared fixtures: the shipped policy tree, loaded once per test session."""

from __future__ import annotations

import datetime
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

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


# ── helpers shared by several test modules ───────────────────────────────────


def yidi(*args: str, stdin: str | None = None, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed `yidi` script (or `python -m yidi.cli` from a bare checkout)."""
    script = shutil.which("yidi")
    command = [script] if script else [sys.executable, "-m", "yidi.cli"]
    env = dict(os.environ)
    if not script:
        env["PYTHONPATH"] = str(ROOT / "engine")
    return subprocess.run([*command, *args], input=stdin, capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=120)


CITY_HEADER = """\
# yaml-language-server: $schema=../../../schemas/policy.schema.json
id: zhengzhou
region: "410100"
name: 郑州市
extends: henan
documents:
  - id: 郑医保〔2025〕1号
    title: 示例文件
"""


def write_city(tree: pathlib.Path, body: str) -> pathlib.Path:
    folder = tree / "henan" / "zhengzhou"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "policy.yaml"
    path.write_text(CITY_HEADER + textwrap.dedent(body), encoding="utf-8")
    return path


AS_OF = datetime.date(2025, 7, 1)
"""The day the documentation site is generated for, in the tests."""

_BUILT: dict[str, pathlib.Path] = {}


def built_site(tmp_path_factory) -> pathlib.Path:
    """Generate and build the site once per test session (the browser test uses it too)."""
    if "out" not in _BUILT:
        out = tmp_path_factory.mktemp("docsite") / "site-project"
        from yidi.cli import main

        assert main(["docs", "--out", str(out), "--build", "--as-of", AS_OF.isoformat(), "--policies", str(POLICIES)]) == 0
        _BUILT["out"] = out
    return _BUILT["out"]
