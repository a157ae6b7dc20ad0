"""`yidi eval FILE|-`: decide one claim or filing request and print the decision.

With --input-format nhsa the document uses the national platform's field
names and codes, with --output-format nhsa the answer does (yidi.adapters.nhsa);
the default is the contract's own form. Exit codes: 0 decided, 1 the policies
do not load, 2 invalid input, 3 the policies cannot decide it.
"""

from __future__ import annotations

import argparse
import sys

from ..adapters import nhsa
from ..errors import EvaluationError, InputError, error_body
from ..jsonout import dumps
from .common import (EXIT_BAD_INPUT, EXIT_OK, EXIT_PROBLEMS, EXIT_UNDECIDED, load_engine, localized, print_input_error,
                     read_document)


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("eval", parents=[common], help="对一份结算申请或备案申请作出决定", description="读取 JSON 结算申请（claim）或备案申请（filing_request），输出决定 JSON；输入无效时以 2 退出")
    p.add_argument("file", metavar="FILE|-", help="JSON 文件，- 表示标准输入")
    p.add_argument("--trace", choices=("full", "ids"), default="full", help="依据记录：full 完整（默认），ids 仅规则编号")
    p.add_argument("--input-format", choices=("contract", "nhsa"), default="contract",
                   help="输入格式：contract 接口约定（默认）；nhsa 医保信息平台字段名与代码（见 docs/nhsa-mapping.md）")
    p.add_argument("--output-format", choices=("contract", "nhsa"), default="contract",
                   help="输出格式：contract 接口约定（默认）；nhsa 结算单字段名（act_pay_dedc、hifp_pay、psn_part_amt…）")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        document = read_document(args.file)
        if args.input_format == "nhsa":
            document = nhsa.translate(document)
    except FileNotFoundError as exc:
        print(localized(args.lang, f"找不到文件或无法读取：{exc}", f"file not found or unreadable: {exc}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except InputError as exc:
        print_input_error(exc, args)
        return EXIT_BAD_INPUT
    engine, _ = load_engine(args)
    if engine is None:
        return EXIT_PROBLEMS
    try:
        answer = engine.evaluate(document, trace=args.trace)
    except InputError as exc:
        print_input_error(exc, args)
        return EXIT_BAD_INPUT
    except EvaluationError as exc:
        if args.format == "json":
            print(dumps(error_body(exc), indent=2))
        else:
            print(localized(args.lang, f"无法决定：{exc.message_zh}", f"cannot decide: {exc.message_en}"), file=sys.stderr)
        return EXIT_UNDECIDED
    if args.output_format == "nhsa":
        answer = nhsa.render_decision(answer)
    print(dumps(answer, indent=2))
    return EXIT_OK
