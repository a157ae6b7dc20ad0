"""The shipped examples give the decisions their README promises."""

from __future__ import annotations

import json

import pytest

from yidi import InputError
from yidi.testing import mismatches

from .conftest import EXAMPLES

INPUTS = sorted(p for p in EXAMPLES.glob("*.json") if not p.name.endswith(".expected.json") and not p.name.startswith("bad-"))


def load(path):
    from yidi.documents import load_json

    return load_json(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_example_gives_the_expected_answer(engine, path):
    expected = json.loads(path.with_name(path.name.split(".")[0] + ".expected.json").read_text(encoding="utf-8"))
    answer = engine.evaluate(load(path))
    assert mismatches(expected, answer, ()) == []
    assert answer["trace"], "every decision carries a trace"
    for entry in answer["trace"]:
        assert entry["rule"] and entry["source"]


def test_bad_example_is_rejected_at_every_offending_field(engine):
    with pytest.raises(InputError) as info:
        engine.evaluate(load(EXAMPLES / "bad-dates.claim.json"))
    assert sorted({p.path for p in info.value.problems}) == ["costs.total", "insured.region", "visit.discharge_date"]


def test_newborn_trace_cites_the_newborn_clause(engine):
    answer = engine.evaluate(load(EXAMPLES / "henan-newborn.claim.json"))
    entry = next(e for e in answer["trace"] if e["rule"] == "henan.newborn-as-emergency")
    assert entry["source"] == "豫医保办〔2025〕2号 二（三）"
    assert "新生儿" in entry["says"]
