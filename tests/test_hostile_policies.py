"""Hostile policy trees (issue 11, items 8–10): refused with file:line:col and a code, or decided right.

The corpus is `tests/hostile/policies/*.yaml`: each file is a province policy
placed beside the shipped national one. Its first lines say what it attacks,
and `# expect: <code> `<text>`` names the diagnostic it must get and the text
it must point at (`# expect: loads` for a tree that must load and decide
right). Trees too big to keep in the repository — 2,000-deep YAML, a
20,000-term condition — are generated here.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yidi import DiagnosticError, Engine
from yidi.dsl.compiler import input_name, variable_name

from .conftest import POLICIES
from .conftest import yidi

CORPUS = pathlib.Path(__file__).resolve().parent / "hostile" / "policies"
FILES = sorted(CORPUS.glob("*.yaml"))
_EXPECT = re.compile(r"^# expect: (\S+)(?: `(.+)`)?$", re.MULTILINE)

HEAD = (CORPUS / "round-places-huge.yaml").read_text(encoding="utf-8").split("rules:\n")[0]
CLAIM = {"kind": "claim", "id": "H", "insured": {"region": "990100", "scheme": "resident"},
         "visit": {"kind": "inpatient", "region": "110000", "networked": True, "hospital_level": 3,
                   "admission_date": "2025-07-10", "discharge_date": "2025-07-18", "emergency": False, "referral": True},
         "filing": {"type": "referral", "region": "110000", "start_date": "2025-07-01", "filed_on": "2025-07-01"},
         "costs": {"total": 18000, "in_scope": 15000}}


def hostile_tree(tmp_path: pathlib.Path, text: str) -> pathlib.Path:
    """The shipped national policy and `text` as the province policy `policies/hostile/policy.yaml`."""
    root = tmp_path / "policies"
    (root / "national").mkdir(parents=True)
    shutil.copy(POLICIES / "national" / "policy.yaml", root / "national" / "policy.yaml")
    (root / "hostile").mkdir()
    (root / "hostile" / "policy.yaml").write_text(text, encoding="utf-8")
    return root


def refusal(root: pathlib.Path) -> list:
    with pytest.raises(DiagnosticError) as info:
        Engine.load(root)
    return info.value.diagnostics


def position_of(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of `needle`, searched after the file's comment header."""
    body = text.index("\nid:")
    index = text.index(needle, body)
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def rule(sets: str, value: str, when: str | None = None, rule_id: str = "hostile.r") -> str:
    lines = [f"  - id: {rule_id}", "    title: 测试规则", f"    sets: {sets}"]
    if when is not None:
        lines.append(f"    when: {when}")
    lines += [f"    value: {value}", "    source: {document: 测试〔2025〕1号, clause: 一}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# The corpus.


@pytest.mark.parametrize("path", [p for p in FILES if "# expect: loads" not in p.read_text(encoding="utf-8")],
                         ids=lambda p: p.stem)
def test_each_hostile_file_is_refused_at_the_place_it_names(tmp_path, path):
    text = path.read_text(encoding="utf-8")
    code, needle = _EXPECT.search(text).groups()
    found = refusal(hostile_tree(tmp_path, text))
    at = [(d.file, d.line, d.column) for d in found if d.code == code]
    assert ("policies/hostile/policy.yaml", *position_of(text, needle)) in at, [(d.code, d.line, d.column, d.message_zh) for d in found]


def test_a_variable_one_dot_away_from_an_output_does_not_replace_it(tmp_path):
    """Item 8: `amounts__fund` and `amounts.fund` were one Python local, so the decision paid 12345."""
    engine = Engine.load(hostile_tree(tmp_path, (CORPUS / "name-collision-underscores.yaml").read_text(encoding="utf-8")))
    decision = engine.evaluate(CLAIM)
    assert decision["policy"]["id"] == "hostile"
    # (in scope 15,000 − deductible 1,000) × (ratio 65% − 10 points for a referral)
    assert decision["amounts"]["fund"] == 7700
    assert decision["amounts"]["personal"] == 18000 - 7700
    source = engine.policies.policies["hostile"].programs["claim"].source
    assert "v_amounts_D_fund = " in source and "v_amounts__fund = K" in source


@given(st.text(max_size=12), st.text(max_size=12))
def test_policy_names_are_spelled_as_distinct_identifiers(one, two):
    """The spelling is injective and always a valid Python identifier, whatever the name."""
    for spell in (variable_name, input_name):
        assert spell(one).isidentifier() and spell(one).isascii()
        assert (spell(one) == spell(two)) == (one == two)
    assert variable_name("amounts.fund") != variable_name("amounts__fund") != variable_name("amounts._fund")


# --------------------------------------------------------------------------
# Trees too big to keep: generated. Each must be refused with a positioned diagnostic, never a
# RecursionError (Python's default limit of 1,000 frames is what a deployment runs with).

def _deep_yaml() -> str:
    return HEAD + "rules: " + "[" * 2000 + "]" * 2000 + "\n"


def _deep_block_yaml() -> str:
    return HEAD + "rules:\n" + "".join(" " * (i + 1) + "k:\n" for i in range(2000)) + " " * 2001 + "v: 1\n"


def _and_chain() -> str:
    return HEAD + "rules:\n" + rule("amounts.fund", "0", " and ".join(["costs.total > 0"] * 20000))


def _nested_if() -> str:
    return HEAD + "rules:\n" + rule("amounts.fund", "if costs.total > 0 then " * 3000 + "1" + " else 2" * 3000)


def _nested_not() -> str:  # short enough to parse, too deep to walk
    return HEAD + "rules:\n" + rule("amounts.fund", "0", "not " * 1200 + "true")


def _nested_if_compact() -> str:
    return HEAD + "rules:\n" + rule("amounts.fund", "if true then " * 200 + "1" + " else 2" * 200)


def _many_rules() -> str:
    variable = "variables:\n  hostile_many:\n    title: 测试变量\n    for: claim\n    type: number?\n"
    rules = "".join(rule("hostile_many", str(i), f"costs.total == {i}", f"hostile.r{i}") for i in range(3000))
    return HEAD + variable + "rules:\n" + rules


GENERATED = {
    "yaml-2000-deep-flow": (_deep_yaml, "yaml-too-deep", "rules: "),
    "yaml-2000-deep-block": (_deep_block_yaml, "yaml-too-deep", "\n" + " " * 32 + "k:"),  # the 33rd level
    "and-chain-20000": (_and_chain, "expression-too-long", "costs.total > 0 and"),
    "if-nested-3000": (_nested_if, "expression-too-long", "if costs.total"),
    "not-nested-1200": (_nested_not, "expression-too-deep", "not not"),
    "if-nested-200": (_nested_if_compact, "expression-too-deep", "if true"),
    "rules-3000-for-one-variable": (_many_rules, "too-many-rules", "- id: hostile.r200\n"),
}


@pytest.mark.parametrize("name", list(GENERATED))
def test_each_generated_tree_is_refused_with_a_positioned_diagnostic(tmp_path, name):
    make, code, near = GENERATED[name]
    text = make()
    found = refusal(hostile_tree(tmp_path, text))
    mine = [d for d in found if d.code == code]
    assert mine, [(d.code, d.message_zh) for d in found]
    line = text.count("\n", 0, text.index(near, text.index("\nid:")) + near.startswith("\n")) + 1
    assert mine[0].file == "policies/hostile/policy.yaml" and mine[0].column
    assert line <= mine[0].line <= line + 2, (mine[0].line, line)


@pytest.mark.parametrize("name", ["yaml-2000-deep-flow", "and-chain-20000", "if-nested-3000", "not-nested-1200"])
def test_validate_shows_the_diagnostic_with_its_line_not_a_traceback(tmp_path, name):
    make, code, _ = GENERATED[name]
    root = hostile_tree(tmp_path, make())
    result = yidi("validate", str(root))
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr + result.stdout
    report = result.stdout + result.stderr
    assert re.search(rf"policies/hostile/policy\.yaml:\d+:\d+: 错误\[{code}\]", report), report[-2000:]
    assert re.search(r"^ +\| +\^", report, re.MULTILINE), "the source line is quoted with a caret"


@pytest.mark.parametrize("path", [CORPUS / "bad-date-until.yaml", CORPUS / "round-places-huge.yaml"], ids=lambda p: p.stem)
def test_validate_reports_corpus_files_with_the_source_line_and_caret(tmp_path, path):
    text = path.read_text(encoding="utf-8")
    code, needle = _EXPECT.search(text).groups()
    line, column = position_of(text, needle)
    result = yidi("validate", str(hostile_tree(tmp_path, text)))
    report = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in report
    assert f"policies/hostile/policy.yaml:{line}:{column}: 错误[{code}]" in report, report
    quoted = text.splitlines()[line - 1]
    assert f" {line} | {quoted}" in report


# --------------------------------------------------------------------------
# Test files (policies/*/tests/*.yaml): their inputs are documents, checked as documents;
# the loader itself must not fail on anything in them.


def _tree_with_tests(tmp_path: pathlib.Path, cases: str) -> pathlib.Path:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES / "national", root / "national")
    for old in (root / "national" / "tests").glob("*.yaml"):
        old.unlink()
    (root / "national" / "tests" / "hostile.yaml").write_text(cases, encoding="utf-8")
    return root


def test_an_impossible_date_in_a_test_input_is_an_input_error_of_that_case(tmp_path):
    claim = json.loads(json.dumps(CLAIM).replace("2025-07-18", "2025-02-30").replace("990100", "110100"))
    cases = ("cases:\n  - name: 不存在的出院日期\n    checks: [{document: 医保发〔2022〕22号, clause: 六}]\n"
             f"    input: {json.dumps(claim, ensure_ascii=False)}\n    expect: {{route: direct}}\n")
    result = yidi("test", str(_tree_with_tests(tmp_path, cases)))
    report = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in report
    assert re.search(r"policies/national/tests/hostile\.yaml:\d+:\d+: 错误\[case-failed\]", report), report
    assert "discharge_date" in report


def test_a_test_file_nested_2000_deep_is_a_positioned_diagnostic(tmp_path):
    cases = ("cases:\n  - name: 很深的期望\n    checks: [{document: 医保发〔2022〕22号, clause: 六}]\n"
             f"    input: {{kind: claim}}\n    expect: {'[' * 2000}{']' * 2000}\n")
    result = yidi("validate", str(_tree_with_tests(tmp_path, cases)))
    report = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in report
    assert re.search(r"policies/national/tests/hostile\.yaml:5:\d+: 错误\[yaml-too-deep\]", report), report
