"""The `yidi` command line.

    yidi validate [PATH…]   check policies and their test files   (exit 1 on problems)
    yidi eval FILE|-        decide one claim or filing request     (exit 2 on invalid input)
    yidi test [PATH…]       run the policies' YAML test cases      (exit 1 on failures)

Policies come from --policies DIR, else ./policies when it holds a policy
tree, else the tree shipped with the package. Messages are Chinese unless
--lang en. A user mistake never ends in a Python traceback.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import pathlib
import sys
from typing import Any

from . import __version__
from .diagnostics import NON_BLOCKING, Diagnostic, DiagnosticError, render, to_json
from .documents import load_json
from .engine import Engine
from .errors import EvaluationError, InputError, error_body
from .jsonout import dumps
from .resources import data_dir

EXIT_OK, EXIT_PROBLEMS, EXIT_BAD_INPUT, EXIT_UNDECIDED = 0, 1, 2, 3


def _t(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def find_policy_root(explicit: str | None, paths: list[str] | None = None) -> pathlib.Path:
    """--policies, else the tree a given PATH lies in, else ./policies, else the shipped tree."""
    if explicit:
        return pathlib.Path(explicit)
    for raw in paths or ():
        path = pathlib.Path(raw).resolve()
        for candidate in [path, *path.parents]:
            if (candidate / "national" / "policy.yaml").is_file():
                return candidate
    local = pathlib.Path("policies")
    if (local / "national" / "policy.yaml").is_file():
        return local
    return data_dir("policies")


def _source_lines(file: str) -> list[str]:
    for base in (pathlib.Path.cwd(), *pathlib.Path.cwd().parents):
        candidate = base / file
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8").splitlines()
    return []


class _Reader:
    """Finds the text of a file named in a diagnostic, relative to the policy tree."""

    def __init__(self, root: pathlib.Path):
        self.base = root.resolve().parent

    def __call__(self, file: str) -> list[str]:
        path = self.base / file
        if path.is_file():
            return path.read_text(encoding="utf-8").splitlines()
        return _source_lines(file)


def _print_diagnostics(diagnostics: list[Diagnostic], args, root: pathlib.Path) -> None:
    if args.format == "json":
        print(json.dumps({"diagnostics": [to_json(d) for d in diagnostics]}, ensure_ascii=False, indent=2))
    else:
        print(render(diagnostics, lang=args.lang, source_lines=_Reader(root)), file=sys.stderr)


def _load(args, paths=None) -> tuple[Engine | None, pathlib.Path]:
    root = find_policy_root(args.policies, paths)
    try:
        return Engine.load(root, cache=not getattr(args, "no_cache", False)), root
    except DiagnosticError as exc:
        _print_diagnostics(exc.diagnostics, args, root)
        errors = sum(1 for d in exc.diagnostics if d.severity == "error")
        print(_t(args.lang, f"政策有 {errors} 处错误，未加载（{root}）", f"{errors} error(s) in the policies at {root}; not loaded"), file=sys.stderr)
        return None, root


def cmd_validate(args) -> int:
    from .policy.coverage import build_matrix
    from .testing import cases_moved, load_cases

    engine, root = _load(args, args.paths)
    if engine is None:
        return EXIT_PROBLEMS
    problems: list[Diagnostic] = []
    cases = load_cases(engine, root, problems)
    problems += cases_moved(engine, cases)
    matrix = build_matrix(engine.policies, root, cases, problems)
    if not args.no_static:
        from .policy.static_checks import check_dates, check_situations

        problems += check_dates(engine.policies, args.as_of, args.horizon)
        problems += check_situations(engine.policies, engine._evaluator)
    warnings = [d for d in problems if d.severity in NON_BLOCKING]
    problems = [d for d in problems if d.severity not in NON_BLOCKING]
    if problems:
        problems += warnings
        _print_diagnostics(problems, args, root)
        return EXIT_PROBLEMS
    count = len(engine.policies.policies)
    if args.format == "json":   # one JSON document: the findings that do not block, and the counts
        print(json.dumps({"diagnostics": [to_json(d) for d in warnings], "policies": count, "cases": len(cases),
                          "clauses": len(matrix), "revision": engine.revision}, ensure_ascii=False))
        return EXIT_OK
    if warnings:
        _print_diagnostics(warnings, args, root)
    encoded = sum(1 for row in matrix if not row.not_encoded)
    print(_t(args.lang, f"通过：{count} 个政策、{len(matrix)} 条条款（已编码 {encoded} 条，均有测试）、{len(cases)} 个测试用例（{root}，版本 {engine.revision}）",
             f"ok: {count} policies, {len(matrix)} clauses ({encoded} encoded, all tested), {len(cases)} test cases ({root}, revision {engine.revision})"))
    return EXIT_OK


def _read_document(source: str) -> Any:
    """The JSON document in file `source` (`-`: standard input), read as bytes: the text must be UTF-8
    whichever command reads it (InputError otherwise); FileNotFoundError if it is not a readable file."""
    if source == "-":
        data = sys.stdin.buffer.read()
    else:
        path = pathlib.Path(source)
        if not path.is_file():
            raise FileNotFoundError(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FileNotFoundError(f"{source}: {exc.strerror}") from exc
    return load_json(data)


def _print_input_error(exc: InputError, args) -> None:
    if args.format == "json":
        print(dumps(exc.body(), indent=2))
        return
    total = len(exc.problems) + exc.more
    print(_t(args.lang, f"输入无效（{total} 处），未作决定：", f"invalid input ({total} problem(s)); nothing decided:"), file=sys.stderr)
    for p in exc.shown:
        where = p.path or _t(args.lang, "（整个文档）", "(document)")
        print(f"  {where}: {p.message_en if args.lang == 'en' else p.message_zh}", file=sys.stderr)
    if exc.omitted:
        print(_t(args.lang, f"  ……另有 {exc.omitted} 处问题未列出", f"  … and {exc.omitted} more not listed"), file=sys.stderr)


def cmd_eval(args) -> int:
    try:
        document = _read_document(args.file)
    except FileNotFoundError as exc:
        print(_t(args.lang, f"找不到文件或无法读取：{exc}", f"file not found or unreadable: {exc}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except InputError as exc:
        _print_input_error(exc, args)
        return EXIT_BAD_INPUT
    engine, _ = _load(args)
    if engine is None:
        return EXIT_PROBLEMS
    try:
        answer = engine.evaluate(document, trace=args.trace)
    except InputError as exc:
        _print_input_error(exc, args)
        return EXIT_BAD_INPUT
    except EvaluationError as exc:
        if args.format == "json":
            print(dumps(error_body(exc), indent=2))
        else:
            print(_t(args.lang, f"无法决定：{exc.message_zh}", f"cannot decide: {exc.message_en}"), file=sys.stderr)
        return EXIT_UNDECIDED
    print(dumps(answer, indent=2))
    return EXIT_OK


def cmd_test(args) -> int:
    from .testing import run_all

    engine, root = _load(args, args.paths)
    if engine is None:
        return EXIT_PROBLEMS
    outcomes, problems = run_all(engine, root)
    if args.paths:
        wanted = [pathlib.Path(p).resolve() for p in args.paths]
        outcomes = [o for o in outcomes if any(_inside((root.resolve().parent / o.case.file), w) for w in wanted)]
    if problems:
        _print_diagnostics(problems, args, root)
    failures = [d for o in outcomes for d in o.failures]
    if failures:
        _print_diagnostics(failures, args, root)
    passed = sum(o.passed for o in outcomes)
    failed = len(outcomes) - passed
    if args.verbose:
        for o in outcomes:
            mark = "✓" if o.passed else "✗"
            print(f"{mark} {o.case.label}")
    print(f"{passed} passed, {failed} failed")
    if not outcomes:
        print(_t(args.lang, "没有找到测试用例", "no test cases found"), file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_PROBLEMS if failed or problems else EXIT_OK


def _inside(path: pathlib.Path, wanted: pathlib.Path) -> bool:
    return path == wanted or wanted in path.parents


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--policies", metavar="DIR", help="政策目录（默认：./policies，否则使用随包发布的政策）")
    common.add_argument("--lang", choices=("zh", "en"), default="zh", help="消息语言（默认中文）")
    common.add_argument("--format", choices=("text", "json"), default="text", help="输出格式")
    common.add_argument("--no-cache", action="store_true", help="不使用已编译政策的缓存（~/.cache/yidi），每次重新检查、编译")

    parser = argparse.ArgumentParser(prog="yidi", description="异地就医直接结算政策引擎 yidi")
    parser.add_argument("--version", action="version", version=f"yidi {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", parents=[common], help="检查政策文件与测试文件", description="检查政策（结构、表达式类型、引用）与测试文件；有问题时以 file:line:col 报告并以 1 退出")
    p.add_argument("paths", nargs="*", metavar="PATH", help="政策目录或文件（默认全部）")
    p.add_argument("--as-of", type=datetime.date.fromisoformat, default=datetime.date.today(), metavar="YYYY-MM-DD",
                   help="检查参数、规则到期时以哪天为今天（默认今天）")
    p.add_argument("--horizon", type=int, default=90, metavar="DAYS", help="多少天内到期且无后续取值时提醒（默认 90）")
    p.add_argument("--no-static", action="store_true", help="不做静态检查（日期覆盖、规则冲突、无结论的情形、从不生效的规则）")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("eval", parents=[common], help="对一份结算申请或备案申请作出决定", description="读取 JSON 结算申请（claim）或备案申请（filing_request），输出决定 JSON；输入无效时以 2 退出")
    p.add_argument("file", metavar="FILE|-", help="JSON 文件，- 表示标准输入")
    p.add_argument("--trace", choices=("full", "ids"), default="full", help="依据记录：full 完整（默认），ids 仅规则编号")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("test", parents=[common], help="运行政策的 YAML 测试用例", description="运行 policies/<地区>/tests/*.yaml 中的用例；有失败时以 1 退出")
    p.add_argument("paths", nargs="*", metavar="PATH", help="只运行这些目录或文件中的用例")
    p.add_argument("-v", "--verbose", action="store_true", help="逐条列出用例")
    p.set_defaults(func=cmd_test)

    for module_name in EXTENSIONS:
        importlib.import_module(module_name).register(sub, common)
    return parser


# Further commands live in their own modules; each defines
# `register(subparsers, common_parser)` that adds its sub-command.
EXTENSIONS: tuple[str, ...] = ("yidi.batch", "yidi.explain_cli", "yidi.explain_trace", "yidi.server.cli", "yidi.replay", "yidi.adapters.cli", "yidi.docs_cli", "yidi.synth", "yidi.diff_cli")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
