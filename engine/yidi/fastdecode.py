"""The fast path for valid documents — JSON text or already-parsed JSON — to the flat form policies read.

Checking a claim with jsonschema and then normalising it costs about a
millisecond; a settlement platform sends millions, and nearly all are valid.
From the contract's field model (`yidi.contract`) this module builds, once
per document kind, msgspec Struct types and one small generated function:

  - `decode_fast(text)`: msgspec decodes the bytes straight into the Structs;
  - `convert_fast(raw)`: msgspec converts a parsed dict (`json.loads`) into
    the same Structs — so a service's natural `evaluate(json.loads(body))`
    is as fast as handing over the bytes.

Types, enums, required and unknown keys and patterns (the dates' year range
among them) are checked in C; the generated function checks the rest —
money exact, within its minimum and maximum, at most two places, -0 read as
0, a float read through its shortest repr (as the thorough path reads it);
dates a real calendar day; free text free of lone surrogates; the schema's
if/then and its declared relations between fields — and writes the flat
document (path → value, defaults filled, dates and exact Decimals).

It only ever *accepts*: anything it does not like — an unfamiliar schema
keyword, a backslash escape in the text, a repeated key, a value it cannot
vouch for — returns None, and the caller takes the thorough path
(`documents.normalize_document`), which explains every problem. Never looser
than the thorough path, and accepting what it should, are property tests
(tests/test_fastdecode.py).

Repeated keys (text only): msgspec keeps the last one silently, and "nothing
is lost" means refusing them. Without backslash escapes, a colon outside a
string always separates a key from its value, and the strings' own colons
are the same in the text and in the decoded values. msgspec writes the
decoded document back with exactly one key per field received (fields left
out decode as UNSET and are not written), so the text has as many colons as
that re-encoding unless a key was repeated.
"""

from __future__ import annotations

import datetime
import functools
import keyword
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from .contract import CLAIM, FILING_REQUEST, SCHEMA_FILES, Field, model
from .documents_messages import has_lone_surrogate
from .schema_regex import ecma_regex

Flat = dict[str, Any]


class _Unsupported(Exception):
    """The schema uses something this module does not check; that kind takes the thorough path only."""


class _Generator:
    """Builds the Struct types (for msgspec) and the flattening function (Python source) together."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self.counter = 0
        self.structs = 0

    def const(self, value: Any) -> str:
        name = f"K{len(self.constants)}"
        self.constants[name] = value
        return name

    def var(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    # -- types -----------------------------------------------------------
    def struct(self, obj: Field) -> type:
        """A Struct type for an object: required fields have no default, the rest default to UNSET."""
        if not obj.closed:
            raise _Unsupported("objects must forbid unknown keys")
        fields = []
        for f in obj.fields:
            if not f.name.isidentifier() or keyword.iskeyword(f.name) or f.name.startswith("_"):
                raise _Unsupported(f"property {f.name!r} cannot be a Struct field")  # the generated code reads `o.<name>`
            kind = self.field_type(f)
            fields.append((f.name, kind) if f.required else (f.name, kind | msgspec.UnsetType, msgspec.UNSET))
        self.structs += 1
        return msgspec.defstruct(f"Doc{self.structs}", fields, kw_only=True, forbid_unknown_fields=True)

    def field_type(self, f: Field) -> Any:
        if f.kind == "const":
            return Literal[f.const]  # type: ignore[valid-type]
        if f.kind == "object":
            base: Any = self.struct(f)
        elif f.kind == "array":
            base = list[self.struct(f)]  # type: ignore[misc]  # the items' fields
        elif f.enum is not None:
            if f.kind == "integer" and not all(type(e) is int for e in f.enum):
                raise _Unsupported("integer enum")
            base = Literal[f.enum]  # type: ignore[valid-type]
        elif f.kind == "string" and f.date and f.pattern is None:
            base = datetime.date  # msgspec accepts exactly YYYY-MM-DD of a real date, as `format: date` does
        elif f.kind == "string":  # a date with a pattern (the contract's year range) is text here; `leaf` reads the date
            constraints: dict[str, Any] = {}
            if f.min_length is not None:
                constraints["min_length"] = int(f.min_length)
            if f.pattern is not None:  # msgspec searches with Python's re: give it the schema's ECMA reading (ASCII \\d, final $)
                constraints["pattern"] = "(?a)" + ecma_regex(f.pattern).pattern
            base = Annotated[str, msgspec.Meta(**constraints)] if constraints else str
        elif f.kind == "boolean":
            base = bool
        elif f.kind == "number":
            base = Any  # exact: JSON numbers arrive as int or Decimal (float_hook), parsed JSON may hold floats; checked in `leaf`
        elif f.kind == "integer":
            base = int
        else:
            raise _Unsupported(f.kind)
        return base | None if f.nullable else base

    # -- the flattening function -------------------------------------------
    def obj(self, obj: Field, src: str, prefix: str, indent: int) -> dict[str, str]:
        """Read the Struct `src` into locals; return flat path → local holding its normalised value."""
        flat: dict[str, str] = {}
        values: dict[str, str] = {}
        for f in obj.fields:
            got = self.var()
            self.emit(indent, f"{got} = {src}.{f.name}")
            if f.kind == "number" and not f.nullable:  # typed Any for msgspec, so null got through
                self.emit(indent, f"if {got} is None: return None")
            if not f.required:
                default = f.default if f.has_default else None
                fallback = "None" if default is None else self.const(default)
                self.emit(indent, f"if {got} is UNSET: {got} = {fallback}")
            values[f.name] = got
            flat[prefix + f.name] = got
            flat.update(self.child(f, got, prefix + f.name, indent))
        for f in obj.fields:
            if f.default_from:
                self.emit(indent, f"if {values[f.name]} is None: {values[f.name]} = {values[f.default_from]}")
        for key, allowed, name in obj.required_when:
            self.emit(indent, f"if {values[key]} in {self.const(allowed)} and {values[name]} is None: return None")
        for relation in obj.relations:
            self.emit(indent, self.relation(relation, {path[len(prefix):]: var for path, var in flat.items()}))
        return flat

    def relation(self, r, local: dict[str, str]) -> str:
        """The yes/no of one declared relation (`contract.Relation`), as a line that declines a document breaking it."""
        tests = [f"{local[key]} in {self.const(values)}" for key, values in r.when]
        value, other = local[r.field], local.get(r.other) if r.other else None
        if r.test == "absent":
            tests.append(f"{value} is not None")
        elif r.test == "requires":
            tests += [f"{other} is not None", f"{other} not in {self.const(r.allowed)}"]
        else:
            op = "<" if r.test == "not_before" else ">"
            tests += [f"{value} is not None", f"{other} is not None", f"{value} {op} {other}"]
        return f"if {' and '.join(tests)}: return None"

    def child(self, f: Field, src: str, path: str, indent: int) -> dict[str, str]:
        """Check one property's value; return the flat paths (below `path`) it adds."""
        if f.kind == "object":
            outer, self.lines = self.lines, []
            flat = self.obj(f, src, path + ".", indent + 1)
            inner, self.lines = self.lines, outer
            if f.nullable or not f.required:  # an optional object left out reads as None too
                self.emit(indent, f"if {src} is None: {' = '.join(flat.values())} = None")
                self.emit(indent, "else:")
            else:
                inner = [line[4:] for line in inner]
            self.lines.extend(inner)
            return flat
        if f.kind == "array":
            if f.nullable or not f.has_default and not f.required:
                raise _Unsupported("a list that may be null")
            out, item = self.var(), self.var()
            self.emit(indent, f"{out} = []")
            self.emit(indent, f"for {item} in {src}:")
            fields = self.obj(f, item, "", indent + 1)
            self.emit(indent + 1, f"{out}.append({self.literal(fields)})")
            self.emit(indent, f"{src} = {out}")
            return {}
        self.leaf(f, src, indent)
        return {}

    @staticmethod
    def literal(flat: dict[str, str]) -> str:
        return "{" + ", ".join(f"{path!r}: {var}" for path, var in flat.items()) + "}"

    def leaf(self, f: Field, src: str, indent: int) -> None:
        """What msgspec leaves to us: money, bounded integers, dates matched against a pattern, free text."""
        if f.kind == "number":
            self.emit(indent, f"if {src} is not None:")
            self.emit(indent + 1, f"if type({src}) is float:  # parsed JSON: read as the thorough path reads it")
            self.emit(indent + 2, f"if not isfinite({src}): return None")
            self.emit(indent + 2, f"{src} = Decimal(repr({src}))")
            self.emit(indent + 1, f"elif type({src}) is Decimal:")
            self.emit(indent + 2, f"if not {src}.is_finite(): return None")
            self.emit(indent + 1, f"elif type({src}) is not int: return None")
            self.bounds_check(indent + 1, src, f)
            if f.decimals is not None:
                step = self.const(Decimal(1).scaleb(-f.decimals))
                self.emit(indent + 1, f"if type({src}) is Decimal:")
                self.emit(indent + 2, f"try: exact = {src} == {src}.quantize({step})")
                self.emit(indent + 2, "except ArithmeticError: return None  # too many digits to quantize: the thorough path judges")
                self.emit(indent + 2, "if not exact: return None")
            self.emit(indent + 1, f"{src} = Decimal({src})")
            self.emit(indent + 1, f"if not {src}: {src} = {src}.copy_abs()  # -0 is 0 (documents.exact_number)")
        elif f.kind == "integer" and (f.minimum is not None or f.maximum is not None):
            self.emit(indent, f"if {src} is not None:")
            self.bounds_check(indent + 1, src, f)
        elif f.kind == "string" and f.date and f.pattern is not None:
            self.emit(indent, f"if {src} is not None:")
            self.emit(indent + 1, f"try: {src} = date_from({src})")
            self.emit(indent + 1, "except ValueError: return None  # no such day (2025-02-30)")
        elif f.kind == "string" and f.enum is None and f.pattern is None:  # free text: a lone surrogate is not Unicode text
            self.emit(indent, f"if {src} is not None and not {src}.isascii() and has_lone_surrogate({src}): return None")

    def bounds_check(self, indent: int, src: str, f: Field) -> None:
        """Refuse a number outside the field's `minimum`/`maximum` (compared exactly, as Decimals)."""
        if f.minimum is not None:
            self.emit(indent, f"if {src} < {self.const(f.minimum)}: return None")
        if f.maximum is not None:
            self.emit(indent, f"if {src} > {self.const(f.maximum)}: return None")


@functools.lru_cache(maxsize=None)
def _compiled(kind: str) -> tuple[type, msgspec.json.Decoder, Callable[[Any], Flat | None]] | None:
    """Root Struct type, JSON decoder and flattening function for `kind`, or None if its schema is beyond this module."""
    fields = model(kind)
    if fields.unsupported:
        return None
    gen = _Generator()
    try:
        root = gen.struct(fields.root)
        gen.emit(0, "def flatten(o):")
        flat = gen.obj(fields.root, "o", "", 1)
        gen.emit(1, f"return {gen.literal(flat)}")
    except _Unsupported:
        return None
    namespace: dict[str, Any] = {"UNSET": msgspec.UNSET, "Decimal": Decimal, "ArithmeticError": ArithmeticError,
                                 "date_from": datetime.date.fromisoformat, "isfinite": math.isfinite,
                                 "has_lone_surrogate": has_lone_surrogate, **gen.constants}
    exec(compile("\n".join(gen.lines), f"<yidi:fastdecode:{kind}>", "exec"), namespace)  # noqa: S102 — generated from our schema
    return root, msgspec.json.Decoder(root, float_hook=Decimal), namespace["flatten"]


_ORDER = (CLAIM, FILING_REQUEST)


def decode_fast(text: bytes | str) -> Flat | None:
    """The flat, normalised document if JSON `text` is certainly a valid document, else None (use the thorough path)."""
    if isinstance(text, str):
        try:
            text = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not text; the thorough path says so
            return None
    if b"\\" in text:
        return None
    for kind in _ORDER:
        compiled = _compiled(kind)
        if compiled is None:
            continue
        _, decoder, flatten = compiled
        try:
            doc = decoder.decode(text)
        except msgspec.MsgspecError:
            continue
        except RecursionError:  # nested past the interpreter's limit inside a number field (typed Any)
            return None
        if _ENCODE(doc).count(b":") != text.count(b":"):
            return None  # a key was repeated (see the module's docstring)
        flat = flatten(doc)
        if flat is not None:
            flat["kind"] = kind
        return flat
    return None


def convert_fast(raw: Any) -> Flat | None:
    """The flat, normalised document if parsed JSON `raw` is certainly a valid document, else None (use the thorough path)."""
    if type(raw) is not dict:
        return None
    kind = raw.get("kind", CLAIM)
    if type(kind) is not str or kind not in SCHEMA_FILES:
        return None
    compiled = _compiled(kind)
    if compiled is None:
        return None
    root, _, flatten = compiled
    try:
        doc = msgspec.convert(raw, root, strict=True)
    except (msgspec.MsgspecError, UnicodeError, RecursionError):  # UnicodeError: msgspec naming a key with a lone surrogate
        return None
    flat = flatten(doc)
    if flat is not None:
        flat["kind"] = kind
    return flat


_ENCODE = msgspec.json.Encoder().encode
