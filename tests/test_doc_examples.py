"""The documentation's examples, run as written.

Every ```sh and ```python block of README.md and docs/*.md is run in a fresh
copy of the repository's files (a git repository on branch `main`, as a
checkout is), with this checkout's `yidi` on PATH. A block that cannot run
on its own says so just above its fence, with the reason:

    <!-- example: not run — installs a package … -->

and a block of requests to a server says

    <!-- example: server — run against `yidi serve` on 127.0.0.1:8000 -->

which is run line by line against a real `yidi serve` (only the port is the
test's); each answer must be JSON without an error. Other fences (yaml,
json, text) are fragments and output, not commands.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from yidi.cli import build_parser

from .conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COPIED = ("policies", "examples", "schemas", "docs", "scripts", "mkdocs.yml", "README.md")
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_MARK = re.compile(r"<!--\s*example:\s*(not run|server)\s*(?:—|-)\s*(.*?)\s*-->\s*$")


def blocks() -> list[tuple[str, str, str, str | None, str]]:
    """(id, language, code, mark, reason) of every fenced block of the pages."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            mark = _MARK.search(before)
            found.append((f"{page.relative_to(ROOT)}:{line}", match[1], match[2],
                          mark[1] if mark else None, mark[2] if mark else ""))
    return found


RUNNABLE = [b for b in blocks() if b[1] in ("sh", "python")]


def sandbox(tmp_path: pathlib.Path) -> tuple[pathlib.Path, dict[str, str]]:
    """A copy of the repository's files as a git checkout on `main`, and an environment with `yidi` on PATH."""
    work = tmp_path / "repo"
    work.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / name)
        elif source.is_file():
            shutil.copyfile(source, work / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "yidi"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m yidi "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(ROOT / "engine"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "GIT_AUTHOR_NAME": "docs", "GIT_AUTHOR_EMAIL": "docs@example.invalid",
           "GIT_COMMITTER_NAME": "docs", "GIT_COMMITTER_EMAIL": "docs@example.invalid"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "docs examples"]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)
    return work, env


@pytest.mark.parametrize("block", [b for b in RUNNABLE if b[3] is None], ids=lambda b: b[0])
def test_an_example_runs_as_written(block, tmp_path):
    where, language, code, _, _ = block
    work, env = sandbox(tmp_path)
    command = ["bash", "-e", "-o", "pipefail", "-c", code] if language == "sh" else [sys.executable, "-c", code]
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{where} failed:\n{code}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"


@pytest.mark.parametrize("block", [b for b in RUNNABLE if b[3] == "server"], ids=lambda b: b[0])
def test_requests_to_a_server_work_as_written(block, tmp_path):
    from .server_support import Server

    where, _, code, _, _ = block
    work, env = sandbox(tmp_path)
    server = Server(work, work / "policies").start()
    try:
        port = server.url.rsplit(":", 1)[1]
        for line in (line for line in code.splitlines() if line.strip() and not line.lstrip().startswith("#")):
            assert "127.0.0.1:8000" in line, f"{where}: a request not to the documented address: {line}"
            done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", line.replace("127.0.0.1:8000", f"127.0.0.1:{port}")],
                                  cwd=work, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, f"{where}: {line}\n{done.stderr}"
            try:
                answer = json.loads(done.stdout)
                items = answer if isinstance(answer, list) else [answer]
            except json.JSONDecodeError:                             # an x-ndjson batch is answered line by line
                items = [json.loads(text) for text in done.stdout.splitlines() if text.strip()]
            assert items, f"{where}: {line}: no answer"
            assert all(not (isinstance(i, dict) and "error" in i) for i in items), f"{where}: {line}\n{done.stdout[:2000]}"
    finally:
        server.stop()


def test_every_block_not_run_says_why():
    marked = [b for b in blocks() if b[3] == "not run"]
    assert marked and all(len(reason) >= 10 for *_, reason in marked), [(b[0], b[4]) for b in marked]
    assert all(b[1] in ("sh", "python") for b in marked)              # a mark on a fragment would mean nothing
    assert [b for b in RUNNABLE if b[3] is None]                        # and most are run


def test_the_server_examples_send_json_not_form_data():
    """curl -d sends application/x-www-form-urlencoded, which the server refuses with 415."""
    for where, _, code, mark, _ in RUNNABLE:
        for line in code.splitlines():
            if line.lstrip().startswith("curl") and re.search(r"\s(-d|--data)(\s|=)", line):
                pytest.fail(f"{where}: {line}")


def test_the_readme_lists_every_command():
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    cli = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert [c for c in commands if f"$ yidi {c}" not in readme] == []
    assert [c for c in commands if f"`yidi {c}" not in cli] == []


def test_the_cjk_font_the_docs_name_is_the_one_ci_installs():
    """Without a CJK font, screenshots on a server show boxes: docs/publishing.md says which package to install."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    package = re.search(r"fonts-[a-z-]+", ci)[0]
    assert f"apt-get install -y {package}" in (ROOT / "docs" / "publishing.md").read_text(encoding="utf-8")
