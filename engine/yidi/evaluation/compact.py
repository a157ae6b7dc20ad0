"""The compact trace: what varies per decision, against a rule table written once.

A full trace entry is mostly static — the rule's clause, its words, title,
file and line, the parameter values it read with their sources — and only
its `value` depends on the claim. Written for a million claims, the static
part is nearly all of the output (about 10 KB a claim). The compact form
keeps the static parts once, in a *rule table* (one item per distinct entry
of every policy, kind and parameter version of one policy revision), and
writes per claim only `[index, value]` (`[index, insured region]` for the
policy-selection entry, a bare `index` for a floor conflict, whose entry is
all static). `render` turns a compact trace back into the full one, entry
for entry and key for key, so the rendered decision is the same bytes as
`--trace full` would have written.

The table is built from the explainers in a fixed order (sorted by policy,
kind, version; duplicates kept once), so every process that loads the same
revision builds the same table — worker processes agree with the parent.
The file format (a `trace_table` header record, then decisions) is
documented in docs/traces.md.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ..jsonout import dump_bytes
from ..policy.decision_model import CLAIM
from .decision import Explainer, benefit_entry

FORMAT = "yidi-compact-trace/1"
HEADER_KEY = "trace_table"
HOWS = ("exact", "city", "province", "national")


@dataclasses.dataclass(frozen=True)
class CompactIndex:
    """Where one explainer's entries sit in the table: by rule, by how the policy was chosen, by floor, by benefit table."""

    rules: tuple[int, ...]
    selection: Mapping[str, int]
    floors: tuple[int, ...]
    benefits: Mapping[int, int]           # id(table object) → index
    table: TraceTable

    def benefit(self, table) -> int:
        found = self.benefits.get(id(table))
        return found if found is not None else self.table.index_of({"entry": benefit_entry(table, None), "fill": "value"})


class TraceTable:
    """Every static trace entry of one policy set, each once; items are JSON-ready."""

    def __init__(self, explainers: Mapping[tuple[str, str, int], Explainer], revision: str):
        self.revision = revision
        self.items: list[dict[str, Any]] = []
        self._seen: dict[bytes, int] = {}
        for key in sorted(explainers):
            explainer = explainers[key]
            selection = {}
            for how in HOWS:
                entry = explainer.selection_entry("", how)
                before, after = explainer.selection_words(how)
                selection[how] = self._add({"entry": {**entry, "explanation": ""}, "fill": "explanation",
                                            "around": [before, after]})
            explainer.compact_index = CompactIndex(
                rules=tuple(self._add({"entry": entry, "fill": "value"}) for entry in explainer.entries),
                selection=selection,
                floors=tuple(self._add({"entry": entry}) for _, entry in explainer.floors),
                benefits={id(table): self._add({"entry": benefit_entry(table, None), "fill": "value"})
                          for table in explainer.compiled.layered.benefits} if explainer.kind == CLAIM else {},
                table=self)

    def _add(self, item: dict[str, Any]) -> int:
        key = dump_bytes(item)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = len(self.items)
            self.items.append(item)
        return found

    def index_of(self, item: dict[str, Any]) -> int:
        found = self._seen.get(dump_bytes(item))
        if found is None:
            raise LookupError("a trace entry that is not in the rule table")  # the table covers every explainer: a bug
        return found

    def header(self) -> dict[str, Any]:
        """The record that opens a compact file: format, revision, and the table."""
        return {HEADER_KEY: {"format": FORMAT, "revision": self.revision, "items": self.items}}


class Builder:
    """Builds the table on first use (most runs never need it), once, even with threads."""

    def __init__(self, explainers: Callable[[], Mapping[tuple[str, str, int], Explainer]], revision: str):
        self._explainers = explainers  # called once, when the table is first needed (explainers are built lazily)
        self._revision = revision
        self._lock = threading.Lock()
        self.table: TraceTable | None = None

    def __call__(self) -> TraceTable:
        if self.table is None:
            with self._lock:
                if self.table is None:
                    self.table = TraceTable(self._explainers(), self._revision)
        return self.table


class CompactError(ValueError):
    """A compact trace or table that cannot be rendered; Chinese and English messages."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


def check_table(header: Any) -> tuple[str, list[dict[str, Any]]]:
    """(revision, items) of a header record's table; CompactError saying what is wrong with it."""
    if not isinstance(header, dict):
        raise CompactError("trace_table 不是对象", "trace_table is not an object")
    if header.get("format") != FORMAT:
        raise CompactError(f"依据表格式 {header.get('format')!r} 不是 {FORMAT}",
                           f"trace table format {header.get('format')!r} is not {FORMAT}")
    revision, items = header.get("revision"), header.get("items")
    if not isinstance(revision, str) or not revision:
        raise CompactError("依据表没有政策版本（revision）", "the trace table has no policy revision")
    if not isinstance(items, list):
        raise CompactError("依据表的 items 不是数组", "the trace table's items is not an array")
    for k, item in enumerate(items):
        fill = item.get("fill") if isinstance(item, dict) else None
        ok = (isinstance(item, dict) and isinstance(item.get("entry"), dict) and fill in (None, "value", "explanation")
              and (fill != "explanation" or (isinstance(item.get("around"), list) and len(item["around"]) == 2
                                             and all(isinstance(part, str) for part in item["around"]))))
        if not ok:
            raise CompactError(f"依据表第 {k} 项格式不对", f"item {k} of the trace table is malformed")
    return revision, items


def render(items: list[dict[str, Any]], trace: Any) -> list[dict[str, Any]]:
    """The full trace a compact one stands for; CompactError naming the element that cannot be rendered."""
    if not isinstance(trace, list):
        raise CompactError("trace 不是数组", "trace is not an array")
    out = []
    size = len(items)
    for position, element in enumerate(trace):
        if type(element) is int:
            k, value, pair = element, None, False
        elif type(element) in (list, tuple) and len(element) == 2 and type(element[0]) is int:
            (k, value), pair = element, True
        else:
            raise CompactError(f"依据记录第 {position + 1} 项不是编号或 [编号, 值]",
                               f"trace element {position + 1} is neither an index nor [index, value]")
        if not 0 <= k < size:
            raise CompactError(f"依据记录第 {position + 1} 项引用编号 {k}，依据表只有 {size} 项（0–{size - 1}）",
                               f"trace element {position + 1} refers to index {k}; the table has {size} items (0–{size - 1})")
        item = items[k]
        fill = item.get("fill")
        if pair != (fill is not None):
            raise CompactError(f"依据记录第 {position + 1} 项与依据表第 {k} 项不符（{'多了' if pair else '缺少'}取值）",
                               f"trace element {position + 1} does not fit table item {k} ({'a value too many' if pair else 'value missing'})")
        entry = dict(item["entry"])
        if fill == "explanation":
            if not isinstance(value, str):
                raise CompactError(f"依据记录第 {position + 1} 项的参保地不是字符串",
                                   f"trace element {position + 1}: the insured region is not a string")
            before, after = item["around"]
            entry["explanation"] = before + value + after
        elif fill == "value":
            entry["value"] = value
        out.append(entry)
    return out
