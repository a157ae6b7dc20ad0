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
import gc
import importlib
import os
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


# The cyclic collector's thresholds while a command runs. A command builds hundreds of thousands of objects
# that live until it ends (a national tree's policies, test files, kept results) and frees few cycles; with
# the default thresholds the collector walks them all again and again as they grow — a third of `yidi
# validate` after one edit on a 400-policy tree. Larger ones, as mypy sets for the same reason; a command
# marked `short_lived` (see `run`) turns the collector off altogether.
COLLECTOR_THRESHOLDS = (100_000, 50, 100)


def main(argv: list[str] | None = None) -> int:
    """Run one command (`argv`: its arguments, else the process's); its exit code."""
    return _run_command(build_parser().parse_args(argv))


def run() -> None:
    """The `yidi` program (and `python -m yidi`): `main`, then the process ends.

    A command marked `short_lived` (validate, test: it reads a tree, prints to
    the standard streams and ends) runs without the cyclic collector — what it
    builds lives until it ends, and walking it costs a quarter of `yidi
    validate` after one edit on a 400-policy tree — and the process ends
    without freeing it object by object (another ~0.15 s): the operating system
    takes the memory back at once, as mypy's command line does.
    """
    args = build_parser().parse_args()
    short_lived = getattr(args, "short_lived", False)
    if short_lived:
        gc.disable()
    code = _run_command(args)
    if short_lived:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (BrokenPipeError, ValueError):
            pass    # the reader went away (`yidi validate | head`), as `main` treats it
        os._exit(0 if code is None else code if isinstance(code, int) else 1)   # as sys.exit would
    sys.exit(code)


def _run_command(args: argparse.Namespace) -> int:
    before = gc.get_threshold()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    try:
        return args.func(args)
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    finally:
        gc.set_threshold(*before)
