"""`yidi batch`: streaming, ordered, errors by line number, same answers with workers."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from yidi.batch import _blocks, decide_block, run

from .conftest import EXAMPLES, POLICIES, ROOT
from .conftest import yidi


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


# ---- hostile lines and hostile paths --------------------------------------------------------------


@pytest.fixture
def batch(engine, monkeypatch, capsys):
    """`yidi batch …` in this process, on the session's engine: (exit code, stderr)."""
    from yidi import cli
    from yidi.cli import batch as batch_command

    monkeypatch.setattr(batch_command, "load_engine", lambda args, paths=None: (engine, POLICIES))

    def call(*argv: str, stdin: bytes | None = None) -> tuple[int, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", type("Stdin", (), {"buffer": io.BytesIO(stdin)})())
        code = cli.main(["batch", *argv])
        return code, capsys.readouterr().err

    return call


def _spellings(tmp_path):
    """Ways of naming the input file again: itself, ./ and ../, a symlink, a hard link."""
    os.symlink("in.jsonl", tmp_path / "link.jsonl")
    os.link(tmp_path / "in.jsonl", tmp_path / "hard.jsonl")
    return ["in.jsonl", "./in.jsonl", f"../{tmp_path.name}/in.jsonl", "link.jsonl", "hard.jsonl"]


@pytest.mark.parametrize("option", ["-o", "--errors"])
def test_batch_refuses_to_write_over_its_input_however_it_is_named(batch, tmp_path, monkeypatch, option):
    monkeypatch.chdir(tmp_path)
    data = b"\n".join(corpus(10)) + b"\n"
    (tmp_path / "in.jsonl").write_bytes(data)
    for name in _spellings(tmp_path):
        argv = ["in.jsonl", "-o", name] if option == "-o" else ["in.jsonl", "-o", "out.jsonl", "--errors", name]
        code, err = batch(*argv)
        assert code == 2 and "同一个文件" in err, (name, err)
        assert (tmp_path / "in.jsonl").read_bytes() == data  # nothing truncated
        assert not (tmp_path / "out.jsonl").exists()


def test_batch_refuses_an_output_that_is_its_redirected_input_or_its_error_file(batch, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = b"\n".join(corpus(10)[:3]) + b"\n"
    (tmp_path / "in.jsonl").write_bytes(data)
    with open(tmp_path / "in.jsonl", "rb") as stdin:  # yidi batch - -o in.jsonl < in.jsonl
        result = subprocess.run([sys.executable, "-m", "yidi", "batch", "-", "-o", "in.jsonl", "--policies", str(POLICIES)],
                                stdin=stdin, capture_output=True, text=True, cwd=tmp_path, timeout=120,
                                env={**os.environ, "PYTHONPATH": str(ROOT / "engine")})
    assert result.returncode == 2 and "同一个文件" in result.stderr and (tmp_path / "in.jsonl").read_bytes() == data
    code, err = batch("in.jsonl", "-o", "out.jsonl", "--errors", "./out.jsonl", "--lang", "en")
    assert code == 2 and "overwrite each other" in err
    code, _ = batch("in.jsonl", "-o", "out.jsonl")  # a different file is fine
    assert code == 0 and len((tmp_path / "out.jsonl").read_bytes().splitlines()) == 3


def test_a_bug_met_on_one_line_costs_only_that_line(engine):
    class Flaky:
        def evaluate_json(self, line, trace):
            if b"B2" in line:
                raise RecursionError("maximum recursion depth exceeded \ud800")
            return engine.evaluate_json(line, trace)

    lines = [line for i, line in enumerate(corpus(6)) if i not in (3, 5)]
    answers, errors, summary = decide_block(Flaky(), 1, b"\n".join(lines), "ids")
    assert summary.decided == 3 and summary.errors == 1
    [error] = [json.loads(line) for line in errors.splitlines()]
    assert error["line"] == 3 and error["error"] == "internal-error" and "\\ud800" in error["message_en"]


def test_hostile_lines_in_one_block_lose_none_of_the_good_ones(engine):
    """A lone surrogate used to make the whole block's answers unwritable; 1,000 levels of nesting ended the run."""
    good = corpus(10)[0]
    hostile = [good.replace(b'"B0"', b'"B\\ud800"'), good.replace(b'"total": 30000', b'"total": ' + b"[" * 1000 + b"]" * 1000),
               '{"a": 1}'.encode("utf-16"), good.replace(b"30000", b"1e1000000"), b"\xff\xfe\x00"]
    block = b"\n".join(x for h in hostile for x in (good, h)) + b"\n"
    answers, errors, summary = decide_block(engine, 1, block, "ids")
    assert summary.decided == len(hostile) and summary.errors == len(hostile)
    assert [json.loads(line)["line"] for line in errors.splitlines()] == [2, 4, 6, 8, 10]


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
