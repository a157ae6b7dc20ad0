"""`yidi diff`: exactly the claims a change touches change, and the fund delta is right.

The change: Henan's `reduction.other_temporary` from 20 to 15 percentage
points. Henan's policy keeps a separate parameter for unfiled care
(`reduction.unfiled`, 20, an interpretation), so claims decided as
`unfiled` must not move; only claims whose treatment is `other_temporary`
under a policy that takes that parameter from Henan may change. The fund
delta is recomputed here independently from the old decisions' traces.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal

import pytest
import yaml

from yidi import Engine, InputError
from yidi.cli import main
from yidi.impact import Summary, results
from yidi.synth import generate

from .conftest import POLICIES

N = 2500


def change_other_temporary(tree, new_value: int) -> None:
    path = tree / "henan" / "policy.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  reduction.other_temporary:")
    at = text.index("value: 20", start)
    path.write_text(text[:at] + f"value: {new_value}" + text[at + len("value: 20"):], encoding="utf-8")


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    base = tmp_path_factory.mktemp("diff")
    old, new = base / "old" / "policies", base / "new" / "policies"
    shutil.copytree(POLICIES, old)
    shutil.copytree(POLICIES, new)
    change_other_temporary(new, 15)
    claims = base / "claims.jsonl"
    with open(claims, "w", encoding="utf-8") as out:
        for claim in generate(N, seed=2026, policies=POLICIES):
            out.write(json.dumps(claim, ensure_ascii=False) + "\n")
    return base, old, new, claims


@pytest.fixture(scope="module")
def report(trees):
    base, old, new, claims = trees
    out = base / "report.json"
    code = main(["diff", str(old), str(new), "--claims", str(claims), "--json", str(out),
                 "--markdown", str(base / "report.md"), "--no-progress", "--sample", "12"])
    assert code == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_the_policy_change_is_what_we_think(trees):
    _, old, new, _ = trees
    for tree, value in ((old, 20), (new, 15)):
        params = yaml.safe_load((tree / "henan" / "policy.yaml").read_text(encoding="utf-8"))["parameters"]
        assert params["reduction.other_temporary"]["values"][0]["value"] == value
        assert params["reduction.unfiled"]["values"][0]["value"] == 20          # separate, unchanged


def test_exactly_the_other_temporary_claims_under_henan_change(trees, report):
    base, old, _, claims = trees
    engine = Engine.load(old)
    takes_from_henan = {pid for pid, c in engine.policies.policies.items()
                        if "reduction.other_temporary" in c.layered.parameters
                        and c.layered.parameters["reduction.other_temporary"].policy_id == "henan"}
    assert "henan" in takes_from_henan
    expected, expected_delta, unfiled_seen = set(), Decimal(0), 0
    for line in claims.read_text(encoding="utf-8").splitlines():
        claim = json.loads(line, parse_float=Decimal)
        try:
            decision = engine.evaluate(claim)
        except InputError:
            continue                                          # the corpus has a few invalid lines on purpose
        unfiled_seen += decision["treatment"] == "unfiled" and decision["policy"]["id"] in takes_from_henan
        if decision["treatment"] != "other_temporary" or decision["policy"]["id"] not in takes_from_henan:
            continue
        expected.add(claim["id"])
        expected_delta += independent_fund_delta(decision, Decimal("0.15"))
    changed = {json.loads(line)["id"] for line in (base / "report.changes.jsonl").read_text(encoding="utf-8").splitlines()}
    assert expected and unfiled_seen                          # the corpus has both kinds of claims
    assert changed == expected
    assert report["changed"] == len(expected)
    assert report["changed_fields"]["reduction_pp"] == len(expected)
    assert set(report["changed_fields"]) <= {"reduction_pp", "ratio", "amounts.fund", "amounts.personal"}
    assert report["transitions"]["reduction_pp"] == [{"old": "20", "new": "15", "count": len(expected)}]
    assert Decimal(str(report["fund"]["delta"])) == expected_delta
    assert expected_delta > 0 and report["fund"]["claims_down"] == 0


def independent_fund_delta(decision, new_reduction: Decimal) -> Decimal:
    """Recompute the fund from the benefit row the old decision used, with the new reduction."""
    old_fund = (decision["amounts"] or {}).get("fund")
    if old_fund is None:
        return Decimal(0)                                     # fund undetermined (no benefit table for this care): no money counted
    if decision["route"] == "none":
        assert old_fund == 0                                  # not paid by the fund whatever the ratio
        return Decimal(0)
    row = next(e["value"] for e in decision["trace"] if e.get("variable") == "benefit")
    assert decision["ratio"] == max(row["ratio"] - decision["reduction_pp"] / 100, 0) and decision["ratio"] > 0
    ratio = max(row["ratio"] - new_reduction, Decimal(0))
    fund = ((decision["amounts"]["in_scope"] - decision["amounts"]["deductible"]) * ratio).quantize(Decimal("0.01"), ROUND_HALF_UP)
    if row["cap"] is not None:
        fund = min(fund, row["cap"])
    return fund - old_fund


def test_reports_are_readable(trees, report):
    base = trees[0]
    md = (base / "report.md").read_text(encoding="utf-8")
    assert "# 政策变更影响报告" in md and "| 20 | 15 |" in md and "基金支付合计变化" in md
    assert report["sample"] and all(s["old_trace"] and s["new_trace"] for s in report["sample"])
    assert "national.reduction-other-temporary" in report["sample"][0]["new_trace"]
    assert report["claims"] == N and report["partial"] is False


def test_unchanged_policies_change_nothing(trees, tmp_path):
    _, old, _, claims = trees
    head = tmp_path / "head.jsonl"
    head.write_text("".join(claims.read_text(encoding="utf-8").splitlines(True)[:200]), encoding="utf-8")
    out = tmp_path / "same.json"
    assert main(["diff", str(old), str(old), "--claims", str(head), "--json", str(out), "--no-progress"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["changed"] == 0 and Decimal(str(data["fund"]["delta"])) == 0


def test_worker_processes_give_the_same_results(trees):
    _, old, new, claims = trees
    lines = claims.read_text(encoding="utf-8").splitlines(True)[:1200]
    one, two = Summary(), Summary()
    for r in results(old, new, lines, jobs=1):
        one.add(r)
    for r in results(old, new, lines, jobs=2):
        two.add(r)
    assert (one.total, one.changed, one.fund_delta, one.fields) == (two.total, two.changed, two.fund_delta, two.fields)


def test_invalid_lines_are_counted_not_fatal(trees, tmp_path):
    _, old, new, claims = trees
    mixed = tmp_path / "mixed.jsonl"
    good = claims.read_text(encoding="utf-8").splitlines()[:20]
    mixed.write_text("\n".join(good + ['{"id": "BAD-1", "kind": "claim"}', "not json"]) + "\n", encoding="utf-8")
    out = tmp_path / "mixed.json"
    assert main(["diff", str(old), str(new), "--claims", str(mixed), "--json", str(out), "--no-progress"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["claims"] == 22 and data["invalid"] == 2 and data["invalid_examples"][0]["id"] == "BAD-1"


def test_ctrl_c_keeps_what_was_written(trees, tmp_path):
    _, old, new, claims = trees
    changes, summary = tmp_path / "partial.changes.jsonl", tmp_path / "partial.json"
    proc = subprocess.Popen([sys.executable, "-m", "yidi", "diff", str(old), str(new), "--claims", str(claims),
                             "--json", str(summary), "--changes", str(changes), "--jobs", "1", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (changes.is_file() and changes.stat().st_size > 0):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "已中断" in out
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["partial"] is True and 0 < data["claims"] < N
    written = changes.read_text(encoding="utf-8").splitlines()
    assert len(written) == data["changed"] and all(json.loads(line)["id"] for line in written)


@pytest.mark.skipif(os.environ.get("YIDI_DIFF_100K") != "1", reason="the 100,000-claim run takes minutes; set YIDI_DIFF_100K=1")
def test_hundred_thousand_claims(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(POLICIES, old)
    shutil.copytree(POLICIES, new)
    change_other_temporary(new, 15)
    claims = tmp_path / "claims.jsonl"
    assert main(["synth", "--n", "100000", "--seed", "2026", "-o", str(claims), "--policies", str(POLICIES)]) == 0
    assert main(["diff", str(old), str(new), "--claims", str(claims), "--json", str(tmp_path / "r.json"), "--no-progress"]) == 0
