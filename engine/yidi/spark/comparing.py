"""The impact of a policy change over a claim table, compared in Spark: the report `yidi diff` writes.

Each partition is compared in an executor by `impact.compare_block` — the same
function `yidi diff` runs over blocks of its file — under both shipped policy
sets. An executor sends back one small result per partition: its `Tally`
(counts and sums, which merge exactly), the changed claims that may be shown
as examples (`Summary.kept`: a bounded superset of that partition's share of
the examples) with their JSON text, and its first invalid rows. The driver
merges the partitions in table order, so the counts, the examples and their
line numbers are those `yidi diff` gives for the same claims as a JSON Lines
file; no changed claim beyond the examples ever reaches the driver.

A row's "line" is its position in the order Spark reads the table: for a JSON
Lines file read with `spark.read.text`, its line number.
"""

from __future__ import annotations

import pickle
from typing import Any

from pyspark import TaskContext
from pyspark.sql import DataFrame
from pyspark.sql.types import BinaryType, StructField, StructType

from ..evaluation.evaluator import Evaluator
from ..impact import compare_block
from ..impact_summary import Summary
from ..jsonout import dump_bytes
from . import rows
from .shipping import engine_for

PART = StructType([StructField("part", BinaryType(), False)])


def compare_frame(frame: DataFrame, old, new, column: str | None, sample: int) -> tuple[Summary, dict[int, bytes]]:
    """The run's Summary (as `yidi diff` builds it) and {line: JSON text} of the example claims."""
    if column is not None:
        frame = frame.select(column)
    shipments = (old.broadcast, new.broadcast)

    def run(batches):
        evaluators = tuple(Evaluator(engine_for(s.value).policies) for s in shipments)
        yield _compare(evaluators, batches, column is not None, TaskContext.get().partitionId(), sample)

    parts = sorted((pickle.loads(row["part"]) for row in frame.mapInArrow(run, PART).collect()), key=lambda p: p["index"])
    summary = Summary(sample)
    texts: dict[int, bytes] = {}
    offset = 0
    for part in parts:
        for record in part["kept"]:
            record["line"] += offset
        for item in part["invalid"]:
            item["line"] += offset
        texts.update((line + offset, text) for line, text in part["texts"].items())
        summary.add((part["tally"], part["kept"], part["invalid"]))
        offset += part["rows"]
    wanted = {record["line"] for _, record in summary.examples()}
    return summary, {line: text for line, text in texts.items() if line in wanted}


def _lines(batch, json_column: bool) -> list[bytes]:
    """One line of JSON per row. Raw newlines can only be whitespace in valid JSON text (inside a string they
    are escaped), so they become spaces and a row stays one line."""
    if json_column:
        return [b"null" if t is None else (t.encode() if isinstance(t, str) else t).replace(b"\n", b" ").replace(b"\r", b" ")
                for t in batch.column(0).to_pylist()]
    return [dump_bytes(rows.document(row)) for row in batch.to_pylist()]


def _compare(evaluators, batches, json_column: bool, index: int, sample: int):
    """One partition, an Arrow batch at a time (memory bounded by a batch and the kept examples)."""
    import pyarrow as pa

    local = Summary(sample, max_kinds=None)
    texts: dict[int, bytes] = {}
    count = 0
    for batch in batches:
        lines = _lines(batch, json_column)
        local.add(compare_block(evaluators, count + 1, b"\n".join(lines)))
        texts.update((r["line"], lines[r["line"] - count - 1]) for r in local.kept() if r["line"] > count)
        count += len(lines)
    kept = local.kept()
    part: dict[str, Any] = {"index": index, "rows": count, "tally": local.tally, "kept": kept,
                            "invalid": local.invalid_examples, "texts": {r["line"]: texts[r["line"]] for r in kept}}
    return pa.RecordBatch.from_pydict({"part": [pickle.dumps(part)]}, schema=pa.schema([pa.field("part", pa.binary(), False)]))
