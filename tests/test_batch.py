"""`yidi batch`: streaming, ordered, errors by line number, same answers with workers."""

from __future__ import annotations

import io
import json

import pytest

from yidi.batch import _blocks, run

from .conftest import EXAMPLES, POLICIES
from .test_cli import yidi


def corpus(n: int) -> list[bytes]:
    base = json.loads((EXAMPLES / "henan-referral.claim.json").read_text(encoding="utf-8"))
    lines = []
    for i in range(n):
        doc = json.loads(json.dumps(base))
        doc["id"] = f"B{i}"
        doc["costs"]["total"] = 30000 + i
        lines.append(json.dumps(doc, ensure_ascii=False).encode())
    lines[3] = b"{not json"
    lines[5] = json.dumps({**base, "id": "bad", "insured": {"region": "41", "scheme": "employee"}}).encode()
    return lines


def test_answers_keep_input_order_and_errors_name_their_line(engine):
    out, errors = io.BytesIO(), io.BytesIO()
    summary = run(POLICIES, io.BytesIO(b"\n".join(corpus(50))), out, errors, engine=engine)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [a["claim_id"] for a in answers] == [f"B{i}" for i in range(50) if i not in (3, 5)]
    problems = [json.loads(line) for line in errors.getvalue().splitlines()]
    assert [p["line"] for p in problems] == [4, 6]
    assert problems[1]["problems"][0]["path"] == "insured.region"
    assert summary.decided == 48 and summary.errors == 2 and summary.by_route["direct"] == 48
    # amounts stay exact: the answer's fund is the one a single evaluation gives
    single = engine.evaluate(json.loads(corpus(50)[10]), trace="ids")
    assert answers[8]["amounts"]["fund"] == float(single["amounts"]["fund"])


def test_two_workers_write_exactly_what_one_writes(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(corpus(5000)) + b"\n")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first = yidi("batch", str(source), "-o", str(one), "--policies", str(POLICIES))
    second = yidi("batch", str(source), "-o", str(two), "--workers", "2", "--policies", str(POLICIES))
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert one.read_bytes() == two.read_bytes()
    assert "决定 4998 份" in first.stderr and "错误 2 行" in first.stderr
    assert (tmp_path / "two.jsonl.errors.jsonl").read_text(encoding="utf-8").count("\n") == 2


@pytest.mark.parametrize("size", [1, 7, 100, 1 << 20])
def test_blocks_hold_whole_lines_and_know_their_line_numbers(size):
    text = b'{"a":1}\n\n{"b":22}\r\n{"c":333}'  # an empty line, a CRLF, no final newline
    blocks = list(_blocks(io.BytesIO(text), size))
    assert b"".join(block for _, block in blocks) == text
    numbered = [(first + i, line) for first, block in blocks for i, line in enumerate(block.split(b"\n")) if line.strip()]
    assert numbered == [(1, b'{"a":1}'), (3, b'{"b":22}\r'), (4, b'{"c":333}')]


def test_a_worker_uses_the_parents_engine_or_refuses_another_revision(engine, monkeypatch):
    from yidi import batch

    monkeypatch.setattr(batch, "_WORKER_ENGINE", engine)
    batch._init_worker(str(POLICIES), engine.revision)  # forked: inherited, nothing loaded
    assert batch._WORKER_ENGINE is engine
    monkeypatch.setattr(batch, "_WORKER_ENGINE", None)
    batch._init_worker(str(POLICIES), engine.revision)  # spawned: loads the same tree
    assert batch._WORKER_ENGINE.revision == engine.revision
    monkeypatch.setattr(batch, "_WORKER_ENGINE", None)
    with pytest.raises(RuntimeError, match="changed during the run"):
        batch._init_worker(str(POLICIES), "not-the-revision")


def test_a_run_without_errors_leaves_no_error_file(tmp_path):
    good = [line for i, line in enumerate(corpus(20)) if i not in (3, 5)]
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(b"\n".join(good) + b"\n")
    stale = tmp_path / "out.jsonl.errors.jsonl"
    stale.write_text('{"line": 1, "error": "from an earlier run"}\n', encoding="utf-8")
    done = yidi("batch", str(source), "-o", str(out), "--policies", str(POLICIES))
    assert done.returncode == 0 and "错误 0 行" in done.stderr and "错误详情" not in done.stderr
    assert not stale.exists()                                   # neither an empty file nor the earlier run's
    source.write_bytes(b"\n".join(corpus(20)) + b"\n")
    assert yidi("batch", str(source), "-o", str(out), "--policies", str(POLICIES)).returncode == 0
    assert stale.read_text(encoding="utf-8").count("\n") == 2
