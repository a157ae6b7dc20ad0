"""The public module is typed: `mypy --strict` passes on it, and the package says so (py.typed)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_public_module_passes_mypy_strict(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "mypy-cache"),
         "engine/yidi/engine.py", "engine/yidi/__init__.py"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_ships_py_typed():
    assert (ROOT / "engine" / "yidi" / "py.typed").is_file()
