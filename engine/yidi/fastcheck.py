"""A fast path for documents that are valid — the common case.

Checking a claim with jsonschema and then normalising it costs about a
millisecond; a settlement platform sends millions. This module generates,
from the same JSON Schemas, one straight-line Python function per document
kind that checks the document and returns it already flattened (path →
value, defaults filled, dates and exact Decimals) in a few microseconds.

It only ever *accepts*: at the first thing it does not like it returns None,
and the caller runs the thorough path (`documents.normalize_document`), which
finds and explains every problem. So the fast path can be stricter than the
schema but never looser; a schema keyword it does not understand disables it
for that kind rather than being ignored. Cross-field checks are the thorough
path's own relations, asked as one yes/no (`documents.relations_hold`).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from . import documents
from .documents import schema_types
from .documents_messages import has_lone_surrogate
from .schema_regex import ecma_regex

_UNDERSTOOD = {
    "$schema", "$id", "$defs", "$ref", "title", "description", "type", "properties", "required",
    "additionalProperties", "enum", "const", "pattern", "minLength", "minimum", "maximum", "format", "default",
    "items", "if", "then", "x-yidi-decimals", "x-yidi-default-from", "x-yidi-defaulted", "x-yidi-note-zh", "x-yidi-note-en",
}

Flat = dict[str, Any]
_MISSING = object()


class _Unsupported(Exception):
    """The schema uses something a generator here does not check; use the thorough path only."""


class SchemaCodeWriter:
    """What both fast paths' generators need: the schema (refs resolved, unknown keywords refused), named constants, fresh locals, lines."""

    def __init__(self, root: dict):
        self.root = root
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self.counter = 0

    def const(self, value: Any) -> str:
        name = f"K{len(self.constants)}"
        self.constants[name] = value
        return name

    def var(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    def resolve(self, node: dict) -> dict:
        node = documents.resolve_ref(self.root, node)
        unknown = set(node) - _UNDERSTOOD
        if unknown:
            raise _Unsupported(sorted(unknown))
        return node

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def bounds_check(self, indent: int, src: str, schema: dict) -> None:
        """Refuse a number outside the schema's `minimum`/`maximum` (compared exactly, as Decimals)."""
        if "minimum" in schema:
            self.emit(indent, f"if {src} < {self.const(Decimal(str(schema['minimum'])))}: return None")
        if "maximum" in schema:
            self.emit(indent, f"if {src} > {self.const(Decimal(str(schema['maximum'])))}: return None")

    def exact_number(self, indent: int, target: str, src: str) -> None:
        """`target = Decimal(src)`, negative zero read as zero (documents.exact_number)."""
        self.emit(indent, f"{target} = Decimal({src})")
        self.emit(indent, f"if not {target}: {target} = {target}.copy_abs()")

    def places_check(self, indent: int, src: str, places: int) -> None:
        """Refuse a Decimal `src` with more than `places` decimals (trailing zeros aside): it would change under quantize."""
        step = self.const(Decimal(1).scaleb(-places))
        self.emit(indent, f"if type({src}) is Decimal:")
        self.emit(indent + 1, f"try: exact = {src} == {src}.quantize({step})")
        self.emit(indent + 1, "except ArithmeticError: return None  # too many digits to quantize: the thorough path judges")
        self.emit(indent + 1, "if not exact: return None")

    def required_when(self, schema: dict) -> list[tuple[str, str, str]]:
        """(key, constant holding its values, the key then required and not null) for the schema's if/then.

        Only the form the contract uses: if <key> in [values] then <other key> required.
        """
        if "if" not in schema:
            return []
        condition, then = schema["if"], schema.get("then", {})
        (key,) = condition.get("required", [None])
        allowed = condition.get("properties", {}).get(key, {}).get("enum")
        if key is None or allowed is None or set(condition) - {"required", "properties"}:
            raise _Unsupported("if/then form")
        return [(key, self.const(tuple(allowed)), name) for name in then.get("required", [])]


class _Generator(SchemaCodeWriter):
    # -- values ----------------------------------------------------------
    def value(self, schema: dict, src: str, indent: int, optional: bool = False) -> str:
        """Emit checks of `src` against `schema`; return an expression for its normalised value.

        `optional`: the key may be absent (`src is MISSING`), which is not the same as null.
        """
        schema = self.resolve(schema)
        types = schema_types(schema)
        nullable = "null" in types or (None in schema.get("enum", ()))
        kinds = [t for t in types if t != "null"]
        if len(kinds) > 1:
            raise _Unsupported(kinds)
        kind = kinds[0] if kinds else None
        if kind is None and "const" in schema:
            self.emit(indent, f"if {src} != {self.const(schema['const'])}: return None")
            return src
        if kind is None and "enum" in schema and all(isinstance(e, str) for e in schema["enum"]):
            kind = "string"
        if kind in ("object", "array"):
            raise _Unsupported("nested structure must be handled by the caller")
        out = self.var()
        if optional or nullable:
            tests = [f"{src} is MISSING"] if optional else []
            tests += [f"{src} is None"] if nullable else []
            self.emit(indent, f"if {' or '.join(tests)}: {out} = None")
            self.emit(indent, "else:")
            indent += 1
        if kind == "string":
            self.emit(indent, f"if type({src}) is not str: return None")
            if "enum" in schema:
                self.emit(indent, f"if {src} not in {self.const(frozenset(e for e in schema['enum'] if e is not None))}: return None")
            if "minLength" in schema:
                self.emit(indent, f"if len({src}) < {int(schema['minLength'])}: return None")
            if "pattern" in schema:
                self.emit(indent, f"if not {self.const(ecma_regex(schema['pattern']))}.search({src}): return None")
            if "enum" not in schema:  # free text: a lone surrogate is not Unicode text (contract §4)
                self.emit(indent, f"if not {src}.isascii() and has_lone_surrogate({src}): return None")
            if schema.get("format") == "date":
                self.emit(indent, f"try: {out} = date_from({src})")
                self.emit(indent, "except ValueError: return None")
            else:
                self.emit(indent, f"{out} = {src}")
        elif kind in ("number", "integer"):
            allowed = "(int,)" if kind == "integer" else "(int, Decimal)"
            self.emit(indent, f"if type({src}) not in {allowed}: return None")
            if "enum" in schema:
                self.emit(indent, f"if {src} not in {self.const(frozenset(e for e in schema['enum'] if e is not None))}: return None")
            self.bounds_check(indent, src, schema)
            if "x-yidi-decimals" in schema:
                self.places_check(indent, src, int(schema["x-yidi-decimals"]))
            if kind == "integer":
                self.emit(indent, f"{out} = {src}")
            else:
                self.exact_number(indent, out, src)
        elif kind == "boolean":
            self.emit(indent, f"if type({src}) is not bool: return None")
            self.emit(indent, f"{out} = {src}")
        else:
            raise _Unsupported(f"type {kind!r}")
        return out

    def obj(self, schema: dict, src: str, prefix: str, indent: int, flat: str | None) -> dict[str, str]:
        """Check an object; write each property to the flat dict (or return name → expression for list items)."""
        schema = self.resolve(schema)
        if schema.get("additionalProperties") is not False:
            raise _Unsupported("objects must forbid unknown keys")
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        self.emit(indent, f"if type({src}) is not dict or not {src}.keys() <= {self.const(frozenset(properties))}: return None")
        self._conditionals(schema, src, indent)
        values: dict[str, str] = {}
        for name, sub in properties.items():
            path = f"{prefix}{name}"
            resolved = self.resolve(sub)
            got = self.var()
            if name in required:
                self.emit(indent, f"if {name!r} not in {src}: return None")
                self.emit(indent, f"{got} = {src}[{name!r}]")
                optional = False
            else:
                default = resolved.get("default")
                optional = default is None
                self.emit(indent, f"{got} = {src}.get({name!r}, {self.const(default) if default is not None else 'MISSING'})")
            values[name] = self.child(resolved, got, path, indent, flat, optional)
        for name, sub in properties.items():
            source = self.resolve(sub).get("x-yidi-default-from")
            if source:
                self.emit(indent, f"if {values[name]} is None: {values[name]} = {values[source]}")
                if flat:
                    self.emit(indent, f"{flat}[{prefix + name!r}] = {values[name]}")
        return values

    def child(self, schema: dict, src: str, path: str, indent: int, flat: str | None, optional: bool = False) -> str:
        types = schema_types(schema)
        if "object" in types:
            if flat is None:
                raise _Unsupported("objects inside list items")
            nullable = "null" in types
            if optional:
                self.emit(indent, f"if {src} is MISSING: {src} = None")
                nullable = True
            self.emit(indent, f"{flat}[{path!r}] = {src}")
            if nullable:
                self.emit(indent, f"if {src} is None:")
                for sub_path in self.leaf_paths(schema, path + "."):
                    self.emit(indent + 1, f"{flat}[{sub_path!r}] = None")
                self.emit(indent, "else:")
                self.obj(schema, src, path + ".", indent + 1, flat)
            else:
                self.obj(schema, src, path + ".", indent, flat)
            return src
        if "array" in types:
            if flat is None or types != ("array",) or optional:
                raise _Unsupported("arrays")
            items = self.resolve(schema.get("items", {}))
            out, item = self.var(), self.var()
            self.emit(indent, f"if type({src}) is not list: return None")
            self.emit(indent, f"{out} = []")
            self.emit(indent, f"for {item} in {src}:")
            fields = self.obj(items, item, "", indent + 1, None)
            self.emit(indent + 1, f"{out}.append({{{', '.join(f'{k!r}: {v}' for k, v in fields.items())}}})")
            self.emit(indent, f"{flat}[{path!r}] = {out}")
            return out
        value = self.value(schema, src, indent, optional)
        if flat is not None:
            self.emit(indent, f"{flat}[{path!r}] = {value}")
        return value

    def leaf_paths(self, schema: dict, prefix: str) -> list[str]:
        schema = self.resolve(schema)
        out = []
        for name, sub in schema.get("properties", {}).items():
            out.append(prefix + name)
            sub = self.resolve(sub)
            if "object" in schema_types(sub):
                out.extend(self.leaf_paths(sub, prefix + name + "."))
        return out

    def _conditionals(self, schema: dict, src: str, indent: int) -> None:
        for key, allowed, name in self.required_when(schema):
            self.emit(indent, f"if {src}.get({key!r}) in {allowed} and {src}.get({name!r}) is None: return None")


@functools.lru_cache(maxsize=None)
def checker(kind: str) -> Callable[[Any], Flat | None] | None:
    """The generated fast checker for `kind`, or None if the schema is beyond it."""
    schema = documents.contract_schema(kind)
    gen = _Generator(schema)
    try:
        gen.emit(0, "def check(o):")
        gen.emit(1, "f = {}")
        gen.obj(schema, "o", "", 1, "f")
        gen.emit(1, "return f")
    except _Unsupported:
        return None
    namespace: dict[str, Any] = {"MISSING": _MISSING, "Decimal": Decimal, "date_from": datetime.date.fromisoformat, "ArithmeticError": ArithmeticError,
                                 "has_lone_surrogate": has_lone_surrogate, **gen.constants}
    exec(compile("\n".join(gen.lines), f"<yidi:fastcheck:{kind}>", "exec"), namespace)  # noqa: S102 — generated from our schema
    return namespace["check"]


def check_fast(raw: Any) -> Flat | None:
    """The flat, normalised document if `raw` is certainly valid, else None (use the thorough path)."""
    if type(raw) is not dict:
        return None
    kind = raw.get("kind", documents.CLAIM)
    if type(kind) is not str or kind not in documents.SCHEMA_FILES:
        return None
    function = checker(kind)
    if function is None:
        return None
    flat = function(raw)
    if flat is None:
        return None
    flat["kind"] = kind
    return flat if documents.relations_hold(kind, flat) else None
