"""The Node tools the tests drive (tests/editor/package.json, pinned by its lockfile).

`.ci/run` installs them with `npm ci`; when they are missing and npm is there,
the first test that needs them runs `npm ci` itself. Without Node.js the
tests that need it are skipped, saying so — nothing else skips them.
Also here: a small Language Server Protocol client over stdio, enough to open
a document in a real language server and read what it says about it.
"""

from __future__ import annotations

import json
import os
import pathlib
import queue
import shutil
import subprocess
import threading
import time
from typing import Any

import pytest

from .conftest import ROOT

EDITOR = ROOT / "tests" / "editor"
MODULES = EDITOR / "node_modules"


def node_modules() -> pathlib.Path:
    """tests/editor/node_modules, installed from the lockfile if need be; skip only when Node.js is absent."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None:
        pytest.skip("Node.js is not installed (the editor and ajv tests run the real tools from npm); "
                    "install nodejs and npm, then `npm ci --prefix tests/editor`")
    if not (MODULES / "yaml-language-server").is_dir() or not (MODULES / "ajv").is_dir():
        if npm is None:
            pytest.fail("npm is missing: cannot install tests/editor (npm ci --prefix tests/editor)")
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=EDITOR, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.fail(f"npm ci in tests/editor failed:\n{done.stderr[-3000:]}")
    return MODULES


class LanguageServer:
    """A language server process spoken to over stdio (JSON-RPC with Content-Length framing)."""

    def __init__(self, command: list[str], root: pathlib.Path, settings: dict[str, Any]):
        self.settings = settings
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        cwd=root, env={**os.environ})
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(),
                                    "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                                    "capabilities": {"workspace": {"configuration": True},
                                                     "textDocument": {"hover": {"contentFormat": ["markdown", "plaintext"]},
                                                                      "publishDiagnostics": {}}}})
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": settings})

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length is None:
                continue
            self.messages.put(json.loads(stream.read(length)))

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}, ensure_ascii=False).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        self.next_id += 1
        wanted = self.next_id
        self._send({"id": wanted, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == wanted and "method" not in m, timeout).get("result")

    def wait(self, accept, timeout: float = 60) -> dict[str, Any]:
        """The next message `accept` takes; the server's own requests are answered meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from the language server")
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty as exc:
                raise TimeoutError("no answer from the language server") from exc
            if "method" in message and "id" in message:       # a request from the server
                if message["method"] == "workspace/configuration":
                    items = message["params"]["items"]
                    result: Any = [self.settings.get(item.get("section", ""), self.settings) for item in items]
                else:
                    result = None
                self._send({"id": message["id"], "result": result})
                continue
            if accept(message):
                return message

    def diagnostics(self, uri: str, text: str, timeout: float = 60) -> list[dict[str, Any]]:
        """Open `text` as `uri` and return the first diagnostics published for it."""
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})
        message = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri, timeout)
        return message["params"]["diagnostics"]

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self.process.wait(10)
        except (TimeoutError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait(10)
