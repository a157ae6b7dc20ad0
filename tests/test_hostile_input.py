"""Hostile input: one answer for one input, whichever door it comes through, and never a traceback.

Every file in tests/hostile/documents/ (listed with its expected outcome in
tests/hostile/documents/expected.json) goes to `yidi eval`, to the HTTP API and, one
line each, to `yidi batch`; each must give the expected outcome, naming the
expected JSON paths, and eval and batch must give the same answer for the
same bytes. Then hypothesis sends random bytes and random JSON through the
same three doors: exit codes stay in {0, 2, 3}, statuses in {200, 400, 409,
413, 415, 422}, batch writes one line (answer or error) per input line, and
nothing escapes as an exception.
"""

from __future__ import annotations

import io
import json
import re
import sys
import types
import warnings
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yidi import cli
from yidi.adapters import nhsa
from yidi.audit import AuditLog, now, read_log
from yidi.jsonout import dump_bytes

from .conftest import POLICIES, ROOT
from .strategies import henan_claims

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():  # Starlette 1.x suggests httpx2 for its test client; httpx is what the project has
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from yidi.server.app import create_app  # noqa: E402
from yidi.server.metrics import Metrics  # noqa: E402
from yidi.server.state import Serving, ServerState  # noqa: E402

CORPUS = ROOT / "tests" / "hostile" / "documents"
EXPECTED: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
NAMES = sorted(EXPECTED)
GOOD_LINE = (CORPUS / "money-maximum.json").read_bytes().strip()
EXIT_CODES = {0, 2, 3}
STATUSES = {200, 400, 409, 413, 415, 422}
NEGATIVE_ZERO = re.compile(rb"[:\[,]\s*-0(\.0*)?(?:[eE][-+]?\d+)?\s*[,\]}]")



def _error_lines(path) -> list[bytes]:
    """The lines of batch's error file; a run without errors writes none."""
    return path.read_bytes().splitlines() if path.exists() else []

def test_the_corpus_and_its_expectations_match():
    files = {p.name for p in CORPUS.iterdir() if p.name != "expected.json"}
    assert files == set(EXPECTED)
    for name, expected in EXPECTED.items():
        assert expected["outcome"] in ("decided", "invalid") and expected["why"], name
        assert expected["http"] == (200 if expected["outcome"] == "decided" else expected["http"]) and expected["http"] in STATUSES


# ---- the three doors, in process --------------------------------------------------------------


@pytest.fixture
def run(engine, monkeypatch, capsys):
    """`yidi …` in this process (the session's engine instead of loading one): (exit code, stdout, stderr)."""
    for command in ("eval", "batch"):
        monkeypatch.setattr(f"yidi.cli.{command}.load_engine", lambda args, paths=None: (engine, POLICIES))

    def call(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO(stdin), read=lambda: stdin.decode()))
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return call


@pytest.fixture(scope="module")
def http(engine, tmp_path_factory):
    """The HTTP API over Starlette's test client, with a real decision log."""
    log = tmp_path_factory.mktemp("http") / "decisions.jsonl"
    state = ServerState(root=POLICIES, serving=Serving(engine, engine.revision, now()), audit=AuditLog(log, fsync="never"),
                        metrics=Metrics(), check_level="load", max_body=1 << 20)  # past the default: the documents must reach the checks
    with TestClient(create_app(state), raise_server_exceptions=False) as client:
        client.log = log  # type: ignore[attr-defined]
        yield client


def _media(name: str) -> str:
    return nhsa.MEDIA_TYPE if EXPECTED[name].get("format") == "nhsa" else "application/json"


def _eval_args(name: str) -> list[str]:
    return ["--input-format", "nhsa"] if EXPECTED[name].get("format") == "nhsa" else []


@pytest.mark.parametrize("name", NAMES)
def test_eval_gives_each_hostile_file_its_outcome(run, name):
    expected = EXPECTED[name]
    code, out, err = run("eval", str(CORPUS / name), "--format", "json", "--trace", "ids", *_eval_args(name))
    assert "Traceback" not in err
    if expected["outcome"] == "decided":
        assert code == 0, out + err
        assert not NEGATIVE_ZERO.search(out.encode()), "an answer printed -0"
        return
    assert code == 2, out + err
    body = json.loads(out)
    paths = [p["path"] for p in body["problems"]]
    for path in expected.get("paths", []):
        assert path in paths, (name, paths)
    assert all(p["message"] and p["message_en"] for p in body["problems"])


@pytest.mark.parametrize("name", NAMES)
def test_the_http_api_gives_each_hostile_file_its_status(http, name):
    expected = EXPECTED[name]
    response = http.post("/v1/evaluate?trace=ids", content=(CORPUS / name).read_bytes(), headers={"content-type": _media(name)})
    assert response.status_code == expected["http"], response.text[:500]
    if response.status_code == 200:
        assert not NEGATIVE_ZERO.search(response.content)
    else:
        paths = [p["path"] for p in response.json()["problems"]]
        for path in expected.get("paths", []):
            assert path in paths, (name, paths)


def test_every_decision_of_the_corpus_is_in_the_log_and_the_log_reads_back(http):
    """The decided ones include an absurd number in an ignored platform field: logged, in bounded time, readable."""
    for name in NAMES:
        if EXPECTED[name]["outcome"] == "decided":
            http.post("/v1/evaluate", content=(CORPUS / name).read_bytes(), headers={"content-type": _media(name)})
    records = [entry for _, entry in read_log(http.log)]
    logged = [r for r in records if r["input"].get("psn_no") == Decimal("1E+1000000")]
    assert logged and logged[0]["input_sha256"]


def _line_entries() -> list[str]:
    """Corpus files a JSON Lines file can hold as one line: contract documents, no newline inside, not blank."""
    return [name for name in NAMES if EXPECTED[name].get("format") is None
            and b"\n" not in (CORPUS / name).read_bytes().rstrip(b"\n") and (CORPUS / name).read_bytes().strip()]


def test_batch_decides_every_good_line_whatever_the_bad_lines_hold(run, tmp_path):
    names = _line_entries()
    lines, where = [], {}
    for name in names:  # a good line before each hostile one: nothing may be lost around it
        lines.append(GOOD_LINE)
        lines.append((CORPUS / name).read_bytes().rstrip(b"\n"))
        where[len(lines)] = name
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    code, _, err = run("batch", str(source), "-o", str(out))
    assert code == 0 and "Traceback" not in err, err
    answers = out.read_bytes().splitlines()
    errors = [json.loads(line) for line in _error_lines(tmp_path / "out.jsonl.errors.jsonl")]
    decided = [n for n in names if EXPECTED[n]["outcome"] == "decided"]
    assert len(answers) == len(names) + len(decided)  # every good line, and every decided hostile one
    assert len(answers) + len(errors) == len(lines)   # one line out per line in
    assert {e["line"]: where[e["line"]] for e in errors} == {n: name for n, name in where.items() if EXPECTED[name]["outcome"] == "invalid"}
    for answer in answers:
        assert not NEGATIVE_ZERO.search(answer)
    # one answer for one input: what batch says about a line is what eval says about the same bytes
    for entry in errors:
        name = where[entry["line"]]
        code, stdout, _ = run("eval", str(CORPUS / name), "--format", "json")
        assert code == 2 and json.loads(stdout)["problems"] == entry["problems"], name


def test_batch_with_two_workers_survives_the_corpus_too(tmp_path):
    from .conftest import yidi

    lines = [GOOD_LINE]
    for name in _line_entries():
        lines += [(CORPUS / name).read_bytes().rstrip(b"\n"), GOOD_LINE]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    result = yidi("batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--workers", "2", "--policies", str(POLICIES))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    answers = (tmp_path / "out.jsonl").read_bytes().splitlines()
    errors = _error_lines(tmp_path / "out.jsonl.errors.jsonl")
    assert len(answers) + len(errors) == len(lines)


def test_eval_and_batch_agree_on_utf16_lines(run, tmp_path):
    """Two UTF-16 lines that eval refuses used to be accepted by batch (the standard library reads UTF-16 from bytes)."""
    text = GOOD_LINE.decode()
    source = tmp_path / "u16.jsonl"
    source.write_bytes(text.encode("utf-16") + b"\n" + text.encode("utf-16-le") + b"\n")
    code, _, _ = run("batch", str(source), "-o", str(tmp_path / "out.jsonl"))
    assert code == 0 and (tmp_path / "out.jsonl").read_bytes() == b""
    errors = [json.loads(line) for line in _error_lines(tmp_path / "out.jsonl.errors.jsonl")]
    assert [e["line"] for e in errors] == [1, 2]
    assert "UTF-16" in errors[0]["problems"][0]["message_en"]


# ---- amplification -----------------------------------------------------------------------------


def _unknown_keys(count: int) -> bytes:
    claim = json.loads(GOOD_LINE)
    claim.update({f"{i:x}": 0 for i in range(count)})
    return json.dumps(claim, separators=(",", ":")).encode()


def test_ninety_thousand_unknown_keys_get_a_short_answer_for_little_work(http, monkeypatch):
    """0.9 MB of unknown keys once gave a 17.6 MB error body and seconds of CPU: now 100 problems and a count."""
    from yidi import documents_messages

    body = _unknown_keys(90_000)
    assert len(body) < 1 << 20  # under this server's body limit: it reaches the validator
    suggestions = []
    original = documents_messages.difflib.get_close_matches
    monkeypatch.setattr(documents_messages.difflib, "get_close_matches",
                        lambda *a, **k: suggestions.append(1) or original(*a, **k))
    response = http.post("/v1/evaluate", content=body)
    assert response.status_code == 422
    answer = response.json()
    assert len(answer["problems"]) == 100 and answer["problems_omitted"] == 90_000 - 100
    assert len(response.content) < 64 * 1024
    assert len(suggestions) <= 100  # "did you mean" asked for the problems shown, not for 90,000


# ---- random bytes and random JSON ---------------------------------------------------------------

_strings = st.one_of(st.text(max_size=12), st.sampled_from(["\ud800", "a\udfff", "\ud83d\ude00", "2025-02-30", "9999-12-31", "410100", ""]))
_numbers = st.one_of(st.integers(), st.integers(min_value=-10**30, max_value=10**30),
                     st.decimals(allow_nan=False, allow_infinity=False),
                     st.sampled_from([Decimal("1E+1000000"), Decimal("-0.0"), Decimal("99999999.99"), Decimal("1E-400")]),
                     st.floats(allow_nan=True, allow_infinity=True))
_json_values = st.recursive(st.one_of(st.none(), st.booleans(), _numbers, _strings),
                            lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_strings, children, max_size=4)),
                            max_leaves=12)


def _encode(value) -> bytes:
    """JSON text of anything hypothesis made, lone surrogates, NaN and 1E+1000000 included (as a sloppy client would send them)."""
    numbers: list[str] = []

    def plain(v):
        if isinstance(v, Decimal):
            if not v.is_finite():
                return float(v)
            numbers.append(str(v))
            return f"@@number{len(numbers) - 1}@@"
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    text = json.dumps(plain(value), ensure_ascii=True)
    return re.sub(r'"@@number(\d+)@@"', lambda m: numbers[int(m[1])], text).encode()


@st.composite
def hostile_documents(draw) -> bytes:
    """A valid claim with a random JSON value put at a random place, or a random JSON value, or random bytes."""
    shape = draw(st.sampled_from(["claim", "claim", "claim", "json", "bytes"]))
    if shape == "bytes":
        return draw(st.binary(max_size=200))
    if shape == "json":
        return _encode(draw(_json_values))
    claim = draw(henan_claims())
    section = draw(st.sampled_from(["insured", "visit", "costs", None]))
    target = claim if section is None else claim[section]
    key = draw(st.one_of(st.sampled_from(sorted(target)), _strings))
    target[key] = draw(_json_values)
    return _encode(claim)


def _lines(documents: list[bytes]) -> bytes:
    return b"".join(d.replace(b"\n", b" ") + b"\n" for d in documents)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(hostile_documents())
def test_eval_never_fails_on_random_input(run, document):
    code, out, err = run("eval", "-", "--format", "json", "--trace", "ids", stdin=document)
    assert code in EXIT_CODES and "Traceback" not in err
    json.loads(out)  # always a JSON answer or error on stdout


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_documents(), st.sampled_from(["application/json", nhsa.MEDIA_TYPE, "text/plain"]))
def test_the_http_api_never_fails_on_random_input(http, document, media):
    response = http.post("/v1/evaluate", content=document, headers={"content-type": media})
    assert response.status_code in STATUSES, response.text[:300]
    response.json()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_documents(), min_size=1, max_size=8), st.sampled_from(["application/json", "application/x-ndjson"]))
def test_the_http_batch_answers_every_item(http, documents, media):
    body = _lines(documents) if media == "application/x-ndjson" else b"[" + b",".join(d for d in documents) + b"]"
    response = http.post("/v1/evaluate/batch", content=body, headers={"content-type": media})
    assert response.status_code in STATUSES, response.text[:300]
    if response.status_code == 200 and media == "application/x-ndjson":
        assert len(response.content.splitlines()) == len([line for line in body.split(b"\n") if line.strip()])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(hostile_documents(), min_size=1, max_size=10))
def test_batch_writes_one_line_per_input_line_and_eval_agrees_with_it(run, tmp_path_factory, documents):
    folder = tmp_path_factory.mktemp("batch")
    source, out = folder / "in.jsonl", folder / "out.jsonl"
    text = _lines(documents)
    source.write_bytes(text)
    code, _, err = run("batch", str(source), "-o", str(out), "--trace", "ids")
    assert code == 0 and "Traceback" not in err
    lines = text.split(b"\n")
    counted = [n for n, line in enumerate(lines, 1) if line.strip()]
    answers = out.read_bytes().splitlines()
    errors = {e["line"]: e for e in map(json.loads, _error_lines(folder / "out.jsonl.errors.jsonl"))}
    assert len(answers) + len(errors) == len(counted) and set(errors) <= set(counted)
    decided = iter(answers)
    for number in counted:  # one answer for one input: eval says what batch said
        code, stdout, _ = run("eval", "-", "--format", "json", "--trace", "ids", stdin=lines[number - 1])
        if number in errors:
            assert code in (2, 3) and json.loads(stdout)["error"] == errors[number]["error"]
            if code == 2:
                assert json.loads(stdout)["problems"] == errors[number]["problems"]
        else:
            assert code == 0 and json.loads(stdout) == json.loads(next(decided))


def test_random_input_helpers_make_what_they_claim():
    assert _encode({"a": Decimal("1E+1000000"), "b": "\ud800", "c": Decimal("-0.0")}) == b'{"a": 1E+1000000, "b": "\\ud800", "c": -0.0}'
    assert dump_bytes({"a": 1}) == b'{"a":1}'
