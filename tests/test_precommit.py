"""Editing comfort and the officer's pipeline: schema headers, an independent
validator, the pre-commit hooks, and the CI recipe run end to end on a
temporary git repository."""

from __future__ import annotations

import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml

from .conftest import POLICIES, ROOT

SCHEMAS = ROOT / "schemas"
HEADER = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def yaml_files() -> list[pathlib.Path]:
    return sorted(p for p in POLICIES.rglob("*") if p.suffix in (".yaml", ".yml"))


def expected_schema(path: pathlib.Path) -> str:
    if path.parent.name == "tests":
        return "policy-test.schema.json"
    return {"policy.yaml": "policy.schema.json", "sources.yaml": "sources.schema.json"}[path.name]


def test_every_policy_file_starts_with_its_schema_line():
    files = yaml_files()
    assert len(files) >= 6
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        match = HEADER.match(first)
        assert match, f"{path.relative_to(ROOT)}: first line must be '# yaml-language-server: $schema=…'"
        target = (path.parent / match.group(1)).resolve()
        assert target == (SCHEMAS / expected_schema(path)).resolve(), f"{path.relative_to(ROOT)} points at {match.group(1)}"


def check_jsonschema(schema: str, files: list[pathlib.Path]) -> subprocess.CompletedProcess:
    exe = shutil.which("check-jsonschema")
    command = [exe] if exe else [sys.executable, "-m", "check_jsonschema"]
    return subprocess.run([*command, "--schemafile", str(SCHEMAS / schema), *map(str, files)],
                          capture_output=True, text=True, timeout=120)


def test_an_independent_validator_accepts_every_shipped_file():
    """check-jsonschema (ruamel.yaml + jsonschema) reads YAML dates as strings, as our schemas expect."""
    groups: dict[str, list[pathlib.Path]] = {}
    for path in yaml_files():
        groups.setdefault(expected_schema(path), []).append(path)
    assert set(groups) == {"policy.schema.json", "sources.schema.json", "policy-test.schema.json"}
    for schema, files in groups.items():
        result = check_jsonschema(schema, files)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_independent_validator_really_checks(tmp_path):
    source = (POLICIES / "henan" / "policy.yaml").read_text(encoding="utf-8")
    misspelled = tmp_path / "misspelled.yaml"
    misspelled.write_text(source.replace("    title: 临时外出就医备案有效期（月）", "    titel: 临时外出就医备案有效期（月）", 1), encoding="utf-8")
    bad_date = tmp_path / "bad-date.yaml"
    bad_date.write_text(source.replace("- from: 2025-01-01", "- from: 2025-13-01", 1), encoding="utf-8")
    for broken in (misspelled, bad_date):
        assert broken.read_text(encoding="utf-8") != source
        result = check_jsonschema("policy.schema.json", [broken])
        assert result.returncode == 1, broken.name


def hook_command(entry: str) -> list[str]:
    words = shlex.split(entry)
    if words[0] == "yidi" and shutil.which("yidi") is None:
        return [sys.executable, "-m", "yidi", *words[1:]]
    return words


def test_pre_commit_hooks_run_yidi_on_policy_changes(tmp_path):
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert set(hooks) == {"yidi-validate", "yidi-test"}
    for hook in hooks.values():
        pattern = re.compile(hook["files"])
        assert pattern.search("policies/henan/policy.yaml") and pattern.search("policies/henan/tests/amounts.yaml")
        assert pattern.search("policies/shandong/weifang/sources.yaml") and not pattern.search("docs/index.md")
        assert hook["language"] == "python" and hook["pass_filenames"] is False
    shutil.copytree(POLICIES, tmp_path / "policies")
    for hook in hooks.values():
        result = subprocess.run(hook_command(hook["entry"]), cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
    policy = tmp_path / "policies" / "henan" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("visit.psychiatric_certificate", "visit.psychiatric_certficate", 1), encoding="utf-8")
    result = subprocess.run(hook_command(hooks["yidi-validate"]["entry"]), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "psychiatric_certficate" in result.stderr


def git(cwd: pathlib.Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "yidi test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
           "GIT_COMMITTER_NAME": "yidi test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_ci_recipe_reports_a_rule_change(tmp_path):
    repo = tmp_path / "policy-repo"
    shutil.copytree(POLICIES, repo / "policies")
    git(repo, "init", "-q")
    git(repo, "add", "policies")
    git(repo, "commit", "-q", "-m", "policies as shipped")
    base = git(repo, "rev-parse", "HEAD").strip()
    # The change under review: psychiatric patients no longer get the emergency standard.
    policy = repo / "policies" / "henan" / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    start = text.index("  - id: henan.psychiatric-as-emergency")
    at = text.index("value: emergency", start)
    policy.write_text(text[:at] + "value: other_temporary" + text[at + len("value: emergency"):], encoding="utf-8")
    git(repo, "commit", "-q", "-am", "psychiatric: other temporary")

    env = {**os.environ, "YIDI_CI_CLAIMS": "1500", "YIDI_CI_SEED": "3"}
    if shutil.which("yidi") is None:
        env["YIDI"] = f"{sys.executable} -m yidi"
    result = subprocess.run(["bash", str(ROOT / "scripts" / "policy-ci.sh"), base, "report.md"], cwd=repo, env=env,
                            capture_output=True, text=True, timeout=600)
    report = (repo / "report.md").read_text(encoding="utf-8")
    assert result.returncode == 1, result.stderr          # Henan's psychiatric test cases now fail
    # The static checks see that the changed rule now disagrees with the newborn and emergency rules.
    assert "| yidi validate | **未通过** |" in report and "rule-conflict" in report
    assert "| yidi test | **未通过** |" in report and "精神类疾病" in report
    assert "## 政策变更影响报告" in report and "### 结论" in report
    assert "| 临时外出急诊待遇 | 其他临时外出待遇 |" in report      # the treatment moved, in words
    assert "henan.psychiatric-as-emergency" in report             # the rule shows in the sampled traces
    assert base[:7] in report
