"""`yidi synth --n N`: write a synthetic claim corpus (JSONL) to a file or standard output.

The corpus itself, and why it looks as it does, is yidi.synth; the insured
regions come from the policy tree the common options name.
"""

from __future__ import annotations

import argparse
import sys

from ..synth import generate, write_jsonl
from .common import find_policy_root


def register(sub, common) -> None:
    p = sub.add_parser("synth", parents=[common], help="生成合成结算申请（JSONL，用于 yidi diff 和性能测试）",
                       description="按文档说明的比例生成合成结算申请（每行一份 JSON），同一种子得到相同结果；不含任何真实个人信息")
    p.add_argument("--n", type=int, required=True, metavar="N", help="份数")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="随机种子（默认 1）")
    p.add_argument("-o", "--output", metavar="FILE", help="输出文件（默认标准输出）")
    p.add_argument("--regions", metavar="CODE,CODE", help="只用这些参保地区划（默认：各地区政策所辖区划）")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    regions = [r.strip() for r in args.regions.split(",") if r.strip()] if args.regions else None
    try:
        claims = generate(args.n, args.seed, regions, find_policy_root(args.policies))
        if args.output:
            with open(args.output, "w", encoding="utf-8") as out:
                count = write_jsonl(claims, out)
            print(f"已生成 {count} 份结算申请：{args.output}" if args.lang == "zh" else f"wrote {count} claims to {args.output}", file=sys.stderr)
        else:
            write_jsonl(claims, sys.stdout)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0
