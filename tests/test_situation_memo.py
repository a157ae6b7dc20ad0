"""Skipping repeated situations in the static checks finds exactly what deciding every situation finds.

`policy.situation_memo` lets `check_policy` skip a situation that holds the
values an earlier decision read. These tests hold it to that: the same
findings and first situations on every shipped policy (and, after random
edits, on synthetic trees: tests/test_validation_scale.py), the same
decisions for random programs (hypothesis), and no skipping at all after a
recording that may have missed a read.
"""

from __future__ import annotations

import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yidi import Engine
from yidi.policy.situation_memo import SeenReads, TrackedDocument, value_key, value_keys
from yidi.policy.static_checks import check_policy
from yidi.synth_tree import write_national_tree

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def memos(monkeypatch) -> list[SeenReads]:
    """Every `SeenReads` made from now on, to count what it skipped."""
    made: list[SeenReads] = []
    original = SeenReads.__init__

    def counting(self):
        original(self)
        made.append(self)

    monkeypatch.setattr(SeenReads, "__init__", counting)
    return made


def _same_with_and_without_skipping(engine: Engine, memos: list[SeenReads]) -> None:
    for compiled in engine.policies.policies.values():
        every = check_policy(engine.policies, engine.evaluator, compiled, skip_repeats=False)
        memos.clear()
        skipping = check_policy(engine.policies, engine.evaluator, compiled)
        assert skipping == every, compiled.id       # findings, and each rule's first situation
        assert sum(memo.skipped for memo in memos) > 0, compiled.id


def test_every_shipped_policy_finds_the_same_with_and_without_skipping(memos):
    _same_with_and_without_skipping(Engine.load(ROOT / "policies"), memos)


def test_synthetic_cities_find_the_same_with_and_without_skipping(tmp_path, memos):
    root = tmp_path / "policies"
    write_national_tree(root, cities=6, provinces=2, seed=11)
    _same_with_and_without_skipping(Engine.load(root), memos)


# ── the memo on its own: random deterministic programs over random documents ──

KEYS = ("a", "b", "c", "d", "e")
VALUES = (0, 1, True, 1.0, "1", None)       # equal but not the same: 1, True and 1.0 must not be taken for each other


def _program(tree):
    """A deterministic program as a decision tree: (key, how it reads, {value: subtree}, default) or a leaf."""
    def run(document):
        node = tree
        while isinstance(node, tuple):
            key, how, branches, default = node
            if how == "get":
                value = document.get(key, "missing")
            elif how == "in":
                value = key in document
            else:
                try:
                    value = document[key]
                except KeyError:
                    return ("KeyError", key)
            node = branches.get(value_key(value), default)
        return node
    return run


def _trees(depth):
    leaf = st.integers(0, 5)
    if depth == 0:
        return leaf
    sub = _trees(depth - 1)
    branch = st.tuples(st.sampled_from(KEYS), st.sampled_from(("item", "get", "in")),
                       st.dictionaries(st.sampled_from(VALUES).map(value_key), sub, max_size=3), sub)
    return st.one_of(leaf, branch)


documents = st.lists(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES)), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(tree=_trees(4), docs=documents)
def test_a_skipped_document_would_have_been_decided_as_an_earlier_one(tree, docs):
    program = _program(tree)
    memo = SeenReads()
    numbers: dict = {}
    decided = []
    for document in docs:
        keys = value_keys(document, numbers)
        if memo.seen(keys):
            # some document decided before read only inputs where this one holds the same values
            assert any(all(value_keys(earlier, numbers)[k] == keys[k] for k in reads) for earlier, reads, _ in decided)
            assert program(document) in {answer for _, _, answer in decided}
            continue
        tracked = TrackedDocument(document)
        answer = program(tracked)
        memo.add(tracked, keys)
        decided.append((document, list(tracked.reads), answer))
        assert answer == program(document)      # tracking changes nothing


def test_a_document_equal_to_one_decided_before_is_skipped():
    memo, numbers = SeenReads(), {}
    first = TrackedDocument({"a": 1, "b": 2})
    first["a"]
    memo.add(first, value_keys({"a": 1, "b": 2}, numbers))
    assert memo.seen(value_keys({"a": 1, "b": 99}, numbers))         # b was never read
    assert not memo.seen(value_keys({"a": True, "b": 2}, numbers))   # True is not 1 here
    assert not memo.seen(value_keys({"a": 1.0, "b": 2}, numbers))    # nor is 1.0
    assert not memo.seen(value_keys({"b": 2}, numbers))              # a missing input is a value of its own


@pytest.mark.parametrize("whole", [list, dict, len, lambda d: d == {}, lambda d: d.items(), lambda d: d.copy(),
                                   lambda d: d.update(x=1), lambda d: d.setdefault("x", 1), lambda d: [*d]])
def test_a_recording_that_may_have_missed_a_read_skips_nothing(whole):
    memo = SeenReads()
    document = TrackedDocument({"a": 1})
    document["a"]
    whole(document)
    assert not document.complete
    numbers: dict = {}
    memo.add(document, value_keys({"a": 1}, numbers))
    assert not memo.seen(value_keys({"a": 1}, numbers))


def test_situation_templates_read_back_from_the_cache_find_the_same(tmp_path, monkeypatch):
    from yidi.policy import static_checks

    engine = Engine.load(ROOT / "policies")
    ids = list(engine.policies.policies)
    made_here = []
    decode = static_checks._decode_templates
    monkeypatch.setattr(static_checks, "_decode_templates", lambda canonical: made_here.append(canonical) or decode(canonical))

    def findings():
        return {pid: check_policy(engine.policies, engine.evaluator, engine.policies.policies[pid]) for pid in ids}

    monkeypatch.setattr(static_checks, "_FLAT", {})
    static_checks.prepare_templates(engine.policies, ids, tmp_path)     # made, and kept in the cache
    assert made_here
    made = findings()
    made_here.clear()
    monkeypatch.setattr(static_checks, "_FLAT", {})
    static_checks.prepare_templates(engine.policies, ids, tmp_path)     # read back
    assert not made_here
    assert findings() == made
