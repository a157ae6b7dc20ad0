"""JSON text → flat, checked document in one C pass — the batch fast path.

`fastcheck` starts from parsed JSON; parsing with duplicate-key detection
and exact decimals (the standard library with hooks) costs more than the
check itself. Here msgspec decodes the bytes straight into typed Structs
generated from the same JSON Schemas — types, enums, required and unknown
keys, patterns (the dates' year range among them) are checked in C — and a
small generated function checks the rest (money: exact, within its minimum
and maximum, at most two places, -0 read as 0; dates: a real calendar day;
the schema's if/then) and writes the flat document the compiled policies read.

Like `fastcheck`, it only ever *accepts*: anything it does not like — an
unfamiliar schema keyword, a backslash escape, a repeated key, a value it
cannot vouch for — returns None and the caller takes the thorough path,
which explains every problem. Never looser than the thorough path is a
property test (tests/test_fastdecode.py).

Repeated keys: msgspec keeps the last one silently, and "nothing is lost"
means refusing them. Without backslash escapes, a colon outside a string
always separates a key from its value, and the strings' own colons are the
same in the text and in the decoded values. msgspec writes the decoded
document back with exactly one key per field received (fields left out
decode as UNSET and are not written), so the text has as many colons as
that re-encoding unless a key was repeated.
"""

from __future__ import annotations

import datetime
import functools
import keyword
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from . import documents
from .documents import schema_types
from .schema_regex import ecma_regex
from .fastcheck import Flat, SchemaCodeWriter, _Unsupported


class _Generator(SchemaCodeWriter):
    """Builds the Struct types (for msgspec) and the flattening function (Python source) together."""

    def __init__(self, root: dict):
        super().__init__(root)
        self.structs = 0

    # -- types -----------------------------------------------------------
    def struct(self, schema: dict) -> type:
        """A Struct type for an object schema: required fields have no default, the rest default to UNSET."""
        schema = self.resolve(schema)
        if schema.get("additionalProperties") is not False or "object" not in schema_types(schema):
            raise _Unsupported("objects must forbid unknown keys")
        required = set(schema.get("required", ()))
        fields = []
        for name, sub in schema.get("properties", {}).items():
            if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
                raise _Unsupported(f"property {name!r} cannot be a Struct field")  # the generated code reads `o.<name>`
            kind = self.field_type(self.resolve(sub))
            fields.append((name, kind) if name in required else (name, kind | msgspec.UnsetType, msgspec.UNSET))
        self.structs += 1
        return msgspec.defstruct(f"Doc{self.structs}", fields, kw_only=True, forbid_unknown_fields=True)

    def field_type(self, schema: dict) -> Any:
        types = schema_types(schema)
        nullable = "null" in types or None in schema.get("enum", ())
        kinds = [t for t in types if t != "null"]
        if "const" in schema and not types:
            return Literal[schema["const"]]  # type: ignore[valid-type]
        if not kinds and "enum" in schema and all(isinstance(e, str) for e in schema["enum"]):
            kinds = ["string"]
        if len(kinds) != 1:
            raise _Unsupported(kinds)
        kind = kinds[0]
        if kind == "object":
            base: Any = self.struct(schema)
        elif kind == "array":
            base = list[self.struct(schema.get("items", {}))]  # type: ignore[misc]
        elif "enum" in schema:
            values = tuple(e for e in schema["enum"] if e is not None)
            if kind == "integer" and not all(type(e) is int for e in values):
                raise _Unsupported("integer enum")
            base = Literal[values]  # type: ignore[valid-type]
        elif kind == "string" and schema.get("format") == "date" and "pattern" not in schema:
            base = datetime.date  # msgspec accepts exactly YYYY-MM-DD of a real date, as `format: date` does
        elif kind == "string":  # a date with a pattern (the contract's year range) is text here; `leaf` reads the date
            constraints = {}
            if "minLength" in schema:
                constraints["min_length"] = int(schema["minLength"])
            if "pattern" in schema:  # msgspec searches with Python's re: give it the schema's ECMA reading (ASCII \\d, final $)
                constraints["pattern"] = "(?a)" + ecma_regex(schema["pattern"]).pattern
            base = Annotated[str, msgspec.Meta(**constraints)] if constraints else str
        elif kind == "boolean":
            base = bool
        elif kind == "number":
            base = Any  # exact: JSON numbers arrive as int or Decimal (float_hook); anything else is refused below
        elif kind == "integer":
            base = int
        else:
            raise _Unsupported(kind)
        return base | None if nullable else base

    # -- the flattening function -------------------------------------------
    def obj(self, schema: dict, src: str, prefix: str, indent: int) -> dict[str, str]:
        """Read the Struct `src` into locals; return flat path → local holding its normalised value."""
        schema = self.resolve(schema)
        required = set(schema.get("required", ()))
        properties = schema.get("properties", {})
        flat: dict[str, str] = {}
        values: dict[str, str] = {}
        for name, sub in properties.items():
            sub = self.resolve(sub)
            got = self.var()
            self.emit(indent, f"{got} = {src}.{name}")
            if "number" in schema_types(sub) and "null" not in schema_types(sub):  # typed Any for msgspec, so null got through
                self.emit(indent, f"if {got} is None: return None")
            if name not in required:
                default = sub.get("default")
                fallback = "None" if default is None else self.const(default)
                self.emit(indent, f"if {got} is UNSET: {got} = {fallback}")
            values[name] = got
            flat[prefix + name] = got
            flat.update(self.child(sub, got, prefix + name, indent, optional=name not in required))
        for name, sub in properties.items():
            source = self.resolve(sub).get("x-yidi-default-from")
            if source:
                self.emit(indent, f"if {values[name]} is None: {values[name]} = {values[source]}")
        self._conditionals(schema, values, indent)
        return flat

    def child(self, schema: dict, src: str, path: str, indent: int, optional: bool) -> dict[str, str]:
        """Check one property's value; return the flat paths (below `path`) it adds."""
        types = schema_types(schema)
        if "object" in types:
            outer, self.lines = self.lines, []
            flat = self.obj(schema, src, path + ".", indent + 1)
            inner, self.lines = self.lines, outer
            if "null" in types or optional:  # an optional object left out reads as None too
                self.emit(indent, f"if {src} is None: {' = '.join(flat.values())} = None")
                self.emit(indent, "else:")
            else:
                inner = [line[4:] for line in inner]
            self.lines.extend(inner)
            return flat
        if "array" in types:
            out, item = self.var(), self.var()
            self.emit(indent, f"{out} = []")
            self.emit(indent, f"for {item} in {src}:")
            fields = self.obj(self.resolve(schema.get("items", {})), item, "", indent + 1)
            self.emit(indent + 1, f"{out}.append({self.literal(fields)})")
            self.emit(indent, f"{src} = {out}")
            return {}
        self.leaf(schema, src, indent)
        return {}

    @staticmethod
    def literal(flat: dict[str, str]) -> str:
        return "{" + ", ".join(f"{path!r}: {var}" for path, var in flat.items()) + "}"

    def leaf(self, schema: dict, src: str, indent: int) -> None:
        """What msgspec leaves to us: money, and dates whose text msgspec matched against the schema's pattern."""
        kind = ([t for t in schema_types(schema) if t != "null"] or ["string"])[0]
        if kind == "number":
            self.emit(indent, f"if {src} is not None:")
            self.emit(indent + 1, f"if type({src}) is not Decimal and type({src}) is not int: return None")
            self.bounds_check(indent + 1, src, schema)
            if "x-yidi-decimals" in schema:
                self.places_check(indent + 1, src, int(schema["x-yidi-decimals"]))
            self.exact_number(indent + 1, src, src)
        elif kind == "integer" and ("minimum" in schema or "maximum" in schema):
            self.emit(indent, f"if {src} is not None:")
            self.bounds_check(indent + 1, src, schema)
        elif kind == "string" and schema.get("format") == "date" and "pattern" in schema:
            self.emit(indent, f"if {src} is not None:")
            self.emit(indent + 1, f"try: {src} = date_from({src})")
            self.emit(indent + 1, "except ValueError: return None  # no such day (2025-02-30)")

    def _conditionals(self, schema: dict, values: dict[str, str], indent: int) -> None:
        for key, allowed, name in self.required_when(schema):
            self.emit(indent, f"if {values[key]} in {allowed} and {values[name]} is None: return None")


@functools.lru_cache(maxsize=None)
def _decoder(kind: str) -> tuple[msgspec.json.Decoder, Callable[[Any], Flat | None]] | None:
    """msgspec decoder and flattening function for `kind`, or None if its schema is beyond this module."""
    schema = documents.contract_schema(kind)
    gen = _Generator(schema)
    try:
        root = gen.struct(schema)
        gen.emit(0, "def flatten(o):")
        flat = gen.obj(schema, "o", "", 1)
        gen.emit(1, f"return {gen.literal(flat)}")
    except _Unsupported:
        return None
    namespace: dict[str, Any] = {"UNSET": msgspec.UNSET, "Decimal": Decimal, "ArithmeticError": ArithmeticError,
                                 "date_from": datetime.date.fromisoformat, **gen.constants}
    exec(compile("\n".join(gen.lines), f"<yidi:fastdecode:{kind}>", "exec"), namespace)  # noqa: S102 — generated from our schema
    return msgspec.json.Decoder(root, float_hook=Decimal), namespace["flatten"]


_ORDER = (documents.CLAIM, documents.FILING_REQUEST)


def decode_fast(text: bytes | str) -> Flat | None:
    """The flat, normalised document if `text` is certainly a valid document, else None (use the thorough path)."""
    if isinstance(text, str):
        try:
            text = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not text; the thorough path says so
            return None
    if b"\\" in text:
        return None
    for kind in _ORDER:
        pair = _decoder(kind)
        if pair is None:
            continue
        decoder, flatten = pair
        try:
            doc = decoder.decode(text)
        except msgspec.MsgspecError:
            continue
        except RecursionError:  # nested past the interpreter's limit inside a number field (typed Any)
            return None
        if _ENCODE(doc).count(b":") != text.count(b":"):
            return None  # a key was repeated (see the module's docstring)
        flat = flatten(doc)
        if flat is None:
            return None
        flat["kind"] = kind
        return flat if documents.relations_hold(kind, flat) else None
    return None


_ENCODE = msgspec.json.Encoder().encode
