"""YAML loading: value types, positions, refused YAML features, and the
offset → file position mapping an expression checker relies on."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from yidi.diagnostics import DiagnosticError
from yidi.source import LocatedDocument, Position, load_yaml, load_yaml_file


def load(text: str) -> LocatedDocument:
    return load_yaml(text, "p.yaml")


def problems(text: str):
    with pytest.raises(DiagnosticError) as info:
        load(text)
    return info.value.diagnostics


def char_at(doc: LocatedDocument, pos: Position) -> str:
    """The character of the file at `pos`; a line's end reads as newline."""
    line = doc.text.split("\n")[pos.line - 1]
    return line[pos.column - 1] if pos.column - 1 < len(line) else "\n"


# --------------------------------------------------------------------------
# Values


def test_values_are_json_like():
    doc = load(
        "ratio: 0.85\ncount: 20\nneg: -3\nexp: 1e3\nyes_: yes\nno_: no\non_: on\nt: true\nf: FALSE\n"
        "n1: null\nn2: ~\nn3:\ndate: 2025-01-01\nlead: 0410\nunder: 1_000\ninf: .inf\nsex: 1:30\n"
        "quoted: '0.85'\nblock: |\n  12\n"
    )
    assert doc.data == {
        "ratio": Decimal("0.85"), "count": 20, "neg": -3, "exp": Decimal("1e3"),
        "yes_": "yes", "no_": "no", "on_": "on", "t": True, "f": False,
        "n1": None, "n2": None, "n3": None, "date": "2025-01-01", "lead": "0410",
        "under": "1_000", "inf": ".inf", "sex": "1:30", "quoted": "0.85", "block": "12\n",
    }
    assert type(doc.data["ratio"]) is Decimal
    assert type(doc.data["count"]) is int
    assert not any(isinstance(v, float) for v in doc.data.values())


def test_keys_are_always_strings():
    doc = load("2025: a\ntrue: b\nnull: c\n0.5: d\n")
    assert doc.data == {"2025": "a", "true": "b", "null": "c", "0.5": "d"}


def test_empty_document():
    doc = load("# only a comment\n")
    assert doc.data is None
    assert doc.at(("anything",)) == Position("p.yaml", 1, 1)


def test_crlf_and_bom_do_not_shift_positions():
    doc = load("\ufeffa: 1\r\nb:\r\n  c: 值\r\n")
    assert doc.data == {"a": 1, "b": {"c": "值"}}
    assert doc.key_at(("b", "c")) == Position("p.yaml", 3, 3)
    assert doc.at(("b", "c")) == Position("p.yaml", 3, 6)


# --------------------------------------------------------------------------
# Positions of keys and values


SNIPPET = """\
id: henan
rules:
  - id: henan.a
    title: 新生儿住院
    source: {document: 豫医保办〔2025〕2号, clause: 二（三）}
"""


def test_key_and_value_positions():
    doc = load(SNIPPET)
    assert doc.key_at(("id",)) == Position("p.yaml", 1, 1)
    assert doc.at(("id",)) == Position("p.yaml", 1, 5)
    assert doc.at(("rules", 0)) == Position("p.yaml", 3, 5)
    assert doc.key_at(("rules", 0)) == Position("p.yaml", 3, 5)  # list items have no key
    assert doc.key_at(("rules", 0, "title")) == Position("p.yaml", 4, 5)
    assert doc.at(("rules", 0, "title")) == Position("p.yaml", 4, 12)
    # Chinese characters count as one column each.
    assert doc.key_at(("rules", 0, "source", "clause")) == Position("p.yaml", 5, 38)
    assert doc.nodes[("rules", 0, "title")].style is None
    assert doc.nodes[("rules", 0, "title")].key == Position("p.yaml", 4, 5)


def test_missing_paths_fall_back_to_nearest_ancestor():
    doc = load(SNIPPET)
    assert doc.at(("rules", 0, "when")) == doc.at(("rules", 0))
    assert doc.key_at(("rules", 0, "source", "says")) == doc.at(("rules", 0, "source"))
    assert doc.at(("nothing", 3)) == doc.at(())


# --------------------------------------------------------------------------
# Problems


def test_duplicate_key_names_both_positions():
    [d] = problems("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert d.code == "duplicate-key"
    assert (d.line, d.column) == (4, 3)
    assert "`c`" in d.message_zh and "第 3 行第 3 列" in d.message_zh
    assert "line 3, column 3" in d.message_en


def test_syntax_error_position_is_one_based():
    [d] = problems("a: 1\nb: c: d\n")
    assert d.code == "yaml-syntax"
    assert (d.file, d.line, d.column) == ("p.yaml", 2, 5)
    assert "冒号" in d.message_zh


def test_unclosed_quote_points_at_its_start():
    [d] = problems("a: 1\nb: '未闭合\nc: 2\n")
    assert (d.line, d.column) == (2, 4)
    assert "引号没有闭合" in d.message_zh


def test_bad_indentation():
    [d] = problems("a:\n  b: 1\n c: 2\n")
    assert d.code == "yaml-syntax" and d.line == 3
    assert "缩进" in d.message_zh


def test_tabs_are_reported_in_chinese():
    ds = problems("a:\n\tb: 1\nc:\n  \td: 2\n")
    assert [(d.code, d.line, d.column) for d in ds] == [("yaml-tab", 2, 1), ("yaml-tab", 4, 3)]
    assert "制表符" in ds[0].message_zh
    [d] = problems("a: foo\tbar\n")
    assert (d.code, d.line, d.column) == ("yaml-tab", 1, 7)


def test_anchors_aliases_and_merge_keys_are_refused():
    ds = problems("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert sorted((d.code, d.line, d.column) for d in ds) == [
        ("yaml-anchor", 1, 7), ("yaml-anchor", 3, 7), ("yaml-merge-key", 3, 3),
    ]
    assert all("不支持" in d.message_zh for d in ds)


def test_tags_and_complex_keys_are_refused():
    [d] = problems("a: !!str 1\n")
    assert d.code == "yaml-tag" and "!!str" in d.message_zh
    [d] = problems("? [a, b]\n: 1\n")
    assert (d.code, d.line, d.column) == ("yaml-complex-key", 1, 3)


def test_control_character():
    [d] = problems("a: x\x07y\n")
    assert (d.line, d.column) == (1, 5) and "U+0007" in d.message_zh


def test_several_documents():
    [d] = problems("a: 1\n---\nb: 2\n")
    assert d.line == 2 and "一个文件只能有一个" in d.message_zh


def test_load_file(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("name: 河南省\n", encoding="utf-8")
    doc = load_yaml_file(path, "policies/henan/policy.yaml")
    assert doc.file == "policies/henan/policy.yaml" and doc.data == {"name": "河南省"}
    assert load_yaml_file(path).file == str(path)

    path.write_bytes("a: 1\nname: 河南".encode("gbk"))
    with pytest.raises(DiagnosticError) as info:
        load_yaml_file(path, "x.yaml")
    [d] = info.value.diagnostics
    assert (d.code, d.line, d.column) == ("file-encoding", 2, 7)

    with pytest.raises(DiagnosticError) as info:
        load_yaml_file(tmp_path / "missing.yaml")
    assert info.value.diagnostics[0].code == "file-unreadable"


# --------------------------------------------------------------------------
# offset_position: hand-checked examples for every scalar style


def assert_maps(doc: LocatedDocument, path, expected: dict[int, tuple[int, int]]):
    node = doc.nodes[path]
    for offset, (line, column) in expected.items():
        assert node.offset_position(offset) == Position("p.yaml", line, column), offset


def test_offsets_plain():
    doc = load("a:\n  when: visit.kind == x and\n    newborn\n\n    last\n")
    value = doc.data["a"]["when"]
    assert value == "visit.kind == x and newborn\nlast"
    assert_maps(doc, ("a", "when"), {0: (2, 9), 6: (2, 15), 19: (2, 28), 20: (3, 5), 28: (5, 5), 32: (5, 9)})


def test_offsets_single_quoted():
    doc = load("v: 'it''s 新生儿\n  下一行'\n")
    assert doc.data["v"] == "it's 新生儿 下一行"
    assert_maps(doc, ("v",), {0: (1, 5), 2: (1, 7), 3: (1, 9), 5: (1, 11), 8: (1, 14), 9: (2, 3)})


def test_offsets_double_quoted():
    doc = load('v: "say \\"hi\\" \\u4e2d 文\n   next\\\n   joined\\n"\n')
    assert doc.data["v"] == 'say "hi" 中 文 nextjoined\n'
    assert_maps(doc, ("v",), {
        0: (1, 5), 4: (1, 9), 5: (1, 11), 7: (1, 13), 9: (1, 16), 11: (1, 23),
        12: (1, 24), 13: (2, 4), 17: (3, 4), 23: (3, 10), 24: (3, 12),
    })


def test_offsets_literal_with_indicators():
    doc = load("r:\n  v: |2-\n      two extra\n    base\n\n    end\n\n")
    assert doc.data["r"]["v"] == "  two extra\nbase\n\nend"
    assert_maps(doc, ("r", "v"), {0: (3, 5), 2: (3, 7), 11: (3, 16), 12: (4, 5), 16: (4, 9), 17: (5, 1), 18: (6, 5), 21: (6, 8)})


def test_offsets_folded_when_block():
    text = (
        "rules:\n"
        "  - when: >  # 条件\n"
        "      visit.kind == \"inpatient\"\n"
        "      and newborn\n"
        "\n"
        "        more indented\n"
        "      end\n"
    )
    doc = load(text)
    value = doc.data["rules"][0]["when"]
    assert value == 'visit.kind == "inpatient" and newborn\n\n  more indented\nend\n'
    newborn = value.index("newborn")
    assert_maps(doc, ("rules", 0, "when"), {0: (3, 7), 25: (3, 32), newborn: (4, 11), value.index("more"): (6, 9)})
    assert doc.nodes[("rules", 0, "when")].offset_position(value.index("end")) == Position("p.yaml", 7, 7)


def test_offset_out_of_range_is_clamped():
    doc = load("v: abc\n")
    node = doc.nodes[("v",)]
    assert node.offset_position(3) == Position("p.yaml", 1, 7)
    assert node.offset_position(99) == Position("p.yaml", 1, 7)
    assert node.offset_position(-5) == Position("p.yaml", 1, 4)
    assert load("v: ''\n").nodes[("v",)].offset_position(0) == Position("p.yaml", 1, 5)


# --------------------------------------------------------------------------
# offset_position: property test over generated scalars of every style

LETTERS = "abcxyzAZ019_().=<+/新生儿住院参保地"
QUOTABLE = LETTERS + "'\"\\:#-,[]{}&*!|>%@`"
words = st.text(LETTERS, min_size=1, max_size=6)
quoted_words = st.text(QUOTABLE, min_size=1, max_size=6)

# (lines before the scalar, prefix on the scalar's line, parent indentation)
CONTEXTS = [
    ("", "key: ", 0),
    ("outer:\n", "  inner: ", 2),
    ("items:\n", "  - ", 2),
    ("rules:\n", "  - when: ", 4),
]


def layout(lines: list[str], indent: int) -> str:
    return "\n".join((" " * indent + line) if line else "" for line in lines)


@st.composite
def scalars(draw):
    """A YAML document with one scalar of a random style; returns (text, path)."""
    before, prefix, parent = draw(st.sampled_from(CONTEXTS))
    style = draw(st.sampled_from(["plain", "single", "double", "literal", "folded"]))
    lines = draw(st.lists(st.lists(words if style == "plain" else quoted_words, min_size=1, max_size=4)
                          .map(" ".join), min_size=1, max_size=4))
    blank_lines = draw(st.lists(st.booleans(), min_size=len(lines), max_size=len(lines)))
    body = []
    for line, blank in zip(lines, blank_lines):
        body.extend(["", line] if blank and body else [line])
    cont = parent + draw(st.integers(1, 3))
    if style == "plain":
        scalar = body[0] + ("\n" + layout(body[1:], cont) if len(body) > 1 else "")
    elif style == "single":
        body = [line.replace("'", "''") for line in body]
        scalar = "'" + body[0] + ("\n" + layout(body[1:], cont) if len(body) > 1 else "") + "'"
    elif style == "double":
        escaped = []
        for line in body:
            out = ""
            for ch in line:
                how = draw(st.sampled_from(["raw", "u"])) if ch not in '"\\' else "esc"
                out += {"raw": ch, "esc": "\\" + ch, "u": "\\u%04x" % ord(ch)}[how]
            if line and draw(st.booleans()):
                out += "\\n"
            escaped.append(out)
        joins = [draw(st.sampled_from(["\n", "\\\n"])) for _ in escaped[1:]]
        scalar = '"' + escaped[0]
        for join, line in zip(joins, escaped[1:]):
            scalar += (join if line or join == "\n" else "\n") + ((" " * cont + line) if line else "")
        scalar += '"'
    else:
        indicator = draw(st.sampled_from(["", "1", "2", "3"]))
        chomp = draw(st.sampled_from(["", "-", "+"]))
        header = ("|" if style == "literal" else ">") + indicator + chomp
        if draw(st.booleans()):
            header += "  # 注释"
        content = parent + int(indicator) if indicator else cont
        extra = [draw(st.sampled_from([0, 0, 2])) for _ in body]
        shown = [(" " * (content + e) + line) if line else "" for line, e in zip(body, extra)]
        if not indicator and shown[0].startswith(" " * (content + 1)):
            shown[0] = shown[0][extra[0]:]  # the first line fixes the indentation
        scalar = header + "\n" + "\n".join(shown) + "\n" + "\n" * draw(st.integers(0, 2))
    text = before + prefix + scalar + ("\n" if not scalar.endswith("\n") else "") + "after: 1\n"
    path = {"key: ": ("key",), "  inner: ": ("outer", "inner"), "  - ": ("items", 0),
            "  - when: ": ("rules", 0, "when")}[prefix]
    return text, path


ESCAPES = {'"': ['\\"'], "\\": ["\\\\"], "\n": ["\\n"]}


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(scalars())
def test_offset_position_points_at_the_same_character(case):
    text, path = case
    doc = load(text)
    value = doc.data
    for part in path:
        value = value[part]
    assume(isinstance(value, str))
    node = doc.nodes[path]
    previous = None
    for offset, ch in enumerate(value):
        pos = node.offset_position(offset)
        raw = char_at(doc, pos)
        line = doc.text.split("\n")[pos.line - 1]
        if node.style == '"' and raw == "\\":  # an escape stands for the character
            tail = line[pos.column - 1:]
            accepted = ESCAPES.get(ch, []) + ["\\u%04x" % ord(ch)]
            assert any(tail.startswith(e) for e in accepted), (offset, ch, tail)
        elif ch == " " or ch == "\n":
            assert raw in " \n", (offset, pos)  # folded line breaks point at the break
        else:
            assert raw == ch, (offset, ch, pos, text)
        key = (pos.line, pos.column)
        assert previous is None or key > previous, "positions must increase"
        previous = key
    end = node.offset_position(len(value))
    assert previous is None or (end.line, end.column) > previous


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from(list("ab:- \n'\"|>#[]{},&*!?\\\t1.新")), max_size=40))
def test_any_text_loads_or_gives_diagnostics(text):
    """Whatever an officer types, the loader answers with data or diagnostics."""
    try:
        doc = load(text)
    except DiagnosticError as exc:
        assert exc.diagnostics and all(d.file == "p.yaml" for d in exc.diagnostics)
        return
    for node in doc.nodes.values():
        for offset in range(-1, 3):
            pos = node.offset_position(offset)
            assert pos.line >= 1 and pos.column >= 1
