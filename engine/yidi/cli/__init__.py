"""The `yidi` command line.

    yidi validate [PATH…]   check policies and their test files   (exit 1 on problems)
    yidi eval FILE|-        decide one claim or filing request     (exit 2 on invalid input)
    yidi test [PATH…]       run the policies' YAML test cases      (exit 1 on failures)
    … and batch, explain-compiled, explain, serve, replay, docs, synth, diff

Policies come from --policies DIR, else ./policies when it holds a policy
tree, else the tree shipped with the package. Messages are Chinese unless
--lang en. A user mistake never ends in a Python traceback.

One module per command (yidi.cli.<name>), each with `register(subparsers,
common)` that adds its sub-command and the function that runs it; what they
share is in yidi.cli.common. Adding a command is a new module and its name in
COMMANDS.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__
from .common import EXIT_OK, common_options

# The command modules, in the order `yidi --help` lists them.
COMMANDS: tuple[str, ...] = ("validate", "eval", "test", "batch", "explain_compiled", "explain", "serve", "replay", "docs", "synth", "diff")


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(prog="yidi", description="异地就医直接结算政策引擎 yidi")
    parser.add_argument("--version", action="version", version=f"yidi {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
