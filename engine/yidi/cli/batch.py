"""`yidi batch IN.jsonl -o OUT.jsonl`: the command line around yidi.batch.

The files are this module's: the input, output and error file are checked
to be three different files before anything is truncated, and the error file
exists only if some line went wrong. Deciding the stream is yidi.batch.run.
"""

from __future__ import annotations

import os
import pathlib
import stat
import sys
from typing import BinaryIO

from ..batch import run as decide_stream
from ..jsonout import dump_bytes
from .common import EXIT_BAD_INPUT, EXIT_OK, EXIT_PROBLEMS, load_engine


def register(sub, common) -> None:
    p = sub.add_parser("batch", parents=[common], help="批量决定 JSON Lines 文件中的申请",
                       description="逐行读取结算申请或备案申请（JSON Lines），按输入顺序写出决定；无效行写入错误文件并继续")
    p.add_argument("input", metavar="IN.jsonl", help="输入文件，- 表示标准输入")
    p.add_argument("-o", "--output", metavar="OUT.jsonl", required=True, help="决定输出文件，- 表示标准输出")
    p.add_argument("--errors", metavar="ERR.jsonl", help="错误文件（默认：输出文件名加 .errors.jsonl；没有错误时不生成）")
    p.add_argument("--workers", type=int, default=1, help="工作进程数（默认 1）")
    p.add_argument("--trace", choices=("ids", "full", "compact"), default="ids",
                   help="依据记录：ids 仅规则编号（默认），full 完整，compact 紧凑（文件开头写一次依据表，每份决定只写编号和取值；yidi explain 还原为完整形式）")
    p.add_argument("--summary-json", metavar="FILE", help="把汇总写成 JSON")
    p.add_argument("--fail-on-errors", action="store_true", help="有错误行时以 1 退出（默认：错误写入错误文件，仍以 0 退出）")
    p.set_defaults(func=run)


def _file_identity(name: str, stream: int | None) -> tuple | None:
    """What names one file however it is spelled (symlink, ./, hard link): device and inode, else its real path.

    `-` is the standard stream `stream` (if given), which counts only when redirected to a regular file.
    """
    standard = name == "-" and stream is not None
    try:
        info = os.fstat(stream) if standard else os.stat(name)  # type: ignore[arg-type]
    except FileNotFoundError:
        return ("new", os.path.realpath(name))  # two outputs not yet written can still be one file
    except OSError:
        return None
    if standard and not stat.S_ISREG(info.st_mode):
        return None
    return (info.st_dev, info.st_ino)


def _same_file(source: str, output: str, errors: str) -> tuple[str, str] | None:
    """A message pair if the output or the error file is the input, or each other — checked before anything is truncated."""
    names = {"输入": (source, 0), "输出（-o）": (output, 1), "错误文件（--errors）": (errors, None)}
    english = {"输入": "the input", "输出（-o）": "the output (-o)", "错误文件（--errors）": "the error file (--errors)"}
    seen: dict[tuple, str] = {}
    for role, (name, stream) in names.items():
        identity = _file_identity(name, stream)
        if identity is None:
            continue
        if identity in seen:
            other = seen[identity]
            why_zh, why_en = (("否则会在读取前把它清空", "it would be emptied before it is read") if other == "输入"
                              else ("两者会互相覆盖", "the two would overwrite each other"))
            return (f"{role} {name} 与{other} {names[other][0]} 是同一个文件；拒绝执行（{why_zh}）",
                    f"{english[role]} {name} is the same file as {english[other]} {names[other][0]}; refused ({why_en})")
        seen[identity] = role
    return None


def run(args) -> int:
    engine, root = load_engine(args)
    if engine is None:
        return EXIT_PROBLEMS
    if args.input != "-" and not pathlib.Path(args.input).is_file():
        print(f"找不到文件：{args.input}" if args.lang != "en" else f"file not found: {args.input}", file=sys.stderr)
        return EXIT_BAD_INPUT
    error_path = args.errors or (f"{args.output}.errors.jsonl" if args.output != "-" else "yidi-batch.errors.jsonl")
    clash = _same_file(args.input, args.output, error_path)
    if clash:
        print(f"yidi batch: {clash[0] if args.lang != 'en' else clash[1]}", file=sys.stderr)
        return EXIT_BAD_INPUT
    source = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")  # noqa: SIM115 — closed below
    out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")  # noqa: SIM115
    try:
        with _ErrorFile(error_path) as errors:
            summary = decide_stream(root, source, out, errors, workers=max(1, args.workers), trace=args.trace,
                          progress=sys.stderr.isatty(), lang=args.lang, engine=engine)
    except KeyboardInterrupt:
        print("\n已中断：已写出的结果保留在输出文件中" if args.lang != "en" else "\ninterrupted: results written so far are kept", file=sys.stderr)
        return 130
    finally:
        if source is not sys.stdin.buffer:
            source.close()
        if out is not sys.stdout.buffer:
            out.close()
    print(summary.render(args.lang), file=sys.stderr)
    if summary.errors:
        print(f"  错误详情：{error_path}" if args.lang != "en" else f"  errors: {error_path}", file=sys.stderr)
    if args.summary_json:
        pathlib.Path(args.summary_json).write_bytes(dump_bytes(summary.to_json()))
    if args.fail_on_errors and summary.errors:
        return EXIT_PROBLEMS
    return EXIT_OK


class _ErrorFile:
    """The error file, created at the first error line: a run without errors leaves none behind.

    An error file left at the same path by an earlier run is removed first, so
    what is there afterwards always belongs to this run.
    """

    def __init__(self, path: str):
        self.path = pathlib.Path(path)
        self.stream: BinaryIO | None = None

    def __enter__(self) -> _ErrorFile:
        self.path.unlink(missing_ok=True)
        return self

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self.stream is None:
            self.stream = open(self.path, "wb")  # noqa: SIM115 — closed in __exit__
        self.stream.write(data)

    def __exit__(self, *exc) -> None:
        if self.stream is not None:
            self.stream.close()
