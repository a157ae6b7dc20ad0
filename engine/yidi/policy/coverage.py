"""The clause-coverage matrix: every clause of every source document is either
implemented (by rules or parameter values that cite it) and checked by at
least one test case, or explicitly marked `not_encoded` with a reason.

Each policy folder holds a `sources.yaml` listing the clauses of the
documents it implements. Rule ids and test cases are not listed there: they
are found from the citations themselves, so the matrix cannot drift from the
rules. `yidi validate` fails on any gap.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic
from ..source import Position
from .loader import KeptFile, read_located_kept_all
from .model import Policy
from .tree import DisplayNames, PolicySet

SOURCES_FILE = "sources.yaml"


@dataclass
class ClauseRow:
    """One clause and what implements and checks it."""

    document: str
    clause: str
    summary: str
    not_encoded: str | None
    policy_id: str
    position: Position
    rules: list[str] = field(default_factory=list)
    parameters: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return self.document, self.clause


def _diag(code: str, zh: str, en: str, at: Position) -> Diagnostic:
    return Diagnostic(code, zh, en, at.file, at.line, at.column)


SOURCES_SCHEMA = "sources.schema.json"


def sources_files(policies: PolicySet, root: pathlib.Path) -> list[tuple[Policy, pathlib.Path, str]]:
    """(policy, its clause list's path, the name messages give it) for every policy of the tree."""
    names = DisplayNames(pathlib.Path(root))
    found = []
    for compiled in policies.policies.values():
        policy = compiled.layered.policy
        path = (names.base / policy.file).parent / SOURCES_FILE
        found.append((policy, path, names(path)))
    return found


def load_matrix(policies: PolicySet, root: pathlib.Path, problems: list[Diagnostic],
                cache_dir: pathlib.Path | None = None) -> dict[tuple[str, str], ClauseRow]:
    """Read every policy's sources.yaml into one (document, clause) → row map (with `cache_dir`, each file
    read before with the same content is taken from the cache: `loader.read_located_kept_all`)."""
    rows: dict[tuple[str, str], ClauseRow] = {}
    listed = sources_files(policies, root)
    present = [(policy, path, display) for policy, path, display in listed if path.is_file()]
    read = dict(zip((policy.id for policy, _, _ in present),
                    read_located_kept_all([KeptFile(path, display, SOURCES_SCHEMA) for _, path, display in present], cache_dir)))
    for policy, path, display in listed:
        if policy.id not in read:
            problems.append(_diag("missing-sources", f"政策 {policy.id} 缺少条款清单 {SOURCES_FILE}",
                                  f"policy {policy.id} has no {SOURCES_FILE} clause list", policy.position))
            continue
        doc, found = read[policy.id]
        problems += found
        if doc is None:
            continue
        own_documents = {d.id for d in policy.documents}
        for i, entry in enumerate(doc.data["documents"]):
            if entry["document"] not in own_documents:
                problems.append(_diag("unknown-document", f"条款清单中的文件 “{entry['document']}” 不在政策 {policy.id} 的 documents 中",
                                      f"{entry['document']!r} is not among the documents of policy {policy.id}", doc.at(("documents", i, "document"))))
                continue
            for j, item in enumerate(entry["clauses"]):
                key = (entry["document"], item["clause"])
                at = doc.at(("documents", i, "clauses", j))
                if key in rows:
                    problems.append(_diag("duplicate-clause", f"条款 {key[0]} {key[1]} 重复列出", f"clause {key[0]} {key[1]} is listed twice", at))
                    continue
                rows[key] = ClauseRow(key[0], key[1], item["summary"], item.get("not_encoded"), policy.id, at)
    return rows


def check_matrix(policies: PolicySet, rows: dict[tuple[str, str], ClauseRow], cases, problems: list[Diagnostic]) -> None:
    """Attach rules, parameters and cases to rows; report every gap."""
    seen_rules: set[str] = set()
    for compiled in policies.policies.values():
        layered = compiled.layered
        for rule in layered.rules:
            if rule.id in seen_rules or rule.policy_id != layered.policy.id:
                continue
            seen_rules.add(rule.id)
            _cite(rows, (rule.source.document, rule.source.clause), rule.id, "rule", rule.position, problems)
        for param in layered.parameters.values():
            if param.policy_id != layered.policy.id:
                continue
            for value in param.values:
                if value.source is not None:
                    _cite(rows, (value.source.document, value.source.clause), f"{param.policy_id}:{param.name}", "parameter", value.position, problems)
            if param.bounds is not None and param.bounds.source is not None:
                _cite(rows, (param.bounds.source.document, param.bounds.source.clause), f"{param.policy_id}:{param.name}", "parameter", param.position, problems)
    for case in cases:
        for j, citation in enumerate(case.checks):
            row = rows.get((citation.document, citation.clause))
            at = case.doc.at(("cases", case.index, "checks", j))
            if row is None:
                problems.append(_diag("unknown-clause", f"用例检验的条款 {citation.document} {citation.clause} 不在条款清单中",
                                      f"the case checks {citation.document} {citation.clause}, which no sources.yaml lists", at))
            elif row.not_encoded:
                problems.append(_diag("clause-not-encoded", f"用例检验的条款 {citation.document} {citation.clause} 在清单中标为不编码",
                                      f"the case checks {citation.document} {citation.clause}, which is marked not_encoded", at))
            elif case.label not in row.cases:
                row.cases.append(case.label)
    for row in rows.values():
        if row.not_encoded:
            continue
        if not row.rules and not row.parameters:
            problems.append(_diag("clause-unimplemented",
                                  f"条款 {row.document} {row.clause}（{row.summary}）既没有规则或参数引用，也没有注明不编码原因（not_encoded）",
                                  f"clause {row.document} {row.clause} has no rule or parameter citing it and no not_encoded reason", row.position))
        elif not row.cases:
            problems.append(_diag("clause-untested",
                                  f"条款 {row.document} {row.clause}（{row.summary}）已编码，但没有测试用例检验它（在用例的 checks 中写明该条款）",
                                  f"clause {row.document} {row.clause} is encoded but no test case checks it", row.position))


def _cite(rows, key, name: str, kind: str, at: Position, problems: list[Diagnostic]) -> None:
    row = rows.get(key)
    if row is None:
        problems.append(_diag("unknown-clause", f"引用的条款 {key[0]} {key[1]} 不在条款清单（sources.yaml）中",
                              f"cited clause {key[0]} {key[1]} is not in any sources.yaml", at))
        return
    if row.not_encoded:
        problems.append(_diag("clause-not-encoded", f"引用的条款 {key[0]} {key[1]} 在条款清单中标为不编码：{row.not_encoded}",
                              f"cited clause {key[0]} {key[1]} is marked not_encoded", at))
        return
    target = row.rules if kind == "rule" else row.parameters
    if name not in target:
        target.append(name)


def build_matrix(policies: PolicySet, root: pathlib.Path, cases, problems: list[Diagnostic],
                 cache_dir: pathlib.Path | None = None) -> list[ClauseRow]:
    rows = load_matrix(policies, root, problems, cache_dir)
    check_matrix(policies, rows, cases, problems)
    return list(rows.values())
