"""`yidi explain FILE|- [-o OUT]`: the command line around yidi.explain_trace.

The files are this module's: the output is never the input (refused before
anything is truncated), and each line that cannot be rendered is reported as
`FILE:LINE: message` (JSON with --format json) while the others are written.
Exit codes: 0 every decision rendered · 2 the input cannot be read, or some
line could not be rendered.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..explain_trace import LineError, explain_stream
from ..jsonout import dump_bytes
from .common import EXIT_BAD_INPUT, EXIT_OK


def register(sub, common) -> None:
    p = sub.add_parser("explain", parents=[common], help="把紧凑依据记录还原为完整的决定",
                       description="读取 yidi batch --trace compact 写出的文件，把每份决定的依据记录还原为完整形式"
                                   "（与 --trace full 写出的逐字节相同）；依据表就在文件中，不读取政策目录。退出码：0 全部还原；2 无法读取或有行无法还原（报告行号）")
    p.add_argument("file", metavar="FILE|-", help="紧凑形式的决定文件（JSON Lines），- 表示标准输入")
    p.add_argument("-o", "--output", metavar="OUT.jsonl", default="-", help="输出文件（默认标准输出）")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    en = args.lang == "en"
    name = "<stdin>" if args.file == "-" else args.file
    try:
        source = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115 — closed below
    except OSError as exc:
        print(f"yidi explain: {'cannot read' if en else '无法读取'} {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT

    def report(error: LineError) -> None:
        if args.format == "json":
            print(dump_bytes({"file": name, "line": error.line, "message": error.zh, "message_en": error.en}).decode(),
                  file=sys.stderr)
        else:
            print(f"{name}:{error.line}: {error.en if en else error.zh}", file=sys.stderr)

    if args.file != "-" and args.output != "-" and os.path.exists(args.output) and os.path.samefile(args.file, args.output):
        source.close()
        print(f"yidi explain: {args.output}: " + ("the output is the input; refused (it would be emptied before it is read)" if en
              else "输出文件就是输入文件；拒绝执行（否则会在读取前把它清空）"), file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")  # noqa: SIM115
    except OSError as exc:
        source.close()
        print(f"yidi explain: {'cannot write' if en else '无法写入'} {args.output}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        rendered, bad = explain_stream(source, out, report)
    except OSError as exc:
        print(f"yidi explain: {'cannot read' if en else '无法读取'} {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if source is not sys.stdin.buffer:
            source.close()
        if out is not sys.stdout.buffer:
            out.close()
    if bad:
        print(f"rendered {rendered} decision(s); {bad} line(s) could not be rendered" if en else
              f"已还原 {rendered} 份决定；{bad} 行无法还原", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK
