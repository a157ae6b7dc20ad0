"""What every `yidi` command shares: exit codes, the options common to all, and the ways to fail politely.

Kept in one module so each command module holds only its own options and
steps, and a message (a diagnostic, an invalid input, a tree that does not
load) reads the same whichever command prints it.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

from ..diagnostics import Diagnostic, DiagnosticError, render, to_json
from ..documents import load_json
from ..engine import Engine
from ..errors import InputError
from ..jsonout import dumps
from ..resources import data_dir

EXIT_OK, EXIT_PROBLEMS, EXIT_BAD_INPUT, EXIT_UNDECIDED = 0, 1, 2, 3


def localized(lang: str, zh: str, en: str) -> str:
    """The message in the language asked for with --lang (Chinese unless `en`)."""
    return en if lang == "en" else zh


def common_options() -> argparse.ArgumentParser:
    """The parent parser of every command: --policies, --lang, --format, --no-cache."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--policies", metavar="DIR", help="政策目录（默认：./policies，否则使用随包发布的政策）")
    common.add_argument("--lang", choices=("zh", "en"), default="zh", help="消息语言（默认中文）")
    common.add_argument("--format", choices=("text", "json"), default="text", help="输出格式")
    common.add_argument("--no-cache", action="store_true", help="不使用已编译政策的缓存（~/.cache/yidi），每次重新检查、编译")
    return common


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


def print_diagnostics(diagnostics: list[Diagnostic], args: argparse.Namespace, root: pathlib.Path) -> None:
    """Diagnostics as one JSON document on stdout (--format json), else rendered with source lines on stderr."""
    if args.format == "json":
        print(json.dumps({"diagnostics": [to_json(d) for d in diagnostics]}, ensure_ascii=False, indent=2))
    else:
        print(render(diagnostics, lang=args.lang, source_lines=_Reader(root)), file=sys.stderr)


def load_engine(args: argparse.Namespace, paths: list[str] | None = None) -> tuple[Engine | None, pathlib.Path]:
    """(engine, root) for the tree the options name; (None, root) with its diagnostics printed if it does not load."""
    root = find_policy_root(args.policies, paths)
    try:
        return Engine.load(root, cache=not getattr(args, "no_cache", False), generate_now=getattr(args, "generate_now", False)), root
    except DiagnosticError as exc:
        print_diagnostics(exc.diagnostics, args, root)
        errors = sum(1 for d in exc.diagnostics if d.severity == "error")
        print(localized(args.lang, f"政策有 {errors} 处错误，未加载（{root}）", f"{errors} error(s) in the policies at {root}; not loaded"),
              file=sys.stderr)
        return None, root


def read_document(source: str) -> Any:
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


def print_input_error(exc: InputError, args: argparse.Namespace) -> None:
    """An invalid document: its error body (--format json), else each problem by path on stderr."""
    if args.format == "json":
        print(dumps(exc.body(), indent=2))
        return
    total = len(exc.problems) + exc.more
    print(localized(args.lang, f"输入无效（{total} 处），未作决定：", f"invalid input ({total} problem(s)); nothing decided:"), file=sys.stderr)
    for p in exc.shown:
        where = p.path or localized(args.lang, "（整个文档）", "(document)")
        print(f"  {where}: {p.message_en if args.lang == 'en' else p.message_zh}", file=sys.stderr)
    if exc.omitted:
        print(localized(args.lang, f"  ……另有 {exc.omitted} 处问题未列出", f"  … and {exc.omitted} more not listed"), file=sys.stderr)
