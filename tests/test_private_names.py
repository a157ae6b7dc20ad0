"""No module of the package uses another module's private (underscore) names.

A private name is free to change with its module; a second module that
imports it, or reads it off an object, breaks silently when it does. The
command line once reached into `cli._load`, `cli._t` and `engine._evaluator`
from six modules; public seams replaced them, and this test keeps it so.
An attribute counts as the module's own when the module defines or assigns
that name itself (a field of its own class, say). Third-party internals (Lark's, in dsl/lark_parser.py) are that module's own
documented risk and not counted; nor are the standard library's public functions that happen to start with an
underscore (`os._exit`, documented as the way to end a process without cleaning up).
"""

from __future__ import annotations

import ast
import pathlib

from .conftest import ROOT

PACKAGE = ROOT / "engine" / "yidi"
THIRD_PARTY_INTERNALS = {("dsl/lark_parser.py", "lark.Lark._load_from_dict")}
DOCUMENTED_PUBLIC = {"os._exit"}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _own_names(tree: ast.AST) -> set[str]:
    """Every private name the module itself defines: functions, classes, fields, attributes it assigns."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if _private(n)}


def borrowed_private_names(source: str, where: str) -> list[str]:
    """`from m import _x`, and `obj._x` where the module does not define `_x` itself."""
    tree = ast.parse(source)
    own = _own_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [f"{where}:{node.lineno}: from {'.' * node.level}{node.module or ''} import {a.name}"
                      for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            if (where, ast.unparse(node)) not in THIRD_PARTY_INTERNALS and ast.unparse(node) not in DOCUMENTED_PUBLIC:
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_uses_another_modules_private_names():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += borrowed_private_names(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix())
    assert found == []


def test_the_check_sees_both_kinds_of_borrowing():
    source = "from .common import _load, EXIT_OK\nfrom . import cli\n\ndef run(engine):\n    return cli._t(engine._evaluator)\n"
    assert borrowed_private_names(source, "m.py") == ["m.py:1: from .common import _load", "m.py:5: cli._t", "m.py:5: engine._evaluator"]
    own = "class A:\n    _x: int = 0\n\ndef f(a):\n    a._x = 1\n    return a._x + _y\n\n_y = 2\n"
    assert borrowed_private_names(own, "m.py") == []
