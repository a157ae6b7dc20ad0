"""Input documents: raw JSON in, a validated and normalised claim or filing request out.

Contract §4: a document that does not match the schema is never evaluated, and
nothing is guessed. So this module either hands the engine a complete,
normalised document (every optional field present, defaults filled, dates as
`datetime.date`, numbers as exact `Decimal`) or raises `InputError` listing
*every* problem by JSON path, so a caller can fix the whole document at once.

The JSON Schemas in `schemas/` are the single statement of the input format;
this module adds only what JSON Schema cannot say well: real calendar dates,
two-decimal money (as Decimal), and relations between fields.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import math
import re
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

from . import documents_messages as msg
from .contract import CLAIM, SCHEMA_FILES, Field, Model, contract_schema, model, relation_problems
from .documents_messages import Found, Path, format_path
from .errors import SHOWN_PROBLEMS, InputError, InputProblem
from .schema_regex import ECMA_KEYWORDS

FOUND_LIMIT = 1000
"""The validator stops looking after this many problems (and counts unknown keys without
describing each), so its cost stays bounded whatever the document holds."""
MAX_DEPTH = 64
"""JSON nesting allowed in a document's text (RFC 8259 §9 lets a parser set it); a valid
document nests four levels, and recursive code downstream need not fear deeper input."""


# ---- JSON text ------------------------------------------------------------------------------


class _Rejected(ValueError):
    """Raised from inside the JSON parser's hooks; carries the message pair."""

    def __init__(self, pair: tuple[str, str]):
        self.pair = pair
        super().__init__(pair[1])


def _reject_constant(name: str) -> Any:
    raise _Rejected(msg.json_constant(name))


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    seen = dict(pairs)
    if len(seen) != len(pairs):  # rare: find the repeated key for the message
        keys: set[str] = set()
        for key, _ in pairs:
            if key in keys:
                raise _Rejected(msg.duplicate_key(key))
            keys.add(key)
    return seen


def decode_text(data: bytes) -> str:
    """UTF-8 bytes as text (a UTF-8 byte order mark is dropped); anything else is InputError (contract §4).

    The standard library's `json.loads(bytes)` would also read UTF-16 and
    UTF-32; yidi reads UTF-8 only, whichever command or endpoint gets the text,
    so one input always gets one answer.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([InputProblem("", *msg.not_utf8(data, exc))]) from None
    if "\x00" in text:
        raise InputError([InputProblem("", *msg.nul_in_text())])
    return text


def load_json(text: str | bytes) -> Any:
    """Parse JSON with every non-integer number as an exact `Decimal` (never through float).

    NaN/Infinity, repeated keys, bytes that are not UTF-8, lone surrogates
    (`"\\ud800"`) and nesting deeper than MAX_DEPTH are refused rather than
    silently accepted, each as InputError.
    """
    if not isinstance(text, str):
        text = decode_text(bytes(text))
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        pair = msg.bad_json(exc.msg, exc.lineno, exc.colno)
    except _Rejected as exc:
        pair = exc.pair
    except RecursionError:
        pair = msg.too_deep()
    except ValueError as exc:  # integers too long to convert
        pair = msg.unreadable_json(str(exc))
    else:
        if _MAYBE_SURROGATE.search(text) or text.count("[") + text.count("{") > MAX_DEPTH:
            found = _text_problems(value)
            if found:
                raise InputError(InputProblem(format_path(f.path), f.message_zh, f.message_en) for f in found)
        return value
    raise InputError([InputProblem("", *pair)])


_MAYBE_SURROGATE = re.compile(r"[\ud800-\udfff]|\\u[dD][89abcdefABCDEF]")


def _text_problems(value: Any) -> list[Found]:
    """Lone surrogates in keys and strings, and nesting past MAX_DEPTH, by path — without recursion."""
    found: list[Found] = []
    stack: list[tuple[Path, Any]] = [((), value)]
    while stack and len(found) < FOUND_LIMIT:
        path, node = stack.pop()
        if isinstance(node, dict | list) and len(path) >= MAX_DEPTH:
            found.append(Found(path, *msg.nested_too_deep(MAX_DEPTH), "depth"))
            continue
        if isinstance(node, dict):
            for key, item in node.items():
                if msg.has_lone_surrogate(key):
                    found.append(Found((*path, key), *msg.lone_surrogate("key"), "text"))
                stack.append(((*path, key), item))
        elif isinstance(node, list):
            stack.extend(((*path, i), item) for i, item in enumerate(node))
        elif isinstance(node, str) and msg.has_lone_surrogate(node):
            found.append(Found(path, *msg.lone_surrogate("value"), "text"))
    return found


# ---- validation -----------------------------------------------------------------------------


@functools.cache
def _validator_class() -> Any:
    """jsonschema is imported only when a document needs the thorough path (or a policy is built)."""
    from jsonschema import Draft202012Validator, validators

    def is_integer(checker: Any, instance: Any) -> bool:
        """JSON Schema counts 3.0 as an integer; our parser makes it `Decimal('3.0')`."""
        if isinstance(instance, Decimal):
            return instance.is_finite() and instance == instance.to_integral_value()
        return Draft202012Validator.TYPE_CHECKER.is_type(instance, "integer")

    return validators.extend(
        Draft202012Validator,
        validators=ECMA_KEYWORDS,
        type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", is_integer),
    )


@functools.cache
def _validator(kind: str) -> Any:
    """Built once per kind; validators hold no per-call state, so threads may share them."""
    schema = contract_schema(kind)
    validator_class = _validator_class()
    validator_class.check_schema(schema)
    return validator_class(schema)


def normalize_document(raw: Any) -> dict:
    """Validate `raw` (schema, then cross-field checks) and return it normalised, or raise `InputError`."""
    try:
        kind, doc, found, more = _validate(raw)
    except RecursionError:
        found, kind, doc, more = [Found((), *msg.too_deep(), "depth")], None, None, 0
    if found:
        raise InputError((InputProblem(format_path(f.path), f.message_zh, f.message_en) for f in found), more)
    return _normalise(doc, model(kind).root)


def _validate(raw: Any) -> tuple[str | None, Any, list[Found], int]:
    """The problems of `raw`, and how many more were counted without being described.

    Checks after the schema only look at values the schema accepted.
    """
    found: list[Found] = []
    doc = _clean(raw, (), found)
    if not isinstance(doc, dict):
        return None, doc, found + [Found((), *msg.not_an_object(doc), "type")], 0
    kind = doc.get("kind", CLAIM)
    if not (isinstance(kind, str) and kind in SCHEMA_FILES):
        if not any(f.path == ("kind",) for f in found):
            found.append(Found(("kind",), *msg.unknown_kind(kind, list(SCHEMA_FILES)), "kind"))
        return None, doc, found, 0
    unreadable = {f.path for f in found if f.keyword in ("number", "text")}  # replaced by null in `_clean`
    schema_found, more = _schema_problems(_validator(kind), doc)
    found += [f for f in schema_found if f.path not in unreadable]
    if more:  # a hostile document (the validator stopped, or unknown keys were only counted): enough said
        return kind, doc, found, more
    fields = model(kind)
    found += _field_problems(doc, fields, {f.path for f in found})
    found += _relation_problems(fields, doc, {f.path for f in found})
    return kind, doc, found, more


def _clean(value: Any, path: Path, found: list[Found]) -> Any:
    """Make raw data safe to validate: floats → exact Decimal, dates → ISO text.

    Values JSON cannot carry (NaN, infinities, non-string keys, text with a
    lone surrogate) are reported here and replaced by null, whose own schema
    error is then dropped.
    """
    if isinstance(value, str):
        if msg.has_lone_surrogate(value):
            found.append(Found(path, *msg.lone_surrogate("value"), "text"))
            return None
        return value
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        finite = math.isfinite(value) if isinstance(value, float) else value.is_finite()
        if not finite:
            found.append(Found(path, *msg.non_finite_number(value), "number"))
            return None
        return Decimal(repr(value)) if isinstance(value, float) else value
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            if not isinstance(key, str):
                found.append(Found(path, *msg.non_string_key(key), "key"))
            elif msg.has_lone_surrogate(key):
                found.append(Found((*path, key), *msg.lone_surrogate("key"), "text"))
            elif type(item) in _KEPT_AS_IS or (type(item) is str and item.isascii()):
                cleaned[key] = item  # most values: no call needed (a document of 90,000 keys costs a loop, not 90,000 calls)
            else:
                cleaned[key] = _clean(item, (*path, key), found)
        return cleaned
    if isinstance(value, list | tuple):
        return [_clean(item, (*path, i), found) for i, item in enumerate(value)]
    return value


_KEPT_AS_IS = frozenset({bool, int, type(None)})


def _schema_problems(validator: Any, doc: dict) -> tuple[list[Found], int]:
    """The schema's errors (at a path with a wrong type, only the first type error), and a count of those not described.

    Bounded: after FOUND_LIMIT problems the validator stops looking.
    """
    found: list[Found] = []
    more = 0
    for error in validator.iter_errors(doc):  # lazy: stopping early saves the rest of the walk
        if len(found) >= FOUND_LIMIT:
            more += 1  # at least this one more: from here the count is a lower bound
            break
        described, counted = msg.from_schema_error(error, min(SHOWN_PROBLEMS, FOUND_LIMIT - len(found)))
        found += described
        more += counted
    first_type_error = {}
    for f in found:
        if f.keyword == "type":
            first_type_error.setdefault(f.path, f)
    return [f for f in found if first_type_error.get(f.path, f) is f], more


def _walk(value: Any, field: Field, path: Path = ()) -> Iterator[tuple[Path, Field, Any]]:
    """Each present value with its field, in document order."""
    yield path, field, value
    if isinstance(value, dict) and field.kind == "object":
        for sub in field.fields:
            if sub.name in value:
                yield from _walk(value[sub.name], sub, (*path, sub.name))
    elif isinstance(value, list) and field.kind == "array":
        item = replace(field, kind="object")
        for i, entry in enumerate(value):
            yield from _walk(entry, item, (*path, i))


def _parse_date(text: Any) -> datetime.date | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def decimal_places(number: int | Decimal) -> int:
    """Decimals actually written, ignoring trailing zeros (75.10 has 1), without rounding."""
    if isinstance(number, int):
        return 0
    _, digits, exponent = number.as_tuple()
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing)) if any(digits) else 0


def _field_problems(doc: dict, fields: Model, bad: set[Path]) -> list[Found]:
    """Checks on single values the schema passed: real calendar dates, decimals of money."""
    found = []
    for path, field, value in _walk(doc, fields.root):
        if path in bad:
            continue
        if field.date and isinstance(value, str) and _parse_date(value) is None:
            found.append(Found(path, *msg.invalid_date(value), "date"))
        places = field.decimals
        if places is not None and isinstance(value, int | Decimal) and not isinstance(value, bool):
            if decimal_places(value) > places:
                found.append(Found(path, *msg.too_many_decimals(value, places), "decimals"))
    return found


# ---- relations between fields ---------------------------------------------------------------


def _relation_problems(model: Model, doc: dict, bad: set[Path]) -> Iterator[Found]:
    """The relations the schema declares (`x-yidi-relations`), judged on the values the earlier checks accepted."""
    def read(path: Path) -> Any:
        if path in bad:
            return None
        node: Any = doc
        for depth, part in enumerate(path, start=1):
            if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
                node = node[part]
            elif isinstance(part, str) and isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(part, str) and isinstance(node, dict) and depth == len(path):
                field = model.field(path)  # left out: its default, if it has one
                return field.default if field is not None and field.has_default else None
            else:
                return None
        field = model.field(path)
        return _parse_date(node) if field is not None and field.date else node

    def name(path: Path) -> str:
        """`入院日期 visit.admission_date`: the schema's title, then the path, for messages."""
        field = model.field(path)
        return f"{field.title} {format_path(path)}" if field is not None and field.title else format_path(path)

    def objects(field: Field, at: Path, value: Any) -> Iterator[tuple[Field, Path]]:
        if field.kind == "object" and isinstance(value, dict):
            yield field, at
            for sub in field.fields:
                if sub.kind in ("object", "array") and sub.name in value:
                    yield from objects(sub, (*at, sub.name), value[sub.name])
        elif field.kind == "array" and isinstance(value, list):
            item = replace(field, kind="object")
            for i, entry in enumerate(value):
                yield from objects(item, (*at, i), entry)

    for obj, at in objects(model.root, (), doc):
        for path, pair in relation_problems(obj, at, read, name):
            yield Found(path, *pair, "order")


# ---- normalisation --------------------------------------------------------------------------


def _normalise(value: Any, field: Field) -> Any:
    """The checked document in the engine's shape, driven by the field model.

    Every declared property is present: given, else its schema `default`,
    else `x-yidi-default-from` another field, else None.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dict):
        out = {f.name: _normalise(value[f.name], f) if f.name in value else copy.deepcopy(f.default) if f.has_default else None
               for f in field.fields}
        for f in field.fields:
            if f.default_from and out[f.name] is None:
                out[f.name] = out[f.default_from]
        return out
    if isinstance(value, list):
        item = replace(field, kind="object")
        return [_normalise(entry, item) for entry in value]
    if isinstance(value, int | Decimal):
        return int(value) if field.kind == "integer" else exact_number(value)
    if isinstance(value, str) and field.date:
        return datetime.date.fromisoformat(value)
    return value


def exact_number(value: int | Decimal) -> Decimal:
    """A JSON number as the Decimal the engine computes with; negative zero (`-0.0`) is zero.

    The schema's `minimum: 0` lets -0 through (it equals 0), and Decimal would
    carry its sign into the answer (`"deductible": -0.0`); every path reads it as 0.
    """
    number = Decimal(value)
    return number.copy_abs() if number.is_zero() else number
