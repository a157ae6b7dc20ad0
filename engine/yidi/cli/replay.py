"""`yidi replay LOG`: the command line around yidi.replay.

Exit codes: 0 every decision reproduces · 1 some differ · 2 cannot replay
(the log cannot be opened, the policies are invalid) · 4 the log is malformed:
a line that is not a decision record (not JSON, not an object, a `decision`
that is not an object, …), named by its line number. A malformed log is not
"decisions differ": nothing about the policy can be concluded from it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..audit import AuditError
from ..replay import MalformedLog, replay
from .common import load_engine

EXIT_SAME, EXIT_DIFFER, EXIT_CANNOT, EXIT_MALFORMED = 0, 1, 2, 4


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("replay", parents=[common], help="用当前政策重新决定决定日志中的每一条，报告不同之处",
                              description="重新决定决定日志（yidi serve 写入）中的每个输入。退出码：0 全部相同；1 有决定不同；2 无法重放（日志无法打开、政策无效）；4 日志有一行不是决定记录（报告行号）")
    p.add_argument("log", metavar="LOG", help="决定日志文件（JSON Lines）")
    p.set_defaults(func=run)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def run(args: argparse.Namespace) -> int:
    engine, _ = load_engine(args)
    if engine is None:
        return EXIT_CANNOT
    try:
        report = replay(args.log, engine)
    except MalformedLog as exc:
        print(f"yidi replay: {exc}", file=sys.stderr)
        return EXIT_MALFORMED
    except (AuditError, OSError) as exc:
        print(f"yidi replay: {exc}", file=sys.stderr)
        return EXIT_CANNOT
    if args.format == "json":
        print(json.dumps(report.to_json(engine.revision), ensure_ascii=False, indent=2))
    else:
        en = args.lang == "en"
        for d in report.differences:
            print(f"{args.log}:{d.line}: {d.request_id} ({'logged revision' if en else '原版本'} {d.revision})")
            for path, was, now in d.fields:
                print(f"  {path}: {_show(was)} → {_show(now)}")
        revisions = ", ".join(sorted(report.revisions)) or "-"
        print(f"replayed {report.records} record(s) (logged revision(s) {revisions}) with revision {engine.revision}: "
              f"{len(report.differences)} differ" if en else
              f"重放 {report.records} 条记录（原版本 {revisions}，现版本 {engine.revision}）：{len(report.differences)} 条不同")
    return EXIT_DIFFER if report.differences else EXIT_SAME
