"""`yidi test [PATH…]`: run the policies' YAML test cases; exit 1 on failures.

With PATHs, only the cases in those folders or files run (the whole tree is
still loaded, since a case may exercise any policy it inherits from).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from .common import EXIT_OK, EXIT_PROBLEMS, load_engine, localized, print_diagnostics


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("test", parents=[common], help="运行政策的 YAML 测试用例", description="运行 policies/<地区>/tests/*.yaml 中的用例；有失败时以 1 退出")
    p.add_argument("paths", nargs="*", metavar="PATH", help="只运行这些目录或文件中的用例")
    p.add_argument("-v", "--verbose", action="store_true", help="逐条列出用例")
    p.set_defaults(func=run, short_lived=True)   # reads, prints, ends: see cli.run


def run(args: argparse.Namespace) -> int:
    from ..policy import cache
    from ..testing import run_all

    engine, root = load_engine(args, args.paths)
    if engine is None:
        return EXIT_PROBLEMS
    outcomes, problems = run_all(engine, root, jobs=None, cache_dir=None if args.no_cache else cache.default_dir())   # on every core
    if args.paths:
        wanted = [pathlib.Path(p).resolve() for p in args.paths]
        outcomes = [o for o in outcomes if any(_inside((root.resolve().parent / o.case.file), w) for w in wanted)]
    if problems:
        print_diagnostics(problems, args, root)
    failures = [d for o in outcomes for d in o.failures]
    if failures:
        print_diagnostics(failures, args, root)
    passed = sum(o.passed for o in outcomes)
    failed = len(outcomes) - passed
    if args.verbose:
        for o in outcomes:
            mark = "✓" if o.passed else "✗"
            print(f"{mark} {o.case.label}")
    print(f"{passed} passed, {failed} failed")
    if not outcomes:
        print(localized(args.lang, "没有找到测试用例", "no test cases found"), file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_PROBLEMS if failed or problems else EXIT_OK


def _inside(path: pathlib.Path, wanted: pathlib.Path) -> bool:
    return path == wanted or wanted in path.parents
