"""`yidi validate` without the command line: load, check, and the static checks, fast at national scale.

    from yidi.validation import validate
    result = validate(Engine.load("policies", cache=True), pathlib.Path("policies"), as_of=datetime.date.today())
    result.problems      # every finding, blocking or not

Why a module of its own: with ~400 pooling regions the static situation grid
(`policy.static_checks.check_policy`, ~4,000 decisions per policy) is nearly
all the work, and it was redone for every policy whenever any file changed.
Here each policy's result is kept in the compiled-policy cache, keyed by the
content of the policy and of its ancestors, the insured region its situations
use, and the engine (code, schemas, interpreter: `policy.cache.key_for`); a
policy whose key is unchanged is not decided again, and the ones that must be
are shared among the machine's cores (forked worker processes inherit the
loaded engine, so nothing large is sent to them). No check is skipped: the
combined findings equal a full run's (tests/test_validation_scale.py edits
files at random and compares). An entry that is damaged, foreign or of
another shape is ignored and the policy decided again.
"""

from __future__ import annotations

import datetime
import pathlib
from dataclasses import dataclass

from .diagnostics import Diagnostic
from .engine import Engine
from .forking import fork_map
from .policy import cache
from .policy.static_checks import PolicySituations, check_dates, check_policy, combine, insured_region, prepare_templates
from .policy.tree import CompiledPolicy, PolicySet

_KIND = b"situations 2"
_INLINE_AT_MOST = 3      # so few policies to decide are quicker decided here than in forked workers


@dataclass
class Validation:
    engine: Engine
    problems: list[Diagnostic]      # every finding: errors, warnings, findings to confirm
    cases: list                     # the test cases read (yidi.testing.Case)
    matrix: list                    # the clause-coverage rows (yidi.policy.coverage.ClauseRow)
    decided: int = 0                # policies whose situations were decided in this run (not reused)


def validate(engine: Engine, root: pathlib.Path, *, as_of: datetime.date, horizon: int = 90, static: bool = True,
             use_cache: bool = True, jobs: int | None = None) -> Validation:
    """Everything `yidi validate` checks beyond loading, for a tree `engine` loaded from `root`."""
    from .policy.coverage import build_matrix
    from .testing import cases_moved, load_cases

    problems: list[Diagnostic] = []
    kept = cache.default_dir() if use_cache else None
    cases = load_cases(engine, root, problems, cache_dir=kept)
    problems += cases_moved(engine, cases)
    matrix = build_matrix(engine.policies, root, cases, problems, kept)
    decided = 0
    if static:
        problems += check_dates(engine.policies, as_of, horizon)
        found, decided = situation_findings(engine, cache.default_dir() if use_cache else None, jobs)
        problems += found
    return Validation(engine, problems, cases, matrix, decided)


def situation_findings(engine: Engine, cache_dir: pathlib.Path | None, jobs: int | None = None) -> tuple[list[Diagnostic], int]:
    """The situation checks of every policy, reusing kept results; and how many policies were decided afresh."""
    policies = engine.policies
    base = pathlib.Path(policies.root).resolve().parent
    files: dict[str, bytes] = {}    # each file read once: the national policy is in every chain
    keys = {pid: _key(compiled, policies, base, files) for pid, compiled in policies.policies.items()}
    results: dict[str, PolicySituations] = {}
    if cache_dir is not None:
        for pid, key in keys.items():
            found = cache.read(cache_dir, key)
            if isinstance(found, PolicySituations) and found.policy_id == pid:
                results[pid] = found
    missing = [pid for pid in policies.policies if pid not in results]
    prepare_templates(policies, missing, cache_dir)
    for result in _decide(engine, missing, jobs, keys, cache_dir):
        results[result.policy_id] = result
    return combine(policies, results), len(missing)


def _key(compiled: CompiledPolicy, policies: PolicySet, base: pathlib.Path, files: dict[str, bytes]) -> str:
    """What a policy's situation results depend on: its chain's files, its insured region, the engine
    (`base`: the tree's parent, resolved; `files`: the files read so far, by name)."""
    entries = [("", _KIND), ("insured", insured_region(compiled, policies).encode())]
    for policy in compiled.layered.chain:
        if policy.file not in files:
            files[policy.file] = (base / policy.file).read_bytes()
        entries.append((policy.file, files[policy.file]))
    return "s-" + cache.key_for(entries)


def _decide(engine: Engine, ids: list[str], jobs: int | None, keys: dict[str, str],
            cache_dir: pathlib.Path | None) -> list[PolicySituations]:
    return fork_map(_decide_one, (engine, keys, cache_dir), ids, jobs, at_least=_INLINE_AT_MOST + 1)


def _decide_one(state: tuple[Engine, dict[str, str], pathlib.Path | None], pid: str) -> PolicySituations:
    """One policy's situations, kept in the cache by whoever decided them (a worker, or this process)."""
    engine, keys, cache_dir = state
    result = check_policy(engine.policies, engine.evaluator, engine.policies.policies[pid])
    if cache_dir is not None:
        cache.write(cache_dir, keys[pid], result)
    return result
