"""The command line, run as a user would run it: a separate process, real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from .conftest import EXAMPLES, POLICIES, ROOT, yidi


def test_eval_prints_a_decision_with_a_trace():
    result = yidi("eval", str(EXAMPLES / "henan-newborn.claim.json"))
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["treatment"] == "emergency" and decision["reduction_pp"] == 10
    assert any(e["rule"] == "henan.newborn-as-emergency" for e in decision["trace"])


def test_eval_reads_standard_input():
    text = (EXAMPLES / "henan-cancel-locked.filing.json").read_text(encoding="utf-8")
    result = yidi("eval", "-", stdin=text)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["allowed"] is False and answer["earliest_date"] == "2025-12-01"


def test_eval_rejects_bad_input_with_every_path_and_exit_2():
    result = yidi("eval", str(EXAMPLES / "bad-dates.claim.json"))
    assert result.returncode == 2
    for path in ("insured.region", "visit.discharge_date", "costs.total"):
        assert path in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("text", "path"), [
    ('{"id": "x", "insured": {"region": "410100", "scheme": "employee"}, "filing": {"type": "holiday", "region": "110000", "start_date": "2025-01-01"},'
     ' "visit": {"kind": "inpatient", "region": "110000", "networked": true, "admission_date": "2025-01-02", "discharge_date": "2025-01-03"},'
     ' "costs": {"total": 1, "in_scope": 1}}', "filing.type"),
    ('{"id": "x", "insured": {"region": "410100", "scheme": "employee"},'
     ' "visit": {"kind": "inpatient", "region": "110000", "networked": "yes", "admission_date": "2025-01-02", "discharge_date": "2025-01-03"},'
     ' "costs": {"total": 1, "in_scope": 1}}', "visit.networked"),
    ("{not json", ""),
    ("[1, 2]", ""),
])
def test_eval_rejects_malformed_documents_without_a_traceback(text, path):
    result = yidi("eval", "-", stdin=text)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    if path:
        assert path in result.stderr


def test_eval_json_errors_for_services():
    result = yidi("eval", str(EXAMPLES / "bad-dates.claim.json"), "--format", "json")
    assert result.returncode == 2
    payload = json.loads(result.stdout)
    assert sorted(p["path"] for p in payload["problems"]) == ["costs.total", "insured.region", "visit.discharge_date"]


def test_eval_missing_file_is_a_clear_error():
    result = yidi("eval", "no-such-claim.json")
    assert result.returncode == 2 and "no-such-claim.json" in result.stderr and "Traceback" not in result.stderr


def test_eval_names_the_encoding_of_a_file_that_is_not_utf8(tmp_path):
    """A UTF-16 file (Windows Notepad's "Unicode") used to end in a UnicodeDecodeError traceback."""
    text = (EXAMPLES / "henan-referral.claim.json").read_text(encoding="utf-8")
    (tmp_path / "u16.json").write_bytes(text.encode("utf-16"))
    (tmp_path / "binary.json").write_bytes(bytes(range(256)))
    for name, words in (("u16.json", ["UTF-16", "UTF-8"]), ("binary.json", ["UTF-8"])):
        result = yidi("eval", str(tmp_path / name), "--lang", "en")
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert all(word in result.stderr for word in words)
    piped = subprocess.run([*([shutil.which("yidi")] if shutil.which("yidi") else [sys.executable, "-m", "yidi.cli"]), "eval", "-"],
                           input=text.encode("utf-16"), capture_output=True, cwd=ROOT, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(ROOT / "engine")})
    assert piped.returncode == 2 and b"Traceback" not in piped.stderr and "UTF-16".encode() in piped.stderr


def test_eval_refuses_a_lone_surrogate_without_a_traceback():
    text = (EXAMPLES / "henan-referral.claim.json").read_text(encoding="utf-8").replace('"EX-HN-REFERRAL"', '"\\ud800"')
    result = yidi("eval", "-", "--format", "json", stdin=text)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert [p["path"] for p in json.loads(result.stdout)["problems"]] == ["id"]


def test_validate_passes_on_the_shipped_policies():
    result = yidi("validate")
    assert result.returncode == 0, result.stderr
    assert "通过" in result.stdout


def test_validate_reports_file_line_column_in_chinese_and_english(tmp_path):
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    henan = tree / "henan" / "policy.yaml"
    henan.write_text(henan.read_text(encoding="utf-8").replace("visit.psychiatric_certificate", "visit.psychiatric_certifcate"), encoding="utf-8")
    result = yidi("validate", str(tree))
    assert result.returncode == 1
    line = next(l for l in result.stderr.splitlines() if l.startswith("policies/henan/policy.yaml:"))
    assert "错误[unknown-field]" in line and "psychiatric_certifcate" in line
    english = yidi("validate", str(tree), "--lang", "en")
    assert "error[unknown-field]" in english.stderr


def test_test_command_runs_the_yaml_cases():
    result = yidi("test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed, 0 failed" in result.stdout


def test_test_command_fails_when_a_rule_is_broken(tmp_path):
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    henan = tree / "henan" / "policy.yaml"
    text = henan.read_text(encoding="utf-8")
    marker = "clause: 二（二）, says: 非急诊且未转诊的其他临时外出就医人员支付比例降低20个百分点左右}"
    assert marker in text
    # change the other-temporary reduction from 20 to 10
    broken = text.replace("        value: 20\n        source: {document: 豫医保办〔2025〕2号, " + marker, "        value: 10\n        source: {document: 豫医保办〔2025〕2号, " + marker, 1)
    assert broken != text
    henan.write_text(broken, encoding="utf-8")
    result = yidi("test", "--policies", str(tree))
    assert result.returncode == 1
    assert "reduction_pp" in result.stderr


def test_policies_are_found_from_the_current_directory(tmp_path):
    shutil.copytree(POLICIES, tmp_path / "policies")
    result = yidi("eval", str(EXAMPLES / "henan-referral.claim.json"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_every_subcommand_has_help():
    for command in ("validate", "eval", "test"):
        result = yidi(command, "--help")
        assert result.returncode == 0 and "--policies" in result.stdout


# ── validate and test end their process at once (cli.run) ─────────────────────


def test_a_short_lived_command_ends_with_its_exit_code_and_all_its_output(policy_copy, capsys):
    """`yidi validate` and `yidi test` end without freeing what they built (os._exit): the exit code and every
    line printed must still be those of the same command run in this process."""
    from yidi.cli import main

    from .conftest import plant_rule_conflict

    plant_rule_conflict(policy_copy)
    program = [shutil.which("yidi")] if shutil.which("yidi") else [sys.executable, "-m", "yidi.cli"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"} | {"PYTHONPATH": str(ROOT / "engine")}
    for command in (["validate", "--no-cache", "--policies", str(policy_copy)], ["test", "--policies", str(POLICIES)]):
        code = main(command)
        printed = capsys.readouterr()
        # output to a pipe is buffered (unless PYTHONUNBUFFERED): what is still in the buffer must not be lost
        result = subprocess.run([*program, *command], capture_output=True, text=True, env=env, timeout=120)
        assert (result.returncode, result.stdout, result.stderr) == (code, printed.out, printed.err)
    assert code == 0 and "passed" in printed.out
    assert main(["validate", "--no-cache", "--policies", str(policy_copy)]) == 1


def test_a_reader_that_goes_away_ends_a_short_lived_command_without_a_traceback():
    command = [shutil.which("yidi")] if shutil.which("yidi") else [sys.executable, "-m", "yidi.cli"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"} | {"PYTHONPATH": str(ROOT / "engine")}
    process = subprocess.Popen([*command, "test", "--verbose", "--policies", str(POLICIES)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    process.stdout.read(1)
    process.stdout.close()      # as `yidi test … | head -c 1` does
    _, err = process.communicate(timeout=120)
    assert b"Traceback" not in err and b"Exception ignored" not in err, err.decode()[-2000:]


def test_running_a_command_in_this_process_leaves_the_collector_as_it_was():
    """`main` (what tests and embedding code call) raises the collector's thresholds only while the command runs."""
    import gc

    from yidi.cli import main

    before, enabled = gc.get_threshold(), gc.isenabled()
    assert main(["validate", "--policies", str(POLICIES)]) == 0
    assert (gc.get_threshold(), gc.isenabled()) == (before, enabled)
