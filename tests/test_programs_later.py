"""A compiled policy read from the cache reads its generated code only when it first decides (issue 15).

Validating a national tree needs every policy's rules (dates, coverage, test
cases, never-fires) and runs the code of only the policies it decides again;
the code is nine tenths of each kept entry. So an entry holds the rules first
and the programs after them (`cache.write_with_rest`), and the programs are
unpickled on first use. These tests hold the three promises that makes: the
programs read late are the ones kept, one object stays one object across
the two parts, and nothing reads them that does not run them.
"""

from __future__ import annotations

import json
import pathlib
import pickle
import threading

import pytest

from yidi import Engine
from yidi.policy import cache
from yidi.policy.tree import CompiledPolicy
from yidi.validation import validate

from .conftest import POLICIES, ROOT

CLAIM = json.loads((ROOT / "examples" / "henan-newborn.claim.json").read_text(encoding="utf-8"))


class Counted:
    """Counts how often it is unpickled (the proof that the rest of an entry was, or was not, read)."""

    made = 0

    def __init__(self, label: str):
        self.label = label

    def __setstate__(self, state):
        type(self).made += 1
        self.__dict__.update(state)


def test_the_rest_is_read_only_when_asked_and_refers_to_the_first_values_objects(tmp_path):
    shared_part = ["a part the reader already has"]
    inner = {"rules": ["r1", "r2"]}
    first = {"inner": inner, "shared": shared_part, "label": "first"}
    rest = {"same inner": inner, "same shared": shared_part, "own": Counted("rest"), "again": inner["rules"]}
    cache.write_with_rest(tmp_path, "k", first, rest, {id(shared_part): ("token",)})
    Counted.made = 0
    value, later = cache.read_with_rest(tmp_path, "k", {("token",): shared_part})
    assert value["inner"] == inner and value["shared"] is shared_part
    assert Counted.made == 0                       # the rest is not unpickled with the first value
    got = later.load()
    assert Counted.made == 1 and got["own"].label == "rest"
    assert got["same inner"] is value["inner"]     # one object, as in a single pickle
    assert got["again"] is value["inner"]["rules"]
    assert got["same shared"] is shared_part
    assert later.load() is got and Counted.made == 1


def test_a_rest_that_cannot_be_read_says_so_and_is_not_tried_again(tmp_path):
    """The rest refers to a part the reader does not give: LookupError, every time, and the first value stands."""
    only_rest = ["a part only the rest refers to"]
    cache.write_with_rest(tmp_path, "k", {"first": 1}, {"uses": only_rest}, {id(only_rest): ("missing",)})
    value, later = cache.read_with_rest(tmp_path, "k", {})
    assert value == {"first": 1}
    for _ in range(2):
        with pytest.raises(LookupError):
            later.load()


def test_threads_asking_at_once_get_one_rest(tmp_path):
    cache.write_with_rest(tmp_path, "k", "first", [Counted(str(i)) for i in range(200)], {})
    Counted.made = 0
    _, later = cache.read_with_rest(tmp_path, "k", {})
    got, start = [], threading.Barrier(8)

    def ask():
        start.wait()
        got.append(later.load())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counted.made == 200 and all(value is got[0] for value in got)


def test_a_plain_read_of_a_two_part_entry_or_a_two_part_read_of_a_plain_one_is_a_miss(tmp_path):
    cache.write(tmp_path, "plain", {"a": 1})
    assert cache.read_with_rest(tmp_path, "plain", {}) is None
    cache.write_with_rest(tmp_path, "two", {"a": 1}, {"b": 2}, {})
    assert cache.read(tmp_path, "two") is None


def _programs_read(monkeypatch) -> list[int]:
    reads: list[int] = []
    original = cache.Rest.load

    def counting(self):
        reads.append(1)
        return original(self)

    monkeypatch.setattr(cache.Rest, "load", counting)
    return reads


def test_a_policy_read_back_decides_as_the_one_built(tmp_path, engine, monkeypatch):
    folder = tmp_path / "cache"
    Engine.load(POLICIES, cache=folder)
    reads = _programs_read(monkeypatch)
    again = Engine.load(POLICIES, cache=folder)
    for pid in engine.policies.policies:
        kept = again.policies.policies[pid]
        assert kept.layered.policy.id == pid and "_programs_later" in vars(kept)
    assert not reads      # every policy's rules are there, no policy's code is read yet
    for pid, built in engine.policies.policies.items():
        kept = again.policies.policies[pid]
        for kind, program in built.programs.items():
            mine = kept.programs[kind]
            assert (mine.source, mine.constants, dict(mine.line_rules), mine.fire_order) == \
                   (program.source, program.constants, dict(program.line_rules), program.fire_order)
            # a program's rules are its layered policy's own objects, read back as they were built
            assert [any(r is own for own in kept.layered.rules) for r in mine.rules] == \
                   [any(r is own for own in built.layered.rules) for r in program.rules]
        assert [[p.source for p in versions] for versions in kept.by_version.values()] == \
               [[p.source for p in versions] for versions in built.by_version.values()]
        assert all(kept.by_version[kind][-1] is kept.programs[kind] or built.by_version[kind][-1] is not built.programs[kind]
                   for kind in built.programs)
    assert again.evaluate(CLAIM) == engine.evaluate(CLAIM)


def test_a_copy_for_another_process_holds_the_programs(tmp_path, engine):
    """Spark ships the loaded set to its executors, `yidi batch` to forked workers: a copy must not need the cache."""
    folder = tmp_path / "cache"
    Engine.load(POLICIES, cache=folder)
    kept = Engine.load(POLICIES, cache=folder).policies.policies["henan"]
    assert isinstance(kept, CompiledPolicy) and "_programs_later" in vars(kept)
    copy = pickle.loads(pickle.dumps(kept))
    assert "_programs_later" not in vars(copy)
    assert copy.programs["claim"].source == engine.policies.policies["henan"].programs["claim"].source


def test_programs_that_cannot_be_read_are_compiled_again(tmp_path, engine, monkeypatch):
    folder = tmp_path / "cache"
    Engine.load(POLICIES, cache=folder)

    def broken(self):
        raise LookupError("damaged")

    monkeypatch.setattr(cache.Rest, "load", broken)
    assert Engine.load(POLICIES, cache=folder).evaluate(CLAIM) == engine.evaluate(CLAIM)


def test_validating_reads_the_code_only_of_the_policies_it_decides(tmp_path, monkeypatch):
    """Nothing changed: no program is read. One city edited: only that city is decided, and it was just built."""
    import shutil

    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    import datetime

    as_of = datetime.date(2025, 7, 1)
    first = validate(Engine.load(tree, cache=True), tree, as_of=as_of)
    assert first.decided == len(first.engine.policies.policies)
    reads = _programs_read(monkeypatch)
    again = validate(Engine.load(tree, cache=True), tree, as_of=as_of)
    assert again.decided == 0 and not reads
    assert [d.message_en for d in again.problems] == [d.message_en for d in first.problems]
    city = tree / "shaanxi" / "xian" / "policy.yaml"
    city.write_text(city.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    edited = validate(Engine.load(tree, cache=True), tree, as_of=as_of)
    assert edited.decided == 1 and not reads
    assert [d.message_en for d in edited.problems] == [d.message_en for d in first.problems]


# ── a load without the cache writes each policy's code when it first decides ──────────────────────────


def _generations(monkeypatch) -> list[str]:
    from yidi.policy import tree

    made: list[str] = []
    original = tree.generate_program

    def counting(checked, problems):
        made.append(checked.layered.policy.id)
        return original(checked, problems)

    monkeypatch.setattr(tree, "generate_program", counting)
    return made


def test_a_load_without_the_cache_checks_every_policy_and_generates_only_what_decides(engine, monkeypatch):
    made = _generations(monkeypatch)
    lazy = Engine.load(POLICIES)
    assert made == [] and all("_programs_later" in vars(c) for c in lazy.policies.policies.values())
    assert lazy.evaluate(CLAIM) == engine.evaluate(CLAIM)
    decided = lazy.evaluate(CLAIM)["policy"]["id"]
    assert set(made) == {decided}                    # only the deciding policy's code was written
    now = Engine.load(POLICIES, generate_now=True)
    assert all("_programs_later" not in vars(c) for c in now.policies.policies.values())
    for pid, compiled in now.policies.policies.items():
        later = lazy.policies.policies[pid]
        assert {k: p.source for k, p in later.programs.items()} == {k: p.source for k, p in compiled.programs.items()}
        assert {k: [p.constants for p in ps] for k, ps in later.by_version.items()} == \
               {k: [p.constants for p in ps] for k, ps in compiled.by_version.items()}


def test_a_mistake_is_found_at_load_however_late_the_code_is_written(policy_copy):
    from yidi.diagnostics import DiagnosticError

    from .conftest import write_city

    write_city(policy_copy, """
rules:
  - id: zhengzhou.typo
    sets: ratio
    when: visit.kind == 3
    value: 0.9
    source: {document: 郑医保〔2025〕1号, clause: 一}
""")
    with pytest.raises(DiagnosticError) as raised:
        Engine.load(policy_copy)
    assert any(d.file.endswith("zhengzhou/policy.yaml") and d.severity == "error" for d in raised.value.diagnostics)


def test_code_python_cannot_compile_is_a_policy_defect_when_first_used_and_an_error_when_generated_now(monkeypatch):
    """Beyond Python's own limits despite the engine's: `yidi validate` (generate_now) reports it while
    loading; a lazy load answers the claims of that policy with the defect, never a traceback."""
    from yidi.diagnostics import Diagnostic, DiagnosticError
    from yidi.errors import EvaluationError, PolicyTooComplex
    from yidi.policy import tree

    original = tree.generate_program

    def too_complex(checked, problems):
        if checked.layered.policy.id != "henan":
            return original(checked, problems)
        where = checked.layered.policy.position
        problems.append(Diagnostic("policy-too-complex", "政策过于复杂", "too complex", where.file, where.line, where.column))
        return None

    monkeypatch.setattr(tree, "generate_program", too_complex)
    with pytest.raises(DiagnosticError) as raised:
        Engine.load(POLICIES, generate_now=True)
    assert [d.code for d in raised.value.diagnostics] == ["policy-too-complex"]
    lazy = Engine.load(POLICIES)
    for _ in range(2):
        with pytest.raises(PolicyTooComplex) as failed:
            lazy.evaluate(CLAIM)
        assert isinstance(failed.value, EvaluationError) and "henan/policy.yaml" in failed.value.message_en
    other = json.loads((ROOT / "examples" / "guangzhou-emergency.claim.json").read_text(encoding="utf-8"))
    assert lazy.evaluate(other)["policy"]["id"] != "henan"     # the other policies still decide


def test_threads_deciding_at_once_generate_a_policy_once(monkeypatch):
    made = _generations(monkeypatch)
    Engine.load(POLICIES).evaluate(CLAIM)
    once = list(made)                   # what one generation of the deciding policy writes (every kind and epoch)
    made.clear()
    lazy = Engine.load(POLICIES)
    start, answers = threading.Barrier(8), []

    def decide():
        start.wait()
        answers.append(lazy.evaluate(CLAIM))

    threads = [threading.Thread(target=decide) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8 and all(answer == answers[0] for answer in answers)
    assert once and made == once


def test_the_collector_is_paused_while_a_tree_loads_and_as_it_was_after(monkeypatch):
    """`collector.paused` around `load_tree`: off while the tree is built, back on after — and left off after
    if it was off before (`yidi validate` turns it off for the whole command)."""
    import gc

    from yidi.policy import tree

    seen: list[bool] = []
    original = tree._build

    def watching(*args, **kwargs):
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(tree, "_build", watching)
    assert gc.isenabled()
    Engine.load(POLICIES)
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        Engine.load(POLICIES)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(Exception):
        Engine.load(POLICIES / "no-such-folder")
    assert gc.isenabled()       # on again after a load that failed
