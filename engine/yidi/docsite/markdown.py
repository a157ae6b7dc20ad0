"""Small helpers for writing Markdown that Python-Markdown renders as meant.

Policy text may contain characters Markdown treats specially (`|` ends a
table cell, `*` and `_` start emphasis, `<` starts HTML); they are escaped
here once, outside code spans, so generated pages never garble a clause.
"""

from __future__ import annotations

import datetime
import html
import re
from decimal import Decimal
from typing import Any

_SPECIAL = re.compile(r"([\\|*_\[\]<>])")


def esc(text: Any) -> str:
    """Escape text for a Markdown table cell or paragraph (keeps `code` spans as they are)."""
    parts = str(text).split("`")
    for i in range(0, len(parts), 2):
        parts[i] = _SPECIAL.sub(lambda m: {"<": "&lt;", ">": "&gt;"}.get(m.group(1), "\\" + m.group(1)), parts[i])
    return "`".join(parts).replace("\n", " ")


def code(text: str) -> str:
    """Inline code, safe inside a table cell."""
    return "<code>" + html.escape(text).replace("|", "&#124;") + "</code>"


def table(header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return ""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell if cell else " " for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def anchor(rule_id: str) -> str:
    return "rule-" + re.sub(r"[^a-z0-9-]", "-", rule_id.lower())


def number(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return "、".join(number(v) for v in value)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def details(summary: str, body_html: str) -> str:
    """A collapsed block (raw HTML, so no blank lines inside)."""
    return f"<details><summary>{html.escape(summary)}</summary>{body_html}</details>\n"


def pre(text: str) -> str:
    return "<pre><code>" + html.escape(text.strip()) + "</code></pre>"
