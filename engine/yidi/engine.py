"""The front door for services: load a policy tree once, decide documents.

    from yidi import Engine
    engine = Engine.load("policies")          # or Engine.load() for the shipped tree
    decision = engine.evaluate(claim_dict)     # InputError / EvaluationError on failure

An Engine is immutable after `load`; any number of threads may call
`evaluate` at once. To change policies, load a new Engine and swap the
reference.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable, Iterator
from typing import Any

from .documents import InputError
from .evaluation.errors import EvaluationError
from .evaluation.evaluator import FULL, Evaluator
from .policy.tree import PolicySet, load_tree
from .resources import data_dir


class Engine:
    """A compiled, immutable policy set and the evaluator over it."""

    def __init__(self, policies: PolicySet):
        self._policies = policies
        self._evaluator = Evaluator(policies)

    @classmethod
    def load(cls, path: str | pathlib.Path | None = None) -> Engine:
        """Load and check every policy under `path` (default: the shipped policies).

        Raises yidi.DiagnosticError listing every problem with file:line:col.
        """
        root = pathlib.Path(path) if path is not None else data_dir("policies")
        return cls(load_tree(root))

    @property
    def policies(self) -> PolicySet:
        return self._policies

    @property
    def revision(self) -> str:
        """Content hash of the policy files this engine was built from."""
        return self._policies.revision

    def evaluate(self, document: Any, trace: str = FULL) -> dict[str, Any]:
        """Decide one claim or filing request (a dict, as parsed from JSON)."""
        return self._evaluator.evaluate(document, trace)

    def evaluate_many(self, documents: Iterable[Any], trace: str = "ids") -> Iterator[dict[str, Any]]:
        """Decide documents in order; a bad one yields {"error": …} instead of stopping the run."""
        for index, document in enumerate(documents):
            try:
                yield self._evaluator.evaluate(document, trace)
            except InputError as exc:
                yield {"index": index, "error": "invalid-input",
                       "problems": [{"path": p.path, "message": p.message_zh, "message_en": p.message_en} for p in exc.problems]}
            except EvaluationError as exc:
                yield {"index": index, "error": exc.code, **exc.to_json()}
