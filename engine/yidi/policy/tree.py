"""Load a whole policy tree into an immutable, compiled `PolicySet`.

Pipeline: every `policy.yaml` under the root is read and schema-checked
(loader), layered on its parents (assemble), type-checked and compiled for
claims and filing requests (compile). All diagnostics of all files are
collected before anything is refused, so an officer sees every mistake at
once. The resulting set never changes, so threads may share it freely.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import hashlib
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Diagnostic, DiagnosticError, sort_diagnostics
from .assemble import LayeredPolicy, chain_of, layer
from .compile import Program, compile_policy
from .decision_model import KINDS
from .model import BenefitTable, ParameterValue, Policy

POLICY_FILE = "policy.yaml"


@dataclass(frozen=True)
class ParameterVersions:
    """Parameter values by date: `at(day)` gives the values in force that day."""

    starts: tuple[datetime.date, ...]
    values: tuple[Mapping[str, Any], ...]
    provenance: tuple[Mapping[str, ParameterValue], ...]

    def index(self, day: datetime.date) -> int:
        return bisect.bisect_right(self.starts, day) - 1

    @classmethod
    def build(cls, layered: LayeredPolicy) -> ParameterVersions:
        edges = {datetime.date.min}
        for param in layered.parameters.values():
            for v in param.values:
                edges.add(v.start)
                if v.until is not None:
                    edges.add(v.until)
        starts = tuple(sorted(edges))
        values, provenance = [], []
        for start in starts:
            current: dict[str, Any] = {}
            origin: dict[str, ParameterValue] = {}
            for name, param in layered.parameters.items():
                for v in param.values:
                    if v.start <= start and (v.until is None or start < v.until):
                        current[name] = v.value
                        origin[name] = v
                        break
            values.append(_MissingAware(current))
            provenance.append(origin)
        return cls(starts, tuple(values), tuple(provenance))


class _MissingAware(dict):
    """A parameter dict whose missing keys raise a clear, positioned error."""

    def __missing__(self, name: str):
        from ..evaluation.errors import MissingParameterValue

        raise MissingParameterValue(
            f"参数 {name} 在结算日期没有生效的取值（检查 values 的 from/until 是否覆盖该日期）",
            f"parameter {name} has no value in force on the settlement date", where=(name,),
        )


@dataclass(frozen=True)
class BenefitLookup:
    """Find the benefit-table row for (scheme, care, hospital level)."""

    rows: Mapping[tuple[str, str, int | None], tuple[dict[str, Any], BenefitTable]]

    @classmethod
    def build(cls, tables: tuple[BenefitTable, ...]) -> BenefitLookup:
        rows: dict[tuple[str, str, int | None], tuple[dict[str, Any], BenefitTable]] = {}
        for table in tables:  # most specific first: keep the first row for each key
            for care in table.care:
                for row in table.rows:
                    key = (row.scheme, care, row.level)
                    if key not in rows:
                        rows[key] = ({"deductible": row.deductible, "ratio": row.ratio, "cap": row.cap, "@table": table}, table)
        return cls(rows)

    def function(self):
        rows = self.rows
        empty = {"deductible": None, "ratio": None, "cap": None, "@table": None}

        def lookup(d: Mapping[str, Any], care: str) -> dict[str, Any]:
            scheme = d["insured.scheme"]
            hit = rows.get((scheme, care, d["visit.hospital_level"])) or rows.get((scheme, care, None))
            return hit[0] if hit else empty

        return lookup


@dataclass(frozen=True)
class CompiledPolicy:
    layered: LayeredPolicy
    programs: Mapping[str, Program]
    versions: ParameterVersions
    benefits: BenefitLookup

    @property
    def id(self) -> str:
        return self.layered.policy.id


@dataclass(frozen=True)
class PolicySet:
    root: pathlib.Path
    policies: Mapping[str, CompiledPolicy]
    by_region: Mapping[str, str]
    revision: str                     # content hash of every policy file

    def for_region(self, region: str) -> tuple[CompiledPolicy, str]:
        """The most specific policy for an insured region, and how it was chosen."""
        for candidate, how in ((region, "exact"), (region[:4] + "00", "city"), (region[:2] + "0000", "province")):
            policy_id = self.by_region.get(candidate)
            if policy_id is not None:
                return self.policies[policy_id], how
        return self.policies["national"], "national"


def find_policy_files(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in root.rglob(POLICY_FILE) if "tests" not in p.relative_to(root).parts)


def load_tree(root: pathlib.Path, cache_dir: pathlib.Path | None = None) -> PolicySet:
    """Load, check and compile every policy under `root`; raise DiagnosticError listing all problems.

    With `cache_dir`, a set compiled earlier from the same files by the same
    engine is read from there instead (see yidi.policy.cache).
    """
    root = pathlib.Path(root)
    files = find_policy_files(root)
    if not files:
        raise DiagnosticError([Diagnostic("no-policies", f"目录 {root} 下没有 policy.yaml", f"no policy.yaml under {root}")])
    if cache_dir is None:
        return _build(root, files)
    from . import cache

    contents = [(display_path(path, root), path.read_bytes()) for path in files]
    key = cache.key_for(contents)
    found = cache.read(cache_dir, key)
    if isinstance(found, PolicySet):
        return dataclasses.replace(found, root=root)
    built = _build(root, files)
    cache.write(cache_dir, key, built)
    return built


def _build(root: pathlib.Path, files: list[pathlib.Path]) -> PolicySet:
    from .loader import load_policy  # YAML and schema checking are needed only to build, not to read the cache

    problems: list[Diagnostic] = []
    digest = hashlib.sha256()
    policies: dict[str, Policy] = {}
    unreadable = 0
    for path in files:
        display = display_path(path, root)
        digest.update(display.encode() + b"\0" + path.read_bytes() + b"\0")
        policy = load_policy(path, display, problems)
        if policy is None:
            unreadable += 1
            continue
        if policy.id in policies:
            first = policies[policy.id]
            problems.append(Diagnostic("duplicate-policy", f"政策标识 {policy.id} 已在 {first.file} 中使用", f"policy id {policy.id} is already used by {first.file}",
                                       policy.file, policy.position.line, policy.position.column))
            continue
        policies[policy.id] = policy
    by_region: dict[str, str] = {}
    for policy in policies.values():
        if policy.region in by_region:
            problems.append(Diagnostic("duplicate-region", f"区划 {policy.region} 已有政策 {by_region[policy.region]}",
                                       f"region {policy.region} already has policy {by_region[policy.region]}", policy.file, policy.position.line, policy.position.column))
        by_region[policy.region] = policy.id
    if "national" not in policies and not problems:
        problems.append(Diagnostic("no-national", "缺少国家政策（id: national）", "the national policy (id: national) is missing"))
    compiled: dict[str, CompiledPolicy] = {}
    for policy in policies.values():
        # A parent that failed to load has already been reported; don't repeat it as "unknown parent".
        chain = chain_of(policy, policies, problems if not unreadable else [])
        if chain is None:
            continue
        layered = layer(policy, chain, problems)
        _check_citations(layered, problems)
        programs = {}
        for kind in KINDS:
            program = compile_policy(layered, kind, problems)
            if program is not None:
                programs[kind] = program
        if len(programs) == len(KINDS):
            compiled[policy.id] = CompiledPolicy(layered, programs, ParameterVersions.build(layered),
                                                 BenefitLookup.build(layered.benefits))
    if problems:
        raise DiagnosticError(sort_diagnostics(_dedupe(problems)))
    return PolicySet(root, compiled, by_region, digest.hexdigest()[:16])


def display_path(path: pathlib.Path, root: pathlib.Path) -> str:
    """How files are named in messages: relative to the tree's parent (`policies/henan/policy.yaml`)."""
    try:
        return str(path.resolve().relative_to(root.resolve().parent))
    except ValueError:
        return str(path)


def _check_citations(layered: LayeredPolicy, problems: list[Diagnostic]) -> None:
    """Every rule and parameter value must cite a document its policy chain lists."""
    known = set(layered.documents)
    own = layered.policy.id
    for rule in layered.rules:
        if rule.policy_id == own and rule.source.document not in known:
            problems.append(Diagnostic("unknown-document", f"规则 {rule.id} 引用的文件 “{rule.source.document}” 不在 documents 中",
                                       f"rule {rule.id} cites {rule.source.document!r}, which is not listed under documents",
                                       rule.position.file, rule.position.line, rule.position.column,
                                       help_zh="可引用：" + "、".join(sorted(known))))
    for param in layered.parameters.values():
        if param.policy_id != own:
            continue
        for value in param.values:
            if value.source is not None and value.source.document not in known:
                problems.append(Diagnostic("unknown-document", f"参数 {param.name} 的取值引用的文件 “{value.source.document}” 不在 documents 中",
                                           f"parameter {param.name} cites {value.source.document!r}, which is not listed under documents",
                                           value.position.file, value.position.line, value.position.column))


def _dedupe(problems: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for p in problems:
        key = (p.file, p.line, p.column, p.code, p.message_en)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
