"""An officer's editor, for real: the YAML language server from npm (what VS Code's "YAML" extension runs).

A policy file is opened the way an editor opens it — its first line names the
schema (`# yaml-language-server: $schema=…`) — and the server's diagnostics
and hover text must be the schemas' Chinese (errorMessage, patternErrorMessage,
markdownDescription, derived by yidi.schema_editor), not "Incorrect type.
Expected "string"".
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from yidi.schema_editor import FILES, render, with_editor_messages

from .conftest import POLICIES, ROOT
from .node_tools import LanguageServer, node_modules

CITY = """\
# yaml-language-server: $schema=../../../schemas/policy.schema.json
id: luoyang
region: 410300
name: 洛阳市
extends: henan
documents:
  - id: 洛医保〔2026〕1号
    title: 洛阳市异地就医直接结算实施细则
    issuer: 洛阳市医疗保障局
    issued: "2025-12-01"
parameters:
  reduction.referral:
    title: 异地转诊人员支付比例降低（百分点）
    type: numbr
    values:
      - from: 2026-01-01
        value: 5
        source: {document: 洛医保〔2026〕1号, clause: 二}
rules:
  - id: luoyang.example
    title: 示例规则
    sets: treatment
    value: emergency
    sourse: {document: 洛医保〔2026〕1号, clause: 二}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    modules = node_modules()
    root = tmp_path_factory.mktemp("editor") / "repo"
    shutil.copytree(POLICIES, root / "policies", ignore=shutil.ignore_patterns("tests"))
    shutil.copytree(ROOT / "schemas", root / "schemas")
    program = modules / "yaml-language-server" / "bin" / "yaml-language-server"
    settings = {"yaml": {"validate": True, "hover": True, "completion": True, "schemaStore": {"enable": False}}}
    ls = LanguageServer(["node", str(program), "--stdio"], root, settings)
    yield ls, root
    ls.close()


def _open(server, text: str) -> tuple[list[dict], str]:
    ls, root = server
    path = root / "policies" / "henan" / "luoyang" / "policy.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return ls.diagnostics(path.as_uri(), text), path.as_uri()


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines()) if needle in line)


def test_the_commonest_mistakes_get_chinese_messages_in_the_editor(server):
    diagnostics, _ = _open(server, CITY)
    by_line = {d["range"]["start"]["line"]: d["message"] for d in diagnostics}
    region = by_line.get(_line(CITY, "region: 410300"), "")
    assert "「医保区划代码」应为文字" in region and "410000" in region, diagnostics        # a region code without quotes
    assert "「类型」只能是" in by_line.get(_line(CITY, "type: numbr"), ""), diagnostics      # a misspelt type
    unknown = by_line.get(_line(CITY, "sourse:"), "")
    assert "「规则」可以写的键" in unknown and "source" in unknown, diagnostics              # a misspelt key
    english = [d["message"] for d in diagnostics if re.search(r"Incorrect type|not allowed|Missing property|Value is not accepted",
                                                              d["message"])]
    assert english == []


def test_hover_explains_a_key_in_chinese(server):
    ls, _ = server
    _, uri = _open(server, CITY.replace("region: 410300", 'region: "410300"'))
    hover = ls.request("textDocument/hover", {"textDocument": {"uri": uri},
                                              "position": {"line": _line(CITY, "region:"), "character": 2}})
    contents = hover["contents"]
    text = contents["value"] if isinstance(contents, dict) else json.dumps(contents, ensure_ascii=False)
    assert "医保区划代码" in text and "加引号" in text


def test_the_schemas_carry_the_editor_words_derived_from_their_chinese():
    """One source for the words: errorMessage & co. are derived from title, description, x-pattern-zh, x-message-zh."""
    for name in FILES:
        text = (ROOT / "schemas" / name).read_text(encoding="utf-8")
        assert text == render(with_editor_messages(json.loads(text))), f"{name}: run python -m yidi.schema_editor"
    policy = json.loads((ROOT / "schemas" / "policy.schema.json").read_text(encoding="utf-8"))
    assert policy["properties"]["region"]["patternErrorMessage"] == policy["properties"]["region"]["x-pattern-zh"]
