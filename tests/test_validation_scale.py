"""Validation at national scale: reusing kept results gives exactly a full run's findings, and the
synthetic ~400-region tree validates with every one of its cases passing."""

from __future__ import annotations

import datetime
import pathlib
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yidi import Engine
from yidi.diagnostics import render
from yidi.policy.static_checks import check_situations
from yidi.synth_tree import write_national_tree
from yidi.testing import run_all
from yidi.validation import situation_findings, validate


def _shape(found):
    return sorted((d.code, d.severity, d.file, d.line, d.column, d.message_zh, d.message_en) for d in found)


@pytest.fixture(scope="module")
def small_tree(tmp_path_factory) -> pathlib.Path:
    """The shipped tree, 2 synthetic provinces and 9 cities (some under the shipped provinces)."""
    root = tmp_path_factory.mktemp("small") / "policies"
    write_national_tree(root, cities=9, provinces=2, seed=3)
    return root


def _city_files(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in root.rglob("policy.yaml") if p.parent.name.startswith("c"))


# Edits an officer might make; each keeps the tree loadable, and most change some policy's findings.
def _edit_value(root, rng):
    path = rng.choice(_city_files(root))
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(reduction\.unfiled:(?:\n.*?)*?value: )\d+", lambda m: m.group(1) + str(rng.choice((10, 20, 30))), text, count=1),
                    encoding="utf-8")


def _edit_commitment_home(root, rng):
    """Henan's reduction for unsupplemented commitment filers: above its referral reduction it breaks a floor in
    Henan and every Henan city."""
    path = root / "henan" / "policy.yaml"
    text = path.read_text(encoding="utf-8")
    block = text.index("reduction.commitment_home:")
    at = text.index("value: ", block) + len("value: ")
    end = text.index("\n", at)
    path.write_text(text[:at] + str(rng.choice((0, 5, 25, 30))) + text[end:], encoding="utf-8")


def _edit_conflict(root, rng):
    """A city rule that contradicts the national default in some situations: a rule-conflict error there."""
    path = rng.choice(_city_files(root))
    policy_id = path.parent.name
    path.write_text(path.read_text(encoding="utf-8") + f"""
  - id: {policy_id}.planted-{rng.randrange(1000)}
    title: 测试用：与国家默认规则冲突的规则
    sets: route
    when: visit.emergency and visit.referral
    value: manual
    source: {{document: 合成医保发〔2024〕{policy_id[1:]}号, clause: 三}}
""", encoding="utf-8")


def _remove_city(root, rng):
    """Its province now decides the city's regions: the province's insured region (and results) may change."""
    import shutil

    cities = _city_files(root)
    if len(cities) > 3:
        shutil.rmtree(rng.choice(cities).parent)


def _edit_table(root, rng):
    path = rng.choice(sorted(root.glob("p*/policy.yaml")))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("level: 3, deductible: ", f"level: 3, deductible: {rng.randrange(1, 9)}", 1), encoding="utf-8")


EDITS = [_edit_value, _edit_commitment_home, _edit_conflict, _remove_city, _edit_table]


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.sampled_from(EDITS), min_size=1, max_size=3), seed=st.integers(0, 2**16))
def test_reused_results_equal_a_full_run_after_random_edits(small_tree, tmp_path_factory, edits, seed):
    import shutil

    work = tmp_path_factory.mktemp("edited")
    root = work / "policies"
    shutil.copytree(small_tree, root)
    cache_dir = work / "cache"
    rng = random.Random(seed)
    engine = Engine.load(root, cache=cache_dir)
    _, decided = situation_findings(engine, cache_dir, jobs=2)      # fills the cache: every policy decided
    assert decided == len(engine.policies.policies)
    for edit in edits:
        edit(root, rng)
        engine = Engine.load(root, cache=cache_dir)
        reused, decided = situation_findings(engine, cache_dir, jobs=2)
        assert decided < len(engine.policies.policies)
        fresh = Engine.load(root)
        # the reference decides every situation: neither kept results nor skipped repeats (situation_memo)
        assert _shape(reused) == _shape(check_situations(fresh.policies, fresh.evaluator, skip_repeats=False)), edit.__name__


def test_nothing_changed_decides_nothing_again(small_tree, tmp_path):
    cache_dir = tmp_path / "cache"
    engine = Engine.load(small_tree, cache=cache_dir)
    first, decided = situation_findings(engine, cache_dir)
    again, decided_again = situation_findings(Engine.load(small_tree, cache=cache_dir), cache_dir)
    assert decided == len(engine.policies.policies) and decided_again == 0
    assert _shape(first) == _shape(again)


def test_a_damaged_kept_result_is_decided_again(small_tree, tmp_path):
    cache_dir = tmp_path / "cache"
    engine = Engine.load(small_tree, cache=cache_dir)
    first, _ = situation_findings(engine, cache_dir)
    for entry in cache_dir.rglob("s-*.pickle"):
        data = bytearray(entry.read_bytes())
        data[-5] ^= 0xFF
        entry.write_bytes(bytes(data))
    again, decided = situation_findings(engine, cache_dir)
    assert decided == len(engine.policies.policies)
    assert _shape(first) == _shape(again)


def test_the_same_finding_in_many_policies_is_listed_once_naming_them(small_tree):
    engine = Engine.load(small_tree)
    floors = [d for d in check_situations(engine.policies, engine.evaluator) if d.code == "floor-conflict"]
    henan = [d for d in floors if d.file.endswith("henan/policy.yaml")]
    assert len(henan) == 1, render(floors)
    cities = sorted(p.parent.name for p in (small_tree / "henan").glob("c*/policy.yaml"))
    named = henan[0].message_zh.split("：")[0]
    assert cities and all(policy in named for policy in ["henan", *cities]), named
    assert henan[0].message_en.startswith("policies ")


def test_the_national_tree_validates_and_its_cases_pass(tmp_path):
    """The ~400-region tree: loads, validates with only what the shipped tree also has to confirm, every case passes."""
    root = tmp_path / "policies"
    counts = write_national_tree(root)
    result = validate(Engine.load(root), root, as_of=datetime.date(2026, 11, 23), use_cache=False)
    assert len(result.engine.policies.policies) == 7 + counts["provinces"] + counts["cities"] >= 400
    assert [d for d in result.problems if d.severity != "confirm"] == [], render(result.problems[:20])
    outcomes, problems = run_all(result.engine, root)
    assert problems == [] and len(outcomes) > 1500
    assert [o.case.label for o in outcomes if not o.passed] == []


def test_cases_run_in_workers_fail_exactly_as_run_here(small_tree, tmp_path):
    import shutil

    root = tmp_path / "policies"
    shutil.copytree(small_tree, root)
    broken = sorted(root.rglob("c*/tests/synthetic.yaml"))[0]
    broken.write_text(re.sub(r"deductible: \d+\}", "deductible: 1}", broken.read_text(encoding="utf-8")), encoding="utf-8")
    engine = Engine.load(root)
    here, problems = run_all(engine, root, jobs=1)
    there, problems_there = run_all(engine, root, jobs=2)
    assert problems == problems_there
    assert [(o.case.label, o.failures) for o in here] == [(o.case.label, o.failures) for o in there]
    assert sum(not o.passed for o in there) == 1
