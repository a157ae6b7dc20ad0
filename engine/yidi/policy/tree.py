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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Diagnostic, DiagnosticError, sort_diagnostics
from .undetermined import Cause, Undetermined, UnknownRow
from .assemble import LayeredPolicy, chain_of, layer
from .compile import CheckedProgram, Program, check_program, generate_program
from .decision_model import CARE_KINDS, KINDS
from .model import BenefitTable, Parameter, ParameterValue, Policy

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
        for definitions in layered.inherited_parameters.values():
            for param in definitions:
                for v in param.values:
                    edges.add(v.start)
                    if v.until is not None:
                        edges.add(v.until)
        starts = tuple(sorted(edges))
        values, provenance = [], []
        for start in starts:
            current: dict[str, Any] = {}
            origin: dict[str, ParameterValue] = {}
            for name, definitions in layered.inherited_parameters.items():
                found = value_in_force(definitions, start)
                if found is not None:
                    current[name] = found.value
                    origin[name] = found
            values.append(_MissingAware(current))
            provenance.append(origin)
        return cls(starts, tuple(values), tuple(provenance))


def value_in_force(definitions: tuple[Parameter, ...], day: datetime.date) -> ParameterValue | None:
    """The value of a parameter in force on `day`, given its definitions national first.

    The most specific level that gives values decides. Before that level's
    first date, the level above still applies (a province's notice replaces
    the national values only from the day it takes effect); after its first
    date, a gap or a lapse at that level is not filled from above — the
    static checks report those.
    """
    for param in reversed(definitions):
        if not param.values:
            continue  # this level only declares (or bounds) the parameter
        for v in param.values:
            if v.start <= day and (v.until is None or day < v.until):
                return v
        if day >= min(v.start for v in param.values):
            return None
    return None


class _MissingAware(dict):
    """Parameter values in force; reading one with no value makes the reading rule's variable undetermined."""

    def __missing__(self, name: str):
        raise Undetermined(Cause("parameter", name))


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
        """lookup(d, care) → the row, or an UnknownRow (reading it makes the reader undetermined) when there is none."""
        rows = self.rows
        unknown = {care: UnknownRow(Cause("benefit", care)) for care in CARE_KINDS}
        personal_account = {care: UnknownRow(Cause("personal_account", care)) for care in CARE_KINDS}

        def lookup(d: Mapping[str, Any], care: str):
            if d["visit.payment_source"] == "personal_account":  # not a pooling-fund settlement: no table applies
                return personal_account[care]
            scheme = d["insured.scheme"]
            hit = rows.get((scheme, care, d["visit.hospital_level"])) or rows.get((scheme, care, None))
            return hit[0] if hit else unknown[care]

        return lookup


@dataclass(frozen=True)
class CompiledPolicy:
    layered: LayeredPolicy
    programs: Mapping[str, Program]           # per kind: the program with every rule in force (the newest)
    versions: ParameterVersions
    benefits: BenefitLookup
    by_version: Mapping[str, tuple[Program, ...]]   # per kind, the program for each parameter version

    def program(self, kind: str, version: int) -> Program:
        """The program deciding `kind` documents settled in parameter version `version`.

        A policy with `in_force` has its rules only from that date: before it,
        the program holds just its ancestors' rules (see `rules_in_force`).
        """
        return self.by_version[kind][version]

    @property
    def id(self) -> str:
        return self.layered.policy.id

    @classmethod
    def programs_later(cls, layered: LayeredPolicy, versions: ParameterVersions, benefits: BenefitLookup,
                       programs: Callable[[], tuple[Mapping[str, Program], Mapping[str, tuple[Program, ...]]]]) -> CompiledPolicy:
        """A compiled policy whose `programs` and `by_version` are made by `programs()` when first used.

        Read from the cache, a policy's rules cost a tenth of its generated code:
        validating a national tree needs every policy's rules and runs none of
        their code. Thread-safe when `programs` is (it may be called more than once).
        """
        self = cls.__new__(cls)
        for name, value in (("layered", layered), ("versions", versions), ("benefits", benefits), ("_programs_later", programs)):
            object.__setattr__(self, name, value)
        return self

    def __getattr__(self, name: str):   # only for what is not set: the programs of `programs_later`, on first use
        if name not in ("programs", "by_version"):
            raise AttributeError(name)
        later = self.__dict__.get("_programs_later")
        if later is not None:
            programs, by_version = later()
            object.__setattr__(self, "by_version", by_version)
            object.__setattr__(self, "programs", programs)
            self.__dict__.pop("_programs_later", None)  # after both are set: a thread here meanwhile finds them
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getstate__(self):   # a copy (another process, a pickle) holds the programs themselves
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


@dataclass(frozen=True)
class PolicySet:
    root: pathlib.Path
    policies: Mapping[str, CompiledPolicy]
    by_region: Mapping[str, str]
    revision: str                     # content hash of every policy file
    files: Mapping[str, str] = None   # policy file (as messages name it) → policy id, without reading any policy

    def __post_init__(self):
        if self.files is None:
            object.__setattr__(self, "files", {compiled.layered.policy.file: pid for pid, compiled in self.policies.items()})

    def for_region(self, region: str) -> tuple[CompiledPolicy, str]:
        """The most specific policy for an insured region, and how it was chosen."""
        for candidate, how in ((region, "exact"), (region[:4] + "00", "city"), (region[:2] + "0000", "province")):
            policy_id = self.by_region.get(candidate)
            if policy_id is not None:
                return self.policies[policy_id], how
        return self.policies["national"], "national"


def find_policy_files(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in root.rglob(POLICY_FILE) if "tests" not in p.relative_to(root).parts)


def load_tree(root: pathlib.Path, cache_dir: pathlib.Path | None = None, generate_later: bool = True) -> PolicySet:
    """Load, check and compile every policy under `root`; raise DiagnosticError listing all problems.

    With `cache_dir`, a set compiled earlier from the same files by the same
    engine is read from there instead (see yidi.policy.cache). Without it,
    every policy is read and checked now and, with `generate_later`, each
    one's code is written when it first decides (see `_compile`).
    """
    from ..collector import paused

    with paused():   # what a load builds lives on: the collector would walk it again and again for nothing
        return _load_tree(pathlib.Path(root), cache_dir, generate_later)


def _load_tree(root: pathlib.Path, cache_dir: pathlib.Path | None, generate_later: bool) -> PolicySet:
    files = find_policy_files(root)
    if not files:
        raise DiagnosticError([Diagnostic("no-policies", f"目录 {root} 下没有 policy.yaml", f"no policy.yaml under {root}")])
    if cache_dir is None:
        return _build(root, files, generate_later=generate_later)
    from . import cache

    names = DisplayNames(root)
    contents = [(names(path), path.read_bytes()) for path in files]
    key = cache.key_for(contents)
    found = cache.read(cache_dir, key)
    if isinstance(found, TreeIndex):
        return PolicySet(root, _LazyPolicies(cache_dir, root, found), found.by_region, found.revision,
                         {files[-1][0]: pid for pid, (files, _) in found.parts.items()})
    return _build(root, files, _Reuse(cache_dir, dict(contents), key))


@dataclass(frozen=True)
class TreeIndex:
    """What the cache keeps of a whole tree that loaded without a problem: where each policy's parts are.

    Reading it costs next to nothing however large the tree; each policy is read
    from its parts when first asked for (`_LazyPolicies`), under the revision
    of the files the index was built from.
    """

    revision: str
    by_region: Mapping[str, str]
    parts: Mapping[str, tuple[tuple[tuple[str, str], ...], str]]   # id → ((file, its part key) of its chain, compiled part key)


class _LazyPolicies(Mapping):
    """A tree's compiled policies, each read from the cache on first use (thread-safe; then kept)."""

    def __init__(self, directory: pathlib.Path, root: pathlib.Path, index: TreeIndex,
                 loaded: Mapping[str, CompiledPolicy] | None = None, files: Mapping[str, Policy] | None = None):
        import threading

        self._directory, self._root, self._index = directory, root, index
        self._loaded: dict[str, CompiledPolicy] = dict(loaded or {})    # those just built need no reading back
        self._files: dict[str, Policy] = dict(files or {})              # nor the files a build has just read
        self._lock = threading.Lock()

    def __getitem__(self, policy_id: str) -> CompiledPolicy:
        found = self._loaded.get(policy_id)
        if found is not None:
            return found
        if policy_id not in self._index.parts:
            raise KeyError(policy_id)
        with self._lock:
            found = self._loaded.get(policy_id) or self._read(policy_id)
            self._loaded[policy_id] = found
        return found

    def _read(self, policy_id: str) -> CompiledPolicy:
        """From its parts; a part that is gone or damaged is built again from the files, if they are unchanged."""
        from . import cache

        files, compiled_key = self._index.parts[policy_id]
        chain = []
        for file, key in files:
            policy = self._files.get(file)
            if policy is None:
                policy = cache.read(self._directory, key)
                if not isinstance(policy, Policy) or policy.file != file:
                    return self._rebuild(policy_id)
                self._files[file] = policy
            chain.append(policy)
        found = _read_compiled(self._directory, compiled_key, tuple(chain))
        return found if found is not None else self._rebuild(policy_id)

    def _rebuild(self, policy_id: str) -> CompiledPolicy:
        files, _ = self._index.parts[policy_id]
        base = self._root.resolve().parent
        contents = {}
        for file, key in files:
            path = base / file
            contents[file] = path.read_bytes() if path.is_file() else b""
        reuse = _Reuse(self._directory, contents)
        if any(reuse.key("f-", [file]) != key for file, key in files):  # the files changed since the tree was loaded
            raise _part_missing(files[-1][0])
        from .loader import load_policy

        problems: list[Diagnostic] = []
        chain = tuple(load_policy(base / file, file, problems) for file, _ in files)
        built = _compile(chain[-1], chain, problems) if not problems else None
        if built is None or problems:
            raise _part_missing(files[-1][0])
        reuse.keep_compiled(chain, built)
        return built

    def __iter__(self):
        return iter(self._index.parts)

    def __len__(self) -> int:
        return len(self._index.parts)

    def __reduce__(self):  # a copy for another process holds the policies themselves
        return (dict, (dict(self.items()),))


def _part_missing(file: str) -> DiagnosticError:
    return DiagnosticError([Diagnostic("cache-part-missing", f"已编译政策的缓存在加载后被删除或损坏（{file}）：请重新加载政策",
                                       f"the compiled-policy cache lost a part after loading ({file}): load the policies again", file)])


class _Reuse:
    """Parts of an earlier build kept in the cache, each keyed by the files it comes from and the engine.

    When one file of a large tree changes, only that file is read again and only
    the policies whose chain includes it are compiled again. Only parts built
    without any problem are kept; anything that is not an intact part of the
    expected kind is ignored and built again.
    """

    def __init__(self, directory: pathlib.Path, contents: dict[str, bytes], tree_key: str | None = None):
        from . import cache

        self.cache, self.directory, self.contents, self.tree_key = cache, directory, contents, tree_key
        self.kept: set[str] = set()   # the keys of the parts that are in the cache (read, seen or written in this build)
        self.parsed: dict[str, Policy] = {}     # policy files parsed (and kept) by workers, by name
        self._keys: dict[tuple, str] = {}   # each worked out once: the national file is in every chain

    def key(self, prefix: str, files: list[str]) -> str:
        found = self._keys.get((prefix, *files))
        if found is None:
            found = self._keys[(prefix, *files)] = prefix + self.cache.key_for([(name, self.contents[name]) for name in files])
        return found

    def policy(self, display: str) -> Policy | None:
        key = self.key("f-", [display])
        found = self.parsed.pop(display, None)
        if found is not None:   # parsed and kept by a worker just now
            self.kept.add(key)
            return found
        found = self.cache.read(self.directory, key)
        if isinstance(found, Policy) and found.file == display:
            self.kept.add(key)
            return found
        return None

    def parse_missing(self, files: list[pathlib.Path], names: DisplayNames) -> None:
        """Parse on every core the policy files the cache does not hold, each worker keeping what it parsed and
        sending it back (a file with a problem is not kept: the build reads it again and reports it)."""
        named = [(path, names(path)) for path in files]
        missing = [(path, display) for path, display in named if not self.cache.holds(self.directory, self.key("f-", [display]))]
        if len(missing) >= _COMPILE_IN_WORKERS_FROM:
            from ..forking import fork_map

            for (_, display), policy in zip(missing, fork_map(_parse_and_keep, self, missing, at_least=_COMPILE_IN_WORKERS_FROM)):
                if isinstance(policy, Policy) and policy.file == display:
                    self.parsed[display] = policy

    def keep_policy(self, policy: Policy) -> None:
        key = self.key("f-", [policy.file])
        self.cache.write(self.directory, key, policy)
        self.kept.add(key)

    def holds_compiled(self, chain: tuple[Policy, ...]) -> bool:
        """Whether the compiled policy of `chain` is in the cache: then it is read only when first used."""
        key = self.key("c-", [p.file for p in chain])
        if self.cache.holds(self.directory, key):
            self.kept.add(key)
            return True
        return False

    def compiled(self, chain: tuple[Policy, ...]) -> CompiledPolicy | None:
        key = self.key("c-", [p.file for p in chain])
        found = _read_compiled(self.directory, key, chain)
        if found is not None:
            self.kept.add(key)
        return found

    def keep_compiled(self, chain: tuple[Policy, ...], compiled: CompiledPolicy) -> None:
        """Kept without the policies of its chain: those are read (or taken from the cache) file by file."""
        key = self.key("c-", [p.file for p in chain])
        shared = {id(obj): token for token, obj in _parts(chain).items()}
        self.cache.write_with_rest(self.directory, key, (compiled.layered, compiled.versions, compiled.benefits),
                                   (compiled.programs, compiled.by_version), shared)
        self.kept.add(key)

    def index(self, chains: Mapping[str, tuple[Policy, ...]], by_region: Mapping[str, str], revision: str) -> TreeIndex:
        parts = {}
        for policy_id, chain in chains.items():
            parts[policy_id] = (tuple((p.file, self.key("f-", [p.file])) for p in chain), self.key("c-", [p.file for p in chain]))
        return TreeIndex(revision, dict(by_region), parts)

    def finish(self, root: pathlib.Path, chains: Mapping[str, tuple[Policy, ...]], built: dict[str, CompiledPolicy],
               by_region: dict[str, str], revision: str) -> PolicySet:
        """The set of a build that found no problem: each policy not built now is read from the cache when first
        used, under the index kept for the tree — or read now, if the cache refused a part (no index then)."""
        index = self.index(chains, by_region, revision)
        if self.tree_key is not None and all(key in self.kept for files, compiled in index.parts.values()
                                             for key in (compiled, *(k for _, k in files))):
            self.cache.write(self.directory, self.tree_key, index)
            files = {policy.file: policy for chain in chains.values() for policy in chain}
            return PolicySet(root, _LazyPolicies(self.directory, root, index, built, files), by_region, revision,
                             {chain[-1].file: pid for pid, chain in chains.items()})
        compiled = {}
        for policy_id, chain in chains.items():
            compiled[policy_id] = built.get(policy_id) or self.compiled(chain) or _rebuilt(chain)
        return PolicySet(root, compiled, by_region, revision)


def _read_compiled(directory: pathlib.Path, key: str, chain: tuple[Policy, ...]) -> CompiledPolicy | None:
    """The compiled policy of `chain` kept under `key` (see `_Reuse.keep_compiled`), its programs read when first
    used; None if the entry is missing or not one of this chain."""
    from . import cache

    found = cache.read_with_rest(directory, key, _parts(chain))
    if found is None:
        return None
    head, rest = found
    if not (isinstance(head, tuple) and len(head) == 3 and isinstance(head[0], LayeredPolicy)
            and head[0].policy is chain[-1] and isinstance(head[1], ParameterVersions) and isinstance(head[2], BenefitLookup)):
        return None

    def programs():
        try:
            found = rest.load()
        except LookupError:
            found = None
        if isinstance(found, tuple) and len(found) == 2 and all(isinstance(part, dict) for part in found):
            return found
        rebuilt = _rebuilt(chain)   # read intact, yet not what was kept: compiled again from the same policies
        return rebuilt.programs, rebuilt.by_version

    return CompiledPolicy.programs_later(*head, programs)


def _parts(chain: tuple[Policy, ...]) -> dict[tuple, Any]:
    """Each policy of a chain and its documents, parameters, variables, tables, rules and floors, by a token."""
    found: dict[tuple, Any] = {}
    for policy in chain:
        found[(policy.file,)] = policy
        for name in ("documents", "parameters", "variables", "benefits", "rules", "floors"):
            for i, part in enumerate(getattr(policy, name)):
                found[(policy.file, name, i)] = part
    return found


def _build(root: pathlib.Path, files: list[pathlib.Path], reuse: _Reuse | None = None, generate_later: bool = False) -> PolicySet:
    from .loader import load_policy  # YAML and schema checking are needed only to build, not to read the cache

    problems: list[Diagnostic] = []
    digest = hashlib.sha256()
    policies: dict[str, Policy] = {}
    unreadable = 0
    names = DisplayNames(root)
    if reuse is not None:
        reuse.parse_missing(files, names)
    for path in files:
        display = names(path)
        # the bytes the cache key was made of, when there is one: the revision and the key name the same files
        raw = reuse.contents[display] if reuse is not None else path.read_bytes()
        digest.update(display.encode() + b"\0" + raw + b"\0")
        policy = reuse.policy(display) if reuse is not None else None
        if policy is None:
            mine: list[Diagnostic] = []
            policy = load_policy(path, display, mine)
            problems += mine
            if policy is not None and not mine and reuse is not None:
                reuse.keep_policy(policy)
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
    chains: dict[str, tuple[Policy, ...]] = {}
    todo: list[str] = []
    for policy in policies.values():
        # A parent that failed to load has already been reported; don't repeat it as "unknown parent".
        chain = chain_of(policy, policies, problems if not unreadable else [])
        if chain is None:
            continue
        chains[policy.id] = chain
        if reuse is not None and reuse.holds_compiled(chain):
            continue    # built before from the same files: read when first used
        todo.append(policy.id)
    if reuse is not None and len(todo) >= _COMPILE_IN_WORKERS_FROM:
        # Compiled on every core, each kept in the cache by its worker and read here when first used.
        from ..forking import fork_map

        for mine in fork_map(_compile_and_keep, (chains, reuse), todo, at_least=_COMPILE_IN_WORKERS_FROM):
            problems += mine
        for policy_id in todo:      # what the workers kept counts as found here (one the cache refused: `finish`)
            reuse.holds_compiled(chains[policy_id])
        todo = []
    for policy_id in todo:
        chain = chains[policy_id]
        mine = []
        built = _compile(chain[-1], chain, mine, generate_later=generate_later and reuse is None)   # what is kept is generated
        problems += mine
        if built is not None:
            compiled[policy_id] = built
            if not mine and reuse is not None:
                reuse.keep_compiled(chain, built)
    if problems:
        raise DiagnosticError(sort_diagnostics(_dedupe(problems)))
    if reuse is not None:
        return reuse.finish(root, chains, compiled, by_region, digest.hexdigest()[:16])
    return PolicySet(root, compiled, by_region, digest.hexdigest()[:16])


_COMPILE_IN_WORKERS_FROM = 24     # fewer policies to compile are compiled sooner here than by starting workers


def _parse_and_keep(reuse: _Reuse, item: tuple[pathlib.Path, str]) -> Policy | None:
    """In a worker: read and check one policy file; kept in the cache, and returned, if it has no problem."""
    from .loader import load_policy

    path, display = item
    problems: list[Diagnostic] = []
    policy = load_policy(path, display, problems)
    if policy is not None and not problems:
        reuse.keep_policy(policy)
        return policy
    return None


def _compile_and_keep(state: tuple[Mapping[str, tuple[Policy, ...]], _Reuse], policy_id: str) -> list[Diagnostic]:
    """In a worker: compile one policy and keep it in the cache; its problems, if it has any (then nothing is kept)."""
    chains, reuse = state
    chain = chains[policy_id]
    problems: list[Diagnostic] = []
    built = _compile(chain[-1], chain, problems)
    if built is not None and not problems:
        reuse.keep_compiled(chain, built)
    return problems


def _rebuilt(chain: tuple[Policy, ...]) -> CompiledPolicy:
    """A policy whose compiled part was in the cache when the build began and could not be read at its end."""
    problems: list[Diagnostic] = []
    built = _compile(chain[-1], chain, problems)
    if problems:    # it compiled without a problem before, from the same files
        raise DiagnosticError(sort_diagnostics(_dedupe(problems)))
    if built is None:
        raise _part_missing(chain[-1].file)
    return built


def _compile(policy: Policy, chain: tuple[Policy, ...], problems: list[Diagnostic],
             generate_later: bool = False) -> CompiledPolicy | None:
    """Layer one policy on its chain and compile it for every kind and rule epoch (None if it has problems).

    `generate_later`: check now (every problem is found here), write and
    compile its code when it first decides — a load without the cache then
    costs reading and checking the tree, not generating 400 policies' code.
    """
    layered = layer(policy, chain, problems)
    _check_citations(layered, problems)
    versions = ParameterVersions.build(layered)
    inactive_by_version = [frozenset(p.id for p in chain if p.in_force is not None and p.in_force.start > start)
                           for start in versions.starts]
    epochs: dict[frozenset[str], dict[str, CheckedProgram]] = {}
    for inactive in sorted(set(inactive_by_version), key=len):  # all rules in force first
        checked = {}
        for kind in KINDS:
            program = check_program(layered, kind, problems, inactive)
            if program is not None:
                checked[kind] = program
        epochs[inactive] = checked
    if not all(len(checked) == len(KINDS) for checked in epochs.values()):
        return None
    generate = _Generated(epochs, inactive_by_version)
    lookup = BenefitLookup.build(layered.benefits)
    if generate_later:
        return CompiledPolicy.programs_later(layered, versions, lookup, generate.on_first_use)
    try:
        newest, by_version = generate()
    except DiagnosticError as exc:
        problems += exc.diagnostics
        return None
    return CompiledPolicy(layered, newest, versions, lookup, by_version)


class _Generated:
    """A checked policy's programs, generated on the first call and then kept (thread-safe: one generation).

    If Python cannot compile one (beyond its limits despite the engine's own):
    DiagnosticError when asked for while loading (`_compile`), else the policy
    defect `PolicyTooComplex` — on every call, as the first.
    """

    def __init__(self, epochs: dict[frozenset[str], dict[str, CheckedProgram]], inactive_by_version: list[frozenset[str]]):
        import threading

        self._epochs, self._inactive_by_version = epochs, inactive_by_version
        self._lock = threading.Lock()
        self._done: tuple | None = None
        self._problems: list[Diagnostic] = []

    def __call__(self) -> tuple[dict[str, Program], dict[str, tuple[Program, ...]]]:
        with self._lock:
            if self._done is None and not self._problems:
                programs = {inactive: {kind: generate_program(checked, self._problems) for kind, checked in kinds.items()}
                            for inactive, kinds in self._epochs.items()}
                if not self._problems:
                    newest = programs[min(programs, key=len)]
                    self._done = (newest, {kind: tuple(programs[inactive][kind] for inactive in self._inactive_by_version)
                                           for kind in KINDS})
                    self._epochs = None     # the checked rules are not needed any more
            if self._problems:
                raise DiagnosticError(list(self._problems))
            return self._done

    def on_first_use(self) -> tuple[dict[str, Program], dict[str, tuple[Program, ...]]]:
        """The programs, for a policy that is deciding: a policy that cannot be compiled is a policy defect then."""
        try:
            return self()
        except DiagnosticError as exc:
            from ..errors import PolicyTooComplex

            first = exc.diagnostics[0]
            raise PolicyTooComplex(f"{first.file}:{first.line}:{first.column}: {first.message_zh}",
                                   f"{first.file}:{first.line}:{first.column}: {first.message_en}",
                                   where=(f"{first.file}:{first.line}:{first.column}",)) from None


def display_path(path: pathlib.Path, root: pathlib.Path) -> str:
    """How files are named in messages: relative to the tree's parent (`policies/henan/policy.yaml`)."""
    return DisplayNames(root)(path)


class DisplayNames:
    """`display_path` for many files of one tree (`names = DisplayNames(root); names(path)`).

    Resolving a path looks at each of its folders (~1,700 files in a national
    tree, named by several steps of `yidi validate`): here a folder that is
    not a symbolic link is its resolved parent joined with its name, so each
    folder costs one look (`lstat`) once, and a file is resolved whole only
    when it is a link itself — the same names, sooner.
    """

    def __init__(self, root: pathlib.Path):
        self.base = pathlib.Path(root).resolve().parent
        self._folders: dict[pathlib.Path, pathlib.Path] = {}

    def __call__(self, path: pathlib.Path) -> str:
        path = pathlib.Path(path)
        if path.name in ("", ".", "..") or path.is_symlink():
            resolved = path.resolve()
        else:
            resolved = self._folder(path.parent) / path.name
        try:
            return str(resolved.relative_to(self.base))
        except ValueError:
            return str(path)

    def _folder(self, folder: pathlib.Path) -> pathlib.Path:
        found = self._folders.get(folder)
        if found is None:
            parent = folder.parent
            if parent == folder or folder.name in ("", ".", "..") or folder.is_symlink():
                found = folder.resolve()
            else:
                found = self._folder(parent) / folder.name
            self._folders[folder] = found
        return found


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
            if value.approval is not None and value.approval.document not in known:
                problems.append(Diagnostic("unknown-document", f"参数 {param.name} 的取值所引批准文件 “{value.approval.document}” 不在 documents 中",
                                           f"parameter {param.name} cites approval {value.approval.document!r}, which is not listed under documents",
                                           value.position.file, value.position.line, value.position.column))
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
