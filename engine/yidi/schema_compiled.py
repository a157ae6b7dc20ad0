"""Answer "does this document satisfy the schema?" fast, without jsonschema.

jsonschema walks the schema afresh for every value, resolves every `$ref`
through its registry and checks the schema against the metaschema first;
with its import that costs about 190 ms for the shipped policy tree, more
than everything else in a cold load. Policy files are valid far more often
than not, so a schema is compiled once into nested closures that only
answer yes or no. A "no" sends the document to jsonschema
(`yidi.schema_check`), which finds and explains every error as before, so
no diagnostic changes: this module only decides when there is nothing to
explain.

Compiled keywords follow jsonschema's Draft 2020-12 semantics exactly
(bool is not a number, `enum`/`const` tell true from 1,
`additionalProperties` weighs `properties` and `patternProperties`), except
that every regular expression is read as ECMA-262 reads it
(`yidi.schema_regex`), as yidi's jsonschema validators do too. A schema using any other keyword, a non-local
`$ref`, or a keyword value the metaschema would refuse is not compiled:
`compiled_schema` returns None and jsonschema handles that schema
(including its metaschema check) exactly as before.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from .schema_regex import ecma_regex

Check = Callable[[Any], bool]
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

_CACHE: dict[Any, tuple[dict, Check | None]] = {}


def compiled_schema(schema: dict) -> Check | None:
    """The yes/no check for `schema` (one per `$id`), or None if it cannot be compiled."""
    key = schema.get("$id") or id(schema)
    cached = _CACHE.get(key)
    if cached is None or (not schema.get("$id") and cached[0] is not schema):
        try:
            check: Check | None = _Compiler(schema).root()
        except _NotCompiled:
            check = None
        cached = (schema, check)
        _CACHE[key] = cached
    return cached[1]


class _NotCompiled(Exception):
    """The schema uses something this module does not compile; jsonschema will."""


# --------------------------------------------------------------------------
# jsonschema's Draft 2020-12 type checker and equality, restated.


def _is_integer(x: Any) -> bool:
    return (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer())


_TYPES: dict[str, Check] = {
    "array": lambda x: isinstance(x, list),
    "boolean": lambda x: isinstance(x, bool),
    "integer": _is_integer,
    "null": lambda x: x is None,
    "number": lambda x: isinstance(x, numbers.Number) and not isinstance(x, bool),
    "object": lambda x: isinstance(x, dict),
    "string": lambda x: isinstance(x, str),
}
_is_number = _TYPES["number"]

_TRUE, _FALSE = object(), object()


def _unbool(x: Any) -> Any:
    return _TRUE if x is True else _FALSE if x is False else x


def _equal(one: Any, two: Any) -> bool:
    """jsonschema._utils.equal: JSON equality, where true is not 1."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(k in two and _equal(v, two[k]) for k, v in one.items())
    return _unbool(one) == _unbool(two)


def _unique(items: list) -> bool:
    """jsonschema._utils.uniq: sort when the items allow it, else compare pairwise."""
    try:
        ordered = sorted(_unbool(i) for i in items)
        return not any(_equal(a, b) for a, b in zip(ordered, ordered[1:]))
    except (NotImplementedError, TypeError):
        seen: list = []
        for item in items:
            item = _unbool(item)
            if any(_equal(s, item) for s in seen):
                return False
            seen.append(item)
        return True


# --------------------------------------------------------------------------
# The compiler.

_ANNOTATIONS = {"title": str, "description": str, "$comment": str, "format": str,
                "examples": list, "deprecated": bool, "readOnly": bool, "writeOnly": bool,
                # the editor's words (yidi.schema_editor): annotations for the YAML language server
                "errorMessage": str, "patternErrorMessage": str, "markdownDescription": str}
_KEYWORDS = {"$ref", "type", "enum", "const", "properties", "patternProperties", "additionalProperties", "required",
             "propertyNames", "items", "uniqueItems", "pattern", "allOf", "anyOf", "oneOf", "not", "if"}
_IGNORED = {"default", "then", "else", "$defs"}  # `then`/`else` are compiled with `if`, `$defs` through `$ref`
_BOUNDS = {"minimum": lambda x, b: x < b, "maximum": lambda x, b: x > b,
           "exclusiveMinimum": lambda x, b: x <= b, "exclusiveMaximum": lambda x, b: x >= b}


def _all(checks: list[Check]) -> Check:
    if not checks:
        return lambda x: True
    if len(checks) == 1:
        return checks[0]

    def every(x: Any) -> bool:
        for check in checks:
            if not check(x):
                return False
        return True

    return every


def _require(condition: bool) -> None:
    if not condition:
        raise _NotCompiled


def _regex(pattern: Any) -> re.Pattern:
    _require(isinstance(pattern, str))
    try:
        return ecma_regex(pattern)
    except re.error:
        raise _NotCompiled from None


class _Compiler:
    def __init__(self, root: dict):
        self.root_schema = root
        self.refs: dict[str, Check] = {}

    def root(self) -> Check:
        schema = self.root_schema
        _require(isinstance(schema, dict))
        _require(schema.get("$schema", DRAFT_2020_12) == DRAFT_2020_12)  # another dialect: jsonschema decides
        _require(isinstance(schema.get("$id", ""), str) and "#" not in schema.get("$id", "").rstrip("#"))
        return self.compile(schema)

    def ref(self, pointer: str) -> Check:
        """A local `$ref`, compiled once; the indirection allows recursive schemas."""
        if pointer not in self.refs:
            target: list[Check] = []
            self.refs[pointer] = lambda x: target[0](x)
            target.append(self.compile(self.resolve(pointer)))
        return self.refs[pointer]

    def resolve(self, pointer: str) -> Any:
        _require(pointer.startswith("#") and (pointer == "#" or pointer.startswith("#/")))
        node: Any = self.root_schema
        for part in unquote(pointer[2:]).split("/") if pointer != "#" else ():
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise _NotCompiled
        return node

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda x: True
        if schema is False:
            return lambda x: False
        _require(isinstance(schema, dict))
        checks: list[Check] = []
        for word, value in schema.items():
            _require(isinstance(word, str))
            if word.startswith("x-") or word in _IGNORED:
                continue
            if word in _ANNOTATIONS:
                _require(isinstance(value, _ANNOTATIONS[word]))
                continue
            if word in ("$schema", "$id"):
                _require(schema is self.root_schema)  # a nested $id would move the base of $refs
                continue
            if word in _SIZES:
                checks.append(self.size(word, value))
            elif word in _BOUNDS:
                checks.append(self.bound(word, value))
            else:
                _require(word in _KEYWORDS)
                checks.append(getattr(self, "k_" + word.lstrip("$"))(value, schema))
        if "$defs" in schema:
            _require(isinstance(schema["$defs"], dict))
            for sub in schema["$defs"].values():  # unused definitions must be well-formed too
                self.compile(sub)
        for word in ("then", "else"):
            if word in schema:
                self.compile(schema[word])  # well-formed even where `if` is missing
        return _all(checks)

    def subschemas(self, value: Any) -> list[Check]:
        _require(isinstance(value, list) and len(value) > 0)
        return [self.compile(sub) for sub in value]

    # One method per keyword: k_<keyword>(value, schema) -> Check.

    def k_ref(self, value: Any, schema: dict) -> Check:
        _require(isinstance(value, str))
        return self.ref(value)

    def k_type(self, value: Any, schema: dict) -> Check:
        names = [value] if isinstance(value, str) else value
        _require(isinstance(names, list) and len(names) > 0 and all(isinstance(n, str) and n in _TYPES for n in names))
        _require(len(set(names)) == len(names))
        if len(names) == 1:
            return _TYPES[names[0]]
        tests = [_TYPES[n] for n in names]
        return lambda x: any(test(x) for test in tests)

    def k_enum(self, value: Any, schema: dict) -> Check:
        _require(isinstance(value, list))
        if all(isinstance(v, str) for v in value):
            allowed = frozenset(value)
            return lambda x: isinstance(x, str) and x in allowed
        return lambda x: any(_equal(v, x) for v in value)

    def k_const(self, value: Any, schema: dict) -> Check:
        return lambda x: _equal(x, value)

    def k_properties(self, value: Any, schema: dict) -> Check:
        _require(isinstance(value, dict))
        props = [(name, self.compile(sub)) for name, sub in value.items()]

        def properties(x: Any) -> bool:
            if isinstance(x, dict):
                for name, check in props:
                    if name in x and not check(x[name]):
                        return False
            return True

        return properties

    def k_patternProperties(self, value: Any, schema: dict) -> Check:
        _require(isinstance(value, dict))
        pats = [(_regex(p), self.compile(sub)) for p, sub in value.items()]

        def pattern_properties(x: Any) -> bool:
            if isinstance(x, dict):
                for regex, check in pats:
                    for key, item in x.items():
                        if regex.search(key) and not check(item):
                            return False
            return True

        return pattern_properties

    def k_additionalProperties(self, value: Any, schema: dict) -> Check:
        known = schema.get("properties", {})
        joined = "|".join(schema.get("patternProperties", {}))
        patterns = _regex(joined) if joined else None
        check = self.compile(value)

        def additional_properties(x: Any) -> bool:
            if isinstance(x, dict):
                for key, item in x.items():
                    if key not in known and not (patterns and patterns.search(key)) and not check(item):
                        return False
            return True

        return additional_properties

    def k_required(self, value: Any, schema: dict) -> Check:
        _require(isinstance(value, list) and all(isinstance(n, str) for n in value) and len(set(value)) == len(value))
        return lambda x: not isinstance(x, dict) or all(name in x for name in value)

    def k_propertyNames(self, value: Any, schema: dict) -> Check:
        check = self.compile(value)
        return lambda x: not isinstance(x, dict) or all(check(key) for key in x)

    def k_items(self, value: Any, schema: dict) -> Check:
        check = self.compile(value)
        _require("prefixItems" not in schema)
        return lambda x: not isinstance(x, list) or all(check(item) for item in x)

    def k_uniqueItems(self, value: Any, schema: dict) -> Check:
        _require(isinstance(value, bool))
        return (lambda x: not isinstance(x, list) or _unique(x)) if value else (lambda x: True)

    def k_pattern(self, value: Any, schema: dict) -> Check:
        regex = _regex(value)
        return lambda x: not isinstance(x, str) or regex.search(x) is not None

    def k_allOf(self, value: Any, schema: dict) -> Check:
        return _all(self.subschemas(value))

    def k_anyOf(self, value: Any, schema: dict) -> Check:
        checks = self.subschemas(value)
        return lambda x: any(check(x) for check in checks)

    def k_oneOf(self, value: Any, schema: dict) -> Check:
        checks = self.subschemas(value)
        return lambda x: sum(1 for check in checks if check(x)) == 1

    def k_not(self, value: Any, schema: dict) -> Check:
        check = self.compile(value)
        return lambda x: not check(x)

    def k_if(self, value: Any, schema: dict) -> Check:
        condition = self.compile(value)
        then = self.compile(schema["then"]) if "then" in schema else None
        otherwise = self.compile(schema["else"]) if "else" in schema else None

        def if_then_else(x: Any) -> bool:
            branch = then if condition(x) else otherwise
            return branch is None or branch(x)

        return if_then_else

    def size(self, word: str, value: Any) -> Check:
        _require(_is_integer(value) and value >= 0)
        kind, too_few = _SIZES[word]
        if too_few:
            return lambda x: not isinstance(x, kind) or len(x) >= value
        return lambda x: not isinstance(x, kind) or len(x) <= value

    def bound(self, word: str, value: Any) -> Check:
        _require(_is_number(value))
        outside = _BOUNDS[word]
        return lambda x: not _is_number(x) or not outside(x, value)


# keyword → (instance type it applies to, True for a lower bound)
_SIZES = {"minLength": (str, True), "maxLength": (str, False), "minItems": (list, True),
          "maxItems": (list, False), "minProperties": (dict, True), "maxProperties": (dict, False)}
