"""The clause-coverage matrix is enforced: no clause without rules or a reason, none untested."""

from __future__ import annotations

import re
import shutil

from yidi import Engine
from yidi.diagnostics import render
from yidi.policy.coverage import build_matrix
from yidi.testing import load_cases

from .conftest import POLICIES


def matrix_problems(tree):
    engine = Engine.load(tree)
    problems: list = []
    cases = load_cases(engine, tree, problems)
    rows = build_matrix(engine.policies, tree, cases, problems)
    return rows, problems


def full_copy(tmp_path):
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    return tree


def test_shipped_policies_cover_every_clause(engine):
    rows, problems = matrix_problems(POLICIES)
    assert not problems, render(problems)
    encoded = [r for r in rows if not r.not_encoded]
    assert encoded and all(r.rules or r.parameters for r in encoded) and all(r.cases for r in encoded)
    henan = {r.clause for r in rows if r.document == "豫医保办〔2025〕2号" and not r.not_encoded}
    assert {"一（二）", "二（一）", "二（二）", "二（三）", "三（三）", "四（二）", "附件1 温馨提示二"} <= henan


def test_removing_the_only_cases_for_a_clause_fails(tmp_path):
    tree = full_copy(tmp_path)
    audit_file = tree / "henan" / "tests" / "death-audit.yaml"
    text = audit_file.read_text(encoding="utf-8")
    audit_file.write_text(text.replace("clause: 四（二）}", "clause: 二（三）}"), encoding="utf-8")
    _, problems = matrix_problems(tree)
    untested = [p for p in problems if p.code == "clause-untested"]
    assert untested and "四（二）" in untested[0].message_zh
    assert untested[0].file == "policies/henan/sources.yaml"


def test_citing_a_clause_missing_from_the_list_fails(tmp_path):
    tree = full_copy(tmp_path)
    policy = tree / "henan" / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("clause: 四（二）, says: 做好3万元以上异地就医住院疑似违规费用的协查工作}\n\n  # ── 备案办理",
                                   "clause: 四（九）, says: 做好3万元以上异地就医住院疑似违规费用的协查工作}\n\n  # ── 备案办理"), encoding="utf-8")
    _, problems = matrix_problems(tree)
    assert any(p.code == "unknown-clause" and "四（九）" in p.message_zh for p in problems), render(problems)


def test_a_listed_clause_without_rules_or_reason_fails(tmp_path):
    tree = full_copy(tmp_path)
    sources = tree / "henan" / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    text = re.sub(r"(clause: 四（三）\n\s+summary: 业务协同管理\n)\s+not_encoded: [^\n]+\n", r"\1", text)
    sources.write_text(text, encoding="utf-8")
    _, problems = matrix_problems(tree)
    assert any(p.code == "clause-unimplemented" and "四（三）" in p.message_zh for p in problems), render(problems)


def test_a_case_checking_a_not_encoded_clause_fails(tmp_path):
    tree = full_copy(tmp_path)
    cases = tree / "henan" / "tests" / "death-audit.yaml"
    text = cases.read_text(encoding="utf-8")
    cases.write_text(text.replace("clause: 四（二）}", "clause: 四（一）}", 1), encoding="utf-8")
    _, problems = matrix_problems(tree)
    assert any(p.code == "clause-not-encoded" for p in problems)
