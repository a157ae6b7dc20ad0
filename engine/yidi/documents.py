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
import pathlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


from . import documents_messages as msg
from .resources import schema_file
from .documents_messages import Found, Path, format_path
from .schema_regex import ECMA_KEYWORDS

CLAIM, FILING_REQUEST = "claim", "filing_request"
SCHEMA_FILES = {CLAIM: "claim.schema.json", FILING_REQUEST: "filing-request.schema.json"}

SHOWN_PROBLEMS = 100
"""Problems listed in an error body; the rest are counted (`problems_omitted`), so a hostile
document cannot make an error body many times its own size."""
FOUND_LIMIT = 1000
"""The validator stops looking after this many problems (and counts unknown keys without
describing each), so its cost stays bounded whatever the document holds."""
MAX_DEPTH = 64
"""JSON nesting allowed in a document's text (RFC 8259 §9 lets a parser set it); a valid
document nests four levels, and recursive code downstream need not fear deeper input."""


@dataclass(frozen=True)
class InputProblem:
    """One thing wrong with an input document, at a JSON path such as `history[0].cancelled_on`."""

    path: str
    message_zh: str
    message_en: str


class InputError(Exception):
    """The document cannot be evaluated; `problems` lists its problems, sorted by path.

    `more` counts problems found but not written out (beyond FOUND_LIMIT, or
    unknown keys past the first ones); `omitted` is everything not shown in
    an error body. Both are 0 for any document a person wrote by mistake.
    """

    code = "invalid-input"

    def __init__(self, problems: Iterable[InputProblem], more: int = 0):
        self.problems: list[InputProblem] = sorted(set(problems), key=_problem_order)
        self.more = more
        super().__init__(self.render("zh"))

    @property
    def shown(self) -> list[InputProblem]:
        """The problems an error body lists: the first SHOWN_PROBLEMS by path."""
        return self.problems[:SHOWN_PROBLEMS]

    @property
    def omitted(self) -> int:
        """How many problems an error body leaves out (a lower bound once the validator stopped looking)."""
        return len(self.problems) - len(self.shown) + self.more

    def render(self, lang: str = "zh") -> str:
        total = len(self.problems) + self.more
        head = f"输入文档有 {total} 处问题：" if lang == "zh" else f"the input has {total} problem(s):"
        lines = [head]
        for p in self.shown:
            where = p.path or ("（文档）" if lang == "zh" else "(document)")
            lines.append(f"  {where}: {p.message_zh if lang == 'zh' else p.message_en}")
        if self.omitted:
            lines.append(f"  ……另有 {self.omitted} 处问题未列出" if lang == "zh" else f"  … and {self.omitted} more not listed")
        return "\n".join(lines)

    def __reduce__(self):  # keep the problems, not just the rendered text, across pickling
        return type(self), (self.problems, self.more)

    def problems_json(self) -> list[dict[str, str]]:
        """The shown problems as {"path", "message", "message_en"}: how every JSON output (CLI, batch, HTTP) lists them."""
        return [{"path": p.path, "message": p.message_zh, "message_en": p.message_en} for p in self.shown]

    def body(self, error: str = "invalid-input") -> dict[str, Any]:
        """`{"error", "problems", "problems_omitted"?}`: every JSON error output (CLI, batch, HTTP 400/422) is this."""
        out: dict[str, Any] = {"error": error, "problems": self.problems_json()}
        if self.omitted:
            out["problems_omitted"] = self.omitted
        return out

    def to_json(self) -> dict:
        """The problems with this error's code (`{"code", "problems", "problems_omitted"?}`)."""
        out = self.body()
        del out["error"]
        return {"code": self.code, **out}


def _problem_order(problem: InputProblem) -> tuple:
    """By path, list indices numerically (`history[2]` before `history[10]`), a parent before its fields."""
    parts = re.findall(r"\[(\d+)\]|([^.\[\]]+)", problem.path)
    key = tuple((0, int(index), "") if index else (1, 0, name) for index, name in parts)
    return key, problem.message_zh, problem.message_en


def schema_path(name: str) -> pathlib.Path:
    """Where schema `name` lives (see yidi.resources)."""
    return schema_file(name)


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
def contract_schema(kind: str) -> dict:
    """The contract's JSON Schema for a document kind, read once (callers must not change it).

    Its numbers are read as exact Decimals, like the documents it checks:
    `maximum: 99999999.99` as a float is 99999999.98999999…, which would
    refuse the largest amount the contract allows.
    """
    return json.loads(schema_path(SCHEMA_FILES[kind]).read_text(encoding="utf-8"), parse_float=Decimal)


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
    root = contract_schema(kind)
    return _normalise(doc, root, root)


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
    root = contract_schema(kind)
    found += _field_problems(doc, root, {f.path for f in found})
    found += _CROSS_CHECKS[kind](_Reader(doc, {f.path for f in found}, root))
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


def resolve_ref(root: dict, node: dict) -> dict:
    """Follow local `$ref`s, letting the referring node's own keys (title, defaults) win."""
    while "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _walk(value: Any, schema: dict, root: dict, path: Path = ()) -> Iterator[tuple[Path, dict, Any]]:
    """Each present value with its (resolved) subschema, in document order."""
    schema = resolve_ref(root, schema)
    yield path, schema, value
    if isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                yield from _walk(value[name], sub, root, (*path, name))
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            yield from _walk(item, schema["items"], root, (*path, i))


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


def _field_problems(doc: dict, root: dict, bad: set[Path]) -> list[Found]:
    """Checks on single values the schema passed: real calendar dates, decimals of money."""
    found = []
    for path, schema, value in _walk(doc, root, root):
        if path in bad:
            continue
        if schema.get("format") == "date" and isinstance(value, str) and _parse_date(value) is None:
            found.append(Found(path, *msg.invalid_date(value), "date"))
        places = schema.get("x-yidi-decimals")
        if places is not None and isinstance(value, int | Decimal) and not isinstance(value, bool):
            if decimal_places(value) > places:
                found.append(Found(path, *msg.too_many_decimals(value, places), "decimals"))
    return found


# ---- relations between fields ---------------------------------------------------------------


class _Reader:
    """Reads values the earlier checks accepted; a value with a problem reads as None."""

    def __init__(self, doc: dict, bad: set[Path], root: dict):
        self.doc = doc
        self.bad = bad
        self.root = root

    def get(self, *path: str | int, absent: Any = None) -> Any:
        if path in self.bad:
            return None
        node: Any = self.doc
        for depth, part in enumerate(path, start=1):
            if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
                node = node[part]
            elif isinstance(part, str) and isinstance(node, dict) and part in node:
                node = node[part]
            else:
                last_key_missing = depth == len(path) and isinstance(node, dict)
                return absent if last_key_missing else None
        return node

    def date(self, *path: str | int) -> datetime.date | None:
        return _parse_date(self.get(*path))

    def name(self, *path: str | int) -> str:
        """`入院日期 visit.admission_date`: the schema's title, then the path, for messages."""
        schema: dict = self.root
        for part in path:
            schema = resolve_ref(self.root, schema)
            schema = schema.get("items", {}) if isinstance(part, int) else schema.get("properties", {}).get(part, {})
        title = resolve_ref(self.root, schema).get("title")
        return f"{title} {format_path(path)}" if title else format_path(path)


_SAME_DAY_CARE = ("outpatient", "chronic_outpatient", "pharmacy")


def _claim_checks(r: _Reader) -> Iterator[Found]:
    admission, discharge = r.date("visit", "admission_date"), r.date("visit", "discharge_date")
    admission_name = r.name("visit", "admission_date")
    if admission and discharge:
        care = r.get("visit", "kind")
        if discharge < admission:
            yield Found(("visit", "discharge_date"), *msg.not_before(discharge, admission_name, admission), "order")
        elif discharge != admission and care in _SAME_DAY_CARE:
            yield Found(("visit", "discharge_date"), *msg.same_day(care, admission, discharge), "order")
    settled = r.date("visit", "settled_on")  # only when given: the default (discharge) is checked above
    if admission and settled and settled < admission:
        yield Found(("visit", "settled_on"), *msg.not_before(settled, admission_name, admission), "order")
    birth = r.date("insured", "birth_date")
    if birth and admission and birth > admission:
        yield Found(("insured", "birth_date"), *msg.born_after(birth, admission), "order")
    total, in_scope = r.get("costs", "total"), r.get("costs", "in_scope")
    if total is not None and in_scope is not None and in_scope > total:
        yield Found(("costs", "in_scope"), *msg.exceeds(in_scope, r.name("costs", "total"), total), "order")
    if r.get("visit", "payment_source") == "personal_account" and r.get("insured", "scheme") not in (None, "employee"):
        yield Found(("visit", "payment_source"), *msg.personal_account_needs_employee(r.get("insured", "scheme")), "order")
    yield from _filing_checks(r, ("filing",))


def _filing_checks(r: _Reader, at: Path) -> Iterator[Found]:
    start, end = r.date(*at, "start_date"), r.date(*at, "end_date")
    if start and end and end < start:
        yield Found((*at, "end_date"), *msg.not_before(end, r.name(*at, "start_date"), start), "order")
    filed, supplemented = r.date(*at, "filed_on"), r.date(*at, "supplemented_on")
    if filed and supplemented and supplemented < filed:
        yield Found((*at, "supplemented_on"), *msg.not_before(supplemented, r.name(*at, "filed_on"), filed), "order")
    yield from _supplement_needs_commitment(r, at)


def _supplement_needs_commitment(r: _Reader, at: Path) -> Iterator[Found]:
    if r.date(*at, "supplemented_on") and r.get(*at, "basis", absent="materials") == "materials":
        yield Found((*at, "supplemented_on"), *msg.supplemented_with_materials(format_path((*at, "basis"))), "order")


def _filing_request_checks(r: _Reader) -> Iterator[Found]:
    yield from _filing_checks(r, ("current",))
    yield from _filing_checks(r, ("new",))
    history = r.get("history")
    for i in range(len(history) if isinstance(history, list) else 0):
        start, cancelled = r.date("history", i, "start_date"), r.date("history", i, "cancelled_on")
        if start and cancelled and cancelled < start:
            yield Found(("history", i, "cancelled_on"),
                        *msg.not_before(cancelled, r.name("history", i, "start_date"), start), "order")
        yield from _supplement_needs_commitment(r, ("history", i))


_CROSS_CHECKS: dict[str, Callable[[_Reader], Iterable[Found]]] = {
    CLAIM: _claim_checks,
    FILING_REQUEST: _filing_request_checks,
}


def relations_hold(kind: str, f: Mapping[str, Any]) -> bool:
    """The relations above as one yes/no over a flat, typed document — for the fast paths.

    A no sends the document down the thorough path, whose checks above find
    and explain the problem, so no messages here; tests/test_fastcheck.py
    checks on random documents that this answers exactly as those do.
    """
    if kind == CLAIM:
        admission, discharge = f["visit.admission_date"], f["visit.discharge_date"]
        if admission is not None:
            if discharge is not None and (discharge < admission or (discharge != admission and f["visit.kind"] in _SAME_DAY_CARE)):
                return False
            settled, birth = f["visit.settled_on"], f["insured.birth_date"]
            if (settled is not None and settled < admission) or (birth is not None and birth > admission):
                return False
        total, in_scope = f["costs.total"], f["costs.in_scope"]
        if total is not None and in_scope is not None and in_scope > total:
            return False
        if f["visit.payment_source"] == "personal_account" and f["insured.scheme"] not in (None, "employee"):
            return False
        return _filing_holds(f, "filing.")
    if not (_filing_holds(f, "current.") and _filing_holds(f, "new.")):
        return False
    for entry in f["history"] or ():
        start, cancelled, supplemented = entry["start_date"], entry["cancelled_on"], entry["supplemented_on"]
        if (start is not None and cancelled is not None and cancelled < start) or (supplemented and entry["basis"] == "materials"):
            return False
    return True


def _filing_holds(f: Mapping[str, Any], at: str) -> bool:
    start, end = f[at + "start_date"], f[at + "end_date"]
    filed, supplemented = f[at + "filed_on"], f[at + "supplemented_on"]
    return not ((start is not None and end is not None and end < start)
                or (filed is not None and supplemented is not None and supplemented < filed)
                or (supplemented is not None and f[at + "basis"] == "materials"))


# ---- normalisation --------------------------------------------------------------------------


def _normalise(value: Any, schema: dict, root: dict) -> Any:
    """The checked document in the engine's shape, driven by the schema.

    Every declared property is present: given, else its schema `default`,
    else `x-yidi-default-from` another field, else None.
    """
    schema = resolve_ref(root, schema)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        out = {name: _normalise(value[name], sub, root) if name in value else _default(sub, root)
               for name, sub in properties.items()}
        for name, sub in properties.items():
            source = resolve_ref(root, sub).get("x-yidi-default-from")
            if source and out[name] is None:
                out[name] = out[source]
        return out
    if isinstance(value, list):
        return [_normalise(item, schema.get("items", {}), root) for item in value]
    if isinstance(value, int | Decimal):
        return int(value) if "integer" in schema_types(schema) else exact_number(value)
    if isinstance(value, str) and schema.get("format") == "date":
        return datetime.date.fromisoformat(value)
    return value


def exact_number(value: int | Decimal) -> Decimal:
    """A JSON number as the Decimal the engine computes with; negative zero (`-0.0`) is zero.

    The schema's `minimum: 0` lets -0 through (it equals 0), and Decimal would
    carry its sign into the answer (`"deductible": -0.0`); every path reads it as 0.
    """
    number = Decimal(value)
    return number.copy_abs() if number.is_zero() else number


def _default(schema: dict, root: dict) -> Any:
    schema = resolve_ref(root, schema)
    return copy.deepcopy(schema["default"]) if "default" in schema else None


def schema_types(schema: dict) -> tuple[str, ...]:
    """A schema's `type` as a tuple, whether written as one name or a list (empty when absent)."""
    types = schema.get("type", ())
    return (types,) if isinstance(types, str) else tuple(types)
