"""Problems found in policy files, positioned by file:line:column.

Every check in yidi (YAML loading, schema validation, expression checking,
policy linking) reports `Diagnostic`s instead of raising ad-hoc exceptions,
so an officer sees all problems of a file at once, each pointing at the
place to fix, in plain Chinese (English kept alongside for developers).
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_SEVERITY_WORDS = {
    "zh": {"error": "错误", "warning": "警告", "confirm": "待确认"},
    "en": {"error": "error", "warning": "warning", "confirm": "to confirm"},
}
# Findings that do not stop a policy tree: warnings, and conflicts between two levels' texts that only
# an officer can settle ("confirm": the engine decides by the rule that applies and flags the decision).
NON_BLOCKING = frozenset({"warning", "confirm"})
_HELP_WORDS = {"zh": "帮助", "en": "help"}


@dataclass(frozen=True)
class Diagnostic:
    """One problem; `line`/`column` are 1-based, columns count characters."""

    code: str
    message_zh: str
    message_en: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    severity: str = "error"
    help_zh: str | None = None
    help_en: str | None = None

    def message(self, lang: str = "zh") -> str:
        return self.message_en if lang == "en" else self.message_zh

    def help(self, lang: str = "zh") -> str | None:
        return self.help_en if lang == "en" else self.help_zh


class DiagnosticError(Exception):
    """Raised when work cannot go on; carries every problem found so far."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__(render(self.diagnostics, lang="zh"))


def sort_diagnostics(ds: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Order by file, line, column, code; position-less ones first in a file."""

    def key(d: Diagnostic):
        return (d.file or "", d.line or 0, d.column or 0, d.code)

    return sorted(ds, key=key)


def char_width(ch: str) -> int:
    """Terminal cells taken by `ch`: wide CJK characters take two."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


def _location(d: Diagnostic) -> str:
    if d.file is None:
        return ""
    if d.line is None:
        return f"{d.file}: "
    if d.column is None:
        return f"{d.file}:{d.line}: "
    return f"{d.file}:{d.line}:{d.column}: "


def _snippet(d: Diagnostic, source_lines: Callable[[str], list[str]] | None) -> list[str]:
    """The offending source line with a caret under the column, if available."""
    if source_lines is None or d.file is None or d.line is None:
        return []
    try:
        lines = source_lines(d.file)
    except (OSError, KeyError, ValueError):
        return []
    if not lines or not 1 <= d.line <= len(lines):
        return []
    # Tabs would make the caret land in the wrong cell; show them as one space.
    text = lines[d.line - 1].rstrip("\r\n").replace("\t", " ")
    gutter = str(d.line)
    pad = " " * len(gutter)
    out = [f" {gutter} | {text}"]
    if d.column is not None:
        before = text[: max(d.column - 1, 0)]
        out.append(f" {pad} | {' ' * display_width(before)}^")
    return out


def render_one(
    d: Diagnostic, lang: str = "zh", source_lines: Callable[[str], list[str]] | None = None
) -> str:
    words = _SEVERITY_WORDS["en" if lang == "en" else "zh"]
    severity = words.get(d.severity, d.severity)
    lines = [f"{_location(d)}{severity}[{d.code}]: {d.message(lang)}"]
    lines.extend(_snippet(d, source_lines))
    hint = d.help(lang)
    if hint:
        label = _HELP_WORDS["en" if lang == "en" else "zh"]
        lines.append(f"  {label}: {hint}")
    return "\n".join(lines)


def render(
    ds: Iterable[Diagnostic],
    lang: str = "zh",
    source_lines: Callable[[str], list[str]] | None = None,
) -> str:
    """Human-readable report, one block per diagnostic, blank line between.

    `source_lines(file)` returns the lines of a file so the offending line
    can be quoted with a caret; without it only the headline and help show.
    """
    return "\n\n".join(render_one(d, lang, source_lines) for d in ds)


def to_json(d: Diagnostic) -> dict:
    """Plain dict for machine consumers (editor plugins, CI annotations)."""
    return dataclasses.asdict(d)
