"""`yidi diff OLD NEW --claims FILE`: the command line around yidi.impact.

Long runs show a progress bar (tqdm when installed — `pip install
'yidi[progress]'` — else a one-line counter) on a terminal only, so CI logs
stay clean. Changed claims are appended to a JSONL file as they are found
(`--changes`, by default beside --json/--markdown/--html), so Ctrl-C loses nothing:
the partial summary is printed and the reports are written, marked partial.
"""

from __future__ import annotations

import os
import pathlib
import signal
import sys
import time

from ..diagnostics import DiagnosticError, render
from ..impact import SourceError, policy_source, results
from ..impact_examples import explain
from ..impact_labels import Labels
from ..impact_report import Context, terminal, write_reports
from ..impact_summary import Summary
from ..jsonout import dumps
from ..policy.tree import load_tree

SMALL = 5000            # below this many claims, worker processes cost more than they save


def register(sub, common) -> None:
    p = sub.add_parser("diff", parents=[common], help="比较两版政策对一批结算申请的决定",
                       description="用两版政策（目录，或 git:版本[:路径]）分别决定同一批结算申请（JSONL），报告结果有变化的申请、"
                                   "按参保地/险种/就医类型/待遇标准的分类统计、基金支付的变化和按影响挑选的示例")
    p.add_argument("old", metavar="OLD", help="原政策：目录，或 git:REV[:path]（path 默认 policies）")
    p.add_argument("new", metavar="NEW", help="新政策：目录，或 git:REV[:path]")
    p.add_argument("--claims", required=True, metavar="FILE", help="结算申请 JSONL（每行一份；yidi synth 可生成）")
    p.add_argument("--json", metavar="OUT", help="写出 JSON 报告")
    p.add_argument("--markdown", metavar="OUT", help="写出 Markdown 报告（可附在变更申请上）")
    p.add_argument("--html", metavar="OUT", help="写出 HTML 报告（含图表，单个文件，离线可看）")
    p.add_argument("--changes", metavar="OUT", help="逐条写出有变化的申请（JSONL，边算边写；默认与报告同名 .changes.jsonl）")
    p.add_argument("--sample", type=int, default=20, metavar="K", help="每类示例的最多份数（默认 20）")
    p.add_argument("--jobs", type=int, default=0, metavar="N", help="并行进程数（默认：CPU 核数；少量申请时用 1）")
    p.add_argument("--no-progress", action="store_true", help="不显示进度条")
    p.set_defaults(func=run)


def _count_lines(path: pathlib.Path) -> int | None:
    try:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except OSError:
        return None


class _Progress:
    """tqdm if available, else a plain counter; silent when stderr is not a terminal."""

    def __init__(self, total: int | None, enabled: bool):
        self.bar = None
        self.enabled = enabled and sys.stderr.isatty()
        self.total, self.count, self.last = total, 0, 0.0
        if self.enabled:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, unit="份", desc="比较", dynamic_ncols=True)
            except ImportError:
                pass

    def update(self, done: int, changed: int) -> None:
        step, self.count = done - self.count, done
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(step)
            self.bar.set_postfix(变化=changed, refresh=False)
            return
        now = time.monotonic()
        if now - self.last > 0.5:
            self.last = now
            of = f"/{self.total:,}" if self.total else ""
            print(f"\r比较 {self.count:,}{of} 份，变化 {changed:,} 份", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(file=sys.stderr)


def run(args) -> int:
    claims = pathlib.Path(args.claims)
    if not claims.is_file():
        print(f"找不到结算申请文件：{claims}", file=sys.stderr)
        return 2
    changes_path = args.changes or next((str(pathlib.Path(p).with_suffix(".changes.jsonl"))
                                         for p in (args.json, args.markdown, args.html) if p), None)
    try:
        with policy_source(args.old) as (old_root, old_label), policy_source(args.new) as (new_root, new_label):
            trees = []
            for root, label in ((old_root, old_label), (new_root, new_label)):
                try:
                    trees.append(load_tree(root))          # refuse early, with file:line, if a tree is broken
                except DiagnosticError as exc:
                    print(render(exc.diagnostics, lang=args.lang), file=sys.stderr)
                    print(f"政策 {label} 有错误，无法比较", file=sys.stderr)
                    return 1
            return _compare(args, claims, trees, (old_root, new_root), Context(old_label, new_label, str(claims), 0.0,
                                                                                 Labels(*trees)), changes_path)
    except SourceError as exc:
        print(str(exc), file=sys.stderr)
        return 2


def _compare(args, claims, trees, roots, ctx: Context, changes_path) -> int:
    total = _count_lines(claims)
    jobs = args.jobs or os.cpu_count() or 1
    if total is not None and total < SMALL:
        jobs = 1
    summary = Summary(args.sample)
    progress = _Progress(total, not args.no_progress)
    started = time.monotonic()
    changes = open(changes_path, "w", encoding="utf-8") if changes_path else None  # noqa: SIM115 — closed below
    # Ctrl-C sets a flag checked between blocks, so the counts and the changes file always agree.
    stop: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    try:
        with open(claims, "rb") as lines:
            for block in results(trees[0], trees[1], lines, jobs, roots):
                summary.add(block)
                if changes is not None:
                    changes.writelines(dumps(record) + "\n" for record in block[1])
                tally = summary.tally
                progress.update(tally.claims + tally.invalid + tally.not_claims, tally.changed)
                if stop:
                    break
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.close()
        if changes is not None:
            changes.close()
    interrupted = summary.partial = bool(stop)
    ctx.seconds = time.monotonic() - started
    ctx.changes_file, ctx.html_file = changes_path, args.html
    print(terminal(summary, ctx))
    written = write_reports(summary, ctx, lambda: explain(trees[0], trees[1], claims, [r for _, r in summary.examples()]),
                            args.json, args.markdown, args.html)
    written += [changes_path] if changes_path else []
    if written:
        print("已写出：" + "、".join(written), file=sys.stderr)
    return 130 if interrupted else 0
