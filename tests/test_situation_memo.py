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
from yidi.policy.situation_memo import SeenReads, TrackedDocument, ValueNumbers, value_key, value_keys
from yidi.policy.static_checks import check_policy
from yidi.synth_tree import write_national_tree

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def memos(monkeypatch) -> list[SeenReads]:
    """Every `SeenReads` made from now on, to count what it skipped."""
    made: list[SeenReads] = []
    original = SeenReads.__init__

    def counting(self, keys):
        original(self, keys)
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
    numbers = ValueNumbers()
    all_keys = [value_keys(document, numbers) for document in docs]
    memo = SeenReads(all_keys)
    decided = []
    for index, (document, keys) in enumerate(zip(docs, all_keys)):
        if memo.seen(index):
            # some document decided before read only inputs where this one holds the same values
            assert any(all(value_keys(earlier, numbers)[k] == keys[k] for k in reads) for earlier, reads, _ in decided)
            assert program(document) in {answer for _, _, answer in decided}
            continue
        tracked = TrackedDocument(document)
        answer = program(tracked)
        memo.add(tracked, index)
        decided.append((document, list(tracked.reads), answer))
        assert answer == program(document)      # tracking changes nothing


@settings(max_examples=200, deadline=None)
@given(tree=_trees(4), docs=documents, start=st.integers(0, 39))
def test_the_next_unseen_situation_is_the_first_seen_says_is_not(tree, docs, start):
    """`next_unseen` (one pass in C) against asking `seen` one situation at a time."""
    program = _program(tree)
    numbers = ValueNumbers()
    all_keys = [value_keys(document, numbers) for document in docs]
    one_by_one, in_one_go = SeenReads(all_keys), SeenReads(all_keys)
    start = min(start, len(docs))
    for index in range(start):
        tracked = TrackedDocument(docs[index])
        program(tracked)
        for memo in (one_by_one, in_one_go):
            if not memo.seen(index):
                memo.add(tracked, index)
    expected = next((i for i in range(start, len(docs)) if not one_by_one.seen(i)), len(docs))
    assert in_one_go.next_unseen(start, len(docs)) == expected


def test_a_document_equal_to_one_decided_before_is_skipped():
    numbers = ValueNumbers()
    docs = [{"a": 1, "b": 2}, {"a": 1, "b": 99}, {"a": True, "b": 2}, {"a": 1.0, "b": 2}, {"b": 2}]
    memo = SeenReads([value_keys(document, numbers) for document in docs])
    first = TrackedDocument(docs[0])
    first["a"]
    memo.add(first, 0)
    assert memo.seen(1)             # b was never read
    assert not memo.seen(2)         # True is not 1 here
    assert not memo.seen(3)         # nor is 1.0
    assert not memo.seen(4)         # a missing input is a value of its own


@pytest.mark.parametrize("whole", [list, dict, len, lambda d: d == {}, lambda d: d.items(), lambda d: d.copy(),
                                   lambda d: d.update(x=1), lambda d: d.setdefault("x", 1), lambda d: [*d],
                                   lambda d: d != {}, lambda d: list(reversed(d)), lambda d: d | {}, lambda d: {} | d,
                                   lambda d: d.popitem(), lambda d: d.clear(), bool, lambda d: d.values(), lambda d: d.keys(),
                                   lambda d: d.pop("a"), lambda d: d.__setitem__("b", 2), lambda d: d.__delitem__("a")])
def test_a_recording_that_may_have_missed_a_read_skips_nothing(whole):
    numbers = ValueNumbers()
    memo = SeenReads([value_keys({"a": 1}, numbers), value_keys({"a": 1}, numbers)])
    document = TrackedDocument({"a": 1})
    document["a"]
    whole(document)
    assert not document.complete
    memo.add(document, 0)
    assert not memo.seen(1)


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


# ── the reads a program declares: every key a decision reads, so skipping by them is sound ──


def _documents(engine: Engine):
    from yidi.fastdecode import convert_fast
    from yidi.policy.static_checks import flat_situations, insured_region
    from yidi.synth import generate

    for compiled in engine.policies.policies.values():
        for _, _, document in flat_situations(insured_region(compiled, engine.policies)):
            if isinstance(document, dict):
                yield document
    for claim in generate(2000, 13, policies=None):
        flat = convert_fast(claim)
        if flat is not None:
            yield flat


@pytest.mark.parametrize("which", ["shipped", "synthetic"])
def test_a_decision_reads_nothing_its_program_does_not_declare(which, tmp_path):
    """`Evaluator.document_reads` (routing, the program's `document_reads`: its inputs and the benefit lookup's)
    must cover every key a recording document sees read, in every situation and in synthetic claims —
    the static checks skip by them (they also check the first decision of each program as it runs)."""
    from yidi.errors import EvaluationError

    if which == "shipped":
        engine = Engine.load(ROOT / "policies")
    else:
        write_national_tree(tmp_path / "policies", cities=6, provinces=2, seed=3)
        engine = Engine.load(tmp_path / "policies")
    checked = benefit = 0
    for document in _documents(engine):
        declared = engine.evaluator.document_reads(dict(document))
        tracked = TrackedDocument(document)
        try:
            engine.evaluator.rules_met_flat(tracked)
        except EvaluationError:
            pass
        assert tracked.complete and tracked.reads.keys() <= declared, sorted(tracked.reads.keys() - declared)
        checked += 1
        benefit += "insured.scheme" in tracked.reads
    assert checked > 1000 and benefit > 0       # the benefit lookup's reads were exercised


def test_a_program_whose_declared_reads_miss_a_key_is_recorded_every_time(memos, monkeypatch):
    """Should a program declare too little, its first decision shows it: it is then never trusted, and the
    findings stay those of deciding every situation."""
    from yidi.evaluation.evaluator import Evaluator

    engine = Engine.load(ROOT / "policies")
    original = Evaluator.document_reads

    def too_little(self, d):
        return frozenset(original(self, d) - {"visit.kind", "kind"})

    monkeypatch.setattr(Evaluator, "document_reads", too_little)
    recorded = []
    original_add = SeenReads.add
    monkeypatch.setattr(SeenReads, "add", lambda self, document, keys: (recorded.append(1), original_add(self, document, keys))[1])
    _same_with_and_without_skipping(engine, memos)
    assert len(recorded) > 100      # every decision recorded, not only each program's first


@settings(max_examples=300, deadline=None)
@given(docs=st.lists(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES) | st.lists(st.integers(0, 2), max_size=2)),
                     min_size=2, max_size=10))
def test_numbering_in_c_tells_values_apart_as_value_key_does(docs):
    """`value_keys` numbers values in C where they hash: two values share a number exactly when their
    `value_key`s are equal — lists (unhashable) included."""
    from yidi.policy.situation_memo import ValueNumbers

    numbers = ValueNumbers()
    keys = [value_keys(document, numbers) for document in docs]
    for a in range(len(docs)):
        assert keys[a].keys() == docs[a].keys()
        for b in range(len(docs)):
            for key in KEYS:
                same = (value_key(docs[a][key]) == value_key(docs[b][key])) if key in docs[a] and key in docs[b] \
                    else (key in docs[a]) == (key in docs[b])
                assert (keys[a][key] == keys[b][key]) == same, (docs[a], docs[b], key)
