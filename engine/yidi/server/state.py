"""What the server is serving, and how a new policy tree replaces it.

Atomic reload, and why it is safe without locks on the request path: the
serving `Engine`, its revision and when it went live are one immutable
`Serving` object; a request takes it once (`bind()`, one attribute read) and
uses only that object until it answers — a batch, all its items. A
reload builds and checks a whole new Engine off to the side and, only if
every check passes, replaces the reference in one assignment. So requests in
flight finish on the old engine, new ones see the new one, and none ever
sees a mixture; an invalid tree is refused with its diagnostics and the old
engine keeps serving. Reloads are serialised by a lock so two cannot race.

"Fully validate" means what `yidi validate` and `yidi test` check — the
tree loads and compiles, its test files and clause coverage are sound, and
(at check level `test`, the default) its own YAML test cases pass — so a tree
whose officers' tests fail never goes live.
"""

from __future__ import annotations

import pathlib
import threading
from dataclasses import dataclass, field
from typing import Any

from ..audit import now
from ..diagnostics import Diagnostic, DiagnosticError, to_json
from ..engine import Engine
from .metrics import Metrics

@dataclass(frozen=True)
class Serving:
    """One loaded policy tree as served: never changes once built."""

    engine: Engine
    revision: str
    since: str                        # when it went live (the decision log's clock)


@dataclass(frozen=True)
class Check:
    """The outcome of checking a policy tree on disk."""

    engine: Engine | None
    diagnostics: tuple[Diagnostic, ...]
    cases: int = 0

    @property
    def valid(self) -> bool:
        return self.engine is not None and not any(d.severity == "error" for d in self.diagnostics)

    def to_json(self) -> dict[str, Any]:
        return {"valid": self.valid, "revision": self.engine.revision if self.engine else None,
                "cases": self.cases, "diagnostics": [to_json(d) for d in self.diagnostics]}


def check_tree(root: pathlib.Path, level: str = "test") -> Check:
    """Load `root` and check it at `level` (load | validate | test), collecting every problem."""
    from ..policy.coverage import build_matrix
    from ..testing import load_cases, run_case

    try:
        engine = Engine.load(root)
    except DiagnosticError as exc:
        return Check(None, tuple(exc.diagnostics))
    except OSError as exc:
        return Check(None, (Diagnostic("unreadable", f"无法读取政策目录：{exc}", f"cannot read the policy tree: {exc}"),))
    if level == "load":
        return Check(engine, ())
    problems: list[Diagnostic] = []
    cases = load_cases(engine, root, problems)
    build_matrix(engine.policies, root, cases, problems)
    if level == "test" and not problems:
        for case in cases:
            problems.extend(run_case(engine, case).failures)
    return Check(engine, tuple(problems), len(cases))


@dataclass
class ServerState:
    """Everything a request handler needs; `serving` is the only field that ever changes."""

    root: pathlib.Path
    serving: Serving
    audit: Any                                    # yidi.audit.AuditLog
    metrics: Metrics
    check_level: str = "test"
    token: str | None = None
    max_body: int = 64 << 10                      # one document; a claim is under 1 KiB
    max_batch_body: int = 16 << 20
    max_batch_items: int = 10_000
    docs_site: pathlib.Path | None = None         # a built docs site served at /docs/ (--docs-site)
    docs_url: str | None = None                   # or where one is published (--docs-url); the workbench links rules there
    body_timeout: float = 30.0                    # seconds for a request body to arrive (408 after)
    _reload_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _clock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bind(self) -> tuple[Serving, str]:
        """The engine a request will use, and the decision-log time at which it was bound.

        The tiny lock only orders this timestamp against a swap's `since`, so the
        log can be checked exactly: a record's time falls inside the interval in
        which its revision was being served.
        """
        with self._clock:
            return self.serving, now()

    def check(self) -> Check:
        """Check the configured tree as it is on disk now, without serving it (POST /v1/validate)."""
        with self._reload_lock:
            return check_tree(self.root, self.check_level)

    def reload(self, reason: str) -> tuple[bool, dict[str, Any]]:
        """Load, check and — only if valid — swap in the configured tree. Blocking; run it in a thread."""
        with self._reload_lock:
            previous = self.serving
            result = check_tree(self.root, self.check_level)
            if not result.valid or result.engine is None:
                self.metrics.reload("refused")
                return False, {"error": "invalid-policies", "reason": reason, "serving": previous.revision, **result.to_json()}
            with self._clock:
                self.serving = Serving(result.engine, result.engine.revision, now())
            self.metrics.reload("changed" if result.engine.revision != previous.revision else "unchanged")
            return True, {"revision": self.serving.revision, "previous": previous.revision,
                          "changed": self.serving.revision != previous.revision, "reason": reason,
                          "since": self.serving.since, "previous_since": previous.since, "cases": result.cases}
