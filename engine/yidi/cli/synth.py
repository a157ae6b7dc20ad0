"""`yidi synth --n N`: write a synthetic claim corpus (JSONL) to a file or standard output.
`yidi synth --national DIR`: write a synthetic national policy tree (~400 regions) instead.

The corpus itself, and why it looks as it does, is yidi.synth; the insured
regions come from the policy tree the common options name. The tree is
yidi.synth_tree's.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from ..synth import generate, write_jsonl
from .common import find_policy_root


def register(sub, common) -> None:
    p = sub.add_parser("synth", parents=[common], help="生成合成结算申请（JSONL，用于 yidi diff 和性能测试）",
                       description="按文档说明的比例生成合成结算申请（每行一份 JSON），同一种子得到相同结果；不含任何真实个人信息")
    p.add_argument("--n", type=int, metavar="N", help="份数")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="随机种子（默认 1）")
    p.add_argument("-o", "--output", metavar="FILE", help="输出文件（默认或写 - 为标准输出）")
    p.add_argument("--regions", metavar="CODE,CODE", help="只用这些参保地区划（默认：各地区政策所辖区划）")
    p.add_argument("--national", metavar="DIR", help="改为生成合成的全国政策树（约 400 个统筹区，用于性能测试和规模测试）写入 DIR")
    p.add_argument("--cities", type=int, default=375, metavar="N", help="与 --national 同用：合成的地市数（默认 375）")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.national:
        return national(args)
    if args.n is None:
        print("需要 --n（份数）或 --national DIR" if args.lang == "zh" else "--n (how many) or --national DIR is required", file=sys.stderr)
        return 2
    regions = [r.strip() for r in args.regions.split(",") if r.strip()] if args.regions else None
    try:
        claims = generate(args.n, args.seed, regions, find_policy_root(args.policies))
        if args.output and args.output != "-":
            with open(args.output, "w", encoding="utf-8") as out:
                count = write_jsonl(claims, out)
            print(f"已生成 {count} 份结算申请：{args.output}" if args.lang == "zh" else f"wrote {count} claims to {args.output}", file=sys.stderr)
        else:
            write_jsonl(claims, sys.stdout)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"无法写入 {args.output}：{exc.strerror or exc}" if args.lang == "zh" else f"cannot write {args.output}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    return 0


def national(args: argparse.Namespace) -> int:
    from ..synth_tree import write_national_tree

    try:
        counts = write_national_tree(pathlib.Path(args.national), cities=args.cities, seed=args.seed)
    except (ValueError, OSError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"已生成合成政策树：{args.national}（合成省 {counts['provinces']} 个、地市 {counts['cities']} 个，另含随包政策）" if args.lang == "zh"
          else f"wrote a synthetic tree to {args.national}: {counts['provinces']} provinces, {counts['cities']} cities, plus the shipped policies",
          file=sys.stderr)
    return 0
