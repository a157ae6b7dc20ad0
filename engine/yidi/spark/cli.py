"""`python -m yidi.spark decide|diff …`: the Spark job's command line (also the `spark-submit` entry point).

    python -m yidi.spark decide claims.parquet -o decisions.parquet --master 'local[2]'
    python -m yidi.spark decide claims.jsonl -o decisions.parquet            # one JSON document per line
    python -m yidi.spark diff git:main policies --claims claims.parquet --markdown report.md

A mistake a user can make (a path that is not there, an output that exists, a
policy tree with errors, no Java) ends in a plain message and an exit code,
never a traceback: 0 done · 1 the policies have problems, or an executor loaded
another revision · 2 bad arguments or paths, or Spark could not start.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

from ..batch import Summary as BatchSummary
from ..diagnostics import DiagnosticError, render
from ..engine import Engine
from ..impact import SourceError, policy_source
from ..impact_examples import explain_lines
from ..impact_labels import Labels
from ..impact_report import Context, terminal, write_reports
from ..jsonout import dump_bytes
from ..resources import data_dir
from .shipping import MISMATCH

EXIT_OK, EXIT_PROBLEMS, EXIT_BAD_INPUT = 0, 1, 2
JSON_LINES = (".jsonl", ".ndjson", ".json")


def _t(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


class _Stop(Exception):
    """A user's mistake: `message` is printed and the command exits with `code`."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--policies", metavar="DIR", help="政策目录（默认：./policies，否则使用随包发布的政策）")
    common.add_argument("--executor-policies", metavar="PATH",
                        help="执行器从这个路径加载政策（如 spark-submit --archives 分发的目录）；默认由驱动程序广播政策文件")
    common.add_argument("--master", metavar="URL", help="Spark master，如 local[2]（默认：spark-submit 或 Spark 的设置）")
    common.add_argument("--column", metavar="NAME", help="输入表中存放 JSON 文本的列（默认：表的列按接口约定嵌套）")
    common.add_argument("--lang", choices=("zh", "en"), default="zh", help="消息语言（默认中文）")

    parser = argparse.ArgumentParser(prog="python -m yidi.spark",
                                     description="在 Apache Spark 中用同一个引擎决定结算申请表、比较两版政策（docs/spark.md）")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("decide", parents=[common], help="决定一张结算申请表（Parquet，或 JSON Lines 文件）",
                       description="逐行决定结算申请表，写出决定表（Parquet）：每行带政策版本；无效行成为错误行（error、problems），作业不因此失败")
    p.add_argument("input", metavar="IN", help="输入：Parquet 表（文件或目录），或 .jsonl 文件（每行一份 JSON）")
    p.add_argument("-o", "--output", metavar="OUT", required=True, help="输出目录（Parquet）")
    p.add_argument("--overwrite", action="store_true", help="输出目录已存在时覆盖")
    p.add_argument("--trace", choices=("ids", "full"), default="ids", help="decision 列中的依据记录：ids 仅规则编号（默认），full 完整")
    p.add_argument("--summary-json", metavar="FILE", help="把汇总写成 JSON（与 yidi batch --summary-json 相同的字段）")
    p.set_defaults(func=cmd_decide)

    p = sub.add_parser("diff", parents=[common], help="比较两版政策对一张结算申请表的决定（与 yidi diff 同一份报告）",
                       description="用两版政策（目录，或 git:版本[:路径]）分别决定同一张结算申请表，在 Spark 中汇总，报告与 yidi diff 相同")
    p.add_argument("old", metavar="OLD", help="原政策：目录，或 git:REV[:path]（path 默认 policies）")
    p.add_argument("new", metavar="NEW", help="新政策：目录，或 git:REV[:path]")
    p.add_argument("--claims", required=True, metavar="TABLE", help="结算申请：Parquet 表，或 .jsonl 文件")
    p.add_argument("--json", metavar="OUT", help="写出 JSON 报告")
    p.add_argument("--markdown", metavar="OUT", help="写出 Markdown 报告")
    p.add_argument("--html", metavar="OUT", help="写出 HTML 报告")
    p.add_argument("--sample", type=int, default=20, metavar="K", help="每类示例的最多份数（默认 20）")
    p.set_defaults(func=cmd_diff)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except _Stop as stop:
        print(stop.message, file=sys.stderr)
        return stop.code
    except KeyboardInterrupt:
        return 130


# ── shared steps ───────────────────────────────────────────────────────────────

def _policy_root(explicit: str | None) -> pathlib.Path:
    if explicit:
        root = pathlib.Path(explicit)
        if not root.is_dir():
            raise _Stop(EXIT_BAD_INPUT, f"--policies: 不是目录：{explicit} / not a folder: {explicit}")
        return root
    local = pathlib.Path("policies")
    return local if (local / "national" / "policy.yaml").is_file() else data_dir("policies")


def _engine(root: pathlib.Path, lang: str, label: str | None = None) -> Engine:
    try:
        return Engine.load(root, cache=True)
    except DiagnosticError as exc:
        errors = sum(1 for d in exc.diagnostics if d.severity == "error")
        raise _Stop(EXIT_PROBLEMS, render(exc.diagnostics, lang=lang) + "\n" + _t(
            lang, f"政策 {label or root} 有 {errors} 处错误，未加载", f"{errors} error(s) in the policies {label or root}; not loaded")) from exc


def _remote(path: str) -> bool:
    """An address only Spark can read (hdfs://, s3a://, …): no local checks apply to it."""
    return "://" in path and not path.startswith("file://")


def _source(path: str, lang: str, option: str) -> str:
    if not _remote(path) and not pathlib.Path(path.removeprefix("file://")).exists():
        raise _Stop(EXIT_BAD_INPUT, _t(lang, f"{option}：找不到 {path}", f"{option}: {path} not found"))
    return path


def _session(args):
    """The SparkSession (the one spark-submit made, else a new one); a plain message if Spark cannot start."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(f"yidi {args.command}")
    if args.master:
        builder = builder.master(args.master)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:          # no Java, a bad master URL: Spark's own words, without its traceback
        raise _Stop(EXIT_BAD_INPUT, _t(args.lang, f"无法启动 Spark（需要 Java 17 或更高版本）：{_first_line(exc)}",
                                       f"Spark could not start (it needs Java 17 or later): {_first_line(exc)}")) from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _read(spark, source: str, column: str | None, lang: str, option: str):
    """The input table and the JSON column to decide (None: nested columns)."""
    try:
        if pathlib.PurePosixPath(source).suffix in JSON_LINES:
            return spark.read.text(source), "value"
        frame = spark.read.parquet(source)
    except Exception as exc:
        raise _Stop(EXIT_BAD_INPUT, _t(lang, f"{option}：无法读取 {source}：{_first_line(exc)}",
                                       f"{option}: cannot read {source}: {_first_line(exc)}")) from exc
    if column is not None and column not in frame.columns:
        raise _Stop(EXIT_BAD_INPUT, _t(lang, f"--column：表 {source} 没有列 {column}（有：{', '.join(frame.columns)}）",
                                       f"--column: the table {source} has no column {column} (it has: {', '.join(frame.columns)})"))
    return frame, column


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:500] if text else type(exc).__name__


def _job(action, lang: str):
    """Run a Spark action; an executor's revision mismatch becomes its own plain message."""
    try:
        return action()
    except Exception as exc:
        text = str(exc)
        if MISMATCH in text:
            line = next(line for line in text.splitlines() if MISMATCH in line)
            raise _Stop(EXIT_PROBLEMS, _t(lang, "执行器加载的政策版本与驱动程序不同，未作决定：", "an executor loaded another policy revision; nothing decided: ")
                        + line.split(f"{MISMATCH}: ", 1)[-1]) from exc
        # Rows never fail a job (they become error rows): this is Spark's — a path, a lost executor. Its first line says which.
        raise _Stop(EXIT_PROBLEMS, _t(lang, f"Spark 作业失败：{_first_line(exc)}", f"the Spark job failed: {_first_line(exc)}")) from exc


# ── decide ────────────────────────────────────────────────────────────────────

def cmd_decide(args) -> int:
    from . import decide, load_policies

    source, output = _source(args.input, args.lang, "IN"), args.output
    if not _remote(output):
        local = pathlib.Path(output.removeprefix("file://"))
        if local.exists() and not args.overwrite:
            raise _Stop(EXIT_BAD_INPUT, _t(args.lang, f"-o：{output} 已存在（加 --overwrite 覆盖）", f"-o: {output} exists (add --overwrite to replace it)"))
        if not _remote(source) and local.resolve() == pathlib.Path(source.removeprefix("file://")).resolve():
            raise _Stop(EXIT_BAD_INPUT, _t(args.lang, f"-o：输出 {output} 就是输入；拒绝执行", f"-o: the output {output} is the input; refused"))
    root = _policy_root(args.policies)
    engine = _engine(root, args.lang)
    spark = _session(args)
    frame, column = _read(spark, source, args.column, args.lang, "IN")
    policies = load_policies(spark, root, args.executor_policies, engine=engine)
    started = time.monotonic()
    decisions = decide(frame, policies, column=column, trace=args.trace)
    _job(lambda: decisions.write.mode("overwrite" if args.overwrite else "errorifexists").parquet(output), args.lang)
    seconds = time.monotonic() - started
    summary = _summary(spark.read.parquet(output), seconds)
    print(summary.render(args.lang), file=sys.stderr)
    if args.summary_json:
        pathlib.Path(args.summary_json).write_bytes(dump_bytes({**summary.to_json(), "revision": policies.revision}))
    print(_t(args.lang, f"  决定表：{output}（政策版本 {policies.revision}）", f"  decisions: {output} (policy revision {policies.revision})"),
          file=sys.stderr)
    return EXIT_OK


def _summary(decisions, seconds: float) -> BatchSummary:
    """The counts `yidi batch` prints, aggregated by Spark over the written table."""
    summary = BatchSummary(seconds=seconds)
    for row in decisions.groupBy("kind", "error", "route", "treatment").count().collect():
        n = row["count"]
        summary.lines += n
        if row["error"] is not None:
            summary.errors += n
            continue
        summary.decided += n
        summary.by_kind[row["kind"]] += n
        if row["kind"] == "claim":
            summary.by_route[row["route"]] += n
            summary.by_treatment[row["treatment"]] += n
    return summary


# ── diff ──────────────────────────────────────────────────────────────────────

def cmd_diff(args) -> int:
    from . import impact, load_policies

    source = _source(args.claims, args.lang, "--claims")
    try:
        with policy_source(args.old) as (old_root, old_label), policy_source(args.new) as (new_root, new_label):
            engines = (_engine(old_root, args.lang, old_label), _engine(new_root, args.lang, new_label))
            spark = _session(args)
            frame, column = _read(spark, source, args.column, args.lang, "--claims")
            if args.executor_policies:
                raise _Stop(EXIT_BAD_INPUT, _t(args.lang, "diff 不支持 --executor-policies：两版政策都由驱动程序广播",
                                               "diff does not take --executor-policies: both trees are broadcast by the driver"))
            old = load_policies(spark, old_root, engine=engines[0])
            new = load_policies(spark, new_root, engine=engines[1])
            started = time.monotonic()
            summary, texts = _job(lambda: impact(frame, old, new, column, args.sample), args.lang)
            trees = (engines[0].policies, engines[1].policies)
            ctx = Context(old_label, new_label, source, time.monotonic() - started, Labels(*trees))
    except SourceError as exc:
        raise _Stop(EXIT_BAD_INPUT, str(exc)) from exc
    ctx.html_file = args.html
    print(terminal(summary, ctx))
    written = write_reports(summary, ctx, lambda: explain_lines(trees[0], trees[1], texts, [r for _, r in summary.examples()]),
                            args.json, args.markdown, args.html)
    if written:
        print(_t(args.lang, "已写出：", "written: ") + "、".join(written), file=sys.stderr)
    return EXIT_OK
