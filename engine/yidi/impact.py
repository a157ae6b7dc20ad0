"""`yidi diff OLD NEW --claims FILE`: what a policy change does to real-looking claims.

Every claim of a JSONL file is decided under the old and the new policy tree;
the report says how many decisions changed, in which fields, how each field
moved (20 → 15), by how much the fund's payments change in total (exact
Decimal), and shows a sample of changed claims with both traces.

Why this shape:
* streaming: claims are read line by line and only counters, a bounded
  sample and the changed claims (appended to a file as they are found) are
  kept, so a million claims need no more memory than a thousand;
* each claim is validated once and decided by both policy sets
  (`Evaluator.evaluate_normalized`), since validation costs most;
* `--jobs N` spreads batches over processes (validation is CPU-bound);
* Ctrl-C stops cleanly: what was found so far is reported and written,
  marked partial.

OLD and NEW are policy folders, or `git:REV[:path]` (path defaults to
`policies`), extracted with `git archive` into a temporary folder.
"""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import signal
import subprocess
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from .documents import load_json, normalize_document
from .errors import EvaluationError, InputError
from .evaluation.evaluator import Evaluator
from .policy.tree import load_tree

FIELDS = ("policy", "scope", "filing_status", "treatment", "route", "catalog", "reduction_pp", "ratio",
          "amounts.deductible", "amounts.fund", "amounts.personal", "flags", "undetermined", "error")
NUMERIC = {"amounts.deductible", "amounts.fund", "amounts.personal"}   # too many values to count transitions
MAX_TRANSITIONS = 200
BATCH = 500


class SourceError(Exception):
    """OLD or NEW could not be turned into a policy folder."""


@contextlib.contextmanager
def policy_source(spec: str, repo: pathlib.Path | None = None) -> Iterator[tuple[pathlib.Path, str]]:
    """A policy folder for `spec` (a folder, or git:REV[:path]) and a label for reports."""
    if not spec.startswith("git:"):
        path = pathlib.Path(spec)
        if not path.is_dir():
            raise SourceError(f"不是目录：{spec}")
        yield path, spec
        return
    rev, _, sub = spec[4:].partition(":")
    sub = sub or "policies"
    cwd = str(repo) if repo else None
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
        short = subprocess.run(["git", "rev-parse", "--short", rev], cwd=top, capture_output=True, text=True, check=True).stdout.strip()
        archive = subprocess.run(["git", "archive", "--format=tar", rev, "--", sub], cwd=top, capture_output=True, check=True).stdout
    except FileNotFoundError as exc:
        raise SourceError(f"无法从 git 取出 {spec}：找不到 git 命令") from exc
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr if isinstance(exc.stderr, str) else (exc.stderr or b"").decode(errors="replace")
        raise SourceError(f"无法从 git 取出 {spec}：{detail.strip()}") from exc
    with tempfile.TemporaryDirectory(prefix="yidi-diff-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            try:
                tar.extractall(tmp, filter="data")
            except TypeError:  # Python without extraction filters
                tar.extractall(tmp)  # noqa: S202 — our own repository's archive
        yield pathlib.Path(tmp) / sub, f"{spec}（{short}）"


def flatten(decision: dict[str, Any]) -> dict[str, Any]:
    """The compared fields; a partial decision's open outputs are None and listed under "undetermined"."""
    amounts = decision["amounts"] or {}
    return {"policy": decision["policy"]["id"], "scope": decision["scope"], "filing_status": decision["filing_status"],
            "treatment": decision["treatment"], "route": decision["route"], "catalog": decision["catalog"],
            "reduction_pp": decision["reduction_pp"], "ratio": decision["ratio"],
            "amounts.deductible": amounts.get("deductible"), "amounts.fund": amounts.get("fund"),
            "amounts.personal": amounts.get("personal"), "flags": tuple(sorted(decision["flags"])),
            "undetermined": tuple(entry["output"] for entry in decision.get("undetermined", ())), "error": None}


def decide(evaluator: Evaluator, doc: dict) -> tuple[dict[str, Any], list[str]]:
    try:
        decision = evaluator.evaluate_normalized(doc, "ids")
    except EvaluationError as exc:
        return {**{f: None for f in FIELDS}, "error": f"{exc.code}: {exc.message_zh}"}, []
    return flatten(decision), [r for r in decision["trace"] if isinstance(r, str)]


def compare_line(old: Evaluator, new: Evaluator, line: str) -> tuple:
    """One JSONL line → ("invalid", id, message) or ("ok", id, old, new, changed fields, traces or None)."""
    raw = None
    try:
        raw = load_json(line)
        doc = normalize_document(raw)
    except InputError as exc:
        claim_id = raw.get("id") if isinstance(raw, dict) else None
        return ("invalid", claim_id, "；".join(f"{p.path or '（整行）'}: {p.message_zh}" for p in exc.problems))
    a, a_trace = decide(old, doc)
    b, b_trace = decide(new, doc)
    changed = tuple(f for f in FIELDS if a[f] != b[f])
    return ("ok", doc["id"], a, b, changed, (a_trace, b_trace) if changed else None)


class Summary:
    """Counters over all claims, and a bounded, varied sample of changed ones."""

    def __init__(self, sample_size: int = 20):
        self.total = self.invalid = self.changed = 0
        # claims whose fund payment is not a number (left undetermined, or the policy could not decide) under
        # the old / new policies: counted here, never as 0 in the money totals
        self.fund_unknown_old = self.fund_unknown_new = 0
        self.fields: Counter[str] = Counter()
        self.transitions: dict[str, Counter] = {f: Counter() for f in FIELDS if f not in NUMERIC}
        self.by_policy: Counter[str] = Counter()
        self.fund_old = self.fund_new = Decimal(0)
        self.fund_up = self.fund_down = self.fund_appeared = self.fund_vanished = 0
        self.sample: list[dict] = []
        self.sample_size = sample_size
        self._signatures: Counter[tuple] = Counter()
        self.invalid_examples: list[tuple] = []
        self.partial = False

    def add(self, result: tuple) -> dict | None:
        """Count one result; return the changed-claim record (for the changes file) or None."""
        self.total += 1
        if result[0] == "invalid":
            self.invalid += 1
            if len(self.invalid_examples) < 5:
                self.invalid_examples.append(result[1:])
            return None
        _, claim_id, a, b, changed, traces = result
        fa, fb = a["amounts.fund"], b["amounts.fund"]
        self.fund_unknown_old += fa is None
        self.fund_unknown_new += fb is None
        if fa is not None and fb is not None:  # money totals only over claims with a fund payment under both
            self.fund_old += fa
            self.fund_new += fb
        if not changed:
            return None
        self.changed += 1
        self.fields.update(changed)
        self.by_policy[b["policy"] or a["policy"] or "（无法决定）"] += 1
        for f in changed:
            if f in self.transitions:
                key = (_show(a[f]), _show(b[f]))
                counter = self.transitions[f]
                if key in counter or len(counter) < MAX_TRANSITIONS:
                    counter[key] += 1
                else:
                    counter[("…", "…")] += 1
        if fa is not None and fb is not None:
            self.fund_up += fb > fa
            self.fund_down += fb < fa
        elif fb is not None:
            self.fund_appeared += 1
        elif fa is not None:
            self.fund_vanished += 1
        record = {"id": claim_id, "changes": {f: [a[f], b[f]] for f in changed},
                  "fund_delta": fb - fa if fa is not None and fb is not None else None,
                  "old_trace": traces[0], "new_trace": traces[1]}
        signature = (changed, a["treatment"], b["treatment"])
        per_signature = max(1, self.sample_size // 6)
        if len(self.sample) < self.sample_size and self._signatures[signature] < per_signature:
            self._signatures[signature] += 1
            self.sample.append({**record, "old": a, "new": b})
        return record

    @property
    def fund_delta(self) -> Decimal:
        return self.fund_new - self.fund_old


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))
    return str(value)


# ── running: in this process, or over worker processes ─────────────────────────
_WORKER: tuple[Evaluator, Evaluator] | None = None


def _init_worker(old_root: str, new_root: str) -> None:
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    _WORKER = (Evaluator(load_tree(pathlib.Path(old_root))), Evaluator(load_tree(pathlib.Path(new_root))))


def _work(lines: list[str]) -> list[tuple]:
    old, new = _WORKER
    return [compare_line(old, new, line) for line in lines]


def _batches(lines: Iterable[str]) -> Iterator[list[str]]:
    batch = []
    for line in lines:
        if line.strip():
            batch.append(line)
            if len(batch) >= BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def results(old_root: pathlib.Path, new_root: pathlib.Path, lines: Iterable[str], jobs: int = 1) -> Iterator[tuple]:
    """Compare every claim line under both trees, in order."""
    if jobs <= 1:
        old, new = Evaluator(load_tree(old_root)), Evaluator(load_tree(new_root))
        for batch in _batches(lines):
            for line in batch:
                yield compare_line(old, new, line)
        return
    import multiprocessing

    pool = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn").Pool(
        jobs, initializer=_init_worker, initargs=(str(old_root), str(new_root)))
    try:
        pending = []
        batches = _batches(lines)
        for batch in batches:            # at most 2×jobs batches in flight: memory stays bounded
            pending.append(pool.apply_async(_work, (batch,)))
            if len(pending) >= 2 * jobs:
                yield from pending.pop(0).get()
        for job in pending:
            yield from job.get()
        pool.close()
    finally:
        pool.terminate()
        pool.join()
