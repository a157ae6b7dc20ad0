"""The compiled schema check (yidi.schema_compiled) accepts exactly what jsonschema accepts.

check_against_schema trusts a "yes" from the compiled check and asks
jsonschema only on "no", so a wrong "yes" would hide a diagnostic. These
tests compare the two verdicts on every shipped file and on many mutations
of real policy content, and check that schemas the compiler does not fully
understand are left to jsonschema.
"""

from __future__ import annotations

import json
import pathlib
import random
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator

from yidi.schema_compiled import compiled_schema
from yidi.schema_regex import ecma_regex, ecma_validator_class
from yidi.source import load_yaml_file

from .conftest import POLICIES

SCHEMAS = pathlib.Path(__file__).resolve().parent.parent / "schemas"


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


POLICY = schema("policy.schema.json")
FILES = [(path, "policy-test.schema.json" if "tests" in path.parts else path.name.replace(".yaml", ".schema.json"))
         for path in sorted(POLICIES.rglob("*.yaml"))]


def jsonschema_accepts(schema_: dict, value) -> bool:
    return not any(True for _ in ecma_validator_class()(schema_).iter_errors(value))


@pytest.mark.parametrize("name", ["policy.schema.json", "sources.schema.json", "policy-test.schema.json"])
def test_policy_file_schemas_compile_and_satisfy_the_metaschema(name):
    """A valid file never reaches jsonschema at load time, so the metaschema check happens here."""
    Draft202012Validator.check_schema(schema(name))
    assert compiled_schema(schema(name)) is not None


@pytest.mark.parametrize(("path", "name"), FILES, ids=[str(p.relative_to(POLICIES)) for p, _ in FILES])
def test_shipped_files_get_the_same_verdict(path, name):
    value = load_yaml_file(path).data
    assert compiled_schema(schema(name))(value) is jsonschema_accepts(schema(name), value)


# --------------------------------------------------------------------------
# Mutations of real content, checked against the subschema they belong to.

REPLACEMENTS = [None, True, False, 0, 1, 2, -1, Decimal("0.5"), Decimal("1.0"), Decimal("-0.5"), "", "x", "*",
                "2025-01-01", "2025-13-01", "2025-01-01\n", "national", "national\n", "henan.x", "employee", "inpatient", "number", "string",
                "bool", "date", "date?", "list<string>", "list<number>", "claim", [], ["x"], ["x", "x"], [1],
                [Decimal("1.5")], {}, {"x": 1}, {"document": "d", "clause": "1"}]


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def edited(value, path, change):
    """A copy of `value` with `change(container, last)` applied at `path`."""
    if not path:
        return change(None, None)
    copy = _deep_copy(value)
    container = copy
    for part in path[:-1]:
        container = container[part]
    change(container, path[-1])
    return copy


def _deep_copy(value):
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def mutants(value):
    for path in paths(value):
        for replacement in REPLACEMENTS:
            if path:
                yield edited(value, path, lambda c, k, r=replacement: c.__setitem__(k, _deep_copy(r)))
            else:
                yield _deep_copy(replacement)
        if path:
            yield edited(value, path, lambda c, k: c.pop(k) if isinstance(c, dict) else c.__delitem__(k))
        target = value
        for part in path:
            target = target[part]
        if isinstance(target, dict):
            for key in ("nmae", "source", "note", "until", "level", "illustrative", "interpretation", "extends"):
                if key not in target:
                    for extra in (None, True, "x", Decimal("2")):
                        yield edited(value, (*path, key), lambda c, k, e=extra: c.__setitem__(k, e))
        if isinstance(target, list) and target:
            yield edited(value, path + (len(target),), lambda c, k: c.append(_deep_copy(c[0])))


def items_by_definition() -> dict[str, list]:
    """A few real items of each $defs kind, from all shipped policies."""
    found: dict[str, list] = {"document": [], "parameter": [], "variable": [], "rule": [], "benefit": []}
    for path in sorted(POLICIES.rglob("policy.yaml")):
        data = load_yaml_file(path).data
        found["document"] += data.get("documents", [])
        found["parameter"] += list((data.get("parameters") or {}).values())
        found["variable"] += list((data.get("variables") or {}).values())
        found["rule"] += data.get("rules") or []
        found["benefit"] += data.get("benefits") or []
    rng = random.Random(20250601)
    return {kind: rng.sample(items, min(6, len(items))) for kind, items in found.items()}


SAMPLES = [(kind, i, item) for kind, items in items_by_definition().items() for i, item in enumerate(items)]


@pytest.mark.parametrize(("kind", "index", "item"), SAMPLES, ids=[f"{k}-{i}" for k, i, _ in SAMPLES])
def test_mutated_items_get_the_same_verdict(kind, index, item):
    sub = {"$defs": POLICY["$defs"], "$ref": f"#/$defs/{kind}"}
    compiled, reference = compiled_schema(sub), ecma_validator_class()(sub)
    count = 0
    for mutant in mutants(item):
        expected = not any(True for _ in reference.iter_errors(mutant))
        assert compiled(mutant) is expected, mutant
        count += 1
    assert count > 50


def test_mutated_top_level_gets_the_same_verdict():
    data = load_yaml_file(POLICIES / "shandong" / "weifang" / "policy.yaml").data
    top = {key: value for key, value in data.items() if key not in ("rules", "parameters", "benefits", "variables")}
    compiled, reference = compiled_schema(POLICY), ecma_validator_class()(POLICY)
    for mutant in mutants(top):
        assert compiled(mutant) is (not any(True for _ in reference.iter_errors(mutant))), mutant


# --------------------------------------------------------------------------
# Schemas left to jsonschema.


@pytest.mark.parametrize("odd", [
    {"unevaluatedProperties": False},                       # a keyword not compiled
    {"$ref": "other.json#/x"},                              # not a local reference
    {"properties": {"a": {"$id": "urn:nested"}}},           # a nested $id moves the base URI
    {"type": "text"},                                       # refused by the metaschema
    {"type": []},
    {"required": "a"},
    {"pattern": "("},
    {"minLength": -1},
    {"minimum": "0"},
    {"title": 5},
    {"items": [{"type": "string"}]},                        # the draft-7 form of items
    {"allOf": []},
    {"$defs": {"unused": {"type": "nonsense"}}},            # unused definitions are checked too
    {"if": {"type": "string"}, "then": {"type": 7}},
    {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"},   # another dialect
])
def test_schemas_the_compiler_does_not_understand_go_to_jsonschema(odd):
    assert compiled_schema(odd) is None


@pytest.mark.parametrize(("sub", "value"), [
    ({"enum": [1, 2]}, True),                       # true is not 1
    ({"const": 0}, False),
    ({"type": "number"}, True),
    ({"type": "integer"}, 1.0),
    ({"type": "integer"}, Decimal("1")),
    ({"uniqueItems": True}, [1, True]),
    ({"uniqueItems": True}, [{"a": 1}, {"a": 1}]),
    ({"uniqueItems": True}, [[1], [True]]),
    ({"patternProperties": {"^a": {"type": "string"}}, "additionalProperties": False}, {"ab": 1}),
    ({"patternProperties": {"^a": {"type": "string"}}, "additionalProperties": False}, {"b": "x"}),
    ({"oneOf": [{"type": "string"}, {"minLength": 1}]}, "x"),
    ({"not": {}}, None),
    ({"if": {"const": 1}, "else": {"type": "string"}}, 2),
    ({"minimum": 0, "maximum": 1}, Decimal("1.0000001")),
    ({"exclusiveMinimum": 0}, 0),
    ({"maxProperties": 1, "minItems": 2}, {"a": 1, "b": 2}),
    ({"pattern": "^a$"}, "a\n"),                    # ECMA-262: `$` is the end, not "before a final line break"
    ({"pattern": "^[$]\\$$"}, "$$"),                 # a `$` in a class or escaped is a character
    ({"pattern": "^\\d$"}, "\u0664"),              # ASCII digits only
    ({"patternProperties": {"^a$": {"type": "string"}}, "additionalProperties": False}, {"a\n": "x"}),
])
def test_edge_cases_match_jsonschema(sub, value):
    assert compiled_schema(sub)(value) is jsonschema_accepts(sub, value)


@pytest.mark.parametrize(("pattern", "text", "matches"), [
    ("^[a-z]+$", "henan", True), ("^[a-z]+$", "henan\n", False), ("^a$|^b$", "a\n", False),
    ("^[$]$", "$", True), ("^\\$$", "$", True), ("^x\\\\$", "x\\", True),
])
def test_schema_patterns_are_read_as_ecma_262(pattern, text, matches):
    """`$` in a JSON Schema pattern ends the text (python-jsonschema's re.search would accept "henan\\n")."""
    assert bool(ecma_regex(pattern).search(text)) is matches
