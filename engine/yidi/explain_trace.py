"""Turn a file of compact decisions back into full decisions (`yidi explain`, yidi.cli.explain).

`yidi batch --trace compact` writes the rule table once (a `trace_table`
record) and, per decision, only indexes into it and values; this command
renders each decision to exactly the bytes `--trace full` writes for the
same claim (docs/traces.md). It needs no policy tree: the table travels in
the file, and a decision whose `policy.revision` is not the table's is
refused, never rendered with the wrong clauses.

The input is untrusted: a line that is not UTF-8, not JSON, not a decision,
has no table before it, a table from another revision, or an index the table
does not have, is reported as `FILE:LINE: message` on standard error (JSON
lines with `--format json`); the lines around it are still rendered. A file
may hold several tables (files concatenated): each applies to the decisions
after it.

"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, BinaryIO

import msgspec

from .evaluation.compact import HEADER_KEY, CompactError, check_table, render
from .jsonout import dump_bytes

_DECODE = msgspec.json.Decoder(float_hook=Decimal)  # numbers keep their digits: the output is byte for byte


class LineError(Exception):
    """One line that cannot be rendered: its number and the message in both languages."""

    def __init__(self, line: int, zh: str, en: str):
        super().__init__(f"{line}: {en}")
        self.line, self.zh, self.en = line, zh, en


class _Table:
    """The table in effect: from which line, for which revision; None items once a broken table was met."""

    def __init__(self, line: int, revision: str | None, items: list[dict[str, Any]] | None):
        self.line, self.revision, self.items = line, revision, items


def _parse(number: int, raw: bytes) -> Any:
    try:
        return _DECODE.decode(raw)
    except msgspec.DecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise LineError(number, f"不是 UTF-8 文本（第 {bad.start + 1} 个字节）",
                            f"not UTF-8 text (byte {bad.start + 1})") from None
        raise LineError(number, f"不是 JSON：{exc}", f"not JSON: {exc}") from None
    except RecursionError:
        raise LineError(number, "JSON 嵌套过深", "JSON nested too deeply") from None


def explain_lines(lines: Iterable[bytes]) -> Iterator[bytes | LineError]:
    """For each line of a compact file: the full decision as one JSON line, or the LineError saying why not.

    Table records produce nothing; empty lines are skipped.
    """
    table: _Table | None = None
    for number, raw in enumerate(lines, start=1):
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            continue
        try:
            record = _parse(number, raw)
            if not isinstance(record, dict):
                raise LineError(number, "不是 JSON 对象", "not a JSON object")
            if HEADER_KEY in record:
                table = _Table(number, None, None)  # until it is found sound, nothing renders against it
                try:
                    revision, items = check_table(record[HEADER_KEY])
                except CompactError as exc:
                    raise LineError(number, f"依据表无效：{exc.zh}", f"invalid trace table: {exc.en}") from None
                table = _Table(number, revision, items)
                continue
            yield _decision(number, record, table)
        except LineError as exc:
            yield exc


def _decision(number: int, record: dict[str, Any], table: _Table | None) -> bytes:
    if table is None:
        raise LineError(number, "此前没有依据表（trace_table 记录）：紧凑形式的文件以它开头，它是 yidi batch --trace compact 写出的吗？",
                        "no trace table (trace_table record) before this line: a compact file opens with one; "
                        "was it written by yidi batch --trace compact?")
    if table.items is None:
        raise LineError(number, f"适用的依据表（第 {table.line} 行）无效，无法还原",
                        f"the trace table in effect (line {table.line}) is invalid; cannot render")
    policy = record.get("policy")
    revision = policy.get("revision") if isinstance(policy, dict) else None
    if not isinstance(revision, str):
        raise LineError(number, "不是决定：没有 policy.revision", "not a decision: no policy.revision")
    if revision != table.revision:
        raise LineError(number, f"决定的政策版本 {revision} 与依据表（第 {table.line} 行）的版本 {table.revision} 不同；拒绝还原",
                        f"the decision's policy revision {revision} is not the trace table's ({table.revision}, "
                        f"line {table.line}); refused")
    if "trace" not in record:
        raise LineError(number, "不是决定：没有 trace", "not a decision: no trace")
    try:
        record["trace"] = render(table.items, record["trace"])
    except CompactError as exc:
        raise LineError(number, exc.zh, exc.en) from None
    return dump_bytes(record)


def explain_stream(source: BinaryIO, out: BinaryIO, report) -> tuple[int, int]:
    """Render every line of `source` to `out`; `report(LineError)` for each bad line. (rendered, bad)."""
    rendered = bad = 0
    batch: list[bytes] = []
    for result in explain_lines(source):
        if isinstance(result, LineError):
            bad += 1
            report(result)
            continue
        rendered += 1
        batch.append(result)
        if len(batch) >= 1024:
            out.write(b"\n".join(batch) + b"\n")
            batch.clear()
    if batch:
        out.write(b"\n".join(batch) + b"\n")
    return rendered, bad
