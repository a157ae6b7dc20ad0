"""`yidi explain-compiled POLICY|RULE`: show the Python a policy was compiled to.

Officers never need this; developers and auditors do: it shows exactly what
runs for a claim, with each rule's lines marked, so a surprising decision can
be traced from the YAML to the generated code and back.
"""

from __future__ import annotations

import sys

from .common import EXIT_OK, EXIT_PROBLEMS, load_engine


def register(sub, common) -> None:
    p = sub.add_parser("explain-compiled", parents=[common], help="显示政策编译成的 Python 代码",
                       description="显示一个政策（或一条规则所在的部分）编译后的 Python 代码，标出每行来自哪条规则")
    p.add_argument("target", metavar="POLICY|RULE", help="政策标识（如 henan）或规则编号（如 henan.newborn-as-emergency）")
    p.add_argument("--kind", choices=("claim", "filing_request"), default=None, help="文档类型（默认：规则所属类型；政策则为 claim）")
    p.set_defaults(func=run)


def run(args) -> int:
    engine, _ = load_engine(args)
    if engine is None:
        return EXIT_PROBLEMS
    policies = engine.policies.policies
    if args.target in policies:
        program = policies[args.target].programs[args.kind or "claim"]
        _print(program, None)
        return EXIT_OK
    for compiled in policies.values():
        for kind, program in compiled.programs.items():
            if args.kind and kind != args.kind:
                continue
            for index, rule in enumerate(program.rules):
                if rule.id == args.target and rule.policy_id == compiled.id:
                    _print(program, index)
                    return EXIT_OK
    print(f"没有名为 {args.target} 的政策或规则" if args.lang != "en" else f"no policy or rule named {args.target}", file=sys.stderr)
    return EXIT_PROBLEMS


def _print(program, only: int | None) -> None:
    """The generated source with `# rule-id (file:line)` beside each rule's lines; with `only`, just that rule's."""
    for number, line in enumerate(program.source.splitlines(), start=1):
        index = program.line_rules.get(number)
        if only is not None and index != only:
            continue
        note = ""
        if index is not None:
            rule = program.rules[index]
            note = f"    # {rule.id} ({rule.position.file}:{rule.position.line})"
        print(f"{number:4} {line}{note}")
