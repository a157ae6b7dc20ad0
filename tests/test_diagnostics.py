"""Rendering diagnostics for officers (Chinese) and developers (English)."""

from __future__ import annotations

import json

import pytest

from yidi.diagnostics import (
    Diagnostic,
    DiagnosticError,
    display_width,
    render,
    sort_diagnostics,
    to_json,
)

LINES = {
    "p.yaml": [
        "id: henan",
        "rules:",
        "  - title: 新生儿住院",
        "    sourse: x",
        "    when: 参保地 == x",
    ],
}


def lines_of(file: str) -> list[str]:
    return LINES[file]


def caret_column(rendered: str) -> int:
    """Display cell of the caret, relative to the start of the source text."""
    source_line = next(line for line in rendered.splitlines() if " | " in line and "^" not in line)
    caret_line = next(line for line in rendered.splitlines() if line.rstrip().endswith("^"))
    start = source_line.index(" | ") + 3
    return display_width(caret_line[:len(caret_line) - 1]) - start


def test_render_chinese_with_snippet_and_help():
    d = Diagnostic("unknown-key", "规则中没有 `sourse` 这个键", "unknown key `sourse`", "p.yaml", 4, 5,
                   help_zh="您是否想写 `source`？", help_en="did you mean `source`?")
    text = render([d], source_lines=lines_of)
    assert text.splitlines() == [
        "p.yaml:4:5: 错误[unknown-key]: 规则中没有 `sourse` 这个键",
        " 4 |     sourse: x",
        "   |     ^",
        "  帮助: 您是否想写 `source`？",
    ]


def test_render_english_and_warning():
    d = Diagnostic("unused", "未使用", "unused", "p.yaml", 1, 1, severity="warning", help_en="remove it")
    assert render([d], lang="en").splitlines() == ["p.yaml:1:1: warning[unused]: unused", "  help: remove it"]
    assert render([d]).startswith("p.yaml:1:1: 警告[unused]: 未使用")


def test_caret_accounts_for_wide_characters():
    line = LINES["p.yaml"][4]
    column = line.index("==") + 1  # after 参保地: three wide characters
    rendered = render([Diagnostic("x", "m", "m", "p.yaml", 5, column)], source_lines=lines_of)
    assert caret_column(rendered) == display_width("    when: 参保地 ") == 17


def test_caret_under_a_chinese_character():
    line = LINES["p.yaml"][2]
    column = line.index("院") + 1
    rendered = render([Diagnostic("x", "m", "m", "p.yaml", 3, column)], source_lines=lines_of)
    assert caret_column(rendered) == display_width("  - title: 新生儿住") == 19


def test_render_without_positions_or_sources():
    ds = [
        Diagnostic("a", "甲", "a"),
        Diagnostic("b", "乙", "b", "f.yaml"),
        Diagnostic("c", "丙", "c", "f.yaml", 3),
        Diagnostic("d", "丁", "d", "missing.yaml", 2, 2),
    ]
    text = render(ds, source_lines=lines_of)  # lines_of raises KeyError for missing.yaml
    assert text.split("\n\n") == [
        "错误[a]: 甲",
        "f.yaml: 错误[b]: 乙",
        "f.yaml:3: 错误[c]: 丙",
        "missing.yaml:2:2: 错误[d]: 丁",
    ]


def test_line_out_of_range_has_no_snippet():
    d = Diagnostic("x", "m", "m", "p.yaml", 99, 1)
    assert render([d], source_lines=lines_of) == "p.yaml:99:1: 错误[x]: m"


def test_sort_by_file_line_column_code():
    ds = [
        Diagnostic("b", "", "", "b.yaml", 1, 1),
        Diagnostic("z", "", "", "a.yaml", 2, 1),
        Diagnostic("y", "", "", "a.yaml", 2, 1),
        Diagnostic("x", "", "", "a.yaml", 1, 9),
        Diagnostic("w", "", ""),
    ]
    assert [d.code for d in sort_diagnostics(ds)] == ["w", "x", "y", "z", "b"]


def test_to_json_is_plain_and_complete():
    d = Diagnostic("bad-value", "取值不对", "bad value", "p.yaml", 2, 3, help_zh="改为 1")
    data = to_json(d)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data == {
        "code": "bad-value", "message_zh": "取值不对", "message_en": "bad value", "file": "p.yaml",
        "line": 2, "column": 3, "severity": "error", "help_zh": "改为 1", "help_en": None,
    }
    assert Diagnostic(**data) == d


def test_diagnostic_error_carries_all_problems():
    ds = [Diagnostic("a", "甲", "a", "p.yaml", 1, 1), Diagnostic("b", "乙", "b", "p.yaml", 2, 1)]
    with pytest.raises(DiagnosticError) as info:
        raise DiagnosticError(ds)
    assert info.value.diagnostics == ds
    assert "甲" in str(info.value) and "乙" in str(info.value)
