"""ajv in strict mode with yidi's schemas, the way docs/editors.md says (the script there, run as written).

ajv refuses unknown keywords in strict mode; the documented way declares
yidi's keywords as a vocabulary and adds the date format, keeping every other
strict check. The test runs the documentation's own script with ajv from npm.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from yidi.jsonout import dumps

from .conftest import EXAMPLES, POLICIES, ROOT
from .node_tools import node_modules

DOC = ROOT / "docs" / "editors.md"
STANDARD = {  # JSON Schema 2020-12 keywords the schemas use; anything else must be declared for ajv
    "$defs", "$id", "$ref", "$schema", "additionalProperties", "allOf", "anyOf", "const", "default", "description", "else",
    "enum", "format", "if", "items", "maximum", "minItems", "minLength", "minimum", "not", "oneOf", "pattern",
    "properties", "propertyNames", "required", "then", "title", "type", "uniqueItems", "maxLength", "maxItems",
    "exclusiveMinimum", "exclusiveMaximum", "patternProperties", "examples",
}


def documented_script() -> str:
    return re.search(r"```js\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)[1]


def keywords_in(node, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key in ("properties", "$defs", "patternProperties"):
                for sub in value.values():
                    keywords_in(sub, found)
            elif key not in ("enum", "const", "required", "examples", "default") and not key.startswith("x-"):
                keywords_in(value, found)   # an x- keyword's value is data (e.g. x-yidi-relations), not schema
    elif isinstance(node, list):
        for item in node:
            keywords_in(item, found)
    return found


@pytest.fixture(scope="module")
def check(tmp_path_factory):
    modules = node_modules()
    script = tmp_path_factory.mktemp("ajv") / "check.js"
    script.write_text(documented_script(), encoding="utf-8")

    def run(schema: str, document) -> subprocess.CompletedProcess:
        data = script.parent / f"doc-{abs(hash(json.dumps(document, default=str)))}.json"
        data.write_text(json.dumps(document, ensure_ascii=False, default=str), encoding="utf-8")
        return subprocess.run(["node", str(script), str(ROOT / "schemas" / schema), str(data)], capture_output=True, text=True,
                              timeout=120, env={"NODE_PATH": str(modules), "PATH": "/usr/local/bin:/usr/bin:/bin"})
    return run


def test_the_documented_vocabulary_is_every_keyword_beyond_json_schema():
    declared = set(re.findall(r'"([A-Za-z-]+)"', documented_script().split("YIDI_KEYWORDS = [", 1)[1].split("]", 1)[0]))
    used: set[str] = set()
    for path in (ROOT / "schemas").glob("*.schema.json"):
        keywords_in(json.loads(path.read_text(encoding="utf-8")), used)
    assert declared == used - STANDARD


def test_without_the_vocabulary_strict_ajv_refuses_the_schemas(check, tmp_path):
    """What the documentation fixes: plain strict mode stops at the first x- or editor keyword."""
    modules = node_modules()
    plain = tmp_path / "plain.js"
    plain.write_text('const Ajv2020 = require("ajv/dist/2020"); const fs = require("fs");\n'
                     'new Ajv2020().compile(JSON.parse(fs.readFileSync(process.argv[2], "utf8")));\n', encoding="utf-8")
    done = subprocess.run(["node", str(plain), str(ROOT / "schemas" / "policy.schema.json")], capture_output=True, text=True,
                          timeout=120, env={"NODE_PATH": str(modules), "PATH": "/usr/local/bin:/usr/bin:/bin"})
    assert done.returncode != 0 and "strict mode: unknown keyword" in done.stderr


@pytest.mark.parametrize(("schema", "document"), [
    ("policy.schema.json", POLICIES / "henan" / "policy.yaml"),
    ("sources.schema.json", POLICIES / "henan" / "sources.yaml"),
    ("policy-test.schema.json", POLICIES / "henan" / "tests" / "amounts.yaml"),
    ("claim.schema.json", EXAMPLES / "henan-referral.claim.json"),
    ("filing-request.schema.json", EXAMPLES / "henan-cancel-locked.filing.json"),
    ("decision.schema.json", EXAMPLES / "henan-referral.claim.json"),     # the decision the engine gives for it
])
def test_strict_ajv_with_the_documented_options_accepts_good_documents(check, engine, schema, document):
    data = yaml.safe_load(document.read_text(encoding="utf-8")) if document.suffix == ".yaml" else json.loads(document.read_text(encoding="utf-8"))
    if schema == "decision.schema.json":
        data = json.loads(dumps(engine.evaluate(data)))
    done = check(schema, data)
    assert done.returncode == 0, done.stdout + done.stderr


def test_strict_ajv_with_the_documented_options_still_finds_mistakes(check):
    policy = yaml.safe_load((POLICIES / "henan" / "policy.yaml").read_text(encoding="utf-8"))
    policy["region"] = 410000
    policy["rules"][0]["sourse"] = policy["rules"][0].pop("source")
    done = check("policy.schema.json", policy)
    assert done.returncode == 1 and "/region: must be string" in done.stdout and "must NOT have additional properties" in done.stdout
