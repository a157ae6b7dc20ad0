"""A tree built into the cache is compiled in forked workers: it must come out as a build in one process does.

`policy.tree._build` with a cache folder compiles the policies it does not
find there on every core (from 24 of them), each worker keeping what it
compiled in the cache; the set is then read lazily. Compared here with a
build that uses no cache (one process, nothing kept): the same programs and
the same answers, and for a tree with mistakes the same diagnostics.
"""

from __future__ import annotations

import pathlib

import pytest

from yidi import Engine
from yidi.diagnostics import DiagnosticError
from yidi.synth_tree import write_national_tree

CLAIM = {"id": "P", "insured": {"region": "", "scheme": "employee"},
         "visit": {"kind": "inpatient", "region": "310104", "networked": True, "hospital_level": 3,
                   "admission_date": "2025-03-01", "discharge_date": "2025-03-08"},
         "costs": {"total": 10000, "in_scope": 8000}}


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("parallel") / "policies"
    write_national_tree(root, cities=30, provinces=3, seed=7)
    return root


def _programs(engine: Engine) -> dict:
    return {(pid, kind): tuple((p.source, p.constants) for p in programs)
            for pid, compiled in engine.policies.policies.items() for kind, programs in compiled.by_version.items()}


def test_a_tree_compiled_in_workers_is_the_tree_compiled_here(tree, tmp_path):
    in_workers = Engine.load(tree, cache=tmp_path / "cache")
    # what the workers kept is read when first used, as in a load from the cache
    assert type(in_workers.policies.policies).__name__ == "_LazyPolicies"
    here = Engine.load(tree)
    assert len(here.policies.policies) >= 24
    assert in_workers.revision == here.revision
    assert _programs(in_workers) == _programs(here)
    for region in sorted(r for r in here.policies.by_region if r != "000000"):
        claim = {**CLAIM, "insured": {**CLAIM["insured"], "region": region}}
        assert in_workers.evaluate(claim) == here.evaluate(claim), region
    again = Engine.load(tree, cache=tmp_path / "cache")     # now read from the cache, lazily
    assert _programs(again) == _programs(here)


def test_mistakes_found_in_workers_are_reported_as_in_one_process(tree, tmp_path):
    import shutil

    root = tmp_path / "policies"
    shutil.copytree(tree, root)
    cities = sorted(p for p in root.rglob("policy.yaml") if p.parent.name.startswith("c"))
    for city in (cities[3], cities[17]):
        text = city.read_text(encoding="utf-8")
        at = text.index("rules:\n") + len("rules:\n")
        city.write_text(text[:at] + f"""  - id: {city.parent.name}.planted
    title: 测试用：引用不存在的参数
    sets: route
    when: param.no_such_parameter > 0
    value: manual
    source: {{document: 合成医保发〔2024〕{city.parent.name[1:]}号, clause: 三}}
""" + text[at:], encoding="utf-8")
    with pytest.raises(DiagnosticError) as in_workers:
        Engine.load(root, cache=tmp_path / "cache")
    with pytest.raises(DiagnosticError) as here:
        Engine.load(root)
    assert in_workers.value.diagnostics == here.value.diagnostics
    assert {d.file for d in here.value.diagnostics} == {str(c.relative_to(tmp_path)) for c in (cities[3], cities[17])}


def test_files_parsed_in_workers_report_their_mistakes_as_in_one_process(tree, tmp_path, monkeypatch):
    """From nothing, policy files (`_Reuse.parse_missing`), test files and clause lists (`validation.keep_files`)
    are parsed on every core and kept; a file with a mistake is not kept and is reported as a run in one
    process reports it, at the same lines."""
    import datetime
    import shutil

    from yidi.validation import validate

    root = tmp_path / "policies"
    shutil.copytree(tree, root)
    cities = sorted(p for p in root.rglob("policy.yaml") if p.parent.name.startswith("c"))
    city = cities[5]
    city.write_text(city.read_text(encoding="utf-8").replace("name:", "name: [unclosed", 1), encoding="utf-8")
    with pytest.raises(DiagnosticError) as in_workers:
        Engine.load(root, cache=tmp_path / "cache")
    with pytest.raises(DiagnosticError) as here:
        Engine.load(root)
    assert in_workers.value.diagnostics == here.value.diagnostics
    assert {d.file for d in here.value.diagnostics} == {str(city.relative_to(tmp_path))}
    city.write_text((tree / city.relative_to(root)).read_text(encoding="utf-8"), encoding="utf-8")

    test_file = sorted(cities[9].parent.glob("tests/*.yaml"))[0]
    test_file.write_text(test_file.read_text(encoding="utf-8").replace("expect:", "expect_nothing:", 1), encoding="utf-8")
    sources = cities[11].parent / "sources.yaml"
    sources.write_text(sources.read_text(encoding="utf-8").replace("summary:", "summery:", 1), encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    as_of = datetime.date(2025, 7, 1)
    import yidi.forking
    from yidi.policy import loader

    real_fork_map, parsed_in_workers = yidi.forking.fork_map, []

    def spying(function, state, items, *args, **kwargs):
        if function is loader._parse_and_keep:
            parsed_in_workers.extend(file.display for file in items)
        return real_fork_map(function, state, items, *args, **kwargs)

    monkeypatch.setattr(yidi.forking, "fork_map", spying)
    engine = Engine.load(root, cache=True)
    kept = validate(engine, root, as_of=as_of, static=False)
    assert len(parsed_in_workers) >= 32 and str(test_file.relative_to(tmp_path)) in parsed_in_workers
    parsed_in_workers.clear()
    assert validate(engine, root, as_of=as_of, static=False).problems == kept.problems
    assert parsed_in_workers == []      # the workers kept every file, mistakes and all
    serial = validate(Engine.load(root), root, as_of=as_of, static=False, use_cache=False)
    assert kept.problems == serial.problems
    assert {d.file for d in serial.problems if d.severity == "error"} >= {str(test_file.relative_to(tmp_path)),
                                                                          str(sources.relative_to(tmp_path))}
