"""A row of a nested claim table, as the JSON document the contract describes.

A Parquet table cannot tell an absent field from a null one, and its types are
not JSON's. So, read through the contract's field model (`contract.model`):

* a null where the contract allows null stays null; elsewhere it means the
  field is absent (a default applies, or the validator names the missing field);
* a double becomes the exact decimal it prints as (`9030.44`, never
  9030.4400000000005; `7180.0`), as the same number written in JSON would;
* a decimal column's value loses trailing zeros (`7876.410` → `7876.41`,
  `7180.00` → `7180`);
* a date or timestamp becomes its ISO date text.

Anything else is passed on as it is, for the validator to judge — so a table
whose columns do not follow the contract gives error rows naming the fields.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from ..contract import CLAIM, SCHEMA_FILES, Field, model


def document(row: dict[str, Any]) -> dict[str, Any]:
    """The contract document of one table row (a dict of Arrow's Python values)."""
    kind = row.get("kind")
    root = model(kind if kind in SCHEMA_FILES else CLAIM).root
    return _object(row, root)


def _object(value: dict[str, Any], field: Field | None) -> dict[str, Any]:
    out = {}
    for key, item in value.items():
        child = field.child(key) if field is not None else None
        if item is None and (child is None or not child.nullable):
            continue
        out[key] = _value(item, child)
    return out


def _value(item: Any, field: Field | None) -> Any:
    if isinstance(item, dict):
        return _object(item, field)
    if isinstance(item, list):
        return [_value(element, field) for element in item]   # an array's field describes its items
    if isinstance(item, float):
        return Decimal(repr(item)) if item - item == 0 else item     # NaN and ±inf are left for the validator
    if isinstance(item, Decimal):
        return _number(item)
    if isinstance(item, datetime.datetime):
        return item.date().isoformat()
    if isinstance(item, datetime.date):
        return item.isoformat()
    return item


def _number(value: Decimal) -> int | Decimal:
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()
