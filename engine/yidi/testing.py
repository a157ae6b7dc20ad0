"""Policy test cases written by officers in YAML, and the runner for them.

A test file sits next to its policy (`policies/<region>/tests/*.yaml`). Each
case gives an input document, the clause(s) it checks, and either the
expected fields of the answer (a subset: nested objects match on the keys
given) or the JSON paths an invalid input must be rejected at. Failures are
reported like any other diagnostic: file:line:col and a Chinese message.
"""

from __future__ import annotations

import dataclasses
import datetime
import pathlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .diagnostics import Diagnostic
from .engine import Engine
from .errors import EvaluationError, InputError
from .expect_schema import expectation_schema
from .policy.loader import KeptFile, read_located_kept_all
from .policy.model import Citation
from .policy.tree import POLICY_FILE, DisplayNames
from .schema_check import check_against_schema
from .source import LocatedDocument, Position


@dataclass(frozen=True)
class Case:
    file: str
    index: int
    name: str
    policy_id: str                      # the policy of the folder the file is in
    checks: tuple[Citation, ...]
    input: Any
    expect: Any
    expect_error: tuple[str, ...] | None
    position: Position
    doc: LocatedDocument = field(repr=False, compare=False)
    expect_rules: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass
class Outcome:
    case: Case
    failures: list[Diagnostic]
    answer: Any = None

    @property
    def passed(self) -> bool:
        return not self.failures


def discover(root: pathlib.Path) -> list[tuple[pathlib.Path, pathlib.Path]]:
    """(test file, its policy file) for every tests/*.yaml beside a policy.yaml."""
    found = []
    for policy_file in sorted(pathlib.Path(root).rglob(POLICY_FILE)):
        tests_dir = policy_file.parent / "tests"
        if tests_dir.is_dir():
            for test_file in sorted(tests_dir.glob("*.yaml")):
                found.append((test_file, policy_file))
    return found


def load_cases(engine: Engine, root: pathlib.Path, problems: list[Diagnostic],
               files: list[tuple[pathlib.Path, pathlib.Path]] | None = None,
               cache_dir: pathlib.Path | None = None) -> list[Case]:
    """The cases of every test file of the tree (or of `files`, pairs from `discover`), problems added to `problems`.

    With `cache_dir`, a test file read before with the same content (and engine) is taken from the cache.
    """
    root = pathlib.Path(root)
    names = DisplayNames(root)
    cases: list[Case] = []
    pairs = discover(root) if files is None else files
    read = read_located_kept_all([test_file_to_read(test_file, names(test_file)) for test_file, _ in pairs], cache_dir)
    for (test_file, policy_file), (doc, found) in zip(pairs, read):
        problems += found
        if doc is None:
            continue
        policy_id = engine.policies.files.get(names(policy_file))
        if policy_id is None:
            continue
        compiled = engine.policies.policies[policy_id]
        policy_id = doc.data.get("policy") or compiled.id
        layered = engine.policies.policies[policy_id].layered if policy_id in engine.policies.policies else None
        known_documents = set(layered.documents) if layered is not None else set()
        known_rules = ({r.id for r in layered.rules} | {f.id for f in layered.floors} | {b.id for b in layered.benefits}
                       if layered is not None else set())
        for i, raw in enumerate(doc.data["cases"]):
            checks = tuple(Citation(str(c["document"]), str(c["clause"])) for c in raw["checks"])
            for j, citation in enumerate(checks):
                if citation.document not in known_documents:
                    at = doc.at(("cases", i, "checks", j, "document"))
                    problems.append(Diagnostic("unknown-document", f"用例引用的文件 “{citation.document}” 不在政策 {policy_id} 的 documents 中",
                                               f"the case cites {citation.document!r}, which policy {policy_id} does not list", at.file, at.line, at.column))
            for j, rule_id in enumerate(raw.get("expect_rules") or ()):
                if rule_id not in known_rules:
                    at = doc.at(("cases", i, "expect_rules", j))
                    problems.append(Diagnostic("unknown-rule", f"用例期望的规则 “{rule_id}” 不在政策 {policy_id} 中",
                                               f"the case expects rule {rule_id!r}, which policy {policy_id} does not have",
                                               at.file, at.line, at.column))
            cases.append(Case(doc.file, i, raw["name"], policy_id, checks, raw["input"], raw.get("expect"),
                              tuple(raw["expect_error"]) if raw.get("expect_error") is not None else None,
                              doc.at(("cases", i)), doc, tuple(raw.get("expect_rules") or ())))
    return cases


def test_file_to_read(path: pathlib.Path, display: str) -> KeptFile:
    """How a test file is read (`policy.loader.read_located_kept_all`): against its own schema, and its
    `expect` blocks against the answer's types; with a cache folder, read back from there while unchanged."""
    return KeptFile(path, display, TEST_SCHEMA, check_expectations)


TEST_SCHEMA = "policy-test.schema.json"


def check_expectations(doc: LocatedDocument) -> list[Diagnostic]:
    """A test file's `expect` blocks against the answer's types (its second schema: `test_file_to_read`)."""
    return check_against_schema(doc, expectation_schema())


def cases_moved(engine: Engine, cases: list[Case]) -> list[Diagnostic]:
    """Test cases whose insured region is now decided by another policy than their folder's.

    Adding a city takes over its insured regions: a province's test case for
    "410300" is then decided by the new city and `yidi test` fails. `yidi
    validate` warns where the city is added (its `region` line), naming the
    cases, so the officer moves them or changes their region at once.
    """
    moved: dict[str, list[Case]] = {}
    for case in cases:
        insured = case.input.get("insured") if isinstance(case.input, dict) else None
        region = insured.get("region") if isinstance(insured, dict) else None
        if not isinstance(region, str) or case.policy_id not in engine.policies.policies or case.expect_error is not None:
            continue  # a refused input is decided by no policy: it belongs to no region
        try:
            chosen = engine.policies.for_region(region)[0].id
        except (KeyError, IndexError):
            continue
        if chosen != case.policy_id:
            moved.setdefault(chosen, []).append(case)
    out = []
    for policy_id, affected in moved.items():
        policy = engine.policies.policies[policy_id].layered.policy
        where = policy.region_position or policy.position
        listing = "；".join(f"{c.position.file}:{c.position.line} “{c.name}”（{_insured(c)}）" for c in affected)
        listing_en = "; ".join(f"{c.position.file}:{c.position.line} {c.name!r} ({_insured(c)})" for c in affected)
        folders = "、".join(sorted({c.policy_id for c in affected}))
        out.append(Diagnostic(
            "case-moved", f"政策 {policy_id}（{policy.name}，{policy.region}）决定了 {len(affected)} 个写在 {folders} 目录下的测试用例的参保地，"
                          f"这些用例将改由 {policy_id} 决定，yidi test 会失败：{listing}",
            f"policy {policy_id} ({policy.region}) now decides the insured region of {len(affected)} test case(s) written for "
            f"{folders}; yidi test will fail: {listing_en}",
            where.file, where.line, where.column, "warning",
            f"把这些用例的参保地改为 {folders} 的其他区划，或把用例移到 {policy_id} 的 tests/ 目录",
            f"give these cases another insured region of {folders}, or move them to {policy_id}'s tests/ folder"))
    return out


def _insured(case: Case) -> str:
    return str(case.input["insured"]["region"])


def run_case(engine: Engine, case: Case) -> Outcome:
    failures: list[Diagnostic] = []
    base = ("cases", case.index)

    def fail(path: tuple, zh: str, en: str) -> None:
        at = case.doc.at((*base, *path))
        failures.append(Diagnostic("case-failed", f"用例 “{case.name}”：{zh}", f"case {case.name!r}: {en}", at.file, at.line, at.column))

    try:
        answer = engine.evaluate(case.input)
    except InputError as exc:
        found = sorted({p.path for p in exc.problems})
        if case.expect_error is None:
            details = "；".join(f"{p.path}: {p.message_zh}" for p in exc.problems)
            fail(("input",), f"输入被拒绝：{details}", "input rejected: " + "; ".join(f"{p.path}: {p.message_en}" for p in exc.problems))
        elif sorted(set(case.expect_error)) != found:
            fail(("expect_error",), f"报错字段应为 {sorted(set(case.expect_error))}，实际为 {found}",
                 f"error paths should be {sorted(set(case.expect_error))}, got {found}")
        return Outcome(case, failures, exc.problems)
    except EvaluationError as exc:
        fail(("input",), f"政策无法得出结论：{exc.message_zh}", f"the policy could not decide: {exc.message_en}")
        return Outcome(case, failures)
    if case.expect_error is not None:
        fail(("expect_error",), "应被拒绝为无效输入，但得出了结论", "should be rejected as invalid input, but was decided")
        return Outcome(case, failures, answer)
    if answer["policy"]["id"] != case.policy_id:
        fail(("input", "insured", "region"), f"输入的参保地对应政策 {answer['policy']['id']}，不是本目录的政策 {case.policy_id}",
             f"the insured region selects policy {answer['policy']['id']}, not this folder's {case.policy_id}")
    fired_ids = [e["rule"] if isinstance(e, dict) else str(e) for e in answer.get("trace", [])]
    for j, rule_id in enumerate(case.expect_rules):
        if rule_id not in fired_ids:
            fail(("expect_rules", j), f"依据链中应有规则 {rule_id}，实际适用：{'、'.join(fired_ids)}",
                 f"the trace should include rule {rule_id}; it has: {', '.join(fired_ids)}")
    for path, expected, actual in mismatches(case.expect or {}, answer, ()):
        shown = ".".join(str(p) for p in path)
        fired = "、".join(e["rule"] if isinstance(e, dict) else str(e) for e in answer.get("trace", []))
        fail(("expect", *path), f"{shown} 应为 {_show(expected)}，实际为 {_show(actual)}（适用规则：{fired}）",
             f"{shown} should be {_show(expected)}, got {_show(actual)} (rules: {fired})")
    return Outcome(case, failures, answer)


def run_all(engine: Engine, root: pathlib.Path, jobs: int | None = 1,
            cache_dir: pathlib.Path | None = None) -> tuple[list[Outcome], list[Diagnostic]]:
    """Every case of the tree; with `jobs` other than 1, read and run in forked workers (None: one per core).

    Cases run in a worker come back without their answer (`Outcome.answer`) and
    located file (`Case.doc`): only what reporting needs crosses between processes.
    `cache_dir`: where test files read before are kept (`test_file_to_read`).
    """
    if jobs == 1:
        problems: list[Diagnostic] = []
        cases = load_cases(engine, root, problems, cache_dir=cache_dir)
        return [run_case(engine, c) for c in cases], problems
    from .forking import fork_map

    files = discover(root)
    batches = [files[start:start + 8] for start in range(0, len(files), 8)]
    outcomes: list[Outcome] = []
    problems = []
    for found, ran in fork_map(_load_and_run, (engine, pathlib.Path(root), cache_dir), batches, jobs, at_least=2):
        problems += found
        outcomes += ran
    return outcomes, problems


def _load_and_run(state: tuple[Engine, pathlib.Path, pathlib.Path | None],
                  files: list[tuple[pathlib.Path, pathlib.Path]]) -> tuple[list[Diagnostic], list[Outcome]]:
    engine, root, cache_dir = state
    problems: list[Diagnostic] = []
    outcomes = [run_case(engine, case) for case in load_cases(engine, root, problems, files, cache_dir)]
    return problems, [Outcome(dataclasses.replace(o.case, doc=None), o.failures) for o in outcomes]


_MISSING = object()


def mismatches(expected: Any, actual: Any, path: tuple) -> list[tuple[tuple, Any, Any]]:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [(path, expected, actual)]
        out = []
        for key, value in expected.items():
            out.extend(mismatches(value, actual.get(key, _MISSING), (*path, key)))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list | tuple) or len(actual) != len(expected):
            return [(path, expected, actual)]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            out.extend(mismatches(e, a, (*path, i)))
        return out
    return [] if _same(expected, actual) else [(path, expected, actual)]


def _same(expected: Any, actual: Any) -> bool:
    if actual is _MISSING:
        return False
    if expected is None or actual is None or isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(actual, datetime.date):
        return str(expected) == actual.isoformat()
    if isinstance(actual, Decimal | int) and isinstance(expected, int | Decimal | str):
        try:
            return Decimal(str(expected)) == Decimal(actual)
        except InvalidOperation:
            return False
    return expected == actual


def _show(value: Any) -> str:
    if value is _MISSING:
        return "（无此字段）"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None:
        return "null"
    return repr(value) if isinstance(value, str) else str(value)
