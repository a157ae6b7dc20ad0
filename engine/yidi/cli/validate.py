"""`yidi validate [PATH…]`: check the policies and their test files; exit 1 on problems.

Beyond loading (structure, expression types, references) it checks that
every clause is encoded and tested, and — unless --no-static — the static
checks: dates that run out, conflicting rules, situations no rule decides.
"""

from __future__ import annotations

import argparse
import datetime
import json

from ..diagnostics import NON_BLOCKING, to_json
from .common import EXIT_OK, EXIT_PROBLEMS, load_engine, localized, print_diagnostics


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("validate", parents=[common], help="检查政策文件与测试文件", description="检查政策（结构、表达式类型、引用）与测试文件；有问题时以 file:line:col 报告并以 1 退出")
    p.add_argument("paths", nargs="*", metavar="PATH", help="政策目录或文件（默认全部）")
    p.add_argument("--as-of", type=datetime.date.fromisoformat, default=datetime.date.today(), metavar="YYYY-MM-DD",
                   help="检查参数、规则到期时以哪天为今天（默认今天）")
    p.add_argument("--horizon", type=int, default=90, metavar="DAYS", help="多少天内到期且无后续取值时提醒（默认 90）")
    p.add_argument("--no-static", action="store_true", help="不做静态检查（日期覆盖、规则冲突、无结论的情形、从不生效的规则）")
    p.set_defaults(func=run, short_lived=True, generate_now=True)   # reads, prints, ends: see cli.run; all code checked


def run(args: argparse.Namespace) -> int:
    from ..validation import validate

    engine, root = load_engine(args, args.paths)
    if engine is None:
        return EXIT_PROBLEMS
    result = validate(engine, root, as_of=args.as_of, horizon=args.horizon, static=not args.no_static, use_cache=not args.no_cache)
    problems, cases, matrix = result.problems, result.cases, result.matrix
    warnings = [d for d in problems if d.severity in NON_BLOCKING]
    problems = [d for d in problems if d.severity not in NON_BLOCKING]
    if problems:
        problems += warnings
        print_diagnostics(problems, args, root)
        return EXIT_PROBLEMS
    count = len(engine.policies.policies)
    if args.format == "json":   # one JSON document: the findings that do not block, and the counts
        print(json.dumps({"diagnostics": [to_json(d) for d in warnings], "policies": count, "cases": len(cases),
                          "clauses": len(matrix), "revision": engine.revision}, ensure_ascii=False))
        return EXIT_OK
    if warnings:
        print_diagnostics(warnings, args, root)
    encoded = sum(1 for row in matrix if not row.not_encoded)
    print(localized(args.lang, f"通过：{count} 个政策、{len(matrix)} 条条款（已编码 {encoded} 条，均有测试）、{len(cases)} 个测试用例（{root}，版本 {engine.revision}）",
                    f"ok: {count} policies, {len(matrix)} clauses ({encoded} encoded, all tested), {len(cases)} test cases ({root}, revision {engine.revision})"))
    return EXIT_OK
