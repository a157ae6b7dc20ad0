"""The compact trace (`--trace compact`) and `yidi explain`: the full trace, byte for byte, from far fewer bytes.

The invariant: for every document, rendering its compact decision against
the rule table gives the bytes `--trace full` writes. Checked on synthetic
corpora (`yidi.synth`, any seed), on the property tests' Henan claims, on the
examples (filing requests and a floor conflict among them), and through the
command line with worker processes. Then every kind of hostile input to
`yidi explain`, each a positioned error that leaves the other lines rendered.
"""

from __future__ import annotations

import copy
import json
import pathlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yidi import Engine
from yidi.documents import load_json
from yidi.errors import InputError
from yidi.explain_trace import LineError, explain_lines
from yidi.jsonout import dump_bytes
from yidi.synth import generate

from .conftest import EXAMPLES, POLICIES, yidi
from .strategies import henan_claims


def _compact_file(engine: Engine, documents) -> tuple[list[bytes], list[bytes]]:
    """(the compact file's lines, table first; the full decisions' lines) for the documents that decide."""
    compact, full = [dump_bytes(engine.trace_table())], []
    for document in documents:
        try:
            full.append(dump_bytes(engine.evaluate(document, "full")))
        except InputError:
            continue
        compact.append(dump_bytes(engine.evaluate(document, "compact")))
    return compact, full


def _explained(lines: list[bytes]) -> list[bytes]:
    out = list(explain_lines(lines))
    assert not [r for r in out if isinstance(r, LineError)], [(r.line, r.en) for r in out if isinstance(r, LineError)]
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2**31), st.integers(1, 60))
def test_explain_of_a_synthetic_corpus_is_its_full_trace_byte_for_byte(engine, seed, n):
    compact, full = _compact_file(engine, generate(n, seed))
    assert len(full) == n
    assert _explained(compact) == full


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(henan_claims())
def test_explain_of_any_henan_claim_is_its_full_trace(engine, claim):
    compact, full = _compact_file(engine, [claim])
    assert _explained(compact) == full


def test_examples_filing_requests_and_floor_conflicts_render_exactly(engine):
    documents = [load_json(p.read_bytes()) for p in sorted(EXAMPLES.glob("*.json")) if not p.name.endswith(".expected.json")]
    compact, full = _compact_file(engine, documents)
    decisions = [json.loads(line) for line in full]
    assert any("allowed" in d for d in decisions)                                    # a filing request
    assert any("floor_conflict" in d["flags"] for d in decisions)                   # a floor entry (all static)
    assert any(e.get("variable") == "benefit" for d in decisions for e in d["trace"])  # a benefit-table row
    assert any(isinstance(e, int) for line in compact[1:] for e in json.loads(line)["trace"])
    assert _explained(compact) == full


def test_the_compact_decision_differs_from_the_full_only_in_its_trace(engine):
    claim = load_json((EXAMPLES / "henan-referral.claim.json").read_bytes())
    full, compact = engine.evaluate(claim, "full"), engine.evaluate(claim, "compact")
    assert list(full) == list(compact)
    assert {k: v for k, v in full.items() if k != "trace"} == {k: v for k, v in compact.items() if k != "trace"}
    assert len(compact["trace"]) == len(full["trace"]) and compact["trace"][0][1] == claim["insured"]["region"]


def test_a_batch_file_with_workers_explains_to_the_full_batch_file_and_stays_small(tmp_path):
    corpus = tmp_path / "claims.jsonl"
    corpus.write_bytes(b"".join(dump_bytes(c) + b"\n" for c in generate(3000, 5)))
    for trace, workers in (("full", "1"), ("compact", "2"), ("ids", "1")):
        done = yidi("batch", str(corpus), "-o", str(tmp_path / f"{trace}.jsonl"), "--trace", trace,
                    "--workers", workers, "--policies", str(POLICIES))
        assert done.returncode == 0, done.stderr
    done = yidi("explain", str(tmp_path / "compact.jsonl"), "-o", str(tmp_path / "explained.jsonl"))
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert (tmp_path / "explained.jsonl").read_bytes() == (tmp_path / "full.jsonl").read_bytes()
    # The size the issue asks for: under 1 KB of trace per claim, the table counted in.
    table, *decisions = (tmp_path / "compact.jsonl").read_bytes().splitlines()
    trace_bytes = len(table) + sum(len(dump_bytes(load_json(line)["trace"])) for line in decisions)
    assert len(decisions) == 3000 and trace_bytes / 3000 < 1000
    assert (tmp_path / "compact.jsonl").stat().st_size < (tmp_path / "ids.jsonl").stat().st_size * 1.1


def test_the_table_is_the_same_in_every_process_that_loads_the_revision(engine, tmp_path):
    again = Engine.load(POLICIES, cache=tmp_path)           # compiled, then read back from the cache
    from_cache = Engine.load(POLICIES, cache=tmp_path)
    header = dump_bytes(engine.trace_table())
    assert dump_bytes(again.trace_table()) == header == dump_bytes(from_cache.trace_table())
    assert engine.trace_table()["trace_table"]["revision"] == engine.revision


def test_eval_and_the_api_keep_the_full_trace_by_default(engine):
    claim = load_json((EXAMPLES / "henan-referral.claim.json").read_bytes())
    assert all(isinstance(e, dict) for e in engine.evaluate(claim)["trace"])
    with pytest.raises(ValueError):
        engine.evaluate(claim, "verbose")


# ── hostile input to `yidi explain` ─────────────────────────────────────────


@pytest.fixture(scope="module")
def good(engine) -> list[bytes]:
    """A compact file of 4 decisions: the table, then decisions on lines 2–5."""
    compact, _ = _compact_file(engine, generate(4, 9))
    return compact


def _edit(line: bytes, change) -> bytes:
    record = load_json(line)
    change(record)
    return dump_bytes(record)


def _set_trace(value):
    return lambda record: record.__setitem__("trace", value)


def _first_element(value):
    return lambda record: record["trace"].__setitem__(0, value)


HOSTILE = {
    "not UTF-8": lambda line: line[:20] + b"\xff\xfe" + line[20:],
    "not JSON": lambda line: line[:-5],
    "not an object": lambda line: b"[1, 2]",
    "nested too deeply": lambda line: b"[" * 100000 + b"]" * 100000,
    "no revision": lambda line: _edit(line, lambda r: r.pop("policy")),
    "another revision": lambda line: _edit(line, lambda r: r["policy"].__setitem__("revision", "0000000000000000")),
    "no trace": lambda line: _edit(line, lambda r: r.pop("trace")),
    "trace not a list": lambda line: _edit(line, _set_trace({"a": 1})),
    "index out of range": lambda line: _edit(line, _first_element([99999, "410100"])),
    "negative index": lambda line: _edit(line, _first_element([-1, "410100"])),
    "index a boolean": lambda line: _edit(line, _first_element([True, "410100"])),
    "index a string": lambda line: _edit(line, _first_element(["3", "410100"])),
    "element of three": lambda line: _edit(line, _first_element([0, "410100", 1])),
    "value missing": lambda line: _edit(line, lambda r: r["trace"].__setitem__(1, r["trace"][1][0])),
    "region not a string": lambda line: _edit(line, lambda r: r["trace"][0].__setitem__(1, 410100)),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_bad_line_is_named_and_the_others_are_rendered(engine, good, case):
    lines = list(good)
    lines[2] = HOSTILE[case](lines[2])                       # line 3 of the file
    results = list(explain_lines(lines))
    errors = [r for r in results if isinstance(r, LineError)]
    assert [e.line for e in errors] == [3], (case, [(e.line, e.en) for e in errors])
    assert errors[0].zh and errors[0].en and errors[0].zh != errors[0].en
    assert _explained([good[0], good[1], good[3], good[4]]) == [r for r in results if not isinstance(r, LineError)]


def test_a_decision_before_any_table_is_refused(good):
    results = list(explain_lines([good[1], good[0], good[2]]))
    assert isinstance(results[0], LineError) and results[0].line == 1 and "依据表" in results[0].zh
    assert isinstance(results[1], bytes)


@pytest.mark.parametrize("breakage", [
    lambda t: t.__setitem__("format", "yidi-compact-trace/0"),
    lambda t: t.pop("revision"),
    lambda t: t.__setitem__("items", {}),
    lambda t: t["items"].__setitem__(0, {"entry": "x"}),
    lambda t: t["items"].__setitem__(0, {"entry": {}, "fill": "explanation", "around": ["only one"]}),
    lambda t: t["items"].__setitem__(0, {"entry": {}, "fill": "elsewhere"}),
])
def test_a_broken_table_is_named_and_nothing_is_rendered_against_it(good, breakage):
    header = load_json(good[0])
    breakage(header["trace_table"])
    results = list(explain_lines([dump_bytes(header), *good[1:], good[0], good[1]]))
    assert [r.line for r in results if isinstance(r, LineError)] == [1, 2, 3, 4, 5]
    assert "第 1 行" in results[1].zh                        # the decisions say which table let them down
    assert isinstance(results[-1], bytes)                    # a sound table later in the file applies again


def test_a_table_of_another_revision_refuses_every_decision_of_this_one(good):
    header = load_json(good[0])
    header["trace_table"]["revision"] = "ffffffffffffffff"
    results = list(explain_lines([dump_bytes(header), *good[1:]]))
    assert all(isinstance(r, LineError) and "ffffffffffffffff" in r.zh for r in results) and len(results) == 4


def test_the_command_names_file_and_line_in_chinese_and_english_and_exits_2(good, tmp_path):
    bad = copy.copy(good)
    bad[2] = b"\xff not utf-8"
    bad[3] = _edit(good[3], _first_element([99999, "410100"]))
    path = tmp_path / "compact.jsonl"
    path.write_bytes(b"\n".join(bad) + b"\n")
    zh = yidi("explain", str(path))
    assert zh.returncode == 2 and "Traceback" not in zh.stderr
    assert f"{path}:3: 不是 UTF-8 文本" in zh.stderr and f"{path}:4: 依据记录第 1 项引用编号 99999" in zh.stderr
    assert len(zh.stdout.splitlines()) == 2 and "已还原 2 份决定；2 行无法还原" in zh.stderr
    en = yidi("explain", str(path), "--lang", "en", "--format", "json")
    problems = [json.loads(line) for line in en.stderr.splitlines() if line.startswith("{")]
    assert [(p["line"], p["message_en"][:12]) for p in problems] == [(3, "not UTF-8 te"), (4, "trace elemen")]
    missing = yidi("explain", str(tmp_path / "nothing.jsonl"))
    assert missing.returncode == 2 and "无法读取" in missing.stderr and "Traceback" not in missing.stderr
    same = yidi("explain", str(path), "-o", str(path))
    assert same.returncode == 2 and path.read_bytes().startswith(good[0])   # refused before anything was emptied


def test_standard_input_works_too(good):
    done = yidi("explain", "-", stdin=(b"\n".join(good) + b"\n").decode())
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 4
    assert all(isinstance(e, dict) and "says" in e for line in done.stdout.splitlines() for e in json.loads(line)["trace"])
