"""The contract's input documents as one field model, read once from the JSON Schemas.

`schemas/claim.schema.json` and `schemas/filing-request.schema.json` are the
single statement of what a claim and a filing request hold. Everything else
that needs to know a field derives from the model built here, never from a
reading of its own:

  - the expression language's input types (`policy.decision_model.input_types`);
  - the fast path that decodes bytes or converts parsed JSON (`fastdecode`);
  - the explaining path's calendar, decimal and relation checks, its
    normalisation and its field names in messages (`documents`);
  - the flattened form compiled policies read (`Model.paths`).

The explaining path still hands the schema itself to jsonschema: that is
the reference the fast path is property-tested against.

Relations between fields (a discharge not before its admission, …) are
declared in the schemas too, under `x-yidi-relations` on the object whose
fields they relate; `relation_problems` explains them and
`fastdecode` writes the same declarations out as its yes/no test.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .resources import schema_file

CLAIM, FILING_REQUEST = "claim", "filing_request"
SCHEMA_FILES = {CLAIM: "claim.schema.json", FILING_REQUEST: "filing-request.schema.json"}

NO_DEFAULT: Any = type("NoDefault", (), {"__repr__": lambda self: "NO_DEFAULT"})()

# Keywords the model (and so the fast path) reads; a schema using any other makes its kind thorough-path only.
UNDERSTOOD = frozenset({
    "$schema", "$id", "$defs", "$ref", "title", "description", "type", "properties", "required",
    "additionalProperties", "enum", "const", "pattern", "minLength", "minimum", "maximum", "format", "default",
    "items", "if", "then", "x-yidi-decimals", "x-yidi-default-from", "x-yidi-defaulted", "x-yidi-note-zh", "x-yidi-note-en",
    "x-yidi-relations",
})

_TESTS = ("not_before", "not_after", "not_above", "requires", "absent")


@dataclass(frozen=True)
class Relation:
    """One relation between fields of an object, as declared under `x-yidi-relations`.

    `field` is where a problem is reported; `when` ({field: [values]}) limits it
    to documents where those fields hold one of the values; the test is one of
    `not_before`/`not_after`/`not_above` (another field: dates or amounts
    compared), `requires` ({field: [values]}) or `absent` (the field must be
    null). All names are relative to the object that declares the relation.
    `message` is a (zh, en) pair of templates, else the test's usual words.
    """

    field: str
    test: str
    other: str | None = None
    allowed: tuple = ()
    when: tuple[tuple[str, tuple], ...] = ()
    message: tuple[str, str] | None = None


@dataclass(frozen=True)
class Field:
    """One property of a document (or of a list item), with everything the engine reads about it."""

    name: str
    path: tuple[str, ...]            # from the document's root; for a list item's fields, from the item
    kind: str                        # object | array | string | number | integer | boolean | const
    nullable: bool = False
    required: bool = False
    default: Any = NO_DEFAULT
    default_from: str | None = None  # x-yidi-default-from: a sibling whose value fills a null
    defaulted: bool = False          # x-yidi-defaulted: never null once normalised
    enum: tuple | None = None        # without null
    const: Any = NO_DEFAULT
    pattern: str | None = None
    min_length: int | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    decimals: int | None = None      # x-yidi-decimals
    date: bool = False               # format: date
    title: str | None = None
    fields: tuple[Field, ...] = ()   # an object's properties, or the properties of an array's items
    closed: bool = False             # additionalProperties: false (of the object or the items)
    relations: tuple[Relation, ...] = ()
    required_when: tuple[tuple[str, tuple, str], ...] = ()  # (key, values, then-required key): the schema's if/then

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT

    def child(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True)
class Model:
    """A document kind: its root object, and the schema keywords the model does not understand."""

    kind: str
    root: Field
    unsupported: frozenset[str]

    def walk(self) -> Iterator[Field]:
        """Every field below the root that a flattened document carries (not those inside list items), in schema order."""
        stack = list(reversed(self.root.fields))
        while stack:
            f = stack.pop()
            yield f
            if f.kind == "object":
                stack.extend(reversed(f.fields))

    @functools.cached_property
    def paths(self) -> tuple[str, ...]:
        """The dotted paths of a flattened document, in schema order (`kind` aside)."""
        return tuple(f.dotted for f in self.walk() if f.dotted != "kind")

    def field(self, path: tuple[str | int, ...]) -> Field | None:
        """The field at a JSON path (list indices step into the items)."""
        node: Field | None = self.root
        for part in path:
            if node is None:
                return None
            if isinstance(part, int):
                if node.kind != "array":
                    return None
                continue
            node = node.child(part)
        return node


@functools.cache
def contract_schema(kind: str) -> dict:
    """The contract's JSON Schema for a document kind, read once (callers must not change it).

    Its numbers are read as exact Decimals, like the documents it checks:
    `maximum: 99999999.99` as a float is 99999999.98999999…, which would
    refuse the largest amount the contract allows.
    """
    return json.loads(schema_file(SCHEMA_FILES[kind]).read_text(encoding="utf-8"), parse_float=Decimal)


def resolve_ref(root: dict, node: dict) -> dict:
    """Follow local `$ref`s, letting the referring node's own keys (title, defaults) win."""
    while "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def schema_types(schema: dict) -> tuple[str, ...]:
    """A schema's `type` as a tuple, whether written as one name or a list (empty when absent)."""
    types = schema.get("type", ())
    return (types,) if isinstance(types, str) else tuple(types)


@functools.cache
def model(kind: str) -> Model:
    """The field model of a document kind, built once from its schema."""
    schema = contract_schema(kind)
    unsupported: set[str] = set()
    root = _field(schema, schema, "", (), True, unsupported)
    return Model(kind, root, frozenset(unsupported))


def _field(root: dict, node: dict, name: str, path: tuple[str, ...], required: bool, unsupported: set[str]) -> Field:
    node = resolve_ref(root, node)
    unsupported.update(set(node) - UNDERSTOOD)
    types = schema_types(node)
    enum = node.get("enum")
    nullable = "null" in types or (enum is not None and None in enum)
    kinds = [t for t in types if t != "null"]
    if len(kinds) > 1:
        unsupported.add("type: " + " | ".join(kinds))
    if kinds:
        kind = kinds[0]
    elif "const" in node:
        kind = "const"
    else:
        kind = "string"  # an enumeration without a type (`kind`), or no type at all
    fields: tuple[Field, ...] = ()
    body = node
    if kind == "array":
        body = resolve_ref(root, node.get("items", {}))
        unsupported.update(set(body) - UNDERSTOOD)
        if "object" not in schema_types(body):
            unsupported.add("array of non-objects")
    if kind in ("object", "array"):
        needed = set(body.get("required", ()))
        base = path if kind == "object" else ()
        fields = tuple(_field(root, sub, key, (*base, key), key in needed, unsupported)
                       for key, sub in body.get("properties", {}).items())
        for f in fields:
            if f.kind == "array" and kind == "array":
                unsupported.add("lists inside list items")
    return Field(
        name=name, path=path, kind=kind, nullable=nullable, required=required,
        default=node["default"] if "default" in node else NO_DEFAULT,
        default_from=node.get("x-yidi-default-from"), defaulted=bool(node.get("x-yidi-defaulted", False)),
        enum=tuple(e for e in enum if e is not None) if enum is not None else None,
        const=node["const"] if "const" in node else NO_DEFAULT,
        pattern=node.get("pattern"), min_length=node.get("minLength"),
        minimum=Decimal(str(node["minimum"])) if "minimum" in node else None,
        maximum=Decimal(str(node["maximum"])) if "maximum" in node else None,
        decimals=int(node["x-yidi-decimals"]) if "x-yidi-decimals" in node else None,
        date=node.get("format") == "date", title=node.get("title"),
        fields=fields, closed=body.get("additionalProperties") is False,
        relations=tuple(_relation(r, unsupported) for r in body.get("x-yidi-relations", ())),
        required_when=_required_when(body, unsupported),
    )


def _relation(raw: dict, unsupported: set[str]) -> Relation:
    tests = [t for t in _TESTS if t in raw]
    if len(tests) != 1 or not isinstance(raw.get("field"), str):
        raise ValueError(f"x-yidi-relations: each relation names a field and one of {', '.join(_TESTS)}: {raw}")
    test = tests[0]
    other, allowed = None, ()
    if test == "requires":
        ((other, values),) = raw["requires"].items()
        allowed = tuple(values)
    elif test != "absent":
        other = raw[test]
    message = raw.get("message")
    if message is None and test not in ("not_before", "not_above"):
        raise ValueError(f"x-yidi-relations: a {test} relation needs its own message (zh, en): {raw}")
    return Relation(raw["field"], test, other, allowed,
                    tuple((key, tuple(values)) for key, values in raw.get("when", {}).items()),
                    (message["zh"], message["en"]) if message else None)


def _required_when(schema: dict, unsupported: set[str]) -> tuple[tuple[str, tuple, str], ...]:
    """The schema's if/then, in the one form the contract uses: if <key> in [values] then <other keys> required."""
    if "if" not in schema:
        return ()
    condition, then = schema["if"], schema.get("then", {})
    keys = condition.get("required", [])
    allowed = condition.get("properties", {}).get(keys[0], {}).get("enum") if len(keys) == 1 else None
    if allowed is None or set(condition) - {"required", "properties"}:
        unsupported.add("if/then form")
        return ()
    return tuple((keys[0], tuple(allowed), name) for name in then.get("required", []))


# ── relations, explained ────────────────────────────────────────────────────────


def relation_problems(obj: Field, at: tuple[str | int, ...], read: Callable[[tuple[str | int, ...]], Any],
                      name: Callable[[tuple[str | int, ...]], str]) -> Iterator[tuple[tuple[str | int, ...], tuple[str, str]]]:
    """(path, (zh, en)) for each relation of `obj` (found at `at`) that a document breaks.

    `read(path)` gives a value the earlier checks accepted — dates as dates,
    None for a value with a problem or missing (a missing one with a default
    reads as its default) — and `name(path)` its title and path for messages.
    A relation whose values cannot be read is not judged: the problem is
    already reported where the value is.
    """
    from . import documents_messages as msg
    from .documents_messages import format_path

    for r in obj.relations:
        field_path = (*at, *r.field.split("."))
        if any(read((*at, *key.split("."))) not in values for key, values in r.when):
            continue
        value = read(field_path)
        other_path = (*at, *r.other.split(".")) if r.other else None
        other = read(other_path) if other_path is not None else None
        if r.test == "absent":
            broken = value is not None
        elif value is None or other is None:
            continue
        elif r.test == "requires":
            broken = other not in r.allowed
        elif r.test == "not_before":
            broken = value < other
        elif r.test == "not_after":
            broken = value > other
        else:  # not_above
            broken = value > other
        if not broken:
            continue
        if r.message is not None:
            when_path = (*at, *r.when[0][0].split(".")) if r.when else None
            fill = {"value": value, "other": other, "shown_value": msg.show(value), "shown_other": msg.show(other),
                    "other_name": name(other_path) if other_path else "", "other_path": format_path(other_path or ()),
                    "when_value": read(when_path) if when_path else None, "when_path": format_path(when_path or ())}
            pair = (r.message[0].format(**fill), r.message[1].format(**fill))
        elif r.test == "not_above":
            pair = msg.exceeds(value, name(other_path), other)
        else:
            pair = msg.not_before(value, name(other_path), other)
        yield field_path, pair

