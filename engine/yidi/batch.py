"""`yidi batch IN.jsonl -o OUT.jsonl`: decide a stream of documents.

Streaming and constant memory: the input is read, decided and written in
blocks of whole lines, with only a few blocks in flight at once. With
`--workers N` the blocks go to N processes, each holding its own compiled
Engine; answers are written in input order regardless. A line that is not a valid document, or
that the policy cannot decide, goes to the error file with its line number
and the run continues. A summary (counts by route and treatment, errors,
throughput) ends the run. With `--trace compact` the output opens with the
rule table (one `trace_table` record) and each decision's trace holds only
indexes and values; `yidi explain` renders it to the full trace (docs/traces.md).
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import pathlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from .documents_messages import printable
from .engine import Engine
from .errors import EvaluationError, InputError, error_body
from .evaluation.decision import COMPACT
from .jsonout import dump_bytes, dump_lines

BLOCK = 1 << 20  # bytes of input per unit of work: about 1,700 claims


@dataclasses.dataclass
class Summary:
    lines: int = 0
    decided: int = 0
    errors: int = 0
    by_route: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    by_treatment: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    by_kind: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    seconds: float = 0.0

    def add(self, other: Summary) -> None:
        self.lines += other.lines
        self.decided += other.decided
        self.errors += other.errors
        self.by_route.update(other.by_route)
        self.by_treatment.update(other.by_treatment)
        self.by_kind.update(other.by_kind)

    def to_json(self) -> dict[str, Any]:
        return {"lines": self.lines, "decided": self.decided, "errors": self.errors,
                "by_route": dict(self.by_route), "by_treatment": dict(self.by_treatment), "by_kind": dict(self.by_kind),
                "seconds": round(self.seconds, 3),
                "per_second": round(self.decided / self.seconds) if self.seconds else None}

    def render(self, lang: str = "zh") -> str:
        rate = f"{self.decided / self.seconds:,.0f}" if self.seconds else "—"
        routes = "、".join(f"{k} {v}" for k, v in self.by_route.most_common())
        treatments = "、".join(f"{k} {v}" for k, v in self.by_treatment.most_common())
        if lang == "en":
            return (f"{self.lines} lines: {self.decided} decided, {self.errors} errors, {self.seconds:.2f} s ({rate}/s)\n"
                    f"  by route: {routes or '—'}\n  by treatment: {treatments or '—'}")
        return (f"共 {self.lines} 行：决定 {self.decided} 份，错误 {self.errors} 行，用时 {self.seconds:.2f} 秒（每秒 {rate} 份）\n"
                f"  按结算方式：{routes or '—'}\n  按待遇标准：{treatments or '—'}")


def decide_one(decide: Callable[[Any, str], dict[str, Any]], document: Any, trace: str) -> tuple[Any, Any]:
    """(answer, None), or (None, its error body) — the one way a bad document becomes an error record.

    Shared by `yidi batch` and the Spark job (yidi.spark), so the two write the
    same record for the same document. A bug met on one document costs that
    document, never the documents around it.
    """
    try:
        return decide(document, trace), None
    except (InputError, EvaluationError) as exc:
        return None, error_body(exc)
    except Exception as exc:
        return None, {"error": "internal-error", "message": "内部错误", "message_en": printable(repr(exc))[:500]}


def decide_block(engine: Engine, first_line: int, block: bytes, trace: str) -> tuple[bytes, bytes, Summary]:
    """Decide the lines of one block (line numbers from `first_line`): answers, error lines, and counts.

    Blocks travel between processes as one bytes object each way: pickling
    thousands of small objects per chunk cost more than deciding them.
    """
    answers: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    summary = Summary()
    by_route, by_treatment = summary.by_route, summary.by_treatment
    claims = requests = 0
    decide = engine.evaluate_json
    for number, line in enumerate(block.split(b"\n"), first_line):
        if not line.strip():
            continue
        summary.lines += 1
        answer, error = decide_one(decide, line, trace)
        if answer is None:
            errors.append({"line": number, **error})
            continue
        if "route" in answer:
            by_route[answer["route"]] += 1
            by_treatment[answer["treatment"]] += 1
            claims += 1
        else:
            requests += 1
        answers.append(answer)
    summary.decided = claims + requests
    if claims:
        summary.by_kind["claim"] = claims
    if requests:
        summary.by_kind["filing_request"] = requests
    summary.errors = len(errors)
    return dump_lines(answers), dump_lines(errors), summary


# The engine each worker process decides with. Where processes are forked (Linux), a worker
# inherits the parent's engine and compiles nothing; elsewhere it loads the tree itself, and
# refuses to work if what it finds is not the revision the parent loaded.
_WORKER_ENGINE: Engine | None = None


def _init_worker(root: str, revision: str) -> None:
    global _WORKER_ENGINE
    if _WORKER_ENGINE is not None and _WORKER_ENGINE.revision == revision:
        return
    engine = Engine.load(root, cache=True)
    if engine.revision != revision:
        raise RuntimeError(f"the policies at {root} changed during the run ({revision} → {engine.revision})")
    _WORKER_ENGINE = engine


def _work(first_line: int, block: bytes, trace: str):
    assert _WORKER_ENGINE is not None
    return decide_block(_WORKER_ENGINE, first_line, block, trace)


def _blocks(stream: BinaryIO, size: int) -> Iterator[tuple[int, bytes]]:
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


class _Progress:
    """One status line on a terminal, refreshed twice a second; silent otherwise."""

    def __init__(self, enabled: bool, lang: str):
        self.enabled = enabled
        self.lang = lang
        self.start = self.last = time.monotonic()

    def update(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self.last < 0.5):
            return
        self.last = now
        rate = done / (now - self.start) if now > self.start else 0
        text = f"processed {done:,} ({rate:,.0f}/s)" if self.lang == "en" else f"已处理 {done:,} 行（每秒 {rate:,.0f} 行）"
        sys.stderr.write("\r" + text + ("\n" if final else ""))
        sys.stderr.flush()


def run(root: pathlib.Path, lines: BinaryIO, out: BinaryIO, errors: BinaryIO, workers: int = 1,
        trace: str = "ids", progress: bool = False, lang: str = "zh", engine: Engine | None = None) -> Summary:
    """Decide every line of the binary stream `lines`; write answers in input order to `out` and problems to `errors`."""
    started = time.monotonic()
    total = Summary()
    meter = _Progress(progress, lang)

    def write(result) -> None:
        answers, problems, summary = result
        out.write(answers)
        errors.write(problems)
        total.add(summary)
        meter.update(total.lines)

    engine = engine or Engine.load(root)
    if trace == COMPACT:  # built here, before any worker is forked: the workers inherit it
        out.write(dump_bytes(engine.trace_table()) + b"\n")
    if workers <= 1:
        for first, block in _blocks(lines, BLOCK):
            write(decide_block(engine, first, block, trace))
    else:
        global _WORKER_ENGINE
        _WORKER_ENGINE = engine  # inherited by forked workers (see _init_worker)
        with concurrent.futures.ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(str(root), engine.revision)) as pool:
            pending: collections.deque = collections.deque()
            for first, block in _blocks(lines, BLOCK):
                pending.append(pool.submit(_work, first, block, trace))
                if len(pending) >= 2 * workers:  # bounded: memory does not grow with the input
                    write(pending.popleft().result())
            while pending:
                write(pending.popleft().result())
    total.seconds = time.monotonic() - started
    meter.update(total.lines, final=True)
    return total
