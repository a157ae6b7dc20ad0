"""Building a tree checks each shared expression and compiles each shared source once: the result is the same.

Cities written from one model share most expressions, names and types, and
generate the same Python source (their values are constants linked in), so
`policy/compile.py` reuses a check or a compiled source within a process.
These tests build the same trees with reuse turned off and compare.
"""

from __future__ import annotations

import __future__
import pathlib

import pytest

from yidi import Engine
from yidi.policy import compile as compile_module
from yidi.synth_tree import write_national_tree

ROOT = pathlib.Path(__file__).resolve().parents[1]


class _KeepsNothing(dict):
    def __setitem__(self, key, value):
        pass


def _filenames(code):
    yield code.co_filename
    for const in code.co_consts:
        if isinstance(const, type(code)):
            yield from _filenames(const)


def _programs(engine: Engine):
    for compiled in engine.policies.policies.values():
        for kind, programs in compiled.by_version.items():
            for version, program in enumerate(programs):
                yield (compiled.id, kind, version), program


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("reuse") / "policies"
    write_national_tree(root, cities=8, provinces=2, seed=5)
    return root


@pytest.mark.parametrize("which", ["shipped", "synthetic"])
def test_reused_checks_and_bytecode_build_what_building_afresh_builds(which, tree, monkeypatch):
    root = ROOT / "policies" if which == "shipped" else tree
    reusing = dict(_programs(Engine.load(root)))
    monkeypatch.setattr(compile_module, "_CHECKED", _KeepsNothing())
    monkeypatch.setattr(compile_module, "_bytecode", lambda source, filename: compile(source, filename, "exec"))
    afresh = dict(_programs(Engine.load(root)))
    assert reusing.keys() == afresh.keys()
    for key, program in reusing.items():
        other = afresh[key]
        assert program.source == other.source, key
        assert program.constants == other.constants, key
        assert program.line_rules == other.line_rules and program.fire_order == other.fire_order, key


def test_each_program_is_the_bytecode_of_its_own_source_under_its_own_name(tree):
    shared = 0
    seen_sources: set[str] = set()
    for (policy_id, kind, _), program in _programs(Engine.load(tree)):
        name = f"<yidi:{policy_id}:{kind}>"
        fresh = compile(program.source, name, "exec", flags=__future__.annotations.compiler_flag, dont_inherit=True)
        assert program.code == fresh and set(_filenames(program.code)) == {name}, name
        shared += program.source in seen_sources
        seen_sources.add(program.source)
    assert shared > 0      # the synthetic cities do share sources: the reuse was exercised


def test_an_expression_checked_in_one_policy_is_checked_again_where_its_names_differ(tmp_path):
    """Henan checks `scope != "local" and newborn` first; in Hubei, which has no `newborn`, it is an error still."""
    import shutil

    from yidi.diagnostics import DiagnosticError

    root = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", root, ignore=shutil.ignore_patterns("tests"))
    hubei = root / "hubei" / "policy.yaml"
    text = hubei.read_text(encoding="utf-8")
    at = text.index("rules:\n") + len("rules:\n")
    hubei.write_text(text[:at] + """  - id: hubei.planted-newborn
    title: 测试用：引用湖北没有的变量
    sets: treatment
    when: scope != "local" and newborn
    value: emergency
    source: {document: 鄂医保办〔2022〕28号, clause: 一（一）}
""" + text[at:], encoding="utf-8")
    with pytest.raises(DiagnosticError) as raised:
        Engine.load(root)
    named = [d for d in raised.value.diagnostics if d.file.endswith("hubei/policy.yaml") and "newborn" in d.message_en]
    assert named, [d.message_en for d in raised.value.diagnostics]
