"""`yidi eval --input-format nhsa --output-format nhsa`: the platform vocabulary on the command line.

The `eval` command belongs to yidi.cli; this extension adds the two format
options to it (through the CLI's extension hook) instead of editing it, and
hands every contract-only run straight back to the original command, so
`yidi eval` without the options behaves exactly as before. Exit codes are
those of `yidi eval`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import nhsa


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.choices.get("eval")
    if parser is None:  # no eval command to extend
        return
    parser.add_argument("--input-format", choices=("contract", "nhsa"), default="contract",
                        help="输入格式：contract 接口约定（默认）；nhsa 医保信息平台字段名与代码（见 docs/nhsa-mapping.md）")
    parser.add_argument("--output-format", choices=("contract", "nhsa"), default="contract",
                        help="输出格式：contract 接口约定（默认）；nhsa 结算单字段名（act_pay_dedc、hifp_pay、psn_part_amt…）")
    parser.set_defaults(func=_with_formats(parser.get_default("func")))


def _with_formats(original: Any) -> Any:
    def cmd_eval(args: argparse.Namespace) -> int:
        if args.input_format == "contract" and args.output_format == "contract":
            return int(original(args))
        return _eval_formats(args)

    return cmd_eval


def _eval_formats(args: argparse.Namespace) -> int:
    from .. import cli
    from ..errors import InputError
    from ..errors import EvaluationError, error_body
    from ..jsonout import dumps

    try:
        raw = cli._read_document(args.file)
        document = nhsa.translate(raw) if args.input_format == "nhsa" else raw
    except FileNotFoundError:
        print(cli._t(args.lang, f"找不到文件：{args.file}", f"file not found: {args.file}"), file=sys.stderr)
        return cli.EXIT_BAD_INPUT
    except InputError as exc:
        cli._print_input_error(exc, args)
        return cli.EXIT_BAD_INPUT
    engine, _ = cli._load(args)
    if engine is None:
        return cli.EXIT_PROBLEMS
    try:
        answer = engine.evaluate(document, trace=args.trace)
    except InputError as exc:
        cli._print_input_error(exc, args)
        return cli.EXIT_BAD_INPUT
    except EvaluationError as exc:
        if args.format == "json":
            print(dumps(error_body(exc), indent=2))
        else:
            print(cli._t(args.lang, f"无法决定：{exc.message_zh}", f"cannot decide: {exc.message_en}"), file=sys.stderr)
        return cli.EXIT_UNDECIDED
    print(dumps(nhsa.render_decision(answer) if args.output_format == "nhsa" else answer, indent=2))
    return cli.EXIT_OK
