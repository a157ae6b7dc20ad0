"""Write answers as JSON without ever passing money through float.

The standard encoder cannot write a Decimal as a number, and converting to
float first would undo the exact arithmetic (75.015 → 75.01). msgspec writes
Decimal as its own digits (`decimal_format="number"`), dates as ISO strings,
keeps Chinese readable, and is an order of magnitude faster than a
pure-Python writer — which matters when a batch writes millions of answers.
"""

from __future__ import annotations

from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder(decimal_format="number")


def dump_bytes(value: Any) -> bytes:
    """Compact JSON as UTF-8 bytes (one JSON Lines record, without the newline)."""
    return _ENCODER.encode(value)


def dump_lines(values: list[Any]) -> bytes:
    """JSON Lines: each value compact, each followed by a newline, in one call."""
    return _ENCODER.encode_lines(values)


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON text of `value`; indented for people when `indent` is given."""
    data = _ENCODER.encode(value)
    if indent:
        data = msgspec.json.format(data, indent=indent)
    return data.decode("utf-8")
