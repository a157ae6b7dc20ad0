"""`yidi docs`: generate (and optionally build) the documentation site.

The site is yidi.docsite, imported only when the command runs, so the
rest of the command line never loads it; MkDocs is only needed with
--build (`pip install yidi[docs]`).
"""

from __future__ import annotations

import datetime
import pathlib
import sys

from .common import EXIT_OK, EXIT_PROBLEMS, load_engine, localized, print_diagnostics

DEFAULT_OUT = "build/docsite"


def register(sub, common) -> None:
    p = sub.add_parser("docs", parents=[common], help="由政策文件生成文档网站（MkDocs）",
                       description="根据政策文件生成中文文档网站：每个地区一页（文件、待遇表、备案规则、降低幅度、规则、条款覆盖、解释、测试用例）及地区对比")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"输出目录（默认 {DEFAULT_OUT}；其中 docs/ 为 Markdown，site/ 为网站）")
    p.add_argument("--build", action="store_true", help="生成后用 MkDocs 构建网站（--strict）")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="按哪一天生效的取值说明（默认今天）")
    p.add_argument("--no-handbook", action="store_true", help="不包含 docs/ 中手写的页面")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..docsite.pages import Untranslatable
    from ..docsite.site import OutputNotOurs, build, generate, handbook_dir

    engine, root = load_engine(args)
    if engine is None:
        return EXIT_PROBLEMS
    try:
        as_of = datetime.date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        print(localized(args.lang, f"日期无效：{args.as_of}", f"invalid date: {args.as_of}"), file=sys.stderr)
        return EXIT_PROBLEMS
    out = pathlib.Path(args.out)
    try:
        config = generate(out, root, as_of, None if args.no_handbook else handbook_dir())
    except Untranslatable as exc:
        print_diagnostics([exc.diagnostic], args, root)
        return EXIT_PROBLEMS
    except OutputNotOurs:
        print(localized(args.lang, f"输出目录 {out} 中有不是 yidi docs 生成的文件，未覆盖；请换一个目录",
                 f"{out} holds files yidi docs did not write; not overwriting"), file=sys.stderr)
        return EXIT_PROBLEMS
    print(localized(args.lang, f"已生成：{out / 'docs'}（配置 {config}）", f"generated: {out / 'docs'} (config {config})"))
    if args.build:
        try:
            site = build(config)
        except ImportError:
            print(localized(args.lang, "需要 MkDocs：pip install 'yidi[docs]'", "MkDocs is needed: pip install 'yidi[docs]'"), file=sys.stderr)
            return EXIT_PROBLEMS
        except Exception as exc:  # MkDocs' strict mode raises on any warning
            print(localized(args.lang, f"MkDocs 构建失败：{exc}", f"MkDocs build failed: {exc}"), file=sys.stderr)
            return EXIT_PROBLEMS
        print(localized(args.lang, f"网站：{site / 'index.html'}", f"site: {site / 'index.html'}"))
    return EXIT_OK
