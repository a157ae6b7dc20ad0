"""The front door for services: load a policy tree once, decide documents.

    from yidi import Engine
    engine = Engine.load("policies")          # or Engine.load() for the shipped tree
    decision = engine.evaluate(claim_dict)     # InputError / EvaluationError on failure

An Engine is immutable after `load`; any number of threads may call
`evaluate` at once. To change policies, load a new Engine and swap the
reference.
"""

from __future__ import annotations

import datetime
import pathlib
from collections.abc import Iterable, Iterator
from typing import Any

from .evaluation.decision import describe_value
from .errors import EvaluationError, InputError, error_body
from .evaluation.evaluator import FULL, Evaluator
from .policy.tree import PolicySet, load_tree
from .resources import data_dir


class Engine:
    """A compiled, immutable policy set and the evaluator over it."""

    def __init__(self, policies: PolicySet):
        self._policies = policies
        self._evaluator = Evaluator(policies)

    @classmethod
    def load(cls, path: str | pathlib.Path | None = None, cache: bool | str | pathlib.Path = False, *,
             generate_now: bool = False) -> Engine:
        """Load and check every policy under `path` (default: the shipped policies).

        `cache=True` keeps the compiled set in the user's cache folder (a
        folder may be given instead) so the next process with the same files
        skips parsing and checking; a folder or entry that another user could
        write is not used (docs/security.md). Raises yidi.DiagnosticError
        listing every problem with file:line:col.

        Without the cache, every policy is read and checked here, and each
        one's code is generated when it first decides (a national tree loads
        in a fraction of the time); `generate_now=True` generates all of it
        here, as a cached load does (`yidi validate`: Python's own limits on
        a generated function are then found at load too).
        """
        from .policy.cache import default_dir

        root = pathlib.Path(path) if path is not None else data_dir("policies")
        cache_dir = None if cache is False else (default_dir() if cache is True else pathlib.Path(cache))
        return cls(load_tree(root, cache_dir, generate_later=not generate_now))

    @property
    def policies(self) -> PolicySet:
        return self._policies

    @property
    def evaluator(self) -> Evaluator:
        """The evaluator over the policies, for checks that run the rules without building answers (static checks)."""
        return self._evaluator

    @property
    def revision(self) -> str:
        """Content hash of the policy files this engine was built from."""
        return self._policies.revision

    def regions(self) -> list[dict[str, Any]]:
        """Every policy's region, for services that list what this engine can decide.

        Each item is {id, region, name, extends, documents}, ordered by region
        code (national first); `documents` are the 文号 the policy implements,
        its own and inherited, most specific first — as in a decision's `policy`.
        """
        items = []
        for compiled in self._policies.policies.values():
            policy = compiled.layered.policy
            items.append({"id": policy.id, "region": policy.region, "name": policy.name,
                          "extends": policy.extends, "documents": list(compiled.layered.documents)})
        return sorted(items, key=lambda item: (item["region"], item["id"]))

    def parameters(self, region: str, on: datetime.date | None = None) -> dict[str, Any]:
        """The parameter values in force for an insured `region` on date `on` (default: today).

        Services ask this for deadlines and ratios (e.g. how many months a
        commitment filing stays locked) without building a claim. The policy is
        chosen exactly as for a claim (most specific for the region); each value
        comes with the clause it rests on and the dates it holds between.
        Parameters with no value on that date are listed under `unset`, never
        given a guessed value.
        """
        if not (isinstance(region, str) and len(region) == 6 and region.isascii() and region.isdigit() and region[0] != "0"):
            raise ValueError(f"region must be a 6-digit 医保区划 code, not {region!r}")
        day = on if on is not None else datetime.date.today()
        compiled, how = self._policies.for_region(region)
        version = compiled.versions.index(day)
        in_force = compiled.versions.provenance[version]
        values: dict[str, Any] = {}
        unset: list[str] = []
        for name in sorted(compiled.layered.parameters):
            definition = compiled.layered.parameters[name]
            origin = in_force.get(name)
            if origin is None:
                unset.append(name)
                continue
            values[name] = {"title": definition.title, "type": definition.type_name, "source": None,
                            **describe_value(origin), "from": origin.start, "until": origin.until,
                            "file": origin.position.file, "line": origin.position.line}
        policy = compiled.layered.policy
        return {"region": region, "on": day,
                "policy": {"id": policy.id, "region": policy.region, "name": policy.name, "how": how,
                           "documents": list(compiled.layered.documents), "revision": self.revision},
                "parameters": values, "unset": unset}

    def evaluate(self, document: Any, trace: str = FULL) -> dict[str, Any]:
        """Decide one claim or filing request (a dict, as parsed from JSON).

        `trace` is "full" (each rule with its clause, words and values), "ids"
        (rule ids only) or "compact" (indexes into `trace_table()` and values;
        `yidi.explain_trace` renders it back to the full trace — docs/traces.md).
        """
        return self._evaluator.evaluate(document, trace)

    def trace_table(self) -> dict[str, Any]:
        """The record that opens a file of compact decisions: its format, this revision, and the rule table."""
        return self._evaluator.trace_table().header()

    def evaluate_json(self, text: bytes | str, trace: str = FULL) -> dict[str, Any]:
        """Decide one document given as JSON text — the fastest way in, for services that receive bytes.

        Same answers and errors as `evaluate(load_json(text))` (InputError for invalid JSON too).
        """
        return self._evaluator.evaluate_json(text, trace)

    def evaluate_many(self, documents: Iterable[Any], trace: str = "ids") -> Iterator[dict[str, Any]]:
        """Decide documents in order; a bad one yields {"error": …} instead of stopping the run."""
        for index, document in enumerate(documents):
            try:
                yield self._evaluator.evaluate(document, trace)
            except InputError as exc:
                yield {"index": index, **error_body(exc)}
            except EvaluationError as exc:
                yield {"index": index, **error_body(exc)}
