"""`yidi diff`: the officer's change, counted and explained so a reviewer can check it by hand.

The change (issue 14): Henan's `reduction.other_temporary` goes from 20 to 15
percentage points from 2026-01-01, and a new city, 洛阳 (410300), overrides
`reduction.referral` (10 → 5) from 2026-01-01. The tests write both trees'
values themselves (tests/officer_edits.py), so they do not depend on the
shipped policy's current numbers. Expected changes are recomputed here
independently: which claims move, by how much the fund pays, who is only
relabelled (henan → luoyang, same outcome).
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest

from yidi import Engine, InputError
from yidi.cli import main
from yidi.impact import results
from yidi.impact_summary import Summary
from yidi.synth import generate

from .conftest import CONFLICTING, POLICIES, plant_rule_conflict
from .officer_edits import add_luoyang, officer_change

N = 2500
FROM = datetime.date(2026, 1, 1)


def write_trees(base):
    """old: Henan's other-temporary reduction 20 throughout; new: 15 from 2026-01-01, and 洛阳 with referral 5 from then."""
    old, new = base / "old" / "policies", base / "new" / "policies"
    officer_change(POLICIES, old, new)
    return old, new


def write_claims(path, tree, n=N, seed=2026):
    with open(path, "w", encoding="utf-8") as out:
        for claim in generate(n, seed=seed, policies=tree):
            out.write(json.dumps(claim, ensure_ascii=False) + "\n")


def run_diff(old, new, claims, out, *extra):
    code = main(["diff", str(old), str(new), "--claims", str(claims), "--json", str(out / "report.json"),
                 "--markdown", str(out / "report.md"), "--html", str(out / "report.html"), "--no-progress", *extra])
    assert code == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    changes = [json.loads(line, parse_float=Decimal) for line in (out / "report.changes.jsonl").read_text(encoding="utf-8").splitlines()]
    return report, changes


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    base = tmp_path_factory.mktemp("diff")
    old, new = write_trees(base)
    claims = base / "claims.jsonl"
    write_claims(claims, new)                       # insured regions of the new tree: 洛阳's too
    return base, old, new, claims


@pytest.fixture(scope="module")
def report(trees):
    base, old, new, claims = trees
    return run_diff(old, new, claims, base, "--sample", "12")


def expected_changes(old, claims):
    """Recomputed without yidi diff: claim id → (kind of change, fund delta or None)."""
    engine = Engine.load(old)
    henan_derived = {pid for pid, c in engine.policies.policies.items()
                     if c.layered.parameters["reduction.other_temporary"].policy_id == "henan"}
    assert "henan" in henan_derived
    expected = {}
    for line in claims.read_text(encoding="utf-8").splitlines():
        claim = json.loads(line, parse_float=Decimal)
        try:
            decision = engine.evaluate(claim)
        except InputError:
            continue
        settled = datetime.date.fromisoformat(claim["visit"]["discharge_date"])
        luoyang = claim["insured"]["region"].startswith("4103")
        used = {p["name"] for e in decision["trace"] if e.get("variable") == "reduction_pp" for p in e.get("parameters", ())}
        new_reduction = None
        if settled >= FROM and decision["policy"]["id"] in henan_derived and "reduction.other_temporary" in used:
            new_reduction = Decimal(15)
        if settled >= FROM and luoyang and "reduction.referral" in used:
            new_reduction = Decimal(5)
        if new_reduction is not None and new_reduction != decision["reduction_pp"]:
            expected[claim["id"]] = ("outcome", independent_fund_delta(decision, new_reduction / 100))
        elif luoyang:
            expected[claim["id"]] = ("label", None)
    return expected


def independent_fund_delta(decision, new_reduction: Decimal) -> Decimal | None:
    """Recompute the fund from the benefit row the old decision used, with the new reduction."""
    old_fund = (decision["amounts"] or {}).get("fund")
    if old_fund is None:
        return None                                           # fund undetermined: never counted as money
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


def test_exactly_the_claims_the_change_touches_change_and_relabelled_ones_are_apart(trees, report):
    _, old, _, claims = trees
    data, changes = report
    expected = expected_changes(old, claims)
    found = {c["id"]: c for c in changes}
    assert {i for i, (kind, _) in expected.items() if kind == "outcome"} == {i for i, c in found.items() if c["change"] == "outcome"}
    assert {i for i, (kind, _) in expected.items() if kind == "label"} == {i for i, c in found.items() if c["change"] == "label"}
    assert data["outcome_changed"] > 0 and data["label_only"] > 0
    assert all(set(c["changes"]) == {"policy"} for c in changes if c["change"] == "label")
    money = [delta for kind, delta in expected.values() if kind == "outcome" and delta is not None]
    assert Decimal(str(data["fund"]["delta"])) == sum(money, Decimal(0)) > 0
    assert data["fund"]["worse_off"] == 0 and data["fund"]["better_off"] == sum(1 for d in money if d > 0)
    assert {(t["old"], t["new"]) for t in data["transitions"]["reduction_pp"]} == {(20, 15), (10, 5)}


def test_the_headline_and_breakdowns_can_be_checked_against_the_changes_file(report):
    """What a reviewer does by hand: count and add up the per-claim file."""
    data, changes = report
    assert data["outcome_changed"] == sum(c["change"] == "outcome" for c in changes)
    assert data["label_only"] == sum(c["change"] == "label" for c in changes)
    deltas = [c["fund_delta"] for c in changes if c["fund_delta"] is not None]
    assert Decimal(str(data["fund"]["delta"])) == sum(deltas, Decimal(0))
    assert data["fund"]["better_off"] == sum(d > 0 for d in deltas) and data["fund"]["worse_off"] == sum(d < 0 for d in deltas)
    for dimension, field in (("insured_region", "insured_region"), ("scheme", "scheme"), ("visit_kind", "visit_kind")):
        money, outcome = defaultdict(Decimal), Counter()
        for c in changes:
            money[c[field]] += c["fund_delta"] or 0
            outcome[c[field]] += c["change"] == "outcome"
        for row in data["breakdown"][dimension]:
            assert Decimal(str(row["fund_delta"])) == money[row["key"]] and row["outcome_changed"] == outcome[row["key"]], row
    assert sum(row["claims"] for row in data["breakdown"]["scheme"]) == data["compared"] == N
    assert all(c["insured_region"] and c["scheme"] in ("employee", "resident") and c["visit_kind"] for c in changes)


def test_examples_show_what_made_the_difference_once(report):
    data, _ = report
    biggest = next(e for e in data["examples"] if e["reason"] == "largest")
    steps = {s["rule"]: s for s in biggest["steps"]}
    step = steps["national.reduction-other-temporary"] if "national.reduction-other-temporary" in steps else steps["national.reduction-referral"]
    assert [(p["old"], p["new"]) for p in step["parameters"]] in ([(20, 15)], [(10, 5)])
    assert "national.scope-cross-province" not in steps            # a step equal under both trees is not shown
    assert len({e["id"] for e in data["examples"]}) == len(data["examples"])
    label = next(e for e in data["examples"] if e["change"] == "label")
    assert [s["rule"] for s in label["steps"]] == ["yidi.policy-selection"]


def test_reports_speak_chinese(trees, report):
    base = trees[0]
    md = (base / "report.md").read_text(encoding="utf-8")
    assert "# 政策变更影响报告" in md and "决定结果有变化" in md and "仅政策名称变化" in md
    assert "| 其他临时外出待遇（other_temporary） |" in md and "河南省（henan） | 洛阳市（luoyang）" in md
    assert "从不按 0 元计入金额" in md and "按参保地" in md and "按险种" in md and "按就医类型" in md
    for raw in ("| other_temporary |", "| cross_province |", "| null |", "| None |"):
        assert raw not in md


def test_the_html_report_opens_offline_with_its_charts(trees, report):
    text = (trees[0] / "report.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in text
    assert text.count("<svg") == 2 and "每份申请的基金支付变化" in text and "各参保地基金支付变化" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text) and "<script" not in text   # nothing fetched


def test_patients_made_worse_off_come_first(tmp_path):
    """Planted: 洛阳 also raises its emergency reduction to 25 from 2026 — a few patients lose money."""
    old, new = write_trees(tmp_path)
    add_luoyang(new, {"reduction.referral": ("2026-01-01", 5), "reduction.emergency": ("2026-01-01", 25)})
    claims = tmp_path / "claims.jsonl"
    write_claims(claims, new)
    data, changes = run_diff(old, new, claims, tmp_path, "--sample", "10")
    worse = sorted((c for c in changes if c["fund_delta"] is not None and c["fund_delta"] < 0), key=lambda c: c["fund_delta"])
    assert 0 < len(worse) <= 10 and data["fund"]["worse_off"] == len(worse)
    assert all(c["insured_region"].startswith("4103") for c in worse)
    first = data["examples"][:len(worse)]
    assert [e["id"] for e in first] == [c["id"] for c in worse] and all(e["reason"] == "worse" for e in first)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    examples = md[md.index("## 示例"):]
    assert examples.index("### 待遇变差（基金少付）") < examples.index(f"`{worse[0]['id']}`") < examples.index("### 基金支付变化最大")
    assert f"待遇变差（基金少付）{len(worse)} 份" in md


def test_undecidable_claims_are_counted_apart_never_as_money(tmp_path, trees):
    claims = trees[3]
    old, new = tmp_path / "old", tmp_path / "new"
    for tree in (old, new):
        shutil.copytree(POLICIES, tree, ignore=shutil.ignore_patterns("tests"))
    plant_rule_conflict(new)                    # the new tree cannot decide CONFLICTING
    corpus = tmp_path / "claims.jsonl"
    head = claims.read_text(encoding="utf-8").splitlines()[:50]
    corpus.write_text("\n".join([*head, json.dumps({**CONFLICTING, "kind": "claim"}, ensure_ascii=False)]) + "\n", encoding="utf-8")
    data, changes = run_diff(old, new, corpus, tmp_path)
    assert data["undecidable"] == {"old": 0, "new": 1, "became": 1, "stopped": 0}
    assert data["fund"]["vanished"] == 1 and Decimal(str(data["fund"]["delta"])) == 0     # not "−fund" as if paid 0
    [only] = changes
    assert only["id"] == "C-CONFLICT" and only["fund_delta"] is None and only["change"] == "outcome"
    assert data["examples"][0]["reason"] == "unknown"
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "新变为无法决定 1 份" in md.split("## 谁受影响")[0]


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
    text = "".join(claims.read_text(encoding="utf-8").splitlines(True)[:1200]).encode()
    import io

    one, two = Summary(), Summary()
    old_set, new_set = Engine.load(old).policies, Engine.load(new).policies
    for block in results(old_set, new_set, io.BytesIO(text), jobs=1):
        one.add(block)
    for block in results(old_set, new_set, io.BytesIO(text), jobs=2):
        two.add(block)
    a, b = one.tally, two.tally
    assert (a.claims, a.outcome, a.label, a.fund_delta, a.fields, a.bins) == (b.claims, b.outcome, b.label, b.fund_delta, b.fields, b.bins)
    assert [r["id"] for _, r in one.examples()] == [r["id"] for _, r in two.examples()]


def test_invalid_lines_are_counted_not_fatal(trees, tmp_path):
    _, old, new, claims = trees
    mixed = tmp_path / "mixed.jsonl"
    good = claims.read_text(encoding="utf-8").splitlines()[:20]
    mixed.write_text("\n".join(good + ['{"id": "BAD-1", "kind": "claim"}', "not json"]) + "\n", encoding="utf-8")
    out = tmp_path / "mixed.json"
    assert main(["diff", str(old), str(new), "--claims", str(mixed), "--json", str(out), "--no-progress"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["claims"] == 22 and data["invalid"] == 2 and data["compared"] == 20
    assert [(i["line"], i["id"]) for i in data["invalid_examples"]] == [(21, "BAD-1"), (22, None)]


def test_filing_requests_are_counted_not_compared(trees, tmp_path):
    _, old, new, _ = trees
    request = json.loads((POLICIES.parent / "examples" / "henan-cancel-locked.filing.json").read_text(encoding="utf-8"))
    corpus = tmp_path / "requests.jsonl"
    corpus.write_text(json.dumps(request, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    assert main(["diff", str(old), str(new), "--claims", str(corpus), "--json", str(out), "--no-progress"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert (data["claims"], data["not_claims"], data["compared"]) == (1, 1, 0)


def test_ctrl_c_keeps_what_was_written(trees, tmp_path):
    _, old, new, claims = trees
    changes, summary = tmp_path / "partial.changes.jsonl", tmp_path / "partial.json"
    proc = subprocess.Popen([sys.executable, "-m", "yidi", "diff", str(old), str(new), "--claims", str(claims),
                             "--json", str(summary), "--changes", str(changes), "--jobs", "1", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (changes.is_file() and changes.stat().st_size > 0):
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "已中断" in out
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["partial"] is True and 0 < data["claims"] < N
    written = changes.read_text(encoding="utf-8").splitlines()
    assert len(written) == data["changed"] and all(json.loads(line)["id"] for line in written)


@pytest.mark.skipif(os.environ.get("YIDI_DIFF_100K") != "1", reason="the 100,000-claim run takes half a minute; set YIDI_DIFF_100K=1")
def test_hundred_thousand_claims(tmp_path):
    old, new = write_trees(tmp_path)
    claims = tmp_path / "claims.jsonl"
    assert main(["synth", "--n", "100000", "--seed", "2026", "-o", str(claims), "--policies", str(new)]) == 0
    assert main(["diff", str(old), str(new), "--claims", str(claims), "--json", str(tmp_path / "r.json"), "--no-progress"]) == 0
