"""Decide a DataFrame of documents in Spark's executors, with the same engine as `yidi batch`.

Each Arrow batch of a partition goes through `Engine.evaluate_json` (a JSON
text column) or `Engine.evaluate` (nested columns following the contract, see
`rows`), one document at a time through `batch.decide_one` — the very function
`yidi batch` decides its lines with — so a row's `decision` is byte for byte
the line `yidi batch` writes, and a row that is not a valid document becomes an
error row carrying the error body batch's error file would hold (without the
line number): the job never fails because of a row.

The output has one row per input row: the decision's key fields as typed
columns (named as in schemas/decision.schema.json), the full decision as JSON
text, and for an error row `error`, `problems` and `error_body`. Every row says
which policy revision decided it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql.types import ArrayType, DecimalType, StringType, StructField, StructType

from ..batch import decide_one
from ..documents import load_json
from ..errors import InputError
from ..jsonout import dump_bytes
from . import rows
from .shipping import engine_for

AMOUNT_PLACES, RATIO_PLACES = 6, 10     # decimal places of the typed columns; `decision` holds the exact values
AMOUNTS = ("in_scope", "deductible", "fund", "personal")
CATEGORIES = ("scope", "route", "filing_status", "treatment", "catalog")

PROBLEM = StructType([StructField("path", StringType()), StructField("message", StringType()),
                      StructField("message_en", StringType())])
OUTPUT = StructType([
    StructField("id", StringType()),                    # claim_id / request_id; for an error row the document's id, if readable
    StructField("kind", StringType()),                  # claim | filing_request (null: not known)
    StructField("revision", StringType(), False),       # the policy revision every executor checked
    StructField("policy", StringType()),                # policy.id
    *(StructField(name, StringType()) for name in CATEGORIES),
    StructField("reduction_pp", DecimalType(38, RATIO_PLACES)),
    StructField("ratio", DecimalType(38, RATIO_PLACES)),
    StructField("amounts", StructType([StructField(name, DecimalType(38, AMOUNT_PLACES)) for name in AMOUNTS])),
    StructField("flags", ArrayType(StringType())),
    StructField("undetermined", ArrayType(StringType())),   # the outputs a partial decision leaves open
    StructField("decision", StringType()),              # the answer as `yidi batch` writes it (null for an error row)
    StructField("error", StringType()),                 # invalid-input | rule-conflict | no-applicable-rule | policy-too-complex | internal-error
    StructField("problems", ArrayType(PROBLEM)),        # an invalid document's problems, by JSON path
    StructField("error_body", StringType()),            # the error as JSON, as every interface writes it
])


def decide_frame(frame: DataFrame, shipment, column: str | None = None, trace: str = "ids") -> DataFrame:
    """`frame` decided row by row; `shipment` is the broadcast Shipment, `column` a JSON text column (else nested rows)."""
    if column is not None:
        frame = frame.select(column)

    def run(batches):
        shipped = shipment.value
        engine = engine_for(shipped)
        for batch in batches:
            yield decide_batch(engine, shipped.revision, batch, column is not None, trace)

    return frame.mapInArrow(run, OUTPUT)


def arrow_schema() -> pa.Schema:
    """OUTPUT as Arrow types (what each batch returned to Spark is built with)."""
    decimal = pa.decimal128
    return pa.schema([
        ("id", pa.string()), ("kind", pa.string()), pa.field("revision", pa.string(), nullable=False), ("policy", pa.string()),
        *((name, pa.string()) for name in CATEGORIES),
        ("reduction_pp", decimal(38, RATIO_PLACES)), ("ratio", decimal(38, RATIO_PLACES)),
        ("amounts", pa.struct([(name, decimal(38, AMOUNT_PLACES)) for name in AMOUNTS])),
        ("flags", pa.list_(pa.string())), ("undetermined", pa.list_(pa.string())), ("decision", pa.string()),
        ("error", pa.string()), ("problems", pa.list_(pa.struct([("path", pa.string()), ("message", pa.string()),
                                                                ("message_en", pa.string())]))),
        ("error_body", pa.string()),
    ])


_SCHEMA: pa.Schema | None = None


def decide_batch(engine, revision: str, batch: pa.RecordBatch, json_column: bool, trace: str) -> pa.RecordBatch:
    """One output batch: a row for each input row, in order."""
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = arrow_schema()
    if json_column:
        texts = batch.column(0).to_pylist()
        documents: list[Any] = [b"null" if t is None else t.encode() if isinstance(t, str) else t for t in texts]
        decide = engine.evaluate_json
    else:
        documents = [rows.document(row) for row in batch.to_pylist()]
        decide = engine.evaluate
    out: list[dict[str, Any]] = []
    for document in documents:
        answer, error = decide_one(decide, document, trace)
        out.append(_decided(answer, revision) if answer is not None else _failed(error, document, revision))
    return pa.RecordBatch.from_pylist(out, schema=_SCHEMA)


def _decided(answer: dict[str, Any], revision: str) -> dict[str, Any]:
    if "claim_id" not in answer:     # a filing request's answer: only the JSON and its id
        return {"id": answer.get("request_id"), "kind": "filing_request", "revision": revision,
                "decision": dump_bytes(answer).decode()}
    amounts = answer["amounts"]
    return {"id": answer["claim_id"], "kind": "claim", "revision": revision, "policy": answer["policy"]["id"],
            **{name: answer[name] for name in CATEGORIES},
            "reduction_pp": _fit(answer["reduction_pp"], RATIO_PLACES), "ratio": _fit(answer["ratio"], RATIO_PLACES),
            "amounts": None if amounts is None else {name: _fit(amounts.get(name), AMOUNT_PLACES) for name in AMOUNTS},
            "flags": answer["flags"], "undetermined": [entry["output"] for entry in answer.get("undetermined", ())],
            "decision": dump_bytes(answer).decode()}


def _failed(body: dict[str, Any], document: Any, revision: str) -> dict[str, Any]:
    raw = _parsed(document)
    identity = raw.get("id") if isinstance(raw, dict) else None
    kind = raw.get("kind") if isinstance(raw, dict) else None
    return {"id": identity if isinstance(identity, str) else None, "kind": kind if kind in ("claim", "filing_request") else None,
            "revision": revision, "error": body["error"], "problems": body.get("problems"),
            "error_body": dump_bytes(body).decode()}


def _parsed(document: Any) -> Any:
    if not isinstance(document, (bytes, str)):
        return document
    try:
        return load_json(document)
    except InputError:
        return None


def _fit(value: Any, places: int) -> Decimal | None:
    """A number for a decimal column of `places` places (rounded half up only if it has more)."""
    if value is None:
        return None
    number = value if isinstance(value, Decimal) else Decimal(value)
    if number.as_tuple().exponent < -places:   # type: ignore[operator]
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return number
