"""The decision log (no torn lines, crash recovery, canonical input hash) and `yidi replay`."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys
import threading
from decimal import Decimal

import pytest

from yidi import Engine, EvaluationError
from yidi.adapters import nhsa
from yidi.audit import AuditError, AuditLog, canonical, input_hash, read_log, record
from yidi.documents import load_json
from yidi.errors import error_body
from yidi.replay import MalformedLog, replay

from .conftest import CONFLICTING, EXAMPLES, POLICIES, ROOT, plant_rule_conflict

REFERRAL = load_json((EXAMPLES / "henan-referral.claim.json").read_text(encoding="utf-8"))
CANCEL = load_json((EXAMPLES / "henan-cancel-locked.filing.json").read_text(encoding="utf-8"))
# The trees below hold only national and Henan, with a planted rule conflict: the policy cannot decide this one.
UNDECIDABLE = CONFLICTING


def _tree(target) -> pathlib.Path:
    for region in ("national", "henan"):
        shutil.copytree(POLICIES / region, target / region, ignore=shutil.ignore_patterns("tests"))
    return plant_rule_conflict(target)


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    return Engine.load(_tree(tmp_path_factory.mktemp("base") / "policies"))


@pytest.fixture
def policy_copy(tmp_path) -> pathlib.Path:
    return _tree(tmp_path / "changed" / "policies")


def test_canonical_form_sorts_keys_and_spells_numbers_one_way():
    a = {"b": Decimal("32000.00"), "a": [Decimal("0.10"), "中"]}
    b = {"a": [Decimal("0.1"), "中"], "b": 32000}
    assert canonical(a) == canonical(b) == '{"a":[0.1,"中"],"b":32000}'
    assert input_hash(a) == input_hash(b) and len(input_hash(a)) == 64
    assert input_hash(a) != input_hash({**b, "b": 32001})


def test_lines_from_many_threads_never_interleave(tmp_path):
    log = AuditLog(tmp_path / "log.jsonl", fsync="never")
    big = "长" * 5000  # well past a pipe buffer: a line is still one write

    def writer(n: int) -> None:
        for i in range(100):
            log.append({"request_id": f"{n}-{i}", "payload": big})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    entries = [entry for _, entry in read_log(tmp_path / "log.jsonl")]
    assert len(entries) == 800 and all(e["payload"] == big for e in entries)
    assert len({e["request_id"] for e in entries}) == 800


def test_a_torn_last_line_is_quarantined_on_open(tmp_path):
    path = tmp_path / "log.jsonl"
    good = json.dumps({"request_id": "a"}) + "\n"
    path.write_bytes(good.encode() + b'{"request_id": "b", "inp')
    with pytest.raises(AuditError, match="torn"):
        list(read_log(path))
    log = AuditLog(path)
    assert log.recovery.removed == len(b'{"request_id": "b", "inp') and log.recovery.offset == len(good)
    assert log.recovery.quarantine is not None and log.recovery.quarantine.read_bytes().endswith(b'"inp')
    log.append({"request_id": "c"})
    log.close()
    assert [e["request_id"] for _, e in read_log(path)] == ["a", "c"]


def test_a_garbage_last_line_is_quarantined_too(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"request_id": "a"}\n' + b"\0" * 40 + b"\n")  # a file system that lost the data
    log = AuditLog(path)
    assert log.recovery.removed == 41
    log.close()
    assert [e["request_id"] for _, e in read_log(path)] == ["a"]


def test_a_clean_log_is_left_alone_and_only_one_process_may_hold_it(tmp_path):
    path = tmp_path / "log.jsonl"
    first = AuditLog(path, fsync="interval", interval=0.01)
    first.append({"request_id": "a"})
    assert first.recovery.removed == 0 and first.recovery.quarantine is None
    with pytest.raises(AuditError, match="in use"):
        AuditLog(path)
    first.close()
    again = AuditLog(path)
    assert again.recovery.removed == 0
    again.close()
    with pytest.raises(ValueError):
        AuditLog(path, fsync="sometimes")


def _log_decisions(path, engine: Engine) -> None:
    log = AuditLog(path)
    for n, document in enumerate([REFERRAL, CANCEL]):
        log.append(record(request_id=f"r{n}", document=document, input_format="contract", revision=engine.revision,
                          trace="full", decision=engine.evaluate(document)))
    platform = {"mdtrt_id": "M-1", "insuplc_admdvs": "410100", "insutype": "310", "mdtrtarea_admvs": "110105",
                "med_type": "23", "begntime": "2025-03-05 08:30:00", "endtime": "2025-03-12 10:00:00",
                "medfee_sumamt": 32000, "inscp_scp_amt": 26000, "yidi_networked": True, "yidi_hospital_level": 3,
                "yidi_filing": {"type": "referral", "region": "110000", "start_date": "2025-03-01"}}
    log.append(record(request_id="r2", document=platform, input_format="nhsa", revision=engine.revision, trace="ids",
                      decision=engine.evaluate(nhsa.translate(platform), "ids")))
    with pytest.raises(EvaluationError) as undecided:
        engine.evaluate(UNDECIDABLE)
    log.append(record(request_id="r3", document=UNDECIDABLE, input_format="contract", revision=engine.revision, trace="full",
                      error=error_body(undecided.value)))
    log.close()


def test_replay_reproduces_every_decision_with_the_same_policies(tmp_path, engine):
    path = tmp_path / "log.jsonl"
    _log_decisions(path, engine)
    report = replay(path, engine)
    assert report.records == 4 and report.differences == []


def test_replay_reports_what_a_policy_change_would_change(tmp_path, engine, policy_copy):
    path = tmp_path / "log.jsonl"
    _log_decisions(path, engine)
    henan = policy_copy / "henan" / "policy.yaml"
    text = henan.read_text(encoding="utf-8")
    marker = "value: 10\n        source: {document: 豫医保办〔2025〕2号, clause: 二（二）, says: 原则上，异地转诊"
    assert marker in text
    henan.write_text(text.replace(marker, marker.replace("value: 10", "value: 5"), 1), encoding="utf-8")
    changed = Engine.load(policy_copy)
    report = replay(path, changed)
    differing = {d.request_id: {p for p, _, _ in d.fields} for d in report.differences}
    assert set(differing) == {"r0", "r2"}  # the two referral claims; the filing answer and the undecided one stand
    assert {"reduction_pp", "ratio", "amounts.fund"} <= differing["r0"]
    assert "policy.revision" not in differing["r0"]


def test_replay_flags_a_tampered_input(tmp_path, engine):
    path = tmp_path / "log.jsonl"
    _log_decisions(path, engine)
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["input"]["costs"]["in_scope"] = 1
    path.write_text("\n".join([json.dumps(first, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")
    fields = {p for d in replay(path, engine).differences for p, _, _ in d.fields}
    assert "input_sha256" in fields


def _yidi(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "engine")}
    return subprocess.run([sys.executable, "-m", "yidi", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_replay_command_exit_codes(tmp_path, engine, policy_copy):
    path = tmp_path / "log.jsonl"
    _log_decisions(path, engine)
    same = _yidi("replay", str(path), "--policies", str(engine.policies.root), "--lang", "en")
    assert same.returncode == 0, same.stderr
    assert "replayed 4 record(s)" in same.stdout and "0 differ" in same.stdout
    henan = policy_copy / "henan" / "policy.yaml"
    henan.write_text(henan.read_text(encoding="utf-8").replace("value: 10\n        source: {document: 豫医保办〔2025〕2号, clause: 二（二）, says: 原则上，异地转诊",
                                                               "value: 5\n        source: {document: 豫医保办〔2025〕2号, clause: 二（二）, says: 原则上，异地转诊", 1),
                     encoding="utf-8")
    differ = _yidi("replay", str(path), "--policies", str(policy_copy), "--format", "json")
    assert differ.returncode == 1, differ.stderr
    assert json.loads(differ.stdout)["differ"] == 2
    (tmp_path / "broken.jsonl").write_text('{"request_id": "x"}\nnot json\n', encoding="utf-8")
    broken = _yidi("replay", str(tmp_path / "broken.jsonl"), "--policies", str(engine.policies.root))
    assert broken.returncode == 4 and "broken.jsonl:1:" in broken.stderr  # a malformed log, named by line
    missing = _yidi("replay", str(tmp_path / "no-such-log.jsonl"), "--policies", str(engine.policies.root))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr  # cannot replay at all


# ---- hostile logs and absurd inputs ------------------------------------------------------------


def test_canonical_form_of_an_absurd_number_is_short_and_still_one_spelling():
    """Writing 1E+1000000 out in digits held the interpreter for tens of seconds (and a server with it)."""
    assert canonical({"a": Decimal("1E+5000")}) == '{"a":1E+5000}'
    assert canonical(Decimal("10E+4999")) == canonical(Decimal("1.000E+5000")) == "1E+5000"
    assert canonical(Decimal("-25E-5001")) == "-2.5E-5000"
    assert canonical(Decimal("1E+1000000")) == "1E+1000000"
    assert canonical(Decimal("1E+4000")) == "1" + "0" * 4000  # within the bound: digits, as before
    assert canonical(Decimal("0E+9999")) == "0"


@pytest.mark.parametrize("mode", [0o640, 0o600])
def test_the_quarantine_file_gets_the_logs_mode(tmp_path, mode):
    """The torn line holds a claim: it must be no more readable than the log it came from."""
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"request_id": "a"}\n{"request_id": "b", "inp')
    os.chmod(path, mode)
    previous = os.umask(0o022)
    try:
        log = AuditLog(path)
    finally:
        os.umask(previous)
    log.close()
    assert log.recovery.quarantine is not None
    assert stat.S_IMODE(log.recovery.quarantine.stat().st_mode) == mode


def test_a_new_log_is_created_0640(tmp_path):
    previous = os.umask(0o022)
    try:
        AuditLog(tmp_path / "log.jsonl").close()
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "log.jsonl").stat().st_mode) == 0o640


_GOOD = {"time": "2025-01-01T00:00:00+00:00", "request_id": "r", "input_sha256": "0" * 64, "revision": "x",
         "input_format": "contract", "trace": "ids", "input": {}, "decision": {}}


@pytest.mark.parametrize("line, says", [
    ({**_GOOD, "decision": 5}, "`decision` is not an object"),
    ({**_GOOD, "decision": ["a"]}, "`decision` is not an object"),
    ({k: v for k, v in _GOOD.items() if k != "decision"} | {"error": "rule-conflict"}, "`error`"),
    ({k: v for k, v in _GOOD.items() if k != "input"}, "no `input`"),
    ({**_GOOD, "input_sha256": 7}, "`input_sha256`"),
    ({**_GOOD, "trace": "everything"}, "`trace`"),
    ({**_GOOD, "error": {"error": "x", "rules": []}}, "either `decision` or `error`"),
    ("not json at all", "not a JSON record"),
    ([1, 2], "not a JSON object"),
])
def test_replay_names_a_malformed_line_and_stops(tmp_path, engine, line, says):
    path = tmp_path / "log.jsonl"
    _log_decisions(path, engine)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    with pytest.raises(MalformedLog, match=f":5: .*{re.escape(says)}"):
        replay(path, engine)


def test_replay_exits_4_on_a_malformed_log_not_1(tmp_path, engine):
    path = tmp_path / "log.jsonl"
    _log_decisions(path, engine)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({**_GOOD, "decision": 5}) + "\n")
    result = _yidi("replay", str(path), "--policies", str(engine.policies.root))
    assert result.returncode == 4, result.stderr
    assert f"{path}:5: not a decision record" in result.stderr and "Traceback" not in result.stderr
