"""A nested table row becomes the document the claim was: Parquet's nulls and doubles read back as the contract means.

No Spark needed: a row is built as Spark's JSON reader and Parquet give it —
every field of the table's schema present (null where the claim has none), every
number of a `number` field a double — and must be decided exactly as the claim
itself.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from yidi.contract import CLAIM, Field, model
from yidi.documents import load_json
from yidi.spark.rows import document
from yidi.synth import generate


def table_row(value, field: Field):
    """`value` as a row of a table whose columns are every field of the contract (Spark's schema inference, roughly)."""
    if field.kind == "object":
        if value is None:
            return None
        return {f.name: table_row(value.get(f.name), f) for f in field.fields}
    if field.kind == "number" and value is not None:
        return float(value)
    return value


def decided(engine, claim) -> dict:
    return json.loads(json.dumps(engine.evaluate(claim, "ids"), default=str), parse_float=Decimal)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_a_table_row_is_decided_as_the_claim_it_was_written_from(engine, seed):
    root = model(CLAIM).root
    for claim in generate(20, seed=seed):
        original = load_json(json.dumps(claim))
        row = table_row(json.loads(json.dumps(claim)), root)
        assert decided(engine, document(row)) == decided(engine, original)


def test_nulls_dates_and_decimals_read_as_the_contract_means():
    row = {"kind": "claim", "id": "X", "filing": None,
           "insured": {"region": "410100", "scheme": "employee", "birth_date": None},
           "visit": {"admission_date": datetime.date(2026, 1, 2), "discharge_date": datetime.datetime(2026, 1, 5, 0, 0),
                     "chronic_disease": None, "hospital_level": 3, "payment_source": None},
           "costs": {"total": Decimal("7180.00"), "in_scope": 6964.22}}
    doc = document(row)
    assert doc["filing"] is None                                  # nullable: kept
    assert doc["insured"]["birth_date"] is None                   # nullable: kept
    assert "payment_source" not in doc["visit"]                   # not nullable: absent (its default applies)
    assert doc["visit"]["admission_date"] == "2026-01-02" and doc["visit"]["discharge_date"] == "2026-01-05"
    assert doc["costs"] == {"total": 7180, "in_scope": Decimal("6964.22")}
    assert "chronic_disease" in doc["visit"] and doc["visit"]["chronic_disease"] is None
