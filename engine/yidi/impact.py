"""`yidi diff OLD NEW --claims FILE`: decide every claim under two policy trees and compare.

This module compares; `impact_summary` counts what the comparisons found,
`impact_examples` explains the chosen examples, and `impact_report` /
`impact_html` write the reports.

Why this shape:
* each line is decoded and checked once, by the same fast path as `yidi
  batch` (`fastdecode`: typed decoding in C), and decided by both trees from
  that one flat document — so a diff costs about two batch runs. Only a line
  the fast path refuses goes through the thorough validator, which says why;
* lines travel to worker processes in blocks of bytes (as in `yidi batch`),
  and each block comes back as mergeable counts plus the claims that changed —
  never one object per unchanged claim;
* where processes fork (Linux) the workers inherit the parent's compiled trees
  and compile nothing; elsewhere they load them from the folders;
* streaming: only counters, bounded example lists and the changed claims
  (written to a file as they are found) are kept, so a million claims need no
  more memory than a thousand; Ctrl-C stops between blocks, cleanly.

OLD and NEW are policy folders, or `git:REV[:path]` (path defaults to
`policies`), extracted with `git archive` into a temporary folder.
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import pathlib
import signal
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from .documents import load_json, normalize_document
from .errors import EvaluationError, InputError
from .evaluation.evaluator import Evaluator
from .fastdecode import decode_fast
from .impact_summary import Tally, is_outcome
from .policy.decision_model import CLAIM
from .policy.tree import PolicySet, load_tree

# The compared fields of a decision. "policy" alone changing is a change of label (the same outcome,
# decided under another policy's name); every other field is part of the outcome.
FIELDS = ("policy", "scope", "filing_status", "treatment", "route", "catalog", "reduction_pp", "ratio",
          "amounts.deductible", "amounts.fund", "amounts.personal", "flags", "undetermined", "error")
BLOCK = 1 << 18          # bytes of input per unit of work (about 400 claims): Ctrl-C is answered between blocks


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


def decide(evaluator: Evaluator, flat: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The compared fields of `flat`'s decision and its rule ids; a policy that cannot decide gives `error`."""
    try:
        decision = evaluator.evaluate_flat(flat, "ids")
    except EvaluationError as exc:
        return {**dict.fromkeys(FIELDS), "error": f"{exc.code}: {exc.message_zh}"}, []
    return flatten(decision), decision["trace"]


def change_record(line: int, flat: dict[str, Any], a: dict[str, Any], b: dict[str, Any], changed: tuple[str, ...],
                  a_trace: list[str], b_trace: list[str]) -> dict[str, Any]:
    """One line of the per-claim changes file: who (region, scheme, visit kind), what moved, by how much, and
    the rules that stopped or started applying."""
    fa, fb = a["amounts.fund"], b["amounts.fund"]
    old_rules, new_rules = set(a_trace), set(b_trace)
    return {"id": flat["id"], "line": line, "insured_region": flat["insured.region"], "scheme": flat["insured.scheme"],
            "visit_kind": flat["visit.kind"], "policy": [a["policy"], b["policy"]], "treatment": [a["treatment"], b["treatment"]],
            "change": "outcome" if is_outcome(changed) else "label",
            "changes": {f: [a[f], b[f]] for f in changed},
            "fund": [fa, fb], "fund_delta": fb - fa if fa is not None and fb is not None else None,
            "rules_removed": [r for r in a_trace if r not in new_rules],
            "rules_added": [r for r in b_trace if r not in old_rules]}


def _document(evaluators: tuple[Evaluator, Evaluator], line: bytes) -> dict[str, Any]:
    """The flat document of one line (InputError, explained, if it is not a valid document)."""
    flat = decode_fast(line)
    if flat is not None:
        return flat
    doc = normalize_document(load_json(line))
    old, new = evaluators
    return {**old.flatten(doc), **new.flatten(doc)}   # every path either tree reads


def compare_block(evaluators: tuple[Evaluator, Evaluator], first_line: int, block: bytes) -> tuple[Tally, list[dict], list[dict]]:
    """Compare the lines of one block (numbered from `first_line`): counts, changed claims, invalid lines."""
    old, new = evaluators
    tally = Tally()
    changes: list[dict] = []
    invalid: list[dict] = []
    for number, line in enumerate(block.split(b"\n"), first_line):
        if not line.strip():
            continue
        try:
            flat = _document(evaluators, line)
        except InputError as exc:
            tally.invalid += 1
            invalid.append({"line": number, "id": _claim_id(line),
                            "problems": "；".join(f"{p.path or '（整行）'}: {p.message_zh}" for p in exc.problems)})
            continue
        if flat["kind"] != CLAIM:
            tally.not_claims += 1
            continue
        a, a_trace = decide(old, flat)
        b, b_trace = decide(new, flat)
        changed = tuple(f for f in FIELDS if a[f] != b[f])
        tally.count(flat, a, b, changed)
        if changed:
            changes.append(change_record(number, flat, a, b, changed, a_trace, b_trace))
    return tally, changes, invalid


def _claim_id(line: bytes) -> str | None:
    try:
        raw = load_json(line)
    except InputError:
        return None
    claim_id = raw.get("id") if isinstance(raw, dict) else None
    return claim_id if isinstance(claim_id, str) else None


def blocks(stream: BinaryIO, size: int = BLOCK) -> Iterator[tuple[int, bytes]]:
    """(number of its first line, whole lines of about `size` bytes) until the end of `stream`."""
    line = 1
    while True:
        block = stream.read(size)
        if not block:
            return
        if not block.endswith(b"\n"):
            block += stream.readline()  # finish the last line, so no line is split between blocks
        yield line, block
        line += block.count(b"\n")


# ── running: in this process, or over worker processes ─────────────────────────
# The evaluators each worker compares with: inherited from the parent where processes fork,
# else built by the worker from the folders (see _init_worker).
_WORKER: tuple[Evaluator, Evaluator] | None = None


def _init_worker(old_root: str, new_root: str, revisions: tuple[str, str]) -> None:
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    if _WORKER is not None and (_WORKER[0].policies.revision, _WORKER[1].policies.revision) == revisions:
        return
    loaded = (Evaluator(load_tree(pathlib.Path(old_root))), Evaluator(load_tree(pathlib.Path(new_root))))
    if (loaded[0].policies.revision, loaded[1].policies.revision) != revisions:
        raise RuntimeError(f"the policies changed during the run ({revisions} → "
                           f"{(loaded[0].policies.revision, loaded[1].policies.revision)})")
    _WORKER = loaded


def _work(first_line: int, block: bytes):
    assert _WORKER is not None
    return compare_block(_WORKER, first_line, block)


def results(old: PolicySet, new: PolicySet, stream: BinaryIO, jobs: int = 1,
            roots: tuple[pathlib.Path, pathlib.Path] | None = None) -> Iterator[tuple[Tally, list[dict], list[dict]]]:
    """Compare every line of the binary `stream` under both trees: one (counts, changes, invalid lines)
    per block, in input order. `roots` lets workers that cannot fork load the trees themselves."""
    global _WORKER
    evaluators = (Evaluator(old), Evaluator(new))
    if jobs <= 1:
        for first, block in blocks(stream):
            yield compare_block(evaluators, first, block)
        return
    import multiprocessing

    _WORKER = evaluators
    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    roots = roots or (pathlib.Path(old.root), pathlib.Path(new.root))
    pool = context.Pool(jobs, initializer=_init_worker,
                        initargs=(str(roots[0]), str(roots[1]), (old.revision, new.revision)))
    try:
        pending: collections.deque = collections.deque()
        for first, block in blocks(stream):        # at most 2×jobs blocks in flight: memory stays bounded
            pending.append(pool.apply_async(_work, (first, block)))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
        pool.close()
    finally:
        pool.terminate()
        pool.join()


__all__ = ["FIELDS", "SourceError", "compare_block", "policy_source", "results"]
