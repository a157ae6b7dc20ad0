"""Write answers as JSON without ever passing money through float.

The standard encoder cannot write a Decimal as a number, and converting to
float first would undo the exact arithmetic (75.015 → 75.01). This writer
emits Decimal as its own digits, dates as ISO strings, and everything else
as `json` would.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

_string = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _number(value: Decimal) -> str:
    if value == value.to_integral_value() and abs(value) < Decimal("1e15"):
        return str(int(value))
    text = format(value.normalize(), "f")
    return text


def _parts(value: Any, indent: str | None, level: int):
    if value is None:
        yield "null"
    elif value is True:
        yield "true"
    elif value is False:
        yield "false"
    elif isinstance(value, str):
        yield _string(value)
    elif isinstance(value, Decimal):
        yield _number(value)
    elif isinstance(value, int | float):
        yield json.dumps(value)
    elif isinstance(value, datetime.date):
        yield '"' + value.isoformat() + '"'
    elif isinstance(value, dict):
        if not value:
            yield "{}"
            return
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            if i:
                yield ","
            if indent is not None:
                yield "\n" + indent * (level + 1)
            yield _string(str(key)) + (": " if indent is not None else ":")
            yield from _parts(item, indent, level + 1)
        if indent is not None:
            yield "\n" + indent * level
        yield "}"
    elif isinstance(value, list | tuple):
        if not value:
            yield "[]"
            return
        yield "["
        for i, item in enumerate(value):
            if i:
                yield ","
            if indent is not None:
                yield "\n" + indent * (level + 1)
            yield from _parts(item, indent, level + 1)
        if indent is not None:
            yield "\n" + indent * level
        yield "]"
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON text of `value`; Chinese stays readable (no \\u escapes)."""
    return "".join(_parts(value, " " * indent if indent else None, 0))
