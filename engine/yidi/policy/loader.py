"""Read one policy file: YAML with positions → schema check → model objects.

Nothing here interprets expressions; it only turns checked YAML into
`yidi.policy.model` values that remember where each piece was written.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import json
import pathlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from ..diagnostics import Diagnostic, DiagnosticError
from ..resources import schema_file
from ..dsl.types import parse_type_name
from ..schema_check import check_against_schema
from ..source import CompactNodes, LocatedDocument, Position, load_yaml_file, node_rows
from .model import (
    FixedPosition,
    BenefitRow, BenefitTable, Bounds, Citation, Document, ExpressionText, Floor, InForce, Parameter, ParameterValue, Policy,
    Rule, Variable,
)
from ..dsl.types import T_DATE

# Parameters named `in_force.<policy id>` are made from a policy's `in_force:` block; nobody declares them.
IN_FORCE_PREFIX = "in_force."



@functools.lru_cache(maxsize=4)
def load_schema(name: str) -> dict:
    return json.loads(schema_file(name).read_text(encoding="utf-8"))


def read_located(path: pathlib.Path, display: str, schema_name: str, problems: list[Diagnostic],
                 raw: bytes | None = None) -> LocatedDocument | None:
    """Parse YAML and check it against a schema; diagnostics go to `problems`. `raw`: the file's bytes, if read."""
    try:
        doc = load_yaml_file(path, display, raw)
    except DiagnosticError as exc:
        problems.extend(exc.diagnostics)
        return None
    found = check_against_schema(doc, load_schema(schema_name))
    if found:
        problems.extend(found)
        return None
    return doc


@dataclass(frozen=True)
class _KeptDocument:
    """What the cache keeps of a YAML file read by `read_located_kept`: its document as plain rows
    (`source.node_rows`; None if unusable) and the problems found."""

    display: str
    document: tuple[str, Any, dict] | None     # text, data, node rows
    problems: tuple[Diagnostic, ...]

    def doc(self) -> LocatedDocument | None:
        if self.document is None:
            return None
        text, data, rows = self.document
        return LocatedDocument(self.display, text, data, CompactNodes(self.display, text, rows))


_KEPT_FORMAT = "located 1"


def read_located_kept(path: pathlib.Path, display: str, schema_name: str, problems: list[Diagnostic],
                      cache_dir: pathlib.Path | None, also: Callable[[LocatedDocument], list[Diagnostic]] | None = None,
                      ) -> LocatedDocument | None:
    """`read_located`, plus the checks `also` makes of a document that passed; with `cache_dir`, the result is
    kept, keyed by the file's name and bytes, the schema and the engine, and read back while they are unchanged.

    Why: a tree of 400 regions has ~850 test and clause-list files, and once
    the policies come from the cache, parsing them with positions is most of
    what `yidi validate` and `yidi test` do. The document is kept as plain rows
    (`source.node_rows`): unpickling its positions as objects costs about what
    parsing does. `also` must depend on nothing but the document (it is named in the key).
    """
    doc, kept = _read_and_keep(KeptFile(path, display, schema_name, also), cache_dir)
    problems.extend(kept.problems)
    return doc


class KeptFile(NamedTuple):
    """A file for `read_located_kept_all`: what `read_located_kept` is given for it."""

    path: pathlib.Path
    display: str
    schema_name: str
    also: Callable[[LocatedDocument], list[Diagnostic]] | None = None


def _look_up(file: KeptFile, cache_dir: pathlib.Path | None) -> tuple[bytes | None, str | None, _KeptDocument | None]:
    """The file's bytes (None if unreadable: `read_located` names the problem), its key in the cache and what
    the cache keeps for it (None where there is no cache, or nothing intact of this file)."""
    from . import cache

    try:
        raw = file.path.read_bytes()
    except OSError:
        raw = None
    if cache_dir is None or raw is None:
        return raw, None, None
    key = _kept_key(raw, file.display, file.schema_name, file.also)
    found = cache.read(cache_dir, key)
    return raw, key, found if isinstance(found, _KeptDocument) and found.display == file.display else None


def _parse_and_write(file: KeptFile, raw: bytes | None, key: str | None,
                     cache_dir: pathlib.Path | None) -> tuple[LocatedDocument | None, _KeptDocument]:
    """Parse and check a file `_look_up` found no kept entry for; keep what was found under `key`."""
    from . import cache

    mine: list[Diagnostic] = []
    doc = read_located(file.path, file.display, file.schema_name, mine, raw)
    if doc is not None and file.also is not None:
        mine += file.also(doc)
    kept = _KeptDocument(file.display, (doc.text, doc.data, node_rows(doc)) if doc is not None else None, tuple(mine))
    if key is not None:
        cache.write(cache_dir, key, kept)
    return doc, kept


def _read_and_keep(file: KeptFile, cache_dir: pathlib.Path | None) -> tuple[LocatedDocument | None, _KeptDocument]:
    """`read_located_kept`'s document, and what the cache keeps of it (read from there, or made and written)."""
    raw, key, found = _look_up(file, cache_dir)
    return (found.doc(), found) if found is not None else _parse_and_write(file, raw, key, cache_dir)


def read_located_kept_all(files: list[KeptFile], cache_dir: pathlib.Path | None,
                          ) -> list[tuple[LocatedDocument | None, list[Diagnostic]]]:
    """`read_located_kept` of every file, in order: (document or None, its problems).

    The files the cache does not hold are parsed on every core when there are
    many (a national tree's ~850 test files and clause lists from nothing: a
    second of one core), each worker keeping what it parsed and sending it
    back, unpickled here as it arrives while the workers parse on.
    """
    from ..forking import fork_map

    out: list[tuple[LocatedDocument | None, list[Diagnostic]] | None] = [None] * len(files)
    missing: list[tuple[int, bytes | None, str | None]] = []
    for i, file in enumerate(files):
        raw, key, found = _look_up(file, cache_dir)
        if found is not None:
            out[i] = (found.doc(), list(found.problems))
        else:
            missing.append((i, raw, key))
    parsed: list = [None] * len(missing)
    if cache_dir is not None and len(missing) >= _PARSE_IN_WORKERS_FROM:
        parsed = fork_map(_parse_and_keep, cache_dir, [files[i] for i, _, _ in missing], at_least=_PARSE_IN_WORKERS_FROM)
    for (i, raw, key), kept in zip(missing, parsed):
        if isinstance(kept, _KeptDocument) and kept.display == files[i].display:
            out[i] = (kept.doc(), list(kept.problems))
        else:   # parsed here
            doc, kept = _parse_and_write(files[i], raw, key, cache_dir)
            out[i] = (doc, list(kept.problems))
    return out


_PARSE_IN_WORKERS_FROM = 32   # fewer files are parsed sooner here than by starting workers


def _parse_and_keep(cache_dir: pathlib.Path, file: KeptFile) -> _KeptDocument:
    """In a worker: one file read (its bytes again: the key must be that of what is parsed) and kept."""
    return _read_and_keep(file, cache_dir)[1]


def _kept_key(raw: bytes, display: str, schema_name: str, also: Callable | None = None) -> str:
    """The cache key `read_located_kept` keeps a file of these bytes under."""
    from . import cache

    checks = f"{schema_name} {also.__module__}.{also.__qualname__}" if also is not None else schema_name
    return "y-" + cache.key_for([("", _KEPT_FORMAT.encode()), ("checks", checks.encode()), (display, raw)])


def load_policy(path: pathlib.Path, display: str, problems: list[Diagnostic]) -> Policy | None:
    doc = read_located(path, display, "policy.schema.json", problems)
    if doc is None:
        return None
    return _Builder(doc, problems).policy()


def parse_date(text: str) -> datetime.date | tuple[str, str]:
    """A `YYYY`, `YYYY-MM` or `YYYY-MM-DD` text (the schema has checked its shape) as the
    first day it names — or why no such day exists (zh, en): `2025-02-30`, year `0000`."""
    year, month, day = (text.split("-") + ["01", "01"])[:3]
    if int(year) < 1:
        return (f"“{text}” 不是有效日期：没有 0 年", f"{text!r} is not a valid date: there is no year 0")
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        last = calendar.monthrange(int(year), int(month))[1] if 1 <= int(month) <= 12 else None
        if last is None:
            return (f"“{text}” 不是有效日期：没有 {int(month)} 月", f"{text!r} is not a valid date: no month {int(month)}")
        return (f"“{text}” 不是有效日期：{int(year)} 年 {int(month)} 月只有 {last} 天",
                f"{text!r} is not a valid date: {int(year)}-{int(month):02d} has {last} days")


def _citation(raw: dict | None) -> Citation | None:
    if raw is None:
        return None
    return Citation(str(raw["document"]), str(raw["clause"]), raw.get("says"))


class _Builder:
    def __init__(self, doc: LocatedDocument, problems: list[Diagnostic]):
        self.doc = doc
        self.problems = problems
        self.data = doc.data
        self.id = self.data["id"]

    def at(self, *path) -> Position:
        return self.doc.at(tuple(path))

    def error(self, path: tuple, code: str, zh: str, en: str) -> None:
        p = self.doc.at(path)
        self.problems.append(Diagnostic(code, zh, en, p.file, p.line, p.column))

    def date(self, path: tuple, text: Any) -> Any:
        """The date written at `path`, or _BAD after reporting a day that does not exist."""
        found = parse_date(str(text))
        if isinstance(found, tuple):
            self.error(path, "bad-date", *found)
            return _BAD
        return found

    def policy(self) -> Policy:
        data = self.data
        for i, d in enumerate(data.get("documents", ())):
            for key in ("issued", "in_force"):  # kept as written (as precise as the source), but a real day
                if d.get(key) is not None:
                    self.date(("documents", i, key), d[key])
        documents = tuple(
            Document(d["id"], d["title"], d.get("issuer"), d.get("issued"), d.get("in_force"), d.get("nature"), d.get("nature_note"))
            for d in data.get("documents", ())
        )
        in_force = self.in_force(data.get("in_force"))
        parameters = [self.parameter(name, raw) for name, raw in (data.get("parameters") or {}).items()]
        if in_force is not None:
            parameters.append(self.in_force_parameter(in_force))
        variables = tuple(self.variable(name, raw) for name, raw in (data.get("variables") or {}).items())
        benefits = tuple(self.benefit(i, raw) for i, raw in enumerate(data.get("benefits") or ()))
        rules = tuple(self.rule(i, raw, in_force) for i, raw in enumerate(data.get("rules") or ()))
        return Policy(
            id=self.id, region=data["region"], name=data["name"], extends=data.get("extends"), documents=documents,
            parameters=tuple(p for p in parameters if p), variables=tuple(v for v in variables if v),
            benefits=benefits, rules=rules, file=self.doc.file, position=self.at(),
            extends_position=self.at("extends") if "extends" in data else None, in_force=in_force,
            floors=tuple(self.floor(i, raw) for i, raw in enumerate(data.get("floors") or ())),
            region_position=self.at("region"),
        )

    def floor(self, index: int, raw: dict) -> Floor:
        base = ("floors", index)
        return Floor(raw["id"], raw["title"], raw["for"],
                     self.expression((*base, "when"), raw["when"]) if raw.get("when") is not None else None,
                     self.expression((*base, "holds"), raw["holds"]), _citation(raw["source"]), self.id, self.doc.at(base))

    def in_force(self, raw: dict | None) -> InForce | None:
        if raw is None:
            return None
        start = self.date(("in_force", "from"), raw["from"])
        if start is _BAD:
            return None  # reported: the tree is refused
        return InForce(start, _citation(raw["source"]), raw.get("interpretation"), raw.get("note"), self.at("in_force"))

    def in_force_parameter(self, in_force: InForce) -> Parameter:
        """`in_force.<id>`: the date this policy's rules apply from, readable by its (and its children's) rules."""
        value = ParameterValue(in_force.start, None, in_force.start, in_force.source, False, in_force.note,
                               in_force.interpretation, in_force.position)
        return Parameter(IN_FORCE_PREFIX + self.id, f"{self.data['name']}政策施行日期", T_DATE, "date", (value,), None,
                         self.id, in_force.position, "本政策文件的规则自此日期（按结算日期）起适用；取自 in_force。")

    def expression(self, path: tuple, raw: Any) -> ExpressionText:
        position = self.doc.at(path)
        if isinstance(raw, bool) or raw is None:
            return ExpressionText(str(raw).lower(), position, FixedPosition(position), raw, True)
        if isinstance(raw, int | Decimal):
            return ExpressionText(str(raw), position, FixedPosition(position), Decimal(raw), True)
        node = self.doc.nodes.get(path)
        locate = node.offset_position if node is not None else FixedPosition(position)
        return ExpressionText(str(raw), position, locate)

    def rule(self, index: int, raw: dict, in_force: InForce | None) -> Rule:
        base = ("rules", index)
        effective = raw.get("effective") or {}
        start, until = (self.date((*base, "effective", key), effective[key]) if effective.get(key) else None
                        for key in ("from", "until"))
        effective_from = None if start is _BAD else start  # reported: the tree is refused
        if in_force is not None and effective_from is not None and effective_from < in_force.start:
            self.error((*base, "effective", "from"), "rule-before-in-force",
                       f"规则 {raw['id']} 的生效日期 {effective_from} 早于本政策的施行日期 {in_force.start}（in_force）",
                       f"rule {raw['id']} takes effect on {effective_from}, before the policy's in_force date {in_force.start}")
        return Rule(
            id=raw["id"], title=raw["title"], sets=raw["sets"],
            when=self.expression((*base, "when"), raw["when"]) if raw.get("when") is not None else None,
            value=self.expression((*base, "value"), raw["value"]),
            overrides=tuple(raw.get("overrides") or ()),
            source=_citation(raw["source"]), interpretation=raw.get("interpretation"),
            effective_from=effective_from,
            effective_until=None if until is _BAD else until,
            policy_id=self.id, position=self.doc.at(base),
            overrides_positions=tuple(self.doc.at((*base, "overrides", j)) for j in range(len(raw.get("overrides") or ()))),
            guard=raw.get("guard"),
        )

    def parameter(self, name: str, raw: dict) -> Parameter | None:
        base = ("parameters", name)
        if name.startswith(IN_FORCE_PREFIX):
            self.error(base, "reserved-name", f"参数名 {name} 以 in_force. 开头：这类参数由政策的 in_force 自动生成，不能另行声明",
                       f"parameter {name} starts with in_force.: such parameters come from a policy's in_force block")
            return None
        type_ = parse_type_name(raw["type"])
        values = []
        for j, item in enumerate(raw["values"]):
            vpath = (*base, "values", j)
            converted = self.convert(item["value"], raw["type"], (*vpath, "value"))
            start = self.date((*vpath, "from"), item["from"])
            until = self.date((*vpath, "until"), item["until"]) if item.get("until") else None
            if any(part is _BAD for part in (converted, start, until)):
                continue
            values.append(ParameterValue(
                start=start, until=until, value=converted,
                source=_citation(item.get("source")), illustrative=bool(item.get("illustrative", False)),
                note=item.get("note"), interpretation=item.get("interpretation"), position=self.doc.at(vpath),
                approval=_citation(item.get("approval")),
            ))
        bounds_raw = raw.get("bounds")
        bounds = None
        if bounds_raw:
            bounds = Bounds(
                Decimal(bounds_raw["min"]) if bounds_raw.get("min") is not None else None,
                Decimal(bounds_raw["max"]) if bounds_raw.get("max") is not None else None,
                _citation(bounds_raw.get("source")),
            )
        return Parameter(name, raw["title"], type_, raw["type"], tuple(values), bounds, self.id, self.doc.key_at(base),
                         raw.get("description"), _citation(raw.get("set_by")), _citation(raw.get("changes_need_approval")))

    def convert(self, value: Any, type_name: str, path: tuple) -> Any:
        """Parameter value as the type says, or _BAD after reporting why not."""
        try:
            if type_name.startswith("list<"):
                if not isinstance(value, list):
                    raise ValueError
                inner = type_name[5:-1]
                items = [self.convert(v, inner, (*path, k)) for k, v in enumerate(value)]
                return _BAD if _BAD in items else tuple(items)
            if type_name == "number" and isinstance(value, int | Decimal) and not isinstance(value, bool):
                return Decimal(value)
            if type_name == "bool" and isinstance(value, bool):
                return value
            if type_name == "date" and isinstance(value, str) and _DATE_SHAPE.fullmatch(value):
                return self.date(path, value)
            if type_name == "string" and isinstance(value, str):
                return value
        except ValueError:
            pass
        self.error(path, "wrong-type", f"参数取值 {value!r} 不是{parse_type_name(type_name).zh()}",
                   f"parameter value {value!r} is not a {type_name}")
        return _BAD

    def variable(self, name: str, raw: dict) -> Variable:
        return Variable(name, raw["title"], raw["for"], parse_type_name(raw["type"]), raw["type"], self.id,
                        self.doc.key_at(("variables", name)), raw.get("description"))

    def benefit(self, index: int, raw: dict) -> BenefitTable:
        rows = tuple(
            BenefitRow(r["scheme"], r.get("level"), Decimal(r["deductible"]), Decimal(r["ratio"]),
                       Decimal(r["cap"]) if r.get("cap") is not None else None)
            for r in raw["rows"]
        )
        return BenefitTable(raw["id"], raw["title"], tuple(raw["care"]), bool(raw["illustrative"]), raw.get("note"),
                            _citation(raw.get("source")), rows, self.id, self.doc.at(("benefits", index)))


_BAD = object()
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
