"""Claim tables on Apache Spark: the same engine in every executor (optional extra `yidi[spark]`).

    from pyspark.sql import SparkSession
    from yidi.spark import decide, load_policies

    spark = SparkSession.builder.master("local[2]").getOrCreate()
    policies = load_policies(spark, "policies")           # checked on the driver, shipped once per job
    decisions = decide(spark.read.parquet("claims.parquet"), policies)
    decisions = decide(spark.read.text("claims.jsonl"), policies, column="value")   # a JSON text column

`decide` returns one row per input row (columns: `decisions.OUTPUT`); invalid
rows become error rows, never a failed job. `impact` compares two policy
revisions over a table and returns the same summary `yidi diff` reports.
`python -m yidi.spark decide|diff …` is the command line (docs/spark.md).

Why Spark and not a distribution layer of our own: a province's settlements
already live in its data platform; Spark brings the rows to the engine,
retries failed tasks and scales out, and the rules stay in one engine —
a columnar re-implementation was measured and rejected (docs/spark.md).
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

try:
    import pyarrow  # noqa: F401
    import pyspark  # noqa: F401
except ImportError as exc:   # pragma: no cover — the message is the point
    raise ImportError("yidi.spark needs PySpark and PyArrow: pip install 'yidi[spark]' / "
                      "yidi.spark 需要 PySpark 与 PyArrow：pip install 'yidi[spark]'") from exc

from ..engine import Engine
from ..resources import data_dir
from .shipping import RevisionMismatch, Shipment, pack


@dataclasses.dataclass(frozen=True)
class Policies:
    """A policy set checked on the driver and broadcast to the executors (see `shipping`)."""

    engine: Engine
    root: pathlib.Path
    shipment: Shipment
    broadcast: Any

    @property
    def revision(self) -> str:
        return self.engine.revision


def load_policies(spark, root: str | pathlib.Path | None = None, executor_path: str | None = None,
                  engine: Engine | None = None) -> Policies:
    """Load and check the tree at `root` (default: the shipped one) on the driver and broadcast it.

    `executor_path`: a folder every executor has (e.g. one Spark distributes with
    `--archives`); the executors load it instead of the driver's files, and refuse
    (RevisionMismatch) if it is not the revision the driver checked. Raises
    yidi.DiagnosticError, with file:line, if the tree has problems.
    """
    root = pathlib.Path(root) if root is not None else data_dir("policies")
    engine = engine or Engine.load(root, cache=True)
    shipment = pack(engine, root, executor_path)
    return Policies(engine, root, shipment, spark.sparkContext.broadcast(shipment))


def decide(frame, policies: Policies, column: str | None = None, trace: str = "ids"):
    """Decide every row of `frame`: nested columns following the claim contract, or the JSON text in `column`."""
    from .decisions import decide_frame

    return decide_frame(frame, policies.broadcast, column, trace)


def impact(frame, old: Policies, new: Policies, column: str | None = None, sample: int = 20):
    """Compare two policy sets over `frame`: the `yidi diff` summary (impact_summary.Summary) and the example claims."""
    from .comparing import compare_frame

    return compare_frame(frame, old, new, column, sample)


__all__ = ["Policies", "RevisionMismatch", "decide", "impact", "load_policies"]
